/**
 * Chromium's HTTP cache in front of a cacheable stream (`Cache-Control: max-age=60`). It keys an answer by its URL,
 * not by the Last-Event-ID, cursor header or Range a request carries: without `cache: 'no-store'` on the requests
 * that continue a stream, it answered each reconnect with the cut answer it kept (the events before the cut again,
 * every time, until the attempts ran out), a Range with the whole 200, and a `resumeFrom` with the whole stream.
 * The loopback server is real (msw's worker would answer before the cache); its log says what reached it.
 */
import { expect, it } from 'vitest'
import { sluice } from '../../src/index.ts'
import { encode } from '../support/chunking.ts'
import { base64, FAST, scripted } from '../support/scripted.ts'

const CACHEABLE = 'max-age=60'
const EVENTS = Array.from({ length: 10 }, (_, i) => ({ id: String(i), data: `e${i}` }))
const DATA = EVENTS.map((e) => e.data)
const RESUME = { backoff: FAST, attempts: 3 } as const

/** How many requests reached the server. */
const requests = async (log: () => Promise<Array<{ event: string }>>): Promise<number> =>
  (await log()).filter((e) => e.event === 'request').length

it('an SSE answer cut before its end marker is continued by the server after its last id, not by the cache', async () => {
  const { url, log } = await scripted({
    kind: 'sse',
    events: EVENTS,
    marker: true,
    cacheControl: CACHEABLE,
    attempts: [{ cut: 40 }],
  })
  const res = await sluice(url, { resume: RESUME })
  expect((await Array.fromAsync(res.events())).map((e) => e.data)).toEqual(DATA)
  expect((await log()).filter((e) => e.event === 'request').map((e) => e.lastEventId)).toEqual([null, '1'])
})

it('an NDJSON answer cut before its end marker is continued after a cursor sent as a header', async () => {
  const records = Array.from({ length: 10 }, (_, i) => ({ i }))
  const { url, log } = await scripted({
    kind: 'cursor',
    records: records.map((r) => JSON.stringify(r)),
    type: 'application/x-ndjson',
    cursorHeader: 'x-after',
    marker: true,
    cacheControl: CACHEABLE,
    attempts: [{ cut: 20 }],
  })
  const res = await sluice(url, {
    resume: { ...RESUME, cursor: (last) => ({ headers: { 'x-after': String((last as { i: number }).i) } }) },
  })
  expect(await Array.fromAsync(res.ndjson())).toEqual(records)
  expect(await requests(log)).toBe(2)
})

it('a body cut before its end marker is continued by Range from the server, which answers 206', async () => {
  const body = 'x'.repeat(200)
  const { url, log } = await scripted({
    kind: 'range',
    body: base64(encode(body)),
    length: false,
    marker: true,
    cacheControl: CACHEABLE,
    attempts: [{ cut: 40 }],
  })
  const res = await sluice(url, { resume: RESUME })
  expect(await res.collect.text()).toBe(body)
  expect((await log()).filter((e) => e.event === 'request').map((e) => e.range)).toEqual([null, 'bytes=40-'])
})

it('resumeFrom a checkpoint of a stream the cache keeps whole continues after its id', async () => {
  const { url, log } = await scripted({ kind: 'sse', events: EVENTS, cacheControl: CACHEABLE })
  const res = await sluice(url)
  const events = res.events()[Symbol.asyncIterator]()
  for (let i = 0; i < 3; i++) await events.next()
  const checkpoint = res.checkpoint()
  while (!(await events.next()).done);
  const again = await sluice(url, { resumeFrom: checkpoint })
  expect((await Array.fromAsync(again.events())).map((e) => e.data)).toEqual(DATA.slice(3))
  expect((await log()).filter((e) => e.event === 'request').map((e) => e.lastEventId)).toEqual([null, '2'])
})

it('a first request is still the cache’s to answer: a fresh answer kept is read again', async () => {
  const { url, log } = await scripted({ kind: 'sse', events: EVENTS, cacheControl: CACHEABLE })
  for (let i = 0; i < 2; i++) {
    const res = await sluice(url)
    expect((await Array.fromAsync(res.events())).map((e) => e.data)).toEqual(DATA)
  }
  expect(await requests(log)).toBe(1)
})
