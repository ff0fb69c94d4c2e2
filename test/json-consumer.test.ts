import { describe, expect, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import { type DeepPartial, fromResponse, isParseError, isValidationError } from '../src/index.ts'
import { collect, responseOf } from './support/streams.ts'

const doc = {
  title: 'Report',
  summary: 'All good — ✓',
  sections: [
    { name: 'a', rows: [1, 2] },
    { name: 'b', rows: [] },
  ],
}
const text = JSON.stringify(doc)
const Doc = z.object({
  title: z.string(),
  summary: z.string(),
  sections: z.array(z.object({ name: z.string(), rows: z.array(z.number()) })),
})

function chunks(every: number): string[] {
  const out: string[] = []
  for (let i = 0; i < text.length; i += every) out.push(text.slice(i, i + every))
  return out
}

describe('res.json()', () => {
  it('yields growing partial snapshots and resolves final to the complete, validated document', async () => {
    const res = await fromResponse(responseOf(chunks(7)))
    const consumer = res.json(Doc)
    const snapshots = await collect(consumer)
    expect(snapshots.length).toBeGreaterThan(3)
    expect(snapshots.at(-1)).toEqual(doc)
    expect(await consumer.final).toEqual(doc)
    expectTypeOf(consumer.final).resolves.toEqualTypeOf<z.infer<typeof Doc>>()
    expectTypeOf(snapshots[0]!).toEqualTypeOf<DeepPartial<z.infer<typeof Doc>>>()
  })

  it('shows strings growing before they are complete', async () => {
    const res = await fromResponse(responseOf(['{"title":"Rep', 'ort"}']))
    const consumer = res.json<{ title: string }>()
    const seen: (string | undefined)[] = []
    for await (const snapshot of consumer) seen.push(snapshot?.title)
    expect(seen).toEqual(['Rep', 'Report'])
  })

  it('keeps the identity of subtrees that did not change between snapshots', async () => {
    const res = await fromResponse(responseOf(['{"done":{"a":[1,2]},"growing":"x', 'yz"}']))
    const [first, second] = await collect(res.json<{ done: { a: number[] }; growing: string }>())
    expect(first?.done).toBe(second?.done)
    expect(first).not.toBe(second)
  })

  it('says which parts are complete', async () => {
    const res = await fromResponse(responseOf(['{"a":"done","b":"grow', 'ing"}']))
    const consumer = res.json()
    const iterator = consumer[Symbol.asyncIterator]()
    await iterator.next()
    expect(consumer.isComplete(['a'])).toBe(true)
    expect(consumer.isComplete(['b'])).toBe(false)
    await iterator.next()
    expect(consumer.isComplete(['b'])).toBe(true)
  })

  it('drives the read itself when only final is awaited', async () => {
    const res = await fromResponse(responseOf(chunks(5)))
    expect(await res.json(Doc).final).toEqual(doc)
  })

  it('rejects final with a ValidationError when the complete document fails the schema', async () => {
    const res = await fromResponse(responseOf(['{"title":1}']))
    const consumer = res.json(Doc)
    await collect(consumer).catch(() => {})
    const error = await consumer.final.catch((e: unknown) => e)
    expect(isValidationError(error)).toBe(true)
  })

  it('throws a ParseError with the byte offset of invalid JSON', async () => {
    const res = await fromResponse(responseOf(['{"é":1', ',]']))
    const error = await collect(res.json()).catch((e: unknown) => e)
    expect(isParseError(error)).toBe(true)
    // `]` is character 7 but byte 8: `é` takes two bytes.
    if (isParseError(error)) expect(error.offset).toBe(8)
  })

  it('throttles snapshots with throttleMs but always delivers the last one', async () => {
    const res = await fromResponse(responseOf(chunks(1)))
    const snapshots = await collect(res.json(undefined, { throttleMs: 60_000 }))
    expect(snapshots.length).toBeLessThanOrEqual(2)
    expect(snapshots.at(-1)).toEqual(doc)
  })
})
