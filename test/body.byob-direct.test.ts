/**
 * `new ReadableStreamBYOBReader(res.body)` makes a reader sluice does not see made: its reads are counted by what
 * the stream shows. A read that takes bytes the stream held (a wider element's odd bytes, what a released read had
 * gathered) and waits for more holds them: a checkpoint then stands before them, never after (a resume from it
 * would lose them). Such a reader released while its read waits leaves those bytes to a default reader, which gets
 * them and the rest to the end.
 */
import { describe, expect, it } from 'vitest'
import { type Checkpoint, sluice } from '../src/index.ts'
import { concatBytes } from './support/chunking.ts'
import { FAST } from './support/scripted.ts'
import { fetchWith } from './support/streams.ts'

const URL_ = 'https://fn.example/file'
/** 64 distinct bytes: a byte out of place or repeated shows. */
const BODY = Uint8Array.from({ length: 64 }, (_, i) => (i * 7 + 3) % 256)
const HEADERS = { 'accept-ranges': 'bytes', etag: '"v1"', 'content-type': 'application/octet-stream' }

/**
 * Serves BODY whole or from a `Range: bytes=N-` as a 206, every answer at once but the first whole one, which sends
 * the bytes up to each of `cuts` as a chunk, one a pull, then waits for `go()` before it sends the rest as the last;
 * `asked` settles when the source is pulled for that last chunk.
 */
function steppedServer(cuts: number[]): { fetch: typeof fetch; asked: Promise<void>; go: () => void } {
  const asked = Promise.withResolvers<void>()
  const gate = Promise.withResolvers<void>()
  let first = true
  const fetch = fetchWith((request) => {
    const range = request.headers.get('range')
    const from = Number(/bytes=(\d+)-/.exec(range ?? '')?.[1] ?? 0)
    const headers = { ...HEADERS, 'content-length': String(BODY.length - from) }
    if (range === null && first) {
      first = false
      const ends = [...cuts, BODY.length]
      let at = 0
      const stream = new ReadableStream<Uint8Array>(
        {
          async pull(controller) {
            if (ends.length === 1) {
              asked.resolve()
              await gate.promise
            }
            const end = ends.shift()!
            controller.enqueue(BODY.slice(at, end))
            at = end
            if (ends.length === 0) controller.close()
          },
        },
        { highWaterMark: 0 },
      )
      return new Response(stream, { headers })
    }
    const status = range === null ? 200 : 206
    const content =
      range === null ? {} : { 'content-range': `bytes ${from}-${BODY.length - 1}/${BODY.length}` }
    return new Response(BODY.slice(from), { status, headers: { ...headers, ...content } })
  })
  return { fetch, asked: asked.promise, go: gate.resolve }
}

const stored = (checkpoint: Checkpoint): Checkpoint => JSON.parse(JSON.stringify(checkpoint)) as Checkpoint

/** The bytes of a view. */
const bytesOf = (view: ArrayBufferView): Uint8Array =>
  new Uint8Array(view.buffer, view.byteOffset, view.byteLength)

/** The body from `checkpoint` on, in a fresh call: with the `at` bytes read before it, the whole body. */
async function expectResumes(fetch: typeof globalThis.fetch, read: Uint8Array, checkpoint: Checkpoint) {
  expect(checkpoint.offset).toBeLessThanOrEqual(read.length)
  const again = await sluice(URL_, { fetch, resumeFrom: checkpoint })
  const rest = concatBytes(await Array.fromAsync(again.bytes()))
  expect(concatBytes([read.subarray(0, checkpoint.offset), rest])).toEqual(BODY)
}

describe('res.body read by new ReadableStreamBYOBReader()', () => {
  it('a read that takes the odd bytes a wider read left and waits for more: a checkpoint meanwhile stands before them', async () => {
    const { fetch, asked, go } = steppedServer([5])
    const res = await sluice(URL_, { fetch, resume: { backoff: FAST } })
    const reader = new ReadableStreamBYOBReader(res.body)
    // 4 of the first chunk's 5 bytes: the stream keeps the fifth.
    const words = (await reader.read(new Uint32Array(4))).value!
    expect(bytesOf(words)).toEqual(BODY.subarray(0, 4))
    // The next read takes the fifth byte and waits for 9 more, which the body has not sent yet.
    const waiting = reader.read(new Uint8Array(10), { min: 10 })
    await asked
    const checkpoint = stored(res.checkpoint())
    expect(checkpoint.offset).toBe(4)
    go()
    const got = (await waiting).value!
    expect(got).toEqual(BODY.subarray(4, 14))
    await reader.cancel()
    await expectResumes(fetch, BODY.subarray(0, 4), checkpoint)
  })

  it('a read after a released read left its bytes to the stream, waiting for more: a checkpoint meanwhile stands before them', async () => {
    const { fetch, asked, go } = steppedServer([3, 6])
    const res = await sluice(URL_, { fetch, resume: { backoff: FAST } })
    const first = new ReadableStreamBYOBReader(res.body)
    // Waits for 10 bytes, has 3: released, it leaves them to the stream.
    const released = first.read(new Uint8Array(10), { min: 10 })
    await Promise.resolve()
    first.releaseLock()
    await expect(released).rejects.toThrow(TypeError)
    const second = new ReadableStreamBYOBReader(res.body)
    const waiting = second.read(new Uint8Array(20), { min: 20 })
    await asked
    const checkpoint = stored(res.checkpoint())
    expect(checkpoint.offset).toBe(0)
    go()
    const got = (await waiting).value!
    expect(got).toEqual(BODY.subarray(0, 20))
    await second.cancel()
    await expectResumes(fetch, new Uint8Array(), checkpoint)
  })

  it('released while its read waits, then a default reader: it gets those bytes and the rest, to the end', async () => {
    const { fetch, asked, go } = steppedServer([3])
    const res = await sluice(URL_, { fetch, resume: { backoff: FAST } })
    const byob = new ReadableStreamBYOBReader(res.body)
    // Room for the whole body: the rest would fit in what the released read left.
    const waiting = byob.read(new Uint8Array(100), { min: 100 })
    await asked
    byob.releaseLock()
    await expect(waiting).rejects.toThrow(TypeError)
    const reader = res.body.getReader()
    go()
    const read: Uint8Array[] = []
    for (;;) {
      const { done, value } = await reader.read()
      if (value !== undefined) read.push(value)
      if (done) break
    }
    expect(concatBytes(read)).toEqual(BODY)
    expect(res.checkpoint().offset).toBe(BODY.length)
  })
})
