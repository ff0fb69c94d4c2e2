/**
 * Messages found wanting by an audit of the error messages, each a sentence that says what failed, where, and
 * what to do: a checkpoint of a response that has no URL, a resume answered without a body, a drop whose
 * runtime error hides its reason in a `cause`, and a drop of a response that has no URL.
 */
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { said } from '../src/core/error-body.ts'
import { excerptOf } from '../src/core/errors/parse-error.ts'
import {
  fromResponse,
  HTTPError,
  isNetworkError,
  isResumeError,
  isValidationError,
  LimitError,
  sluice,
  TimeoutError,
  ValidationError,
} from '../src/index.ts'
import { encode } from './support/chunking.ts'
import { base64, FAST, scripted } from './support/scripted.ts'
import { drain, failure, fetchWith } from './support/streams.ts'

const LINES = ['one', 'two', 'three', 'four']
const BODY = encode(`${LINES.join('\n')}\n`)
const URL_NAMED = 'https://e.example/f'

/** A body that sends its first `n` bytes, then fails with `error` (the runtime's error for a cut connection). */
function dropping(n: number, error: unknown, headers: Record<string, string> = {}): Response {
  let sent = false
  return new Response(
    new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent) return controller.error(error)
        sent = true
        controller.enqueue(BODY.slice(0, n))
      },
    }),
    { headers: { 'accept-ranges': 'bytes', 'content-length': String(BODY.length), ...headers } },
  )
}

describe('a checkpoint of a response without a URL', () => {
  it('is refused with a ResumeError that says to pass `url` to fromResponse(), not stored as "the response"', async () => {
    const res = await fromResponse(
      new Response(new Uint8Array(BODY), { headers: { 'accept-ranges': 'bytes' } }),
    )
    const lines = res.lines()[Symbol.asyncIterator]()
    expect((await lines.next()).value).toBe('one')
    let error: unknown
    try {
      res.checkpoint()
    } catch (e) {
      error = e
    }
    expect(isResumeError(error) && error.reason).toBe('unsupported')
    expect(error instanceof Error && error.message).toMatch(
      /has no URL.*pass `\{ url \}`.*to fromResponse\(\)/,
    )
    // Nothing delivered is lost: the stream reads on.
    expect((await lines.next()).value).toBe('two')
    await lines.return?.()
  })

  it('a `request` function gives no URL either: still refused', async () => {
    const res = await fromResponse(
      new Response(new Uint8Array(BODY), { headers: { 'accept-ranges': 'bytes' } }),
      {
        request: async () => new Response(''),
      },
    )
    expect(() => res.checkpoint()).toThrow(/pass `\{ url \}`/)
    await res.cancel()
  })

  it('with `url`, the checkpoint names it, and sluice(url, { resumeFrom }) continues from it', async () => {
    const s = await scripted({ kind: 'range', body: base64(BODY) })
    const res = await fromResponse(
      new Response(new Uint8Array(BODY), { headers: { 'accept-ranges': 'bytes' } }),
      {
        url: s.url,
      },
    )
    const lines = res.lines()[Symbol.asyncIterator]()
    expect((await lines.next()).value).toBe('one')
    const checkpoint = JSON.parse(JSON.stringify(res.checkpoint())) as ReturnType<typeof res.checkpoint>
    expect(checkpoint).toMatchObject({ url: s.url, offset: 4 })
    await lines.return?.()
    const again = await sluice(s.url, { resumeFrom: checkpoint })
    expect(await Array.fromAsync(again.lines())).toEqual(LINES.slice(1))
  })

  it("a response's own URL (from fetch) is enough", async () => {
    const s = await scripted({ kind: 'range', body: base64(BODY) })
    const res = await fromResponse(await fetch(s.url))
    expect(res.checkpoint()).toMatchObject({ url: s.url, offset: 0 })
    await res.cancel()
  })
})

describe('a reconnect answered without a body', () => {
  for (const status of [206, 200]) {
    it(`status ${status}: a ResumeError with the drop as cause and the reconnect's request and response`, async () => {
      const answer = new Response(null, {
        status,
        headers:
          status === 206
            ? { 'content-range': `bytes 8-${BODY.length - 1}/${BODY.length}` }
            : { 'content-length': String(BODY.length) },
      })
      const res = await fromResponse(dropping(8, new TypeError('terminated')), {
        url: URL_NAMED,
        resume: { strategy: 'range', backoff: FAST, skipOnRestart: true },
        request: async () => answer,
      })
      const { items: seen, error } = await drain(res.lines())
      expect(seen).toEqual(['one', 'two'])
      expect(isResumeError(error) && error.reason).toBe('not-resumable')
      if (!isResumeError(error)) return
      expect(error.message).toContain(
        `The server answered the resume request to ${URL_NAMED} with status ${status} and no body`,
      )
      expect(isNetworkError(error.cause)).toBe(true)
      expect(error.response).toBe(answer)
      expect(error.request?.url).toBe(URL_NAMED)
      expect(error.request?.headers.get('range')).toBe('bytes=8-')
    })
  }
})

describe('a drop says why the runtime dropped it', () => {
  it("a cause's message goes into the message (undici's `terminated` hides `other side closed`), the error stays the cause", async () => {
    const socket = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' })
    const terminated = new TypeError('terminated', { cause: socket })
    const res = await fromResponse(dropping(8, terminated), { url: URL_NAMED })
    const { items: seen, error } = await drain(res.lines())
    expect(seen).toEqual(['one', 'two'])
    expect(isNetworkError(error)).toBe(true)
    if (!isNetworkError(error)) return
    expect(error.message).toContain(
      `The connection to ${URL_NAMED} dropped after 8 bytes of the body (terminated: other side closed)`,
    )
    expect(error.cause).toBe(terminated)
  })

  it('causes nested deeper are followed too, each adding its clause without its final period', async () => {
    const refused = new Error('connect ECONNREFUSED 127.0.0.1:9', { cause: new Error('the port is closed.') })
    const failed = new TypeError('fetch failed.', { cause: refused })
    const res = await fromResponse(dropping(8, failed), { url: URL_NAMED })
    const error = await failure(Array.fromAsync(res.lines()))
    expect(error.message).toContain('(fetch failed: connect ECONNREFUSED 127.0.0.1:9: the port is closed)')
  })

  it('a cause that says nothing new is not repeated', async () => {
    const error = await failure(
      fromResponse(dropping(8, new TypeError('network error', { cause: new Error('network error') })), {
        url: URL_NAMED,
      }).then((res) => Array.fromAsync(res.lines())),
    )
    expect(error.message).toContain('(network error)')
  })
})

describe('a drop of a response without a URL', () => {
  it('reads "The connection dropped after …", not "The connection to the response"', async () => {
    const res = await fromResponse(dropping(8, new TypeError('terminated')))
    const error = await failure(Array.fromAsync(res.lines()))
    expect(isNetworkError(error)).toBe(true)
    expect(error.message).toMatch(
      /^The connection dropped after 8 bytes of the body \(terminated\); pass `request`/,
    )
    expect(error.message).not.toContain('the response')
  })

  it('names the URL given to fromResponse()', async () => {
    const res = await fromResponse(dropping(8, new TypeError('terminated')), { url: URL_NAMED })
    const error = await failure(Array.fromAsync(res.lines()))
    expect(error.message).toMatch(/^The connection to https:\/\/e\.example\/f dropped after 8 bytes/)
  })
})

describe('the messages of errors made from their fields', () => {
  it('a ValidationError names the path of its first issue, object segments by their key, and counts the others', () => {
    const one = new ValidationError([{ message: 'Expected number', path: [{ key: 'rows' }, 0, 'id'] }], 3, {})
    expect(one.message).toBe('The item at index 3 does not match the schema: rows.0.id: Expected number.')
    const two = new ValidationError([{ message: 'a' }, { message: 'b' }], 0, {})
    expect(two.message).toBe('The item at index 0 does not match the schema: a (and 1 more issue).')
    const three = new ValidationError([{ message: 'a' }, { message: 'b' }, { message: 'c' }], 0, {})
    expect(three.message).toBe('The item at index 0 does not match the schema: a (and 2 more issues).')
  })

  it('a ValidationError names the path once when the message starts with it, in either way of writing it', () => {
    const issue = (message: string) => [{ message, path: [{ key: 'rows' }, 0, 'id'] }]
    // arktype's way, the path as in code.
    expect(new ValidationError(issue('rows[0].id must be a number (was a string)'), 1, {}).message).toBe(
      'The item at index 1 does not match the schema: rows[0].id must be a number (was a string).',
    )
    expect(new ValidationError(issue('rows.0.id is missing'), 1, {}).message).toBe(
      'The item at index 1 does not match the schema: rows.0.id is missing.',
    )
    // A message that only starts like the path, or names another, gets the path in front.
    expect(new ValidationError(issue('rows[0].identifier is taken'), 1, {}).message).toBe(
      'The item at index 1 does not match the schema: rows.0.id: rows[0].identifier is taken.',
    )
    expect(
      new ValidationError([{ message: 'id must be a number', path: ['rows', 0, 'id'] }], 1, {}).message,
    ).toBe('The item at index 1 does not match the schema: rows.0.id: id must be a number.')
  })

  it('an HTTPError quotes an excerpt of 200 characters whole, and cuts a longer one with an ellipsis', () => {
    const response = new Response(null, { status: 500, statusText: 'Internal Server Error' })
    expect(new HTTPError(response, 'e'.repeat(200)).message).toBe(
      `Request to the server failed with status 500 Internal Server Error: ${'e'.repeat(200)}`,
    )
    expect(new HTTPError(response, 'e'.repeat(201)).message).toBe(
      `Request to the server failed with status 500 Internal Server Error: ${'e'.repeat(200)}…`,
    )
  })

  it('an HTTPError, and what the server said in other messages, cut a long excerpt between characters, never inside one', () => {
    // "😀" is two UTF-16 units, the 200th and 201st: half of it would read `\ud83d` once quoted, U+FFFD once sent.
    const excerpt = `${'e'.repeat(199)}😀 and more`
    expect(new HTTPError(new Response(null, { status: 500 }), excerpt).message).toBe(
      `Request to the server failed with status 500: ${'e'.repeat(199)}…`,
    )
    expect(said(excerpt)).toBe(`the server said: "${'e'.repeat(199)}…"`)
    expect(excerptOf(`${'e'.repeat(79)}😀`)).toBe(`${'e'.repeat(79)}…`)
  })

  it('an error made without a cause has no cause property of its own', () => {
    const error = new HTTPError(new Response(null, { status: 404 }), '')
    expect(Object.hasOwn(error, 'cause')).toBe(false)
    const caused = new HTTPError(new Response(null, { status: 404 }), '', { cause: 'why' })
    expect(Object.hasOwn(caused, 'cause') && caused.cause).toBe('why')
  })

  it('a TimeoutError names where once: the idle message has it in its sentence, the others in parentheses', () => {
    expect(new TimeoutError('idle', 500, URL_NAMED).message).toBe(
      `The body of ${URL_NAMED} was silent for 500 ms; raise \`idleTimeout\`, or make the server send heartbeats.`,
    )
    expect(new TimeoutError('total', 900, URL_NAMED).message).toBe(
      `The stream did not complete within 900 ms (${URL_NAMED}); raise \`totalTimeout\`.`,
    )
  })

  it('a LimitError counts maxDepth in levels, the other limits in bytes', () => {
    expect(new LimitError('maxDepth', 64, 'The document').message).toBe(
      'The document exceeds maxDepth (64 levels); raise the `maxDepth` option if this is expected.',
    )
    expect(new LimitError('maxLineBytes', 10, 'Line 2').message).toBe(
      'Line 2 exceeds maxLineBytes (10 bytes); raise the `maxLineBytes` option if this is expected.',
    )
  })

  it('a ParseError quotes a bad line of 80 characters whole, and cuts a longer one', async () => {
    for (const [line, excerpt] of [
      ['x'.repeat(80), 'x'.repeat(80)],
      ['x'.repeat(81), `${'x'.repeat(80)}…`],
    ] as const) {
      const res = await fromResponse(new Response(`{"n":1}\n${line}\n`))
      const error = await failure(Array.fromAsync(res.ndjson()))
      expect(error).toMatchObject({ name: 'ParseError', line: 2, offset: 8, excerpt })
    }
  })

  it("a connection that fails gives the runtime's reason and its causes, not ky's restatement of the request", async () => {
    const failed = new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:9') })
    const error = await failure(
      sluice(URL_NAMED, {
        retry: 0,
        fetch: fetchWith(() => {
          throw failed
        }),
      }),
    )
    expect(isNetworkError(error)).toBe(true)
    expect(error.message).toContain('fetch failed: connect ECONNREFUSED 127.0.0.1:9')
    expect(error.message).not.toContain('Request failed due to a network error')
  })

  it('collect.json() with a schema reports the document as item 0', async () => {
    const res = await fromResponse(new Response('{"n":"one"}'))
    const error = await failure(res.collect.json(z.object({ n: z.number() })))
    expect(isValidationError(error) && [error.index, error.value]).toEqual([0, { n: 'one' }])
  })
})
