import { describe, expect, it } from 'vitest'
import { fromResponse, type Progress, sluice } from '../src/index.ts'
import { bodyOf, fetchWith } from './support/streams.ts'

const lines = Array.from({ length: 10 }, (_, i) => `{"row":${i}}\n`)
const size = lines.join('').length

function open(listener: (p: Progress) => void, headers: Record<string, string> = {}) {
  return fromResponse(new Response(bodyOf(lines).stream, { headers }), {
    onProgress: listener,
    progressInterval: 0,
  })
}

describe('progress', () => {
  it('res.progress tells loaded, total, percent, items and state while streaming and at the end', async () => {
    const res = await fromResponse(
      new Response(bodyOf(lines).stream, { headers: { 'x-amzn-remapped-content-length': String(size) } }),
    )
    expect(res.progress).toMatchObject({ loaded: 0, total: size, percent: 0, items: 0 })
    let seen = 0
    for await (const _ of res.ndjson()) {
      seen++
      const p = res.progress
      expect(p.state).toBe('streaming')
      expect(p.items).toBe(seen)
      expect(p.loaded).toBe(seen * lines[0]!.length)
      expect(p.percent).toBeLessThan(100)
    }
    expect(res.progress).toMatchObject({ loaded: size, total: size, percent: 100, items: 10, state: 'done' })
  })

  it("is 'streaming' once the headers are here, before a consumer reads, and reports it", async () => {
    const events: Progress[] = []
    const res = await open((p) => events.push(p))
    expect(res.progress).toMatchObject({ state: 'streaming', loaded: 0 })
    expect(events.map((p) => p.state)).toEqual(['streaming'])
    const viaFetch: Progress[] = []
    const fetched = await sluice('https://example.test/rows', {
      fetch: fetchWith(() => new Response(bodyOf(lines).stream)),
      onProgress: (p) => viaFetch.push(p),
      progressInterval: 0,
    })
    expect([fetched.progress.state, viaFetch.at(-1)?.state]).toEqual(['streaming', 'streaming'])
    await fetched.cancel()
    expect(fetched.progress.state).toBe('cancelled')
  })

  it('onProgress with progressInterval 0 reports every chunk', async () => {
    const events: Progress[] = []
    const res = await open((p) => events.push(p))
    for await (const _ of res.lines()) {
      // nothing: the listener records
    }
    const loaded = events.map((p) => p.loaded)
    for (let i = 1; i <= lines.length; i++) expect(loaded).toContain(i * lines[0]!.length)
    for (let i = 1; i < loaded.length; i++) expect(loaded[i]!).toBeGreaterThanOrEqual(loaded[i - 1]!)
  })

  it("fires the final event, state 'done' with percent 100, before the for await ends", async () => {
    const events: Progress[] = []
    const res = await open((p) => events.push(p), { 'content-length': String(size) })
    let lastInLoop: Progress | undefined
    for await (const _ of res.ndjson()) lastInLoop = events.at(-1)
    const final = events.at(-1)
    expect(lastInLoop?.state).toBe('streaming')
    expect(final).toMatchObject({ state: 'done', percent: 100, loaded: size, total: size, items: 10 })
  })

  it('rounds percent down to two decimals, and says 100 only at the end', async () => {
    // 2 of 3 bytes is 66.666…%: 66.66, not 66.67; 2 999 of 3 000 is 99.966…%: 99.96.
    for (const [parts, total, percent] of [
      [['ab', 'c'], 3, 66.66],
      [['x'.repeat(2999), 'x'], 3000, 99.96],
    ] as const) {
      const res = await fromResponse(
        new Response(bodyOf([...parts]).stream, { headers: { 'content-length': String(total) } }),
      )
      const seen: (number | undefined)[] = []
      for await (const _ of res.bytes()) seen.push(res.progress.percent)
      // All bytes are in before the end is seen: 99.99 until then.
      expect(seen).toEqual([percent, 99.99])
      expect(res.progress.percent).toBe(100)
    }
  })

  it('never reports more than 100 percent, and 100 exactly once', async () => {
    const events: Progress[] = []
    const res = await open((p) => events.push(p), { 'content-length': String(size) })
    await res.collect.bytes()
    const percents = events.map((p) => p.percent)
    expect(percents.every((p) => p !== undefined && p >= 0 && p <= 100)).toBe(true)
    expect(percents.filter((p) => p === 100)).toHaveLength(1)
    for (let i = 1; i < percents.length; i++) expect(percents[i]!).toBeGreaterThanOrEqual(percents[i - 1]!)
  })

  it('reports the done state once, and nothing after it', async () => {
    const events: Progress[] = []
    const res = await open((p) => events.push(p))
    await res.collect.text()
    await res.cancel()
    expect(events.filter((p) => p.state === 'done')).toHaveLength(1)
    expect(events.at(-1)?.state).toBe('done')
  })

  it("counts the part an answer to the caller's own Range holds: total is the part's length", async () => {
    const events: Progress[] = []
    const part = `${lines.slice(5).join('')}`
    const res = await fromResponse(
      new Response(bodyOf(lines.slice(5)).stream, {
        status: 206,
        headers: { 'content-range': `bytes ${size - part.length}-${size - 1}/${size}` },
      }),
      { onProgress: (p) => events.push(p), progressInterval: 0 },
    )
    expect(res.progress).toMatchObject({ loaded: 0, total: part.length, percent: 0 })
    for await (const _ of res.ndjson()) {
    }
    expect(events.map((p) => p.percent)).toEqual([0, 20, 40, 60, 80, 99.99, 100])
    expect(res.progress).toMatchObject({ loaded: part.length, total: part.length, percent: 100 })
  })

  it('has no percent without a known total, and still ends in done', async () => {
    const events: Progress[] = []
    const res = await open((p) => events.push(p))
    await res.collect.text()
    expect(events.every((p) => p.percent === undefined && p.total === undefined)).toBe(true)
    expect(events.at(-1)).toMatchObject({ state: 'done', loaded: size })
  })

  it("reports 'cancelled' when the consumer stops early, and 'error' when the body fails", async () => {
    const states: string[] = []
    const res = await open((p) => states.push(p.state))
    for await (const _ of res.lines()) break
    expect(states.at(-1)).toBe('cancelled')

    const failed: string[] = []
    const broken = await fromResponse(
      new Response(bodyOf(lines.slice(0, 2), { error: new Error('x') }).stream),
      {
        onProgress: (p) => failed.push(p.state),
        progressInterval: 0,
      },
    )
    await expect(broken.collect.text()).rejects.toBeDefined()
    expect(failed.at(-1)).toBe('error')
  })

  it('counts items for events()', async () => {
    const res = await sluice('https://fn.example/sse', {
      fetch: fetchWith(() => new Response(bodyOf(['data: a\n\n', 'data: b\n\n', ': ping\n\n']).stream)),
    })
    for await (const _ of res.events()) {
      // consume
    }
    expect(res.progress.items).toBe(2)
  })
})

describe('the rate', () => {
  it('is measured without an onProgress listener too, from an injected clock', async () => {
    const { ProgressTracker } = await import('../src/core/progress.ts')
    let now = 0
    const tracker = new ProgressTracker(undefined, 100, () => now)
    // The rate is measured while the body streams: a consumer moves it there before the first byte.
    tracker.setState('streaming')
    now = 1000
    tracker.bytes(2000)
    expect(tracker.snapshot().bytesPerSecond).toBe(2000)
    now = 2000
    tracker.bytes(2000)
    // Smoothed: the new second at 2000 B/s keeps the estimate at 2000.
    expect(tracker.snapshot().bytesPerSecond).toBe(2000)
  })
})

describe('throttled reports', () => {
  it('read the clock less often when chunks come fast, and still report every interval', async () => {
    const { ProgressTracker } = await import('../src/core/progress.ts')
    let now = 0
    let reads = 0
    const reports: number[] = []
    const tracker = new ProgressTracker(
      (p) => reports.push(p.loaded),
      100,
      () => {
        reads++
        return now
      },
    )
    // 350 000 chunks, one every microsecond: 350 ms in all, so at least three intervals of 100 ms.
    for (let i = 0; i < 350_000; i++) {
      now += 0.001
      tracker.bytes(1)
    }
    expect(reads).toBeLessThan(3_500)
    expect(reports.length).toBeGreaterThanOrEqual(3)
    // Each report came within a stride of its interval: the last one is past 300 ms' worth of chunks.
    expect(reports.at(-1)).toBeGreaterThan(300_000)
  })

  it('report each slow chunk on time', async () => {
    const { ProgressTracker } = await import('../src/core/progress.ts')
    let now = 0
    const reports: number[] = []
    const tracker = new ProgressTracker(
      (p) => reports.push(p.loaded),
      100,
      () => now,
    )
    for (let i = 1; i <= 5; i++) {
      now += 250
      tracker.bytes(10)
    }
    expect(reports).toEqual([10, 20, 30, 40, 50])
  })
})
