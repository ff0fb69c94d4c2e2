// sluice get words failures in its own terms; what the server said in a refused resume's error page stays.
import { expect, describe as group, it } from 'vitest'
import { describe, pastContinuing } from '../../src/cli/get-errors.ts'
import { parseGetArgs, UsageError } from '../../src/cli/get-options.ts'
import { LimitError, ResumeError, TruncatedError } from '../../src/index.ts'

const refusal = (status: number, said: string) =>
  new ResumeError(
    'not-resumable',
    `The server answered the resume request with status ${status}; the stream cannot be continued; the server said: "${said}".`,
    1,
    { response: new Response(null, { status }) },
  )

it('keeps what the server said when it refused the request for the rest', () => {
  expect(describe(refusal(404, 'report expired: ask for a new one'), 'https://fn.example/r', false)).toBe(
    'The server answered the request for the rest of https://fn.example/r with status 404; the server said: "report expired: ask for a new one".',
  )
  expect(describe(refusal(403, 'token expired'), 'https://fn.example/r', false)).toBe(
    'The server refused the credentials of the request for the rest of https://fn.example/r (status 403; the server said: "token expired"); pass valid ones with -H.',
  )
})

it('says nothing more when the server said nothing', () => {
  const quiet = new ResumeError(
    'not-resumable',
    'The server answered the resume request with status 404; the stream cannot be continued.',
    1,
    { response: new Response(null, { status: 404 }) },
  )
  expect(describe(quiet, 'https://fn.example/r', false)).toBe(
    'The server answered the request for the rest of https://fn.example/r with status 404.',
  )
})

it('takes a success that is not the rest for good (the checkpoint is stale), an error status for a passing state', () => {
  const html = new ResumeError(
    'not-resumable',
    'The server answered the resume request with text/html, not the application/x-ndjson of the stream it would continue; the stream cannot be continued.',
    1,
    { response: new Response(null, { status: 200 }) },
  )
  expect(pastContinuing(html)).toBe('the server now answers with another kind of body')
  expect(pastContinuing(refusal(503, 'busy'))).toBeUndefined()
  expect(pastContinuing(refusal(401, 'token expired'))).toBeUndefined()
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
    const line = new LimitError('maxLineBytes', 1000, 'A line starting at line 2')
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

  it('names the longest timeout it takes', () => {
    expect(parse('--idle-timeout', '2147483648')).toThrow(
      '--idle-timeout takes a whole number of milliseconds from 1 to 2147483647 (about 24.8 days); got 2147483648.',
    )
    expect(parseGetArgs(['https://fn.example/r', '--timeout', '2147483647'])).toMatchObject({
      timeout: 2147483647,
    })
  })
})
