import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { SseDecoder } from '../src/core/decoders/sse.ts'
import { isLimitError, type ServerSentEvent } from '../src/index.ts'
import { SSE_CASES } from './fixtures/sse.ts'
import { chunkings, cutAt, encode, RUNS } from './support/chunking.ts'

function decode(chunks: Uint8Array[], maxEventBytes = 1 << 20): ServerSentEvent[] {
  const decoder = new SseDecoder({ maxEventBytes })
  const out: ServerSentEvent[] = []
  for (const chunk of chunks) out.push(...decoder.push(chunk))
  out.push(...decoder.end())
  return out
}

describe('SseDecoder follows the WHATWG event-stream rules', () => {
  for (const [name, { body, events }] of Object.entries(SSE_CASES)) {
    it(`${name}, for every chunking`, () => {
      for (const [label, chunks] of chunkings(encode(body))) expect(decode(chunks), label).toEqual(events)
    })
  }

  it('gives the same events for random chunkings of all the cases concatenated', () => {
    // Each case ends on a blank line or is the last one, so the concatenation dispatches each case's events.
    const cases = Object.values(SSE_CASES).filter(
      (c) => c.body.endsWith('\n\n') && !c.body.startsWith('\uFEFF'),
    )
    const body = encode(cases.map((c) => c.body).join(''))
    const expected = decode([body])
    expect(expected.length).toBeGreaterThan(20)
    fc.assert(
      fc.property(fc.array(fc.nat({ max: body.length }), { maxLength: 40 }), (cuts) => {
        expect(decode(cutAt(body, cuts))).toEqual(expected)
      }),
      RUNS,
    )
  })

  it('remembers the last event id and the retry time for a reconnect', () => {
    const decoder = new SseDecoder({ maxEventBytes: 1 << 20 })
    decoder.push(encode('retry: 3000\nid: 41\ndata: a\n\nid: 42\n\n'))
    expect({ lastEventId: decoder.lastEventId, retry: decoder.retry }).toEqual({
      lastEventId: '42',
      retry: 3000,
    })
  })

  it('throws a LimitError for an event larger than maxEventBytes, even in many small chunks', () => {
    const decoder = new SseDecoder({ maxEventBytes: 1000 })
    const line = encode(`data: ${'x'.repeat(94)}\n`)
    let fed = 0
    let error: unknown
    try {
      for (; fed < 100_000 && decoder.failure === undefined; fed += line.length) decoder.push(line)
      decoder.push(line)
    } catch (e) {
      error = e
    }
    expect(isLimitError(error) && error.limit).toBe('maxEventBytes')
    expect(error).toBe(decoder.failure)
    // Found by the push that crossed the limit, the line after it at the latest: memory stays bounded.
    expect(fed).toBeLessThanOrEqual(1000 + 2 * line.length)
  })

  it('measures an event that arrives whole, in UTF-8 bytes, and returns the events before it first', () => {
    const cases = [
      { data: 'x'.repeat(1001), split: false },
      { data: '€'.repeat(334), split: true }, // 1002 bytes in 334 characters
    ]
    for (const { data, split } of cases) {
      const decoder = new SseDecoder({ maxEventBytes: 1000 })
      const body = encode(`data: a\n\ndata: ${data}\n\ndata: b\n\n`)
      const chunks = split ? Array.from(body, (byte) => Uint8Array.of(byte)) : [body]
      const events = chunks.flatMap((chunk) => (decoder.failure ? [] : decoder.push(chunk)))
      expect(events.map((e) => e.data)).toEqual(['a'])
      expect(decoder.failure).toMatchObject({ name: 'LimitError', limit: 'maxEventBytes' })
    }
    const exact = new SseDecoder({ maxEventBytes: 1000 })
    expect(exact.push(encode(`data: ${'€'.repeat(333)}x\n\n`))).toHaveLength(1)
    expect(exact.failure).toBeUndefined()
  })

  it('strips one BOM only, as the WHATWG rules say: a second one is part of the first field name', () => {
    const decoder = new SseDecoder({ maxEventBytes: 1000 })
    expect(decoder.push(encode('\uFEFF\uFEFFdata: a\n\ndata: b\n\n')).map((e) => e.data)).toEqual(['b'])
    const one = new SseDecoder({ maxEventBytes: 1000 })
    expect(one.push(encode('\uFEFFdata: a\n\n')).map((e) => e.data)).toEqual(['a'])
  })

  it('throws a LimitError for one endless data line', () => {
    const decoder = new SseDecoder({ maxEventBytes: 1000 })
    decoder.push(encode('data: '))
    const chunk = encode('y'.repeat(100))
    let fed = 0
    expect(() => {
      for (; fed < 100_000; fed += chunk.length) decoder.push(chunk)
    }).toThrow(expect.objectContaining({ name: 'LimitError', limit: 'maxEventBytes' }))
    expect(fed).toBeLessThanOrEqual(1000 + chunk.length)
  })
})
