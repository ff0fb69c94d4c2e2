// sluice get words failures in its own terms; what the server said in a refused resume's error page stays.
import { expect, describe as group, it } from 'vitest'
import { describe, pastContinuing } from '../../src/cli/get-errors.ts'
import { ResumeError, TruncatedError } from '../../src/index.ts'

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
