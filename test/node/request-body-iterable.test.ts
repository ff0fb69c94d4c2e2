/**
 * A request body given as an async iterable (Node's fetch takes one) is read as it is sent, like a stream: it
 * cannot be sent again, so a reconnect that would need it is refused with a ResumeError that says so.
 */
import { expect, it } from 'vitest'
import { isResumeError, sluice } from '../../src/index.ts'
import { FAST } from '../support/scripted.ts'
import { bodyOf } from '../support/streams.ts'

it('an async iterable request body makes a reconnect not-resumable, after the one connection it was sent on', async () => {
  let requests = 0
  const fetch = (async () => {
    requests++
    return new Response(bodyOf(['01234'], { error: new TypeError('terminated') }).stream, {
      headers: { 'accept-ranges': 'bytes', etag: '"v1"', 'content-length': '10' },
    })
  }) as typeof globalThis.fetch
  async function* upload() {
    yield new TextEncoder().encode('payload')
  }
  const res = await sluice('https://fn.example/upload', {
    method: 'POST',
    body: upload() as unknown as BodyInit,
    fetch,
    retry: 0,
    resume: { strategy: 'range', attempts: 2, backoff: FAST },
  })
  const error = await res.collect.text().catch((e: unknown) => e)
  expect(isResumeError(error) && { reason: error.reason, attempts: error.attempts }).toEqual({
    reason: 'not-resumable',
    attempts: 1,
  })
  expect((error as Error).message).toContain('is a stream, which is sent once and cannot be sent again')
  expect(requests).toBe(1)
})
