import { afterEach, describe, expect, it, vi } from 'vitest'
import { awslambda, buildEvent, invoke } from '../../src/runtime/index.ts'
import { drain, startEmulator } from '../support/emulator.ts'

afterEach(() => {
  // In this order: the spy on the fake setTimeout would otherwise put the fake back.
  vi.restoreAllMocks()
  vi.useRealTimers()
})

const input = () => buildEvent({ method: 'GET', url: 'http://127.0.0.1/', headers: [] })

/** A handler that writes `count` chunks of `size` bytes without waiting, then ends its stream. */
const writes = (count: number, size: number) =>
  awslambda.streamifyResponse(async (_event, responseStream) => {
    for (let i = 0; i < count; i++) responseStream.write(new Uint8Array(size))
    responseStream.end()
  })

/**
 * Reads an invocation's shaped body on fake timers (and a fake `performance.now()`): when each byte count was
 * reached, in fake milliseconds from the first read, and how many sleeps the shaping took. Deterministic, however
 * loaded the machine is.
 */
async function shapedOnFakeTime(
  handler: ReturnType<typeof writes>,
  shaping: { burstBytes: number; bytesPerSecond: number },
) {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] })
  const sleeps = vi.spyOn(globalThis, 'setTimeout')
  const invocation = invoke(handler, input(), { shaping })
  const { body } = await invocation.response
  const start = performance.now()
  const reached: { bytes: number; atMs: number }[] = []
  let bytes = 0
  let done = false
  void (async () => {
    for await (const chunk of body) {
      bytes += chunk.length
      reached.push({ bytes, atMs: performance.now() - start })
    }
    done = true
  })()
  while (!done) await vi.advanceTimersByTimeAsync(5)
  // The invocation's own timeout timer (limits.timeoutMs) is no sleep of the shaping.
  const shapingSleeps = sleeps.mock.calls.filter(([, ms]) => (ms ?? 0) < 60_000).length
  return { bytes, reached, elapsedMs: performance.now() - start, sleeps: shapingSleeps }
}

describe('sluice/dev shapes bandwidth like a function URL when asked', () => {
  it('sends the burst at once, then the configured rate (on fake time)', async () => {
    const burstBytes = 64 * 1024
    const { bytes, reached, elapsedMs } = await shapedOnFakeTime(writes(20, 16 * 1024), {
      burstBytes,
      bytesPerSecond: 256 * 1024,
    })
    expect(bytes).toBe(20 * 16 * 1024)
    expect(reached.find((point) => point.bytes >= burstBytes)?.atMs).toBe(0)
    // The 256 KiB after the burst take a second at 256 KiB/s: its last 50 ms slice leaves at 950 ms.
    expect(elapsedMs).toBeGreaterThanOrEqual(950)
    expect(elapsedMs).toBeLessThanOrEqual(1_000)
  })

  it('keeps the rate for many small writes too, sleeping once per many writes (timers cannot sleep < 1 ms)', async () => {
    // 4096 writes of 64 bytes: 0.24 ms each at 256 KiB/s. A real timer per write sleeps at least 1 ms, which
    // would run at a quarter of the rate: the shaping runs ahead until its debt is worth a sleep.
    const { bytes, elapsedMs, sleeps } = await shapedOnFakeTime(writes(4096, 64), {
      burstBytes: 0,
      bytesPerSecond: 256 * 1024,
    })
    expect(bytes).toBe(4096 * 64)
    expect(elapsedMs).toBeGreaterThanOrEqual(950)
    expect(elapsedMs).toBeLessThanOrEqual(1_000)
    expect(sleeps).toBeLessThan(4096 / 4)
  })

  it('never sends faster than the configured rate over real HTTP', async () => {
    const burstBytes = 64 * 1024
    const bytesPerSecond = 256 * 1024
    const server = await startEmulator(writes(20, 16 * 1024), { shaping: { burstBytes, bytesPerSecond } })
    const reader = (await fetch(server.url)).body!.getReader()
    let received = 0
    let burstDoneAt: number | undefined
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      received += value.length
      if (burstDoneAt === undefined && received >= burstBytes) burstDoneAt = performance.now()
    }
    const ratio = (received - burstBytes) / ((performance.now() - burstDoneAt!) / 1000) / bytesPerSecond
    expect(received).toBe(20 * 16 * 1024)
    // Only the ceiling: a loaded machine runs the timers late (the rate itself is shown on fake time above).
    expect(ratio).toBeLessThan(1.5)
  })

  it('goes on at its rate when the system clock is set back an hour mid-stream', async () => {
    const real = Date.now
    let offset = 0
    vi.spyOn(Date, 'now').mockImplementation(() => real() + offset)
    const server = await startEmulator(writes(2, 16 * 1024), {
      shaping: { burstBytes: 0, bytesPerSecond: 64 * 1024 },
    })
    const response = await fetch(server.url)
    const reader = response.body!.getReader()
    let received = (await reader.read()).value!.length
    offset = -3_600_000
    // The rest is due within half a second; before, each slice waited for the clock to come back an hour.
    const rest = drain(
      new Response(
        new ReadableStream({
          pull: async (c) => {
            const { done, value } = await reader.read()
            if (done) c.close()
            else c.enqueue(value)
          },
        }),
      ),
    )
    const outcome = await Promise.race([
      rest,
      new Promise<'stalled'>((r) => setTimeout(() => r('stalled'), 5_000)),
    ])
    expect(outcome).not.toBe('stalled')
    if (outcome !== 'stalled') received += outcome.bytes
    expect(received).toBe(32 * 1024)
  })
})
