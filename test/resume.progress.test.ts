/**
 * Progress across reconnects, and the end marker across a resume, against a real server on 127.0.0.1.
 * Every `onProgress` call is recorded (`progressInterval: 0`); order and counts are asserted.
 */
import { describe, expect, it } from 'vitest'
import { fromResponse, type Progress, sluice } from '../src/index.ts'
import { encode } from './support/chunking.ts'
import { base64, FAST, scripted } from './support/scripted.ts'
import { responseOf } from './support/streams.ts'

const LINES = Array.from({ length: 10 }, (_, i) => `{"i":${i},"s":"${'ĳ'.repeat(i)}😀"}`)
const BODY = encode(`${LINES.join('\n')}\n`)

function record(): { seen: Progress[]; onProgress: (p: Progress) => void; progressInterval: 0 } {
  const seen: Progress[] = []
  return { seen, onProgress: (p) => seen.push(p), progressInterval: 0 }
}

/** `loaded` never goes back, whatever reconnects happened between the reports. */
function expectLoadedMonotonic(seen: Progress[]): void {
  for (let i = 1; i < seen.length; i++) expect(seen[i]!.loaded).toBeGreaterThanOrEqual(seen[i - 1]!.loaded)
}

/** Consecutive duplicates removed. */
const runs = <T>(values: T[]): T[] => values.filter((v, i) => i === 0 || v !== values[i - 1])

/** The states of a stream that dropped twice and then completed. */
const TWO_RECONNECTS = ['streaming', 'reconnecting', 'streaming', 'reconnecting', 'streaming', 'done']

describe('progress across reconnects', () => {
  it('keeps loaded monotonic and never counts replayed bytes, increments attempt, and reaches 100 percent once (range)', async () => {
    const s = await scripted({ kind: 'range', body: base64(BODY), attempts: [{ drop: 17 }, { drop: 60 }] })
    const { seen, ...options } = record()
    const res = await sluice(s.url, { ...options, resume: { backoff: FAST } })
    expect(await Array.fromAsync(res.ndjson())).toHaveLength(LINES.length)
    expectLoadedMonotonic(seen)
    expect(seen.at(-1)).toMatchObject({
      loaded: BODY.length,
      total: BODY.length,
      percent: 100,
      items: 10,
      attempt: 3,
    })
    expect(runs(seen.map((p) => p.attempt))).toEqual([1, 2, 3])
    expect(runs(seen.map((p) => p.state))).toEqual(TWO_RECONNECTS)
    expect(seen.filter((p) => p.percent === 100)).toHaveLength(1)
  })

  it('counts the bytes of the delivered events once over Last-Event-ID: the replayed partial event is not counted twice', async () => {
    const events = LINES.map((data, i) => ({ id: String(i), data }))
    const wire = encode(events.map((e) => `id: ${e.id}\ndata: ${e.data}\n\n`).join(''))
    const { seen, ...options } = record()
    const s = await scripted({ kind: 'sse', events, attempts: [{ drop: 50 }, { drop: 70 }] })
    const res = await sluice(s.url, { ...options, resume: { backoff: FAST } })
    expect(await Array.fromAsync(res.events())).toHaveLength(events.length)
    expectLoadedMonotonic(seen)
    expect(seen.at(-1)).toMatchObject({
      loaded: wire.length,
      items: events.length,
      attempt: 3,
      state: 'done',
    })
    expect(runs(seen.map((p) => p.state))).toEqual(TWO_RECONNECTS)
  })
})

describe('end marker and resume', () => {
  const length = BODY.length

  it('resumes a body cut before its end marker and completes with the marker stripped', async () => {
    const s = await scripted({
      kind: 'range',
      body: base64(BODY),
      length: false,
      marker: true,
      attempts: [{ cut: 40 }],
    })
    const res = await sluice(s.url, { resume: { backoff: FAST } })
    expect(await Array.fromAsync(res.lines())).toEqual(LINES)
    expect(res.progress).toMatchObject({ loaded: length, state: 'done' })
    const requests = (await s.log()).filter((e) => e.event === 'request')
    expect(requests.map((r) => r.range)).toEqual([null, 'bytes=40-'])
  })

  it('resumes a body cut exactly before the marker line, and delivers no marker byte', async () => {
    const s = await scripted({
      kind: 'range',
      body: base64(BODY),
      length: false,
      marker: true,
      attempts: [{ cut: length }],
    })
    const res = await sluice(s.url, { resume: { backoff: FAST } })
    expect(await res.collect.bytes()).toEqual(BODY)
    expect(res.progress).toMatchObject({ loaded: length, state: 'done' })
    const requests = (await s.log()).filter((e) => e.event === 'request')
    expect(requests.map((r) => r.range)).toEqual([null, `bytes=${length}-`])
  })

  it('resumes a connection dropped inside the marker line', async () => {
    const s = await scripted({
      kind: 'range',
      body: base64(BODY),
      length: false,
      marker: true,
      attempts: [{ drop: length + 10 }],
    })
    const res = await sluice(s.url, { resume: { backoff: FAST } })
    expect(await Array.fromAsync(res.lines())).toEqual(LINES)
    expect(res.progress).toMatchObject({ loaded: length, state: 'done' })
  })
})

describe('a restart cut again inside the partial record it replays', () => {
  // maxBytes of exactly the body's length: the replayed partial record is not counted against it twice either.
  it('counts every byte of the body once: loaded ends at its length, within a maxBytes of exactly it', async () => {
    const rows = ['{"i":0}', '{"i":1}', '{"i":2}'].map((r) => `${r}\n`)
    const body = rows.join('')
    const cut = new TypeError('terminated')
    const headers = { 'content-type': 'application/x-ndjson' }
    // The first answer ends inside record 1; the restart after record 0 is cut inside record 1 again, 2 bytes
    // in (fewer than the 4 of it counted before); the next restart sends the rest.
    const answers = [
      () => responseOf(['{"i":0}\n{"i"'], { headers, error: cut }),
      () => responseOf(['{"'], { headers, error: cut }),
      () => responseOf([rows[1]!, rows[2]!], { headers }),
    ]
    let n = 0
    const seen: Progress[] = []
    const res = await fromResponse(answers[n++]!(), {
      url: 'https://fn.example/rows',
      resume: {
        strategy: 'cursor',
        attempts: 3,
        backoff: FAST,
        cursor: (item) => ({ searchParams: { after: String((item as { i: number }).i) } }),
      },
      request: async () => answers[n++]!(),
      maxBytes: encode(body).length,
      onProgress: (p) => seen.push(p),
      progressInterval: 0,
    })
    expect(await Array.fromAsync(res.ndjson())).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }])
    expect(res.progress).toMatchObject({ loaded: encode(body).length, state: 'done', attempt: 3 })
    expectLoadedMonotonic(seen)
  })
})
