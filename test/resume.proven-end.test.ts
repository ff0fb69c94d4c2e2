/**
 * A connection that fails after the last byte that proves the body's end (all of a declared length, or the whole
 * end marker) lost nothing: the stream ends `done`, and nothing is asked again — a reconnect to a function URL is
 * a new invocation, which for a Range would regenerate the whole body only to answer 416.
 */
import { describe, expect, it } from 'vitest'
import { isNetworkError, type SluiceOptions, sluice } from '../src/index.ts'
import { FAST } from './support/scripted.ts'
import { drain, fetchWith, responseOf } from './support/streams.ts'

const records = ['{"n":1}\n', '{"n":2}\n', '{"n":3}\n']
const body = records.join('')
const marker = `{"$sluice":"end","bytes":${body.length}}\n`
const reset = new TypeError('terminated', {
  cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
})

/** Reads `ndjson()` of an answer that fails after `parts`, counting the requests made. */
async function readFailingAfter(
  parts: string[],
  headers: Record<string, string>,
  resume: SluiceOptions['resume'],
) {
  let requests = 0
  const res = await sluice('https://example.test/report', {
    resume,
    fetch: fetchWith(() => {
      requests++
      return responseOf(parts, { headers, error: reset })
    }),
  })
  const { items, error } = await drain(res.ndjson())
  return { items, error, requests, progress: res.progress }
}

const proven: Array<[string, string[], Record<string, string>]> = [
  ['all of its Content-Length', records, { 'content-length': String(body.length), 'accept-ranges': 'bytes' }],
  ['its whole end marker', [...records, marker], { 'x-sluice-end': 'marker', 'accept-ranges': 'bytes' }],
  [
    'its end marker, split across chunks',
    [...records, marker.slice(0, 9), marker.slice(9)],
    { 'x-sluice-end': 'marker' },
  ],
]

describe('a drop after the proven end', () => {
  for (const [what, parts, headers] of proven) {
    for (const resume of [{ attempts: 3, backoff: FAST }, false] as const) {
      it(`after ${what}, with resume ${resume === false ? 'off' : 'on'}: done, every record once, one request`, async () => {
        const run = await readFailingAfter(parts, headers, resume)
        expect(run.error).toBeUndefined()
        expect(run.items).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }])
        expect(run.requests).toBe(1)
        expect(run.progress).toMatchObject({ state: 'done', loaded: body.length })
      })
    }
  }

  it('one byte short of the Content-Length is still a drop, reported when it cannot be resumed', async () => {
    const run = await readFailingAfter([body.slice(0, -1)], { 'content-length': String(body.length) }, false)
    expect(isNetworkError(run.error)).toBe(true)
    expect(run.items).toEqual([{ n: 1 }, { n: 2 }])
    expect(run.requests).toBe(1)
  })

  it('a marker cut before its last byte is still a drop', async () => {
    const run = await readFailingAfter([...records, marker.slice(0, -1)], { 'x-sluice-end': 'marker' }, false)
    expect(isNetworkError(run.error)).toBe(true)
    expect(run.items).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }])
  })
})
