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
import { steppedServer } from './support/stepped-server.ts'

const URL_ = 'https://fn.example/file'
/** 64 distinct bytes: a byte out of place or repeated shows. */
const BODY = Uint8Array.from({ length: 64 }, (_, i) => (i * 7 + 3) % 256)
const HEADERS = { 'accept-ranges': 'bytes', etag: '"v1"', 'content-type': 'application/octet-stream' }
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
    const { fetch, asked, go } = steppedServer(BODY, HEADERS, [5])
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
    const { fetch, asked, go } = steppedServer(BODY, HEADERS, [3, 6])
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
    const { fetch, asked, go } = steppedServer(BODY, HEADERS, [3])
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
