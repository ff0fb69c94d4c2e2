/**
 * What a refused resume carries as fields, not only in its message: `excerpt`, the start of the error page a
 * reconnect (or a `resumeFrom` request) was answered with, on the `ResumeError` that refuses it or on the
 * `NetworkError` of a busy answer; and `answered`, whether a `ResumeError`'s `response` is that answer or the
 * stream's own.
 *
 * The server is an injected `fetch`: its first answer drops after 4 bytes of an 8-byte body served by Range, and
 * each reconnect meets the next answer of the list.
 */
import { describe, expect, it } from 'vitest'
import {
  type Checkpoint,
  fromResponse,
  isNetworkError,
  isResumeError,
  type NetworkError,
  type ResumeError,
  type SluiceOptions,
  type StreamResponse,
  sluice,
} from '../src/index.ts'
import { dropping, RANGED, rest, URL_R } from './support/ranged-drop.ts'
import { FAST } from './support/scripted.ts'
import { collect, failure, fetchWith, responseOf } from './support/streams.ts'

/** The error a read of URL_R ends with when `answers` answer its connections one after the other. */
async function failureOf(
  answers: Array<() => Response>,
  options: SluiceOptions = {},
  read: (res: StreamResponse) => AsyncIterable<unknown> = (res) => res.bytes(),
): Promise<Error> {
  let n = 0
  const res = await sluice(URL_R, {
    resume: { attempts: answers.length - 1, backoff: FAST },
    ...options,
    fetch: fetchWith(() => answers[Math.min(n++, answers.length - 1)]!()),
  })
  return failure(collect(read(res)))
}

function asResumeError(error: Error): ResumeError {
  if (!isResumeError(error)) throw error
  return error
}

/** The NetworkError of the last reconnect, inside the `attempts-exhausted` refusal that gave up after it. */
function lastReconnect(error: Error): NetworkError {
  const cause = asResumeError(error).cause
  if (!isNetworkError(cause)) throw error
  return cause
}

/** A checkpoint after the first 4 bytes of the 8-byte body, taken from a stream read with Range. */
async function checkpointAfterFour(): Promise<Checkpoint> {
  const res = await fromResponse(
    responseOf(['abcd', 'efgh'], { headers: { ...RANGED, 'content-length': '8' } }),
    {
      url: URL_R,
    },
  )
  for await (const _ of res.bytes()) break
  const checkpoint = JSON.parse(JSON.stringify(res.checkpoint())) as Checkpoint
  expect(checkpoint.offset).toBe(4)
  return checkpoint
}

describe('excerpt: what the server’s error page said, as a field', () => {
  it('is on the ResumeError that refuses a reconnect answered with an error page, whole, not as quoted', async () => {
    const error = asResumeError(
      await failureOf([
        () => dropping(),
        () => new Response('report expired: ask for a new one\n', { status: 404 }),
      ]),
    )
    expect(error.reason).toBe('not-resumable')
    expect(error.excerpt).toBe('report expired: ask for a new one\n')
    // The message quotes the first 200 characters; the field keeps the first KiB.
    const long = asResumeError(
      await failureOf([() => dropping(), () => new Response('x'.repeat(5000), { status: 410 })]),
    )
    expect(long.excerpt).toBe('x'.repeat(1024))
    expect(long.message).toContain(`the server said: "${'x'.repeat(200)}…"`)
    // 200 characters exactly are quoted whole, without the mark of a cut.
    const exact = asResumeError(
      await failureOf([() => dropping(), () => new Response('y'.repeat(200), { status: 410 })]),
    )
    expect(exact.message).toContain(`the server said: "${'y'.repeat(200)}".`)
  })

  it('is on the NetworkError of a busy answer to a reconnect, which gave up after it', async () => {
    const error = await failureOf([
      () => dropping(),
      () => new Response('busy: try again in a minute', { status: 503, headers: { 'retry-after': '0' } }),
    ])
    expect(asResumeError(error).reason).toBe('attempts-exhausted')
    expect(lastReconnect(error).excerpt).toBe('busy: try again in a minute')
    // Giving up is no answer of the server's: what it said is its cause's.
    expect('excerpt' in error).toBe(false)
  })

  it('is on the ResumeError that refuses the answer to a resumeFrom request', async () => {
    const checkpoint = await checkpointAfterFour()
    const error = asResumeError(
      await failure(
        sluice(URL_R, {
          resumeFrom: checkpoint,
          fetch: fetchWith(() => new Response('gone for good', { status: 410 })),
        }),
      ),
    )
    expect(error.reason).toBe('not-resumable')
    expect(error.excerpt).toBe('gone for good')
  })

  it('is absent when the error page had no body, or nothing but whitespace; the refusal is still of the answer', async () => {
    for (const page of [null, ' \n\t ']) {
      const refused = asResumeError(
        await failureOf([() => dropping(), () => new Response(page, { status: 404 })]),
      )
      expect(refused.answered, refused.message).toBe(true)
      expect('excerpt' in refused, refused.message).toBe(false)
      const busy = lastReconnect(
        await failureOf([
          () => dropping(),
          () => new Response(page, { status: 503, headers: { 'retry-after': '0' } }),
        ]),
      )
      expect(busy.response?.status).toBe(503)
      expect('excerpt' in busy, busy.message).toBe(false)
    }
  })

  it('is absent when the answer was a success, whose body is no error page', async () => {
    const error = asResumeError(
      await failureOf([
        () => dropping(),
        () => rest('<html>sign in</html>', { 'content-type': 'text/html' }),
      ]),
    )
    expect(error.answered).toBe(true)
    expect('excerpt' in error).toBe(false)
  })
})

describe('answered: whether a not-resumable refusal’s response is the answer to the resume request', () => {
  it('is true for a success that is not the rest, with the answer as its response', async () => {
    const html = await failureOf([() => dropping(), () => rest('<html>', { 'content-type': 'text/html' })])
    const unmarked = await failureOf([() => dropping({ 'x-sluice-end': 'marker' }), () => rest('efgh')])
    const empty = await failureOf([() => dropping(), () => new Response(null, { status: 204 })])
    for (const error of [html, unmarked, empty]) {
      const refusal = asResumeError(error)
      expect(refusal.reason, refusal.message).toBe('not-resumable')
      expect(refusal.answered, refusal.message).toBe(true)
    }
    expect(asResumeError(html).response?.headers.get('content-type')).toBe('text/html')
    expect(asResumeError(empty).response?.status).toBe(204)
  })

  it('is true for a success without a body for the rest of an event stream', async () => {
    const error = asResumeError(
      await failureOf(
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
      ),
    )
    expect(error.reason).toBe('not-resumable')
    expect(error.answered).toBe(true)
    expect(error.response?.status).toBe(205)
  })

  it('is true for an error status, and for a resumeFrom request answered with another kind of body', async () => {
    const credentials = asResumeError(
      await failureOf([() => dropping(), () => new Response('token expired', { status: 401 })]),
    )
    expect(credentials.answered).toBe(true)
    const checkpoint = await checkpointAfterFour()
    const fromCheckpoint = asResumeError(
      await failure(
        sluice(URL_R, {
          resumeFrom: checkpoint,
          fetch: fetchWith(() => rest('<html>', { 'content-type': 'text/html' })),
        }),
      ),
    )
    expect(fromCheckpoint.reason, fromCheckpoint.message).toBe('not-resumable')
    expect(fromCheckpoint.answered).toBe(true)
  })

  it('is false for a reconnect that failed for a bug, and for a strategy the consumer cannot follow', async () => {
    const bug = await failureOf([
      () => dropping(),
      () => {
        throw new RangeError('a bug in a fetch option')
      },
    ])
    const boundary = await failureOf([() => dropping()], {
      resume: { strategy: 'cursor', cursor: () => ({}), attempts: 1, backoff: FAST },
    })
    for (const error of [bug, boundary]) {
      const refusal = asResumeError(error)
      expect(refusal.reason, refusal.message).toBe('not-resumable')
      // The stream's own 200, not an answer to a resume request.
      expect(refusal.response?.status).toBe(200)
      expect(refusal.answered, refusal.message).toBe(false)
    }
  })

  it('is false after the reconnects gave up: the answer is its cause’s', async () => {
    const error = asResumeError(
      await failureOf([
        () => dropping(),
        () => new Response('busy', { status: 503, headers: { 'retry-after': '0' } }),
      ]),
    )
    expect(error.reason).toBe('attempts-exhausted')
    expect(error.answered).toBe(false)
  })
})
