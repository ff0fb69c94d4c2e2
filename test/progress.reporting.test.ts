/**
 * When `onProgress` hears of a change: a slow phase after a burst, a change the throttle held back, item counts,
 * new attempts while reconnecting; and a rate and an ETA that follow the clock. Time is vitest's fake timers
 * (which fake `Date.now`, the tracker's default clock) or a clock passed in, never this machine's speed.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ProgressTracker } from '../src/core/progress.ts'
import { fromResponse, type Progress, sluice } from '../src/index.ts'
import { base64, FAST, scripted } from './support/scripted.ts'

afterEach(() => {
  vi.useRealTimers()
})

const encoder = new TextEncoder()

/** A body the test writes as it goes: a chunk arrives when pushed, and the body ends when closed. */
function pushedBody(): { stream: ReadableStream<Uint8Array>; push(text: string): void; close(): void } {
  let controller!: ReadableStreamDefaultController<Uint8Array>
  const stream = new ReadableStream<Uint8Array>({
    start: (c) => {
      controller = c
    },
  })
  return { stream, push: (text) => controller.enqueue(encoder.encode(text)), close: () => controller.close() }
}

type Report = Progress & { at: number }

/** Every report, with the (fake) time it was made. */
function recorder(): { seen: Report[]; onProgress: (p: Progress) => void } {
  const seen: Report[] = []
  return { seen, onProgress: (p) => seen.push({ ...p, at: Date.now() }) }
}

const RECORDS = '{"a":1}\n{"a":2}\n{"a":3}\n'

describe('throttled reports', () => {
  it('come every interval in a slow phase after a burst that made the tracker read its clock rarely', () => {
    vi.useFakeTimers()
    const { seen, onProgress } = recorder()
    const tracker = new ProgressTracker(onProgress, 100)
    tracker.setState('streaming')
    // 5 000 chunks within one millisecond: the tracker reads its clock only every 1 024 of them.
    for (let i = 0; i < 5000; i++) tracker.bytes(10)
    const burstEnd = Date.now()
    // Then one chunk every 60 ms for 2.4 s: about 24 intervals.
    for (let i = 0; i < 40; i++) {
      vi.advanceTimersByTime(60)
      tracker.bytes(1)
    }
    const slow = seen.filter((p) => p.at > burstEnd)
    expect(slow.length).toBeGreaterThanOrEqual(20)
    const gaps = slow.map((p, i) => p.at - (i === 0 ? burstEnd : slow[i - 1]!.at))
    expect(Math.max(...gaps)).toBeLessThanOrEqual(100 + 60)
    tracker.setState('done')
  })

  it('report a change the throttle held back once its interval is up, though nothing follows it', () => {
    vi.useFakeTimers()
    const { seen, onProgress } = recorder()
    const tracker = new ProgressTracker(onProgress, 100)
    tracker.setState('streaming')
    const start = Date.now()
    tracker.bytes(10)
    vi.advanceTimersByTime(30)
    tracker.bytes(10)
    vi.advanceTimersByTime(1000)
    expect(seen.at(-1)).toMatchObject({ loaded: 20, state: 'streaming', at: start + 100 })
    tracker.setState('done')
  })

  it('leave no timer behind once the stream is over', () => {
    vi.useFakeTimers()
    const tracker = new ProgressTracker(() => {}, 100)
    tracker.setState('streaming')
    for (let i = 0; i < 5000; i++) tracker.bytes(10)
    tracker.item()
    expect(vi.getTimerCount()).toBe(1)
    tracker.setState('done')
    expect(vi.getTimerCount()).toBe(0)
  })

  it('with progressInterval Infinity, report state changes only, and wait without spinning', () => {
    vi.useFakeTimers()
    let reads = 0
    const { seen, onProgress } = recorder()
    const tracker = new ProgressTracker(onProgress, Number.POSITIVE_INFINITY, () => {
      reads++
      return Date.now()
    })
    tracker.setState('streaming')
    tracker.bytes(10)
    tracker.bytes(10)
    const before = reads
    vi.advanceTimersByTime(1000)
    expect(reads - before).toBeLessThan(5)
    tracker.setState('done')
    expect(seen.map((p) => [p.state, p.loaded])).toEqual([
      ['streaming', 0],
      ['done', 20],
    ])
  })

  it('fail the stream with what the listener throws in a report made while it waits', async () => {
    vi.useFakeTimers()
    const body = pushedBody()
    const failure = new Error('the listener failed')
    const res = await fromResponse(new Response(body.stream), {
      onProgress: (p) => {
        // Not at the error report too: a failure there is thrown on its own, as uncaught.
        if (p.items === 1 && p.state === 'streaming') throw failure
      },
    })
    const records = res.ndjson()[Symbol.asyncIterator]()
    body.push('{"a":1}\n')
    expect((await records.next()).value).toEqual({ a: 1 })
    const next = records.next()
    const outcome = next.then(
      () => 'resolved',
      (error: unknown) => error,
    )
    // The trailing report of item 1 throws in a timer; the stream's next chunk fails with it.
    await vi.advanceTimersByTimeAsync(200)
    body.push('{"a":2}\n')
    expect(await outcome).toBe(failure)
    expect(res.progress.state).toBe('error')
  })
})

describe('the default progressInterval', () => {
  it('is 100 ms: a chunk within it is reported when it is up, no sooner, and the next one 100 ms after that', async () => {
    vi.useFakeTimers()
    const body = pushedBody()
    const { seen, onProgress } = recorder()
    const res = await fromResponse(new Response(body.stream), { onProgress })
    const start = Date.now()
    const records = res.ndjson()[Symbol.asyncIterator]()
    const loaded = () => seen.filter((p) => p.loaded > 0).map((p) => [p.at - start, p.loaded, p.items])
    const first = records.next()
    body.push('{"a":1}\n')
    expect((await first).value).toEqual({ a: 1 })
    await vi.advanceTimersByTimeAsync(99)
    expect(loaded()).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(loaded()).toEqual([[100, 8, 1]])
    // A chunk 20 ms into the next interval waits for its end too.
    await vi.advanceTimersByTimeAsync(20)
    const second = records.next()
    body.push('{"a":2}\n')
    expect((await second).value).toEqual({ a: 2 })
    await vi.advanceTimersByTimeAsync(79)
    expect(loaded()).toEqual([[100, 8, 1]])
    await vi.advanceTimersByTimeAsync(1)
    expect(loaded()).toEqual([
      [100, 8, 1],
      [200, 16, 2],
    ])
    await res.cancel()
  })
})

describe('item counts', () => {
  it('with progressInterval 0, are reported for a chunk while the stream waits for the next', async () => {
    vi.useFakeTimers()
    const body = pushedBody()
    const { seen, onProgress } = recorder()
    const res = await fromResponse(new Response(body.stream), { onProgress, progressInterval: 0 })
    const records = res.ndjson()[Symbol.asyncIterator]()
    body.push(RECORDS)
    for (let i = 0; i < 3; i++) await records.next()
    const fourth = records.next()
    await vi.advanceTimersByTimeAsync(500)
    expect(seen.at(-1)).toMatchObject({ state: 'streaming', loaded: RECORDS.length, items: 3 })
    body.push('{"a":4}\n')
    body.close()
    expect((await fourth).value).toEqual({ a: 4 })
    expect((await records.next()).done).toBe(true)
    expect(seen.at(-1)).toMatchObject({ state: 'done', items: 4 })
  })

  it('are reported within the interval, throttled like bytes', async () => {
    vi.useFakeTimers()
    const body = pushedBody()
    const { seen, onProgress } = recorder()
    const res = await fromResponse(new Response(body.stream), { onProgress, progressInterval: 100 })
    const records = res.ndjson()[Symbol.asyncIterator]()
    const start = Date.now()
    body.push(RECORDS)
    for (let i = 0; i < 3; i++) await records.next()
    const fourth = records.next()
    await vi.advanceTimersByTimeAsync(500)
    const counted = seen.find((p) => p.items === 3)
    expect(counted?.at).toBeLessThanOrEqual(start + 100)
    expect(seen.filter((p) => p.state === 'streaming' && p.at > start)).toHaveLength(1)
    await res.cancel()
    await fourth
  })

  it('of a tee() branch are reported too', async () => {
    vi.useFakeTimers()
    const body = pushedBody()
    const { seen, onProgress } = recorder()
    const res = await fromResponse(new Response(body.stream), { onProgress, progressInterval: 0 })
    const [a, b] = res.tee()
    const records = a.ndjson()[Symbol.asyncIterator]()
    body.push(RECORDS)
    for (let i = 0; i < 3; i++) await records.next()
    const fourth = records.next()
    await vi.advanceTimersByTimeAsync(500)
    expect(seen.at(-1)).toMatchObject({ state: 'streaming', items: 3 })
    await Promise.all([a.cancel(), b.cancel()])
    await fourth
  })
})

describe('before and at the edges of a stream', () => {
  it('a count restored before the stream starts is not reported by itself: the first state report carries it', async () => {
    const seen: Progress[] = []
    const tracker = new ProgressTracker((p) => seen.push(p), 0)
    tracker.items = 7
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(seen).toEqual([])
    tracker.setState('streaming')
    expect(seen.map((p) => [p.state, p.items])).toEqual([['streaming', 7]])
  })

  it('an empty body declared empty is at 0 percent until it is done', () => {
    const tracker = new ProgressTracker(undefined)
    tracker.total = 0
    expect(tracker.snapshot()).toMatchObject({ total: 0, percent: 0 })
    tracker.setState('streaming')
    expect(tracker.snapshot()).toMatchObject({ total: 0, percent: 0 })
    tracker.setState('done')
    expect(tracker.snapshot()).toMatchObject({ total: 0, percent: 100 })
  })
})

describe('attempts', () => {
  it('reports each new attempt while reconnecting, not only the first', async () => {
    const body = encoder.encode(`${Array.from({ length: 20 }, (_, i) => `line ${i}`).join('\n')}\n`)
    const s = await scripted({
      kind: 'range',
      body: base64(body),
      attempts: [{ drop: 17 }, { status: 503 }, { status: 503 }],
    })
    const seen: string[] = []
    const res = await sluice(s.url, {
      onProgress: (p) => seen.push(`${p.state}#${p.attempt}`),
      progressInterval: 0,
      resume: { backoff: FAST },
    })
    expect(await res.collect.bytes()).toEqual(body)
    const runs = seen.filter((v, i) => i === 0 || v !== seen[i - 1])
    expect(runs).toEqual([
      'streaming#1',
      'reconnecting#2',
      'reconnecting#3',
      'reconnecting#4',
      'streaming#4',
      'done#4',
    ])
  })
})

describe('the rate and the time left', () => {
  /** A tracker streaming 100 000 B/s for a second on a clock the test moves. */
  function streamedForASecond(listener?: (p: Progress) => void) {
    const clock = { now: 0 }
    const tracker = new ProgressTracker(listener, 100, () => clock.now)
    tracker.total = 1_000_000
    tracker.setState('streaming')
    for (let i = 0; i < 10; i++) {
      clock.now += 100
      tracker.bytes(10_000)
    }
    return { clock, tracker }
  }

  it.each([
    ['without', undefined],
    ['with', () => {}],
  ])('falls with the time a stall lasts, however rarely anyone asks, %s a listener', (_, listener) => {
    const { clock, tracker } = streamedForASecond(listener)
    const before = tracker.snapshot().bytesPerSecond
    expect(before).toBeGreaterThan(50_000)
    clock.now += 1500
    expect(tracker.snapshot().bytesPerSecond).toBeLessThan(before / 10)
    tracker.setState('done')
  })

  it('counts neither the wait for headers nor the bytes a checkpoint restored as transferred', () => {
    const clock = { now: 0 }
    const tracker = new ProgressTracker(undefined, 100, () => clock.now)
    // What resuming from a checkpoint does before the stream starts.
    tracker.loaded = 1_000_000
    clock.now = 2000
    expect(tracker.snapshot().bytesPerSecond).toBe(0)
    tracker.setState('streaming')
    for (let i = 0; i < 10; i++) {
      clock.now += 100
      tracker.bytes(1000)
    }
    expect(tracker.snapshot().bytesPerSecond).toBe(10_000)
  })

  it('gives an ETA only while streaming: not while reconnecting, nor once cancelled or failed', () => {
    for (const end of ['cancelled', 'error'] as const) {
      const { tracker } = streamedForASecond()
      expect(tracker.snapshot().etaMs).toBeGreaterThan(0)
      tracker.setState('reconnecting')
      expect(tracker.snapshot().etaMs).toBeUndefined()
      tracker.setState('streaming')
      expect(tracker.snapshot().etaMs).toBeGreaterThan(0)
      tracker.setState(end)
      expect(tracker.snapshot()).not.toHaveProperty('etaMs')
    }
  })
})
