import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fromResponse } from '../src/index.ts'
import { concatBytes, encode, trickyText, withCuts } from './support/chunking.ts'
import { bodyOf, collect, gatedBody } from './support/streams.ts'

const tick = () => new Promise((resolve) => setTimeout(resolve, 0))
const parts = (n: number, size = 8): string[] =>
  Array.from({ length: n }, (_, i) => String(i % 10).repeat(size))

describe('tee()', () => {
  it('gives both branches the same bytes, for random chunkings', async () => {
    await fc.assert(
      fc.asyncProperty(withCuts(trickyText), async ({ text, chunks }) => {
        const res = await fromResponse(new Response(bodyOf(chunks).stream))
        const [a, b] = res.tee({ maxBuffer: 4 })
        const [left, right] = await Promise.all([collect(a.bytes()), collect(b.bytes())])
        expect(concatBytes(left)).toEqual(encode(text))
        expect(concatBytes(right)).toEqual(encode(text))
      }),
      { numRuns: 60 },
    )
  })

  it("gives each branch bytes of its own: a branch that changes or transfers its chunks leaves the other's intact", async () => {
    const res = await fromResponse(new Response(bodyOf(['abc', 'def', 'ghi']).stream))
    const [a, b] = res.tee()
    // As ReadableStream's byte tee (Response.clone()) clones: a consumer may decrypt in place, or post a chunk's
    // buffer to a worker as a transfer, which detaches it.
    for await (const chunk of a.bytes()) chunk.fill(0)
    expect(await b.collect.text()).toBe('abcdefghi')
  })

  it('gives each branch its own consumer kind', async () => {
    const res = await fromResponse(new Response(bodyOf(['{"a":1}\n{"a"', ':2}\n']).stream))
    const [a, b] = res.tee()
    const [rows, text] = await Promise.all([collect(a.ndjson()), b.collect.text()])
    expect(rows).toEqual([{ a: 1 }, { a: 2 }])
    expect(text).toBe('{"a":1}\n{"a":2}\n')
  })

  it('bounds the buffer: the fast branch waits while the other branch is not read', async () => {
    const body = bodyOf(parts(20))
    const res = await fromResponse(new Response(body.stream))
    const [fast, slow] = res.tee({ maxBuffer: 16 })
    const reader = fast.bytes()[Symbol.asyncIterator]()
    await reader.next()
    await reader.next()
    // The slow branch now holds 16 bytes: a third read must wait for it.
    let third = false
    const pending = reader.next().then((r) => {
      third = true
      return r
    })
    for (let i = 0; i < 5; i++) await tick()
    expect(third).toBe(false)
    expect(body.pulls()).toBeLessThanOrEqual(3)
    // Reading the slow branch releases the fast one.
    const slowReader = slow.bytes()[Symbol.asyncIterator]()
    await slowReader.next()
    expect((await pending).done).toBe(false)
    expect(third).toBe(true)
    await reader.return?.()
    await slowReader.return?.()
  })

  it('bounds the buffer by what a branch still holds of a long chunk it takes a decoding slice at a time', async () => {
    // One chunk of about 100 kB of events, then more: events() takes it 32 KiB at a time, and holds the rest.
    const event = `data: ${'x'.repeat(100)}\n\n`
    const body = bodyOf([event.repeat(1000), ...parts(4)])
    const res = await fromResponse(new Response(body.stream))
    const [fast, slow] = res.tee({ maxBuffer: 64 * 1024 })
    const reader = fast.bytes()[Symbol.asyncIterator]()
    const events = slow.events()[Symbol.asyncIterator]()
    await reader.next()
    expect((await events.next()).value?.data).toBe('x'.repeat(100))
    // The slow branch still holds about 68 kB of the chunk: a second read of the fast one must wait for it.
    let second = false
    const pending = reader.next().then((r) => {
      second = true
      return r
    })
    for (let i = 0; i < 5; i++) await tick()
    expect(second).toBe(false)
    expect(body.pulls()).toBeLessThanOrEqual(2)
    // Cancelling the slow branch releases the fast one.
    await events.return?.()
    expect((await pending).done).toBe(false)
    await reader.return?.()
  })

  it('lets the other branch finish when one is cancelled', async () => {
    const body = bodyOf(parts(20))
    const res = await fromResponse(new Response(body.stream))
    const [a, b] = res.tee({ maxBuffer: 16 })
    for await (const _ of a.bytes()) break
    const rest = await collect(b.bytes())
    expect(concatBytes(rest)).toEqual(encode(parts(20).join('')))
    expect(body.cancels()).toBe(0)
  })

  it('lets the other branch finish when one is cancelled with res.cancel() before reading', async () => {
    const body = bodyOf(parts(20))
    const res = await fromResponse(new Response(body.stream))
    const [a, b] = res.tee({ maxBuffer: 16 })
    await a.cancel()
    expect(await b.collect.text()).toBe(parts(20).join(''))
  })

  it('cancels the body once when both branches are cancelled', async () => {
    const body = bodyOf(parts(20))
    const res = await fromResponse(new Response(body.stream))
    const [a, b] = res.tee({ maxBuffer: 16 })
    for await (const _ of a.bytes()) break
    expect(body.cancels()).toBe(0)
    for await (const _ of b.bytes()) break
    await a.cancel()
    await b.cancel()
    expect(body.cancels()).toBe(1)
  })

  it('gives both branches the same error when the body fails', async () => {
    const failure = new Error('boom')
    const res = await fromResponse(new Response(bodyOf(parts(3), { error: failure }).stream))
    const [a, b] = res.tee()
    const results = await Promise.allSettled([collect(a.bytes()), collect(b.bytes())])
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected'])
  })

  it('reports one body: done with 100 % when one branch stopped early and the other read to the end', async () => {
    const text = Array.from({ length: 50 }, (_, i) => `line-${i}\n`).join('')
    const states: string[] = []
    const res = await fromResponse(
      new Response(bodyOf(text.match(/[\s\S]{1,50}/g) ?? []).stream, {
        headers: { 'content-length': String(encode(text).length) },
      }),
      { onProgress: (p) => states.push(p.state), progressInterval: 0 },
    )
    const [a, b] = res.tee()
    const stopped = (async () => {
      for await (const _ of a.lines()) break
    })()
    const lines = await collect(b.lines())
    await stopped
    expect(lines).toHaveLength(50)
    expect(states).not.toContain('cancelled')
    expect(res.progress).toMatchObject({
      state: 'done',
      percent: 100,
      items: 50,
      loaded: encode(text).length,
    })
    expect(b.progress).toEqual(res.progress)
  })

  it('reports done as soon as one branch has read the body to its end, while the other has not started', async () => {
    const text = 'l1\nl2\nl3\n'
    const res = await fromResponse(
      new Response(bodyOf(['l1\nl2', '\nl3\n']).stream, {
        headers: { 'content-length': String(text.length) },
      }),
    )
    const [a, b] = res.tee()
    expect(await collect(b.lines())).toEqual(['l1', 'l2', 'l3'])
    expect(res.progress).toMatchObject({ state: 'done', percent: 100, loaded: text.length, items: 3 })
    expect(a.progress.state).toBe('done')
    expect(await a.collect.text()).toBe(text)
    expect(res.progress.state).toBe('done')
  })

  it('reports cancelled only once both branches stopped, and error when one failed', async () => {
    const cancelled = await fromResponse(new Response(bodyOf(parts(20)).stream))
    const [a, b] = cancelled.tee({ maxBuffer: 16 })
    for await (const _ of a.bytes()) break
    expect(cancelled.progress.state).toBe('streaming')
    await b.cancel()
    expect(cancelled.progress.state).toBe('cancelled')

    const failed = await fromResponse(new Response(bodyOf(['{"a":1}\n', 'oops\n', '{"a":3}\n']).stream))
    const [rows, text] = failed.tee()
    const [parsed, whole] = await Promise.allSettled([collect(rows.ndjson()), text.collect.text()])
    expect([parsed.status, whole.status]).toEqual(['rejected', 'fulfilled'])
    expect(failed.progress.state).toBe('done')
    const broken = await fromResponse(new Response(bodyOf(['{"a":1}\n', 'oops\n']).stream))
    const [first, second] = broken.tee()
    await collect(first.ndjson()).catch(() => {})
    expect(broken.progress.state).toBe('streaming')
    await second.cancel()
    expect(broken.progress.state).toBe('error')
  })

  it('counts the items of the branch that delivered more, never going back while the other catches up', async () => {
    const res = await fromResponse(new Response(bodyOf(['l1\nl2\n', 'l3\nl4\n']).stream))
    const [a, b] = res.tee()
    expect(await collect(a.lines())).toHaveLength(4)
    const seen: number[] = []
    for await (const _ of b.lines()) seen.push(a.progress.items, b.progress.items)
    expect(seen).toEqual(Array(8).fill(4))
    expect(b.progress).toMatchObject({ items: 4, state: 'done' })
  })

  it('ends both branches quietly on res.cancel() or detach(), never with a cut line as a whole one', async () => {
    for (const stop of ['cancel', 'detach'] as const) {
      const body = gatedBody()
      const res = await fromResponse(new Response(body.stream))
      const [a, b] = res.tee()
      body.push('line1\nline2\nline3\nline4-par')
      const reading = Promise.all([collect(a.lines()), collect(b.lines())])
      while (a.progress.items + b.progress.items < 6) await tick()
      if (stop === 'cancel') await res.cancel()
      else res.detach()
      expect(await reading).toEqual([
        ['line1', 'line2', 'line3'],
        ['line1', 'line2', 'line3'],
      ])
      expect(a.progress.state).toBe('cancelled')
    }
  })

  it('refuses a maxBuffer under one byte at the call, leaving the body unread (both branches would wait)', async () => {
    const res = await fromResponse(new Response(bodyOf(['abc']).stream))
    for (const maxBuffer of [0, -1, Number.NaN]) {
      expect(() => res.tee({ maxBuffer }), String(maxBuffer)).toThrow(
        new RangeError(`tee(): maxBuffer must be a number of bytes, 1 or more, got ${maxBuffer}.`),
      )
    }
    expect(await res.collect.text()).toBe('abc')
  })

  it('makes the teed response refuse another consumer', async () => {
    const res = await fromResponse(new Response(bodyOf(['x']).stream))
    res.tee()
    expect(() => res.bytes()).toThrow(/tee\(\)/)
  })
})
