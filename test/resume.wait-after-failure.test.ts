/**
 * The waits between reconnects after a failure. An SSE `retry:` is the wait of the first reconnect after a
 * connection that streamed: once a reconnect failed, the backoff grows past it (WHATWG lets a client back off so),
 * or a `retry: 0` would turn the reconnects to a failing server into a flood. And a `totalTimeout` that fires during
 * such a wait says what the stream was waiting for, with what made it wait as its `cause`: raising the limit does
 * not help when the server asked for an hour.
 */
import { describe, expect, it } from 'vitest'
import { isNetworkError, isTimeoutError, sluice } from '../src/index.ts'
import { encode } from './support/chunking.ts'
import { droppedAfter, failure, fetchWith } from './support/streams.ts'

const URL_ = 'https://fn.example/events'
/** A backoff of an hour from the first reconnect on: a wait the stream must never reach before its total timeout. */
const HOUR = 3_600_000
const SLOW = { initial: HOUR, max: HOUR, jitter: 0 }

describe('after an SSE retry: 0, a reconnect that failed', () => {
  it('is followed by the backoff, not by another reconnect at once', async () => {
    const wire = encode('retry: 0\nid: 1\ndata: a\n\n')
    let requests = 0
    const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
      requests++
      // The server is gone after its first answer: every reconnect fails before its headers.
      if (requests > 1) throw new TypeError('Failed to fetch')
      return fetchWith(
        () =>
          new Response(droppedAfter(wire, wire.length), { headers: { 'content-type': 'text/event-stream' } }),
      )(input, init)
    }) as typeof globalThis.fetch
    // Without the backoff, the 3 attempts would run out at once (ResumeError 'attempts-exhausted').
    const res = await sluice(URL_, { fetch, totalTimeout: 1000, resume: { attempts: 3, backoff: SLOW } })
    const error = await failure(Array.fromAsync(res.events()))
    expect(isTimeoutError(error) && error.phase).toBe('total')
    // The first reconnect went at once, as retry: 0 asked; the next waits the hour the backoff says.
    expect(requests).toBe(2)
    expect(error.message).toContain(`while waiting ${HOUR} ms to reconnect after a failed reconnect`)
    expect(isNetworkError(error.cause)).toBe(true)
  })
})

describe('a totalTimeout that fires while a reconnect waits out a Retry-After', () => {
  it('says what it waited for and gives the busy answer as its cause', async () => {
    const body = encode('one\ntwo\nthree\n')
    const fetch = fetchWith((request) =>
      request.headers.get('range') === null
        ? new Response(droppedAfter(body, 4), { headers: { 'accept-ranges': 'bytes', etag: '"v1"' } })
        : new Response('busy', { status: 503, headers: { 'retry-after': '3600' } }),
    )
    const res = await sluice(URL_, {
      fetch,
      totalTimeout: 1000,
      resume: { backoff: { initial: 1, max: 2, jitter: 0 } },
    })
    const error = await failure(Array.fromAsync(res.lines()))
    expect(isTimeoutError(error) && error.phase).toBe('total')
    expect(error.message).toBe(
      `The stream did not complete within 1000 ms (${URL_}) while waiting ${HOUR} ms (Retry-After) to reconnect after a 503 answer (see \`cause\`); continue later from the checkpoint, or raise \`totalTimeout\`.`,
    )
    expect(isNetworkError(error.cause) && error.cause.response?.status).toBe(503)
  })
})

describe('a totalTimeout that fires while the request of resumeFrom waits to be asked again', () => {
  /** A checkpoint after the first line of a body the server serves by Range. */
  async function afterFirstLine(fetch: typeof globalThis.fetch) {
    const res = await sluice(URL_, { fetch })
    for await (const _line of res.lines()) break
    return res.checkpoint()
  }
  const full = () =>
    new Response('one\ntwo\nthree\n', { headers: { 'accept-ranges': 'bytes', etag: '"v1"' } })

  it('says it waited out a Retry-After to ask again, with the busy answer as its cause', async () => {
    const checkpoint = await afterFirstLine(fetchWith(full))
    const busy = fetchWith(() => new Response('busy', { status: 503, headers: { 'retry-after': '3600' } }))
    const error = await sluice(URL_, {
      fetch: busy,
      resumeFrom: checkpoint,
      totalTimeout: 1000,
      resume: { backoff: { initial: 1, max: 2, jitter: 0 } },
    }).catch((e: unknown) => e)
    expect(isTimeoutError(error) && error.phase).toBe('total')
    expect((error as Error).message).toBe(
      `The stream did not complete within 1000 ms (${URL_}) while waiting ${HOUR} ms (Retry-After) to ask again for the resume request after a 503 answer (see \`cause\`); continue later from the checkpoint, or raise \`totalTimeout\`.`,
    )
    const cause = (error as Error).cause
    expect(isNetworkError(cause) && cause.response?.status).toBe(503)
  })

  it('says it waited out the backoff after a failed connection, with that failure as its cause', async () => {
    const checkpoint = await afterFirstLine(fetchWith(full))
    const down = (async () => {
      throw new TypeError('Failed to fetch')
    }) as typeof globalThis.fetch
    const error = await sluice(URL_, {
      fetch: down,
      resumeFrom: checkpoint,
      totalTimeout: 1000,
      resume: { attempts: 3, backoff: SLOW },
    }).catch((e: unknown) => e)
    expect(isTimeoutError(error) && error.phase).toBe('total')
    expect((error as Error).message).toContain(
      `while waiting ${HOUR} ms to ask again for the resume request after a failed connection (see \`cause\`)`,
    )
    const cause = (error as Error).cause
    expect(isNetworkError(cause) && cause.message).toMatch(
      /^The resume request to https:\/\/fn\.example\/events /,
    )
    expect(((cause as Error).cause as Error).message).toContain('network error')
  })
})
