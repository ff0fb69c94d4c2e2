import { describe, expect, it } from 'vitest'
import { awslambda } from '../../src/runtime/index.ts'
import { startEmulator } from '../support/emulator.ts'

describe('sluice/dev shapes bandwidth like a function URL when asked', () => {
  it('sends the burst at once, then about the configured rate', async () => {
    const burstBytes = 64 * 1024
    const bytesPerSecond = 256 * 1024
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      for (let i = 0; i < 20; i++) responseStream.write(new Uint8Array(16 * 1024))
      responseStream.end()
    })
    const server = await startEmulator(handler, { shaping: { burstBytes, bytesPerSecond } })
    const response = await fetch(server.url)
    const reader = response.body!.getReader()
    let received = 0
    let burstDoneAt: number | undefined
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      received += value.length
      if (burstDoneAt === undefined && received >= burstBytes) burstDoneAt = performance.now()
    }
    const elapsedSeconds = (performance.now() - burstDoneAt!) / 1000
    const shapedBytes = received - burstBytes
    const ratio = shapedBytes / elapsedSeconds / bytesPerSecond
    expect(received).toBe(20 * 16 * 1024)
    // A loaded machine runs the timers late, so the floor is loose; the ceiling is what shaping guarantees.
    expect(ratio).toBeGreaterThan(0.35)
    expect(ratio).toBeLessThan(1.5)
  })

  it('keeps the rate for many small writes too (timers cannot sleep less than a millisecond)', async () => {
    const bytesPerSecond = 256 * 1024
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      // 4096 writes of 64 bytes: at 0.24 ms each, one timer per write would run at a quarter of the rate.
      for (let i = 0; i < 4096; i++) responseStream.write(new Uint8Array(64))
      responseStream.end()
    })
    const server = await startEmulator(handler, { shaping: { burstBytes: 0, bytesPerSecond } })
    const start = performance.now()
    const body = await (await fetch(server.url)).arrayBuffer()
    const ratio = body.byteLength / ((performance.now() - start) / 1000) / bytesPerSecond
    expect(body.byteLength).toBe(4096 * 64)
    // A timer per write would give at most 0.25; a loaded machine has been seen at 0.49 of the right rate.
    expect(ratio).toBeGreaterThan(0.35)
    expect(ratio).toBeLessThan(1.5)
  })
})
