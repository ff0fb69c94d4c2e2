/**
 * A consumer stopped before its first read — its iterator's `return()`, its `toReadableStream().cancel()`, on a
 * response or on a `tee()` branch — ends the stream `cancelled` and cancels the body, as a stop after reads does;
 * json()'s `final` rejects as it does then. json() reads through an async generator, whose `return()` before the
 * first `next()` never runs its body (where its end is), and which a stream cancelled before its first pull never
 * made: the body stayed open and `final` never settled.
 */
import { describe, expect, it } from 'vitest'
import { fromResponse, type StreamResponse } from '../src/index.ts'
import { gatedBody } from './support/streams.ts'

type Open = (res: StreamResponse) => AsyncIterable<unknown> & { toReadableStream(): ReadableStream<unknown> }

const consumers: [string, Open][] = [
  ['bytes()', (res) => res.bytes()],
  ['bytes({ chunkSize })', (res) => res.bytes({ chunkSize: 4 })],
  ['text()', (res) => res.text()],
  ['lines()', (res) => res.lines()],
  ['ndjson()', (res) => res.ndjson()],
  ['events()', (res) => res.events()],
  ['json()', (res) => res.json()],
]

/** How `final` rejects after a loop over json() that read a snapshot broke out. */
async function stopAfterReads(): Promise<unknown> {
  const body = gatedBody()
  const doc = (await fromResponse(new Response(body.stream))).json()
  body.push('{"a":[1,')
  for await (const _ of doc) break
  return doc.final.catch((error: unknown) => error)
}

/** What `final` rejected with, or that it was still unsettled once the stop's own promise work had run. */
async function outcome(final: Promise<unknown>): Promise<unknown> {
  const silent = Symbol('unsettled')
  const settled = final.then(
    () => 'resolved',
    (error: unknown) => error,
  )
  return Promise.race([settled, new Promise((resolve) => setTimeout(resolve, 0, silent))])
}

function expectStoppedLike(error: unknown, after: unknown): void {
  expect(error).toBeInstanceOf(DOMException)
  expect(error).toMatchObject({
    name: (after as DOMException).name,
    message: (after as DOMException).message,
  })
}

describe('a consumer stopped before its first read', () => {
  it.each(consumers)('%s: return() cancels the body and ends cancelled', async (_, open) => {
    const body = gatedBody()
    const res = await fromResponse(new Response(body.stream))
    const consumer = open(res)
    expect(await consumer[Symbol.asyncIterator]().return?.()).toEqual({ done: true, value: undefined })
    expect(res.progress.state).toBe('cancelled')
    expect(body.cancels()).toBe(1)
  })

  it.each(consumers)(
    '%s: toReadableStream().cancel() cancels the body and ends cancelled',
    async (_, open) => {
      const body = gatedBody()
      const res = await fromResponse(new Response(body.stream))
      await open(res).toReadableStream().cancel('not needed')
      expect(res.progress.state).toBe('cancelled')
      expect(body.cancels()).toBe(1)
    },
  )

  it('json(): return() rejects final as a stop after reads does', async () => {
    const after = await stopAfterReads()
    const body = gatedBody()
    const doc = (await fromResponse(new Response(body.stream))).json()
    await doc[Symbol.asyncIterator]().return?.()
    expectStoppedLike(await outcome(doc.final), after)
  })

  it('json(): a loop that took over the read final began, stopped before its first next(), ends it', async () => {
    const after = await stopAfterReads()
    const waiting = gatedBody()
    const read = (await fromResponse(new Response(waiting.stream))).json()
    read.final.catch(() => {})
    expect(await read[Symbol.asyncIterator]().return?.()).toEqual({ done: true, value: undefined })
    expectStoppedLike(await outcome(read.final), after)
    expect(waiting.cancels()).toBe(1)
  })

  it('json(): toReadableStream().cancel() rejects final as a stop after reads does', async () => {
    const after = await stopAfterReads()
    const body = gatedBody()
    const doc = (await fromResponse(new Response(body.stream))).json()
    await doc.toReadableStream().cancel()
    expectStoppedLike(await outcome(doc.final), after)
  })

  it("json() on tee() branches: each stop rejects its branch's final, and both cancel the body", async () => {
    const after = await stopAfterReads()
    const body = gatedBody()
    const res = await fromResponse(new Response(body.stream))
    const [a, b] = res.tee()
    const first = a.json()
    await first.toReadableStream().cancel()
    // One body: it streams on for the other branch.
    expect(a.progress.state).toBe('streaming')
    expectStoppedLike(await outcome(first.final), after)
    expect(body.cancels()).toBe(0)
    const second = b.json()
    await second[Symbol.asyncIterator]().return?.()
    expect(b.progress.state).toBe('cancelled')
    expectStoppedLike(await outcome(second.final), after)
    expect(res.progress.state).toBe('cancelled')
    expect(body.cancels()).toBe(1)
  })
})
