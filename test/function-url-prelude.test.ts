import { describe, expect, it } from 'vitest'
import { createPreludeDecoder, createShaper, encodePrelude } from '../src/runtime/index.ts'

function decodeInPieces(bytes: Uint8Array, at: number[]) {
  const decoder = createPreludeDecoder()
  let start = 0
  for (const end of [...at, bytes.length]) {
    const step = decoder.push(bytes.subarray(start, end))
    start = end
    if (step.state !== 'pending') return step
  }
  return decoder.end()
}

describe('the function-URL prelude', () => {
  const body = new TextEncoder().encode('body bytes')
  const encoded = encodePrelude({ statusCode: 201, headers: { 'X-A': 'b' }, cookies: ['c=d'] })
  const whole = new Uint8Array([...encoded, ...body])

  it('decodes to the same prelude and body bytes wherever the stream is split', () => {
    for (let split = 0; split <= whole.length; split++) {
      const step = decodeInPieces(whole, [split])
      expect(step.state).toBe('done')
      if (step.state !== 'done') return
      expect(step.prelude).toEqual({ statusCode: 201, headers: [['x-a', 'b']], cookies: ['c=d'] })
      // The body bytes that came with the delimiter's chunk; the rest follows in later chunks.
      expect(new TextDecoder().decode(body).startsWith(new TextDecoder().decode(step.rest))).toBe(true)
    }
  })

  it('calls a body that ends before the delimiter invalid', () => {
    expect(decodeInPieces(new TextEncoder().encode('{"statusCode":200}'), [])).toMatchObject({
      state: 'invalid',
    })
  })

  it('rejects a status outside 100–599', () => {
    expect(decodeInPieces(encodePrelude({ statusCode: 99 }), [])).toMatchObject({ state: 'invalid' })
  })
})

describe('the shaping planner', () => {
  it('sends the burst at once, then paces pieces at the configured rate', () => {
    const shaper = createShaper({ burstBytes: 100, bytesPerSecond: 1000 })
    expect(shaper.plan(200, 0)).toEqual([
      { length: 100, atMs: 0 },
      { length: 50, atMs: 0 },
      { length: 50, atMs: 50 },
    ])
    expect(shaper.plan(50, 60)).toEqual([{ length: 50, atMs: 100 }])
  })
})
