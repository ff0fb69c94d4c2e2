/**
 * Which answers to a reconnect are worth asking again: a busy or failing server (408, 425, 429, 5xx) is asked
 * again after its Retry-After, and the stream continues; any other refusal ends it at once with a ResumeError
 * that names the status, as does a busy server once the attempts are spent.
 */
import { describe, expect, it } from 'vitest'
import { isResumeError, type ResumeError, sluice } from '../src/index.ts'
import { dropping, rest, URL_R } from './support/ranged-drop.ts'
import { FAST } from './support/scripted.ts'
import { fetchWith } from './support/streams.ts'

/** Reads the 8-byte ranged body whose first reconnect meets `status`, then `rest` of it; the ranges asked. */
async function throughAnswer(status: number): Promise<{ text: string; error: unknown; ranges: string[] }> {
  const ranges: string[] = []
  const res = await sluice(URL_R, {
    retry: 0,
    resume: { attempts: 3, backoff: FAST },
    fetch: fetchWith((request) => {
      ranges.push(request.headers.get('range') ?? '')
      if (ranges.length === 1) return dropping()
      if (ranges.length === 2)
        return new Response(`status ${status}`, { status, headers: { 'retry-after': '0' } })
      return rest('efgh')
    }),
  })
  let text = ''
  const error = await (async () => {
    for await (const chunk of res.text()) text += chunk
  })().catch((e: unknown) => e)
  return { text, error, ranges }
}

describe('a busy answer to a reconnect is asked again', () => {
  for (const status of [408, 425, 429, 500, 503]) {
    it(`${status}: the same range again, then the rest`, async () => {
      const { text, error, ranges } = await throughAnswer(status)
      expect(error).toBeUndefined()
      expect(text).toBe('abcdefgh')
      expect(ranges).toEqual(['', 'bytes=4-', 'bytes=4-'])
    })
  }
})

describe('any other refusal ends the stream at once', () => {
  for (const status of [400, 404, 409, 410, 422]) {
    it(`${status}: a ResumeError naming it, and no other request`, async () => {
      const { text, error, ranges } = await throughAnswer(status)
      expect(text).toBe('abcd')
      expect(isResumeError(error)).toBe(true)
      expect((error as ResumeError).reason).toBe('not-resumable')
      expect((error as ResumeError).message).toContain(`with status ${status};`)
      expect(ranges).toEqual(['', 'bytes=4-'])
    })
  }
})

describe('how many times a reconnect is asked', () => {
  it('5 reconnects by default: a server that keeps dropping the rest gets 6 requests, then attempts-exhausted', async () => {
    const ranges: string[] = []
    const res = await sluice(URL_R, {
      retry: 0,
      resume: { backoff: FAST },
      fetch: fetchWith((request) => {
        ranges.push(request.headers.get('range') ?? '')
        // Every answer drops before its first byte.
        return ranges.length === 1
          ? dropping()
          : rest(new ReadableStream({ pull: (c) => c.error(new TypeError('network error (scripted drop)')) }))
      }),
    })
    let text = ''
    const error = await (async () => {
      for await (const chunk of res.text()) text += chunk
    })().catch((e: unknown) => e)
    expect(text).toBe('abcd')
    expect(isResumeError(error) && error.reason).toBe('attempts-exhausted')
    expect(ranges).toEqual(['', ...Array(5).fill('bytes=4-')])
  })
})
