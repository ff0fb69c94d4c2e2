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
      for (; fed < 100_000; fed += line.length) decoder.push(line)
    } catch (e) {
      error = e
    }
    expect(isLimitError(error) && error.limit).toBe('maxEventBytes')
    expect(fed).toBeLessThanOrEqual(1000 + line.length)
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
