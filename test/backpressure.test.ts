import { describe, expect, it } from 'vitest'
import { fromResponse, type StreamResponse } from '../src/index.ts'
import { bodyOf } from './support/streams.ts'

const N = 50
/** Reads beyond what was consumed that a consumer may do: the chunk in hand and one in flight. */
const SLACK = 2

const consumers: Record<
  string,
  { part: (i: number) => string; open: (res: StreamResponse) => AsyncIterable<unknown> }
> = {
  'bytes()': { part: (i) => `chunk ${i}|`, open: (res) => res.bytes() },
  'bytes({ chunkSize })': { part: () => 'x'.repeat(8), open: (res) => res.bytes({ chunkSize: 8 }) },
  'text()': { part: (i) => `tök ${i} `, open: (res) => res.text() },
  'lines()': { part: (i) => `line ${i}\n`, open: (res) => res.lines() },
  'ndjson()': { part: (i) => `{"i":${i}}\n`, open: (res) => res.ndjson() },
  'events()': { part: (i) => `data: ${i}\n\n`, open: (res) => res.events() },
}

describe('a slow consumer sets the pace: sluice never reads ahead beyond a small bound', () => {
  for (const [name, { part, open }] of Object.entries(consumers)) {
    it(`${name} pulls the body no faster than items are consumed`, async () => {
      const body = bodyOf(Array.from({ length: N }, (_, i) => part(i)))
      const res = await fromResponse(new Response(body.stream))
      const iterator = open(res)[Symbol.asyncIterator]()
      const pullsBefore = body.pulls()
      expect(pullsBefore).toBeLessThanOrEqual(SLACK)
      for (let consumed = 1; consumed <= 10; consumed++) {
        const next = await iterator.next()
        expect(next.done).toBe(false)
        // Let every pending microtask and timer run: a reader that reads ahead would do it now.
        await new Promise((resolve) => setTimeout(resolve, 0))
        expect(body.pulls(), `after ${consumed} items`).toBeLessThanOrEqual(consumed + SLACK)
      }
      await iterator.return?.()
    })
  }

  it('toReadableStream() is pull-based: nothing is read until its reader asks', async () => {
    const body = bodyOf(Array.from({ length: N }, (_, i) => `{"i":${i}}\n`))
    const res = await fromResponse(new Response(body.stream))
    const stream = res.ndjson().toReadableStream()
    await new Promise((resolve) => setTimeout(resolve, 0))
    const idle = body.pulls()
    expect(idle).toBeLessThanOrEqual(SLACK)
    const reader = stream.getReader()
    for (let consumed = 1; consumed <= 10; consumed++) {
      expect(await reader.read()).toEqual({ done: false, value: { i: consumed - 1 } })
      await new Promise((resolve) => setTimeout(resolve, 0))
      expect(body.pulls(), `after ${consumed} items`).toBeLessThanOrEqual(consumed + SLACK)
    }
    await reader.cancel()
  })

  it('res.body is pull-based too', async () => {
    const body = bodyOf(Array.from({ length: N }, (_, i) => `${i},`))
    const res = await fromResponse(new Response(body.stream))
    const reader = res.body.getReader()
    await reader.read()
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(body.pulls()).toBeLessThanOrEqual(1 + SLACK)
    await reader.cancel()
  })
})
