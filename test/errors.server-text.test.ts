/**
 * Server text in error messages: an error page, a status text, a header value or a body line a message quotes
 * shows its control characters escaped (`\u001b`), so that a hostile or broken server can neither forge a line in
 * a log that prints the error nor drive the terminal it is printed on; printable text, non-ASCII letters
 * included, reads as it is, and the fields that hold the server's text (`excerpt`, `response`) keep it raw.
 */
import { describe, expect, it } from 'vitest'
import { fromResponse, isHTTPError, isParseError, isResumeError, sluice } from '../src/index.ts'
import { dropping, rest, URL_R } from './support/ranged-drop.ts'
import { FAST } from './support/scripted.ts'
import { collect, failure, fetchWith } from './support/streams.ts'

/** Any character a message must not carry as it is: controls, bidi controls, line and paragraph separators. */
const UNPRINTABLE = /[\p{Cc}\p{Bidi_C}\u2028\u2029]/u
const HOSTILE = 'x\r\nERROR fake line\x1b[2J'

describe('an HTTPError quoting an error page', () => {
  it('escapes its CR, LF and escape sequences in the message, and keeps the page raw in `excerpt`', async () => {
    const error = await failure(
      sluice('https://e.example/missing', {
        retry: 0,
        fetch: fetchWith(() => new Response(HOSTILE, { status: 404, statusText: 'Not Found' })),
      }),
    )
    expect(isHTTPError(error) && error.excerpt).toBe(HOSTILE)
    expect(error.message).toBe(
      'Request to https://e.example/missing failed with status 404 Not Found: x\\u000d\\u000aERROR fake line\\u001b[2J',
    )
    expect(error.message).not.toMatch(UNPRINTABLE)
  })

  it('escapes NUL, DEL, C1 and bidi controls, also in the status text, and keeps letters of any script', async () => {
    const page = 'Café 日本語: \0\x7f\x9b31m \u202eevil\u202c \u2028next'
    const error = await failure(
      sluice('https://e.example/missing', {
        retry: 0,
        fetch: fetchWith(() => new Response(page, { status: 500, statusText: 'Oops\x9b2J' })),
      }),
    )
    expect(isHTTPError(error) && error.excerpt).toBe(page)
    expect(error.message).toBe(
      'Request to https://e.example/missing failed with status 500 Oops\\u009b2J: Café 日本語: \\u0000\\u007f\\u009b31m \\u202eevil\\u202c \\u2028next',
    )
    expect(isHTTPError(error) && error.response.statusText).toBe('Oops\x9b2J')
  })
})

describe('an HTTPError quoting a plain error page', () => {
  it('quotes it without the line feed that ends it, which would only show as an escape', async () => {
    const error = await failure(
      sluice('https://e.example/missing', {
        retry: 0,
        fetch: fetchWith(
          () => new Response('No route /missing.\n', { status: 404, statusText: 'Not Found' }),
        ),
      }),
    )
    expect(error.message).toBe(
      'Request to https://e.example/missing failed with status 404 Not Found: No route /missing.',
    )
    expect(isHTTPError(error) && error.excerpt).toBe('No route /missing.\n')
  })
})

describe('a ParseError quoting a line of the body', () => {
  it('escapes the C1 and bidi controls JSON leaves as they are, and keeps the line raw in `excerpt`', async () => {
    const line = '{"a":1} \u202e\x9b2J'
    const res = await fromResponse(new Response(`{"n":1}\n${line}\n`))
    const error = await failure(collect(res.ndjson()))
    expect(isParseError(error) && error.excerpt).toBe(line)
    expect(error.message).toContain('"{\\"a\\":1} \\u202e\\u009b2J"')
    expect(error.message).not.toMatch(UNPRINTABLE)
  })

  it("collect.json() escapes the runtime's reason too, which quotes the body", async () => {
    const res = await fromResponse(new Response(`${HOSTILE}\u202e`))
    const error = await failure(res.collect.json())
    expect(isParseError(error) && error.excerpt).toBe(`${HOSTILE}\u202e`)
    expect(error.message).not.toMatch(UNPRINTABLE)
  })
})

describe('a ResumeError quoting a reconnect’s answer', () => {
  async function refusal(answer: () => Response): Promise<Error> {
    let n = 0
    const res = await sluice(URL_R, {
      resume: { attempts: 1, backoff: FAST },
      fetch: fetchWith(() => (n++ === 0 ? dropping({ etag: '"v1"' }) : answer())),
    })
    return failure(collect(res.bytes()))
  }

  it('escapes what the error page said, and keeps it raw in `excerpt`', async () => {
    const error = await refusal(() => new Response(`gone\u202e \x9b2J`, { status: 404 }))
    expect(isResumeError(error) && error.excerpt).toBe('gone\u202e \x9b2J')
    expect(error.message).toContain('the server said: "gone\\u202e \\u009b2J".')
    expect(error.message).not.toMatch(UNPRINTABLE)
  })

  it('escapes the media type it names', async () => {
    const error = await refusal(() => rest('efgh', { 'content-type': 'text/html\x9b2J; charset=utf-8' }))
    expect(isResumeError(error) && error.reason).toBe('not-resumable')
    expect(error.message).toContain('with text/html\\u009b2j, not the application/octet-stream')
    expect(error.message).not.toMatch(UNPRINTABLE)
  })

  it('escapes the header values it names, such as an ETag', async () => {
    const error = await refusal(() => rest('efgh', { etag: '"v2\x9b2J"' }))
    expect(isResumeError(error) && error.reason).toBe('validator-changed')
    expect(error.message).toContain('ETag "v1" became "v2\\u009b2J"')
    expect(error.message).not.toMatch(UNPRINTABLE)
  })
})

describe('a cause quoting the server', () => {
  /**
   * What `console.error` prints of `error`: the message and stack of each error along its causes, on one line (a
   * stack's frames, each on a line of its own, joined).
   */
  function printed(error: unknown): string {
    const out: string[] = []
    for (let at = error; at instanceof Error; at = at.cause) out.push(at.message, at.stack ?? '')
    return out.join(' ').replaceAll('\n    at ', ' at ')
  }

  it("escapes the status text in ky's HTTPError, kept as `cause`", async () => {
    const error = await failure(
      sluice('https://e.example/missing', {
        retry: 0,
        fetch: fetchWith(() => new Response('gone', { status: 500, statusText: 'Oops\x9b2J' })),
      }),
    )
    expect(error.cause).toBeInstanceOf(Error)
    expect((error.cause as Error).message).toContain('500 Oops\\u009b2J')
    expect(printed(error)).not.toMatch(UNPRINTABLE)
    expect(isHTTPError(error) && error.response.statusText).toBe('Oops\x9b2J')
  })

  it("escapes what a beforeError hook quoted of the page, in the message and in ky's error", async () => {
    const error = await failure(
      sluice('https://e.example/missing', {
        retry: 0,
        fetch: fetchWith(() => new Response(HOSTILE, { status: 500 })),
        hooks: {
          beforeError: [
            ({ error }) => {
              error.message = `The server said ${String((error as { data?: unknown }).data)}`
              return error
            },
          ],
        },
      }),
    )
    expect(error.message).toBe('The server said x\\u000d\\u000aERROR fake line\\u001b[2J')
    expect(printed(error)).not.toMatch(UNPRINTABLE)
  })

  it('escapes the bad record JSON.parse quotes, in the SyntaxError kept as `cause` of an NDJSON ParseError', async () => {
    const res = await fromResponse(new Response('{"n":1}\nx\x1b[2J\u202e\n'))
    const error = await failure(collect(res.ndjson()))
    expect(error.cause).toBeInstanceOf(SyntaxError)
    expect(printed(error)).not.toMatch(UNPRINTABLE)
  })

  it('escapes the event data JSON.parse quotes, in the SyntaxError kept as `cause` of an SSE ParseError', async () => {
    const res = await fromResponse(
      new Response('data: x\x1b[2J\u202e\x9b\n\n', { headers: { 'content-type': 'text/event-stream' } }),
    )
    const error = await failure(collect(res.events({ json: true })))
    expect(error.cause).toBeInstanceOf(SyntaxError)
    expect(printed(error)).not.toMatch(UNPRINTABLE)
  })
})
