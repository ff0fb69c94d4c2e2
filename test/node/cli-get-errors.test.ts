// sluice get words failures in its own terms; what the server said in a refused resume's error page stays. The
// CLI reads which refusals are about the answer to the resume request (`answered`) and what the server said
// (`excerpt`) from the errors' fields: those are tested against errors the library really throws.
import { expect, describe as group, inject, it } from 'vitest'
import { describe, pastContinuing } from '../../src/cli/get-errors.ts'
import { parseGetArgs, UsageError } from '../../src/cli/get-options.ts'
import {
  isNetworkError,
  isResumeError,
  LimitError,
  NetworkError,
  ResumeError,
  type SluiceOptions,
  type StreamResponse,
  sluice,
  TruncatedError,
} from '../../src/index.ts'
import { encode } from '../support/chunking.ts'
import { dropping, RANGED, rest, URL_R } from '../support/ranged-drop.ts'
import { base64, FAST, scripted } from '../support/scripted.ts'
import { collect, failure, fetchWith, responseOf, silentFetch } from '../support/streams.ts'

/**
 * What the library itself throws when `answers` answer the connections to URL_R one after the other (the first
 * connection, then each reconnect) and the body is read with `read`: the CLI is tested against the library's
 * real errors, so a change of the words it still reads fails here.
 */
async function libraryFailure(
  answers: Array<(request: Request) => Response | Promise<Response>>,
  options: SluiceOptions = {},
  read: (res: StreamResponse) => AsyncIterable<unknown> = (res) => res.bytes(),
): Promise<Error> {
  let n = 0
  const res = await sluice(URL_R, {
    resume: { attempts: answers.length - 1, backoff: FAST },
    ...options,
    fetch: fetchWith((request) => answers[Math.min(n++, answers.length - 1)]!(request)),
  })
  return failure(collect(read(res)))
}

group('a refused request for the rest, from the library, in the CLI’s words', () => {
  it('keeps what the server said when it refused the request for the rest', async () => {
    const expired = await libraryFailure([
      () => dropping(),
      () => new Response('report expired: ask for a new one', { status: 404 }),
    ])
    expect(describe(expired, URL_R, false)).toBe(
      `The server answered the request for the rest of ${URL_R} with status 404; the server said: "report expired: ask for a new one".`,
    )
    const token = await libraryFailure([
      () => dropping(),
      () => new Response('token "abc" expired', { status: 403 }),
    ])
    expect(describe(token, URL_R, false)).toBe(
      `The server refused the credentials of the request for the rest of ${URL_R} (status 403; the server said: "token \\"abc\\" expired"); pass valid ones with -H.`,
    )
  })

  it('says nothing more when the server said nothing', async () => {
    const quiet = await libraryFailure([() => dropping(), () => new Response(null, { status: 404 })])
    expect(describe(quiet, URL_R, false)).toBe(
      `The server answered the request for the rest of ${URL_R} with status 404.`,
    )
  })

  it('takes a success that is not the rest for good (the checkpoint is stale)', async () => {
    const html = await libraryFailure([
      () => dropping(),
      () => rest('<html>', { 'content-type': 'text/html' }),
    ])
    const unmarked = await libraryFailure([() => dropping({ 'x-sluice-end': 'marker' }), () => rest('efgh')])
    const empty = await libraryFailure([() => dropping(), () => new Response(null, { status: 204 })])
    for (const error of [html, unmarked, empty]) {
      expect(isResumeError(error) && error.reason, error.message).toBe('not-resumable')
      expect(pastContinuing(error), error.message).toBe('the server now answers with another kind of body')
    }
  })

  it('takes a success without a body for the rest of an event stream for good too', async () => {
    // The library names the URL in this refusal: `answered the resume request to … with status 205 and no body`.
    const error = await libraryFailure(
      [
        () =>
          responseOf(['id: 1\ndata: one\n\n'], {
            headers: { 'content-type': 'text/event-stream' },
            error: new TypeError('network error (scripted drop)'),
          }),
        () => new Response(null, { status: 205 }),
      ],
      {},
      (res) => res.events(),
    )
    expect(isResumeError(error) && error.reason, error.message).toBe('not-resumable')
    expect(pastContinuing(error), error.message).toBe('the server now answers with another kind of body')
  })

  it('takes an error status, or a refusal that carries the stream’s own success, for a state that may pass', async () => {
    const credentials = await libraryFailure([
      () => dropping(),
      () => new Response('token expired', { status: 401 }),
    ])
    // A reconnect that failed for a bug, not the network: the refusal carries the stream's 200.
    const bug = await libraryFailure([
      () => dropping(),
      () => {
        throw new RangeError('a bug in a fetch option')
      },
    ])
    // Bytes cannot restart at a record, as the cursor strategy would: that refusal carries the stream's 200, and
    // the drop as its cause, as a refusal of the answer does.
    const boundary = await libraryFailure([() => dropping()], {
      resume: { strategy: 'cursor', cursor: () => ({}), attempts: 1, backoff: FAST },
    })
    for (const error of [credentials, bug, boundary]) {
      expect(isResumeError(error) && error.reason, error.message).toBe('not-resumable')
      expect(pastContinuing(error), error.message).toBeUndefined()
    }
    for (const error of [bug, boundary]) expect(isResumeError(error) && error.response?.status).toBe(200)
  })
})

it('reads what it needs of a refusal from its fields, whatever its message says', async () => {
  const reworded = <E extends Error>(error: E): E =>
    Object.defineProperty(error, 'message', { value: 'Reworded.', configurable: true, writable: true })
  const html = reworded(
    await libraryFailure([() => dropping(), () => rest('<html>', { 'content-type': 'text/html' })]),
  )
  expect(pastContinuing(html)).toBe('the server now answers with another kind of body')
  const expired = reworded(
    await libraryFailure([() => dropping(), () => new Response('report expired', { status: 404 })]),
  )
  expect(describe(expired, URL_R, false)).toBe(
    `The server answered the request for the rest of ${URL_R} with status 404; the server said: "report expired".`,
  )
  const busy = await libraryFailure([
    () => dropping(),
    () => new Response('busy', { status: 503, headers: { 'retry-after': '0' } }),
  ])
  reworded(busy.cause as Error)
  expect(describe(busy, URL_R, false)).toContain(
    `The server answered the request for the rest of ${URL_R} with status 503; the server said: "busy".`,
  )
})

group('the reconnects gave up: the last one’s failure, in the CLI’s words', () => {
  const gaveUp = `Gave up after 1 reconnect to ${URL_R}:`

  it('an error status, with what the server said', async () => {
    const error = await libraryFailure([
      () => dropping(),
      () => new Response('busy: try again in a minute', { status: 503, headers: { 'retry-after': '0' } }),
    ])
    expect(describe(error, URL_R, false)).toBe(
      `${gaveUp} The server answered the request for the rest of ${URL_R} with status 503; the server said: "busy: try again in a minute".`,
    )
  })

  it('a connection that could not be made, with the runtime’s reason and not ky’s', async () => {
    const refusing = inject('refusingUrl')
    const error = await libraryFailure([
      () => dropping(),
      (request) => fetch(refusing, { signal: request.signal }),
    ])
    expect(describe(error, URL_R, false)).toBe(
      `${gaveUp} The request for the rest of ${URL_R} failed (fetch failed: connect ECONNREFUSED ${new URL(refusing).host}).`,
    )
  })

  it('no response headers in time, naming --timeout', async () => {
    const error = await libraryFailure([() => dropping(), (request) => silentFetch(request)], {
      resume: { attempts: 1, backoff: FAST },
      timeout: 50,
    })
    expect(describe(error, URL_R, false)).toBe(
      `${gaveUp} No response headers arrived for the request for the rest of ${URL_R} in time; if the server is slow to start, pass a longer --timeout <ms>.`,
    )
  })

  it('a body that went silent, naming --idle-timeout', async () => {
    const silent = new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(encode('e')) })
    const error = await libraryFailure([() => dropping(), () => rest(silent)], {
      resume: { attempts: 1, backoff: FAST },
      idleTimeout: 50,
    })
    expect(describe(error, URL_R, false)).toBe(
      `${gaveUp} The body of ${URL_R} was silent for 50 ms; pass a longer --idle-timeout <ms>, or make the server send heartbeats.`,
    )
  })

  it('a connection that dropped in the body again', async () => {
    const error = await libraryFailure([
      () => dropping(),
      () =>
        responseOf(['e'], {
          status: 206,
          headers: { ...RANGED, 'content-range': 'bytes 4-7/8' },
          error: new TypeError('network error (scripted drop)'),
        }),
    ])
    expect(describe(error, URL_R, false)).toBe(
      `${gaveUp} The connection to ${URL_R} dropped after 5 bytes of the body (network error (scripted drop)).`,
    )
  })
})

it('says why a connection that cannot be continued dropped, as the runtime tells it and its cause', async () => {
  const s = await scripted({
    kind: 'range',
    acceptRanges: false,
    body: base64(encode('x'.repeat(64))),
    attempts: [{ drop: 10 }],
  })
  const res = await sluice(s.url)
  const error = await failure(collect(res.bytes()))
  expect(isNetworkError(error), error.message).toBe(true)
  // undici's `terminated` keeps why in its cause.
  expect(describe(error, s.url, true)).toBe(
    `The connection to ${s.url} dropped after 10 bytes of the body (terminated: other side closed).`,
  )
})

group('a body cut short (TruncatedError), in the CLI’s words', () => {
  const url = 'https://fn.example/r'
  const cut = (received: number, expected: number | undefined, headers: Record<string, string> = {}) =>
    new TruncatedError(
      `The body of ${url} ended after ${received} bytes; it cannot be resumed: no \`resume.cursor\` was given.`,
      received,
      expected,
      { request: new Request(url), response: new Response(null, { headers }) },
    )
  const CUT =
    'the connection was cut, or the server stopped early (a function that failed or timed out after its first byte)'

  it('says the body ended before the end marker its server announced, and how many bytes arrived', () => {
    expect(describe(cut(1024, undefined, { 'x-sluice-end': 'marker' }), url, true)).toBe(
      `The body of ${url} ended after 1024 bytes without the end marker its server announced (x-sluice-end: marker), so it is incomplete: ${CUT}.`,
    )
    expect(describe(cut(1024, 4096, { 'x-sluice-end': 'marker' }), url, true)).toBe(
      `The body of ${url} ended after 1024 of the 4096 bytes its server declared, and without the end marker its server announced (x-sluice-end: marker), so it is incomplete: ${CUT}.`,
    )
  })

  it('says the body ended before its declared length', () => {
    expect(describe(cut(1024, 4096), url, true)).toBe(
      `The body of ${url} ended after 1024 of the 4096 bytes its server declared, so it is incomplete: ${CUT}.`,
    )
  })

  it('says a part for the rest did not tell the body’s length', () => {
    expect(describe(cut(1034, undefined, { 'content-range': 'bytes 1024-1033/*' }), url, true)).toBe(
      `The answer for the rest of ${url} ended after byte 1033 without saying the body's length (Content-Range: bytes …/*), so it cannot be told whether more follows.`,
    )
  })

  it('words the cut the same way after the reconnects gave up, and never names the library’s options', () => {
    const cause = cut(1024, undefined, { 'x-sluice-end': 'marker' })
    const gaveUp = new ResumeError(
      'attempts-exhausted',
      `Gave up after 5 reconnects to ${url}: ${cause.message}`,
      5,
      {
        request: new Request(url),
        cause,
      },
    )
    const message = describe(gaveUp, url, false)
    expect(message).toBe(
      `Gave up after 5 reconnects to ${url}: The body of ${url} ended after 1024 bytes without the end marker its server announced (x-sluice-end: marker), so it is incomplete: ${CUT}.`,
    )
    expect(message).not.toMatch(/resume\.cursor|`/)
  })

  it('takes a body that ran past its declared length as past continuing, and says why', () => {
    const overrun = cut(5000, 4096)
    expect(describe(overrun, url, false)).toBe(
      `The body of ${url} ran past its declared length: 5000 bytes arrived where the server declared 4096, so the length is wrong or the body is not the one declared, and it cannot be proven complete.`,
    )
    expect(pastContinuing(overrun)).toBe('the server sent more than the length it declared')
    expect(pastContinuing(cut(1024, 4096))).toBeUndefined()
  })
})

group('counts of one, in the singular', () => {
  const url = 'https://fn.example/r'
  const context = (headers: Record<string, string> = {}) => ({
    request: new Request(url),
    response: new Response(null, { headers }),
  })
  const cut = (received: number, expected: number | undefined, headers: Record<string, string> = {}) =>
    new TruncatedError('The body ended early.', received, expected, context(headers))
  const marker = { 'x-sluice-end': 'marker' }

  it('says 1 byte, and 2 bytes, of a body that ended before its end could be proven', () => {
    expect(describe(cut(1, undefined), url, false)).toContain(`The body of ${url} ended after 1 byte, before`)
    expect(describe(cut(2, undefined), url, false)).toContain(
      `The body of ${url} ended after 2 bytes, before`,
    )
    expect(describe(cut(1, undefined, marker), url, false)).toContain(
      'ended after 1 byte without the end marker',
    )
    expect(describe(cut(2, undefined, marker), url, false)).toContain(
      'ended after 2 bytes without the end marker',
    )
  })

  it('says the 1 byte, and the 2 bytes, its server declared', () => {
    expect(describe(cut(0, 1), url, false)).toContain('ended after 0 of the 1 byte its server declared, so')
    expect(describe(cut(1, 2), url, false)).toContain('ended after 1 of the 2 bytes its server declared, so')
    expect(describe(cut(0, 1, marker), url, false)).toContain(
      'after 0 of the 1 byte its server declared, and',
    )
    expect(describe(cut(1, 0), url, false)).toContain(': 1 byte arrived where the server declared 0,')
    expect(describe(cut(2, 1), url, false)).toContain(': 2 bytes arrived where the server declared 1,')
  })

  it('says a connection dropped after 1 byte, or 2 bytes, of the body, and gave up after 1 reconnect', () => {
    const drop = (offset: number) => new NetworkError('network error', offset, context())
    expect(describe(drop(1), url, true)).toBe(`The connection to ${url} dropped after 1 byte of the body.`)
    expect(describe(drop(2), url, true)).toBe(`The connection to ${url} dropped after 2 bytes of the body.`)
    const gaveUp = (attempts: number) =>
      new ResumeError('attempts-exhausted', 'Gave up.', attempts, {
        request: new Request(url),
        cause: drop(1),
      })
    expect(describe(gaveUp(1), url, false)).toMatch(/^Gave up after 1 reconnect to /)
    expect(describe(gaveUp(2), url, false)).toMatch(/^Gave up after 2 reconnects to /)
  })

  it('says a limit of 1 byte in the singular', () => {
    expect(describe(new LimitError('maxBytes', 1, 'Over.'), url, false)).toContain('the limit of 1 byte;')
    expect(describe(new LimitError('maxBytes', 2, 'Over.'), url, false)).toContain('the limit of 2 bytes;')
  })
})

group('a part of the body over a limit (LimitError), in the CLI’s words', () => {
  const url = 'https://fn.example/r'
  const rescue = 'use --as bytes (with -o <file> to write a file) to save the body as it is'

  // The places come from the error's fields: its message is worded here so that no number can be read from it.
  it('says which line is over the line limit, and how to save the body anyway', () => {
    const error = new LimitError('maxLineBytes', 8 * 2 ** 20, 'A line', {}, { line: 2, offset: 8 })
    expect(describe(error, url, false)).toBe(
      `Line 2 of ${url} is longer than the line limit of 8388608 bytes (8 MiB), so the output stops before it; ${rescue}.`,
    )
  })

  it('says where an event over the event limit starts', () => {
    const error = new LimitError('maxEventBytes', 1000, 'An event', {}, { offset: 1200 })
    expect(describe(error, url, false)).toBe(
      `An event of ${url} (starting at byte 1200) is larger than the event limit of 1000 bytes, so the output stops before it; ${rescue}.`,
    )
  })

  it('says how deep a JSON document may nest for --as json, and where it nests deeper', () => {
    const error = new LimitError('maxDepth', 512, 'Nesting', {}, { line: 1, offset: 514 })
    expect(describe(error, url, false)).toBe(
      `The JSON document of ${url} nests deeper than 512 levels (at byte 514), the most --as json reads; ${rescue}.`,
    )
  })

  it('names no place the error does not carry, whatever its message says', () => {
    const line = new LimitError('maxLineBytes', 1000, 'Line 2')
    const event = new LimitError('maxEventBytes', 1000, 'The event starting at byte 1200 (line 7)')
    const depth = new LimitError('maxDepth', 512, 'Nesting at byte 513')
    expect(describe(line, url, false)).toMatch(new RegExp(`^A line of ${url} is longer`))
    expect(describe(event, url, false)).toMatch(new RegExp(`^An event of ${url} is larger`))
    expect(describe(depth, url, false)).toMatch(/ nests deeper than 512 levels, the most --as json reads;/)
  })
})

group('sluice get arguments that fetch would refuse, refused as usage errors', () => {
  const parse =
    (...args: string[]) =>
    () =>
      parseGetArgs(['https://fn.example/r', ...args])

  it.each(['CONNECT', 'trace', 'Track'])('refuses -X %s, naming -X', (method) => {
    expect(parse('-X', method)).toThrow(UsageError)
    expect(parse('-X', method)).toThrow(
      `-X ${method.toUpperCase()} cannot be sent: fetch refuses the methods`,
    )
  })

  it('refuses a line feed inside a header value, shown escaped', () => {
    expect(parse('-H', 'X-A: a\nb')).toThrow(
      'the -H value of X-A, "a\\nb", contains a line feed (\\n), which a header value cannot carry; remove it.',
    )
  })

  it('refuses a character beyond Latin-1 in a header value, saying to encode it', () => {
    expect(parse('-H', 'X-Name: Zoë 😀')).toThrow(
      'the -H value of X-Name, "Zoë 😀", contains "😀" (U+1F600), outside Latin-1, which a header value cannot carry; send it encoded, such as percent-encoded or in base64.',
    )
  })

  it('keeps a value with Latin-1 letters, and drops the whitespace and line ends around it, as fetch does', () => {
    expect(parseGetArgs(['https://fn.example/r', '-H', 'X-Name:  Zoë \r'])).toMatchObject({
      headers: [['X-Name', 'Zoë']],
    })
  })

  it('takes --retry from 0 to 100 retries, and says so of any other value', () => {
    expect(parseGetArgs(['https://fn.example/r', '--retry', '0'])).toMatchObject({ retry: 0 })
    expect(parseGetArgs(['https://fn.example/r'])).toMatchObject({ retry: undefined })
    for (const bad of ['1.5', 'two', '101'])
      expect(parse('--retry', bad)).toThrow(
        `--retry takes a whole number of retries from 0 to 100; got ${bad}.`,
      )
    expect(parse('--retry=-1')).toThrow('--retry takes a whole number of retries from 0 to 100; got -1.')
    expect(parse('--retry', ' ')).toThrow(
      '--retry takes a whole number of retries from 0 to 100; got an empty one.',
    )
  })

  it('names the longest timeout it takes', () => {
    expect(parse('--idle-timeout', '2147483648')).toThrow(
      '--idle-timeout takes a whole number of milliseconds from 1 to 2147483647 (about 24.8 days); got 2147483648.',
    )
    expect(parseGetArgs(['https://fn.example/r', '--timeout', '2147483647'])).toMatchObject({
      timeout: 2147483647,
    })
  })
})

group('sluice get options given a value they do not take, or none', () => {
  const parse =
    (...args: string[]) =>
    () =>
      parseGetArgs(['https://fn.example/r', ...args])

  it('says that a flag takes no value, not that it needs one', () => {
    expect(parse('--resume=yes')).toThrow(new UsageError('option --resume takes no value.'))
    expect(parse('--quiet=false')).toThrow(new UsageError('option --quiet takes no value.'))
  })

  it('says how to pass a value that starts with a dash, which is taken for an option', () => {
    expect(parse('--timeout', '-5')).toThrow(
      new UsageError(
        'option --timeout needs a value; to pass one that starts with a dash, write --timeout=<value>.',
      ),
    )
    expect(parse('-d', '-1')).toThrow(
      new UsageError(
        'option --data needs a value; to pass one that starts with a dash, write --data=<value>.',
      ),
    )
  })

  it('says that a timeout given as --timeout= is empty, rather than quoting nothing', () => {
    expect(parse('--timeout=')).toThrow(
      new UsageError(
        '--timeout takes a whole number of milliseconds from 1 to 2147483647 (about 24.8 days); got an empty one.',
      ),
    )
  })

  it('says that an option at the end of the line needs a value', () => {
    expect(parse('-o')).toThrow(new UsageError('option --output needs a value.'))
  })
})

group('a write that failed, in the CLI’s words', () => {
  const full = Object.assign(new Error('ENOSPC: no space left on device, write'), {
    code: 'ENOSPC',
    errno: -28,
    syscall: 'write',
  })

  it('names the file it could not write, which the system’s message does not', () => {
    expect(describe(full, 'https://fn.example/r', false, 'out/report.bin')).toBe(
      'ENOSPC: no space left on device, write (could not write out/report.bin).',
    )
  })

  it('names standard output when that is what it could not write', () => {
    expect(describe(full, 'https://fn.example/r', false)).toBe(
      'ENOSPC: no space left on device, write (could not write standard output).',
    )
  })
})
