/**
 * `res.body` is a byte stream, as `fetch`'s `response.body` is: `getReader({ mode: 'byob' })` reads into the
 * caller's own buffer, of any size, across chunk boundaries and the boundary of a resume, and a checkpoint taken
 * after a read that took part of a chunk lands after the bytes read, not after the chunk. A byte stream takes over
 * the buffer of each chunk it is given: what sluice still holds a view of (an end marker's bytes), or a stream made
 * in code may enqueue again, is copied, never taken from under them.
 */
import { describe, expect, it, vi } from 'vitest'
import { type Checkpoint, fromResponse, type StreamResponse, sluice } from '../src/index.ts'
import { concatBytes, cutAt } from './support/chunking.ts'
import { base64, FAST, scripted } from './support/scripted.ts'
import { steppedServer } from './support/stepped-server.ts'
import { bodyOf, fetchWith, gatedBody } from './support/streams.ts'

const URL_ = 'https://fn.example/file'
/** 64 distinct bytes: a byte out of place or repeated shows. */
const BODY = Uint8Array.from({ length: 64 }, (_, i) => (i * 7 + 3) % 256)
const CUTS = [5, 6, 19, 40, 41, 63]
const HEADERS = { 'accept-ranges': 'bytes', etag: '"v1"', 'content-type': 'application/octet-stream' }

/**
 * Serves BODY in the chunks CUTS makes: whole, or from a `Range: bytes=N-` as a 206; the first whole answer
 * drops after `drop` bytes when given.
 */
function server(drop?: number): { fetch: typeof fetch; requests: string[] } {
  const requests: string[] = []
  const fetch = fetchWith((request) => {
    const range = request.headers.get('range')
    requests.push(range ?? 'whole')
    const from = Number(/bytes=(\d+)-/.exec(range ?? '')?.[1] ?? 0)
    const dropHere = range === null && requests.length === 1 ? drop : undefined
    const end = dropHere ?? BODY.length
    const chunks = cutAt(BODY, CUTS)
      .reduce<Uint8Array[]>((pieces, chunk, i, all) => {
        const start = all.slice(0, i).reduce((n, c) => n + c.length, 0)
        const piece = chunk.subarray(Math.max(0, from - start), Math.max(0, end - start))
        if (piece.length > 0) pieces.push(piece)
        return pieces
      }, [])
      .map((chunk) => chunk.slice())
    const body = bodyOf(chunks, dropHere === undefined ? {} : { error: new TypeError('terminated') })
    return new Response(body.stream, {
      status: range === null ? 200 : 206,
      headers: {
        ...HEADERS,
        'content-length': String(BODY.length - from),
        ...(range === null ? {} : { 'content-range': `bytes ${from}-${BODY.length - 1}/${BODY.length}` }),
      },
    })
  })
  return { fetch, requests }
}

/** Reads `res.body` with a BYOB reader, `size` bytes (or fewer) at a time, into a fresh buffer each time. */
async function readByob(res: StreamResponse, size: number, min = 1): Promise<Uint8Array[]> {
  const reader = res.body.getReader({ mode: 'byob' })
  const reads: Uint8Array[] = []
  for (;;) {
    const { done, value } = await reader.read(new Uint8Array(size), { min })
    if (value !== undefined && value.length > 0) reads.push(value)
    if (done) return reads
  }
}

/**
 * Serves BODY whole or from a `Range: bytes=N-` as a 206, every answer at once but the first whole one, whose
 * chunks the test sends with `push` (a body that is silent until then).
 */
function gatedServer(): { fetch: typeof fetch; push: (bytes: Uint8Array) => void } {
  let first: ReturnType<typeof gatedBody> | undefined
  const fetch = fetchWith((request) => {
    const range = request.headers.get('range')
    const from = Number(/bytes=(\d+)-/.exec(range ?? '')?.[1] ?? 0)
    const headers = { ...HEADERS, 'content-length': String(BODY.length - from) }
    if (range === null && first === undefined) {
      first = gatedBody()
      return new Response(first.stream, { headers })
    }
    const status = range === null ? 200 : 206
    const content =
      range === null ? {} : { 'content-range': `bytes ${from}-${BODY.length - 1}/${BODY.length}` }
    return new Response(BODY.slice(from), { status, headers: { ...headers, ...content } })
  })
  return { fetch, push: (bytes) => first!.push(bytes.slice()) }
}
/** Reads `reader` to its end: the bytes read, and a checkpoint after each read with the bytes read before it. */
async function readAll(
  res: StreamResponse,
  reader: ReadableStreamDefaultReader<Uint8Array>,
): Promise<{ read: Uint8Array[]; checkpoints: Array<{ at: number; checkpoint: Checkpoint }> }> {
  const read: Uint8Array[] = []
  const checkpoints: Array<{ at: number; checkpoint: Checkpoint }> = []
  for (;;) {
    const { done, value } = await reader.read()
    if (value !== undefined) read.push(value)
    checkpoints.push({
      at: concatBytes(read).length,
      checkpoint: JSON.parse(JSON.stringify(res.checkpoint())),
    })
    if (done) return { read, checkpoints }
  }
}

/** Each checkpoint stands after the bytes read before it, and a fresh call from it gives the rest of BODY, if any. */
async function expectEachResumes(
  fetch: typeof globalThis.fetch,
  checkpoints: Array<{ at: number; checkpoint: Checkpoint }>,
): Promise<void> {
  for (const { at, checkpoint } of checkpoints) {
    expect(checkpoint.offset).toBe(at)
    if (at === BODY.length) continue
    const again = await sluice(URL_, { fetch, resumeFrom: checkpoint })
    expect(concatBytes([BODY.subarray(0, at), ...(await Array.fromAsync(again.bytes()))])).toEqual(BODY)
  }
}

describe('res.body read with a BYOB reader', () => {
  for (const size of [1, 3, 7, 16, 64, 1000]) {
    it(`reads ${size} bytes at a time, across chunk boundaries, to the exact end`, async () => {
      const res = await sluice(URL_, { fetch: server().fetch })
      const reads = await readByob(res, size)
      expect(concatBytes(reads)).toEqual(BODY)
      // No read is longer than its buffer, and each but the last fills it or ends a chunk.
      expect(reads.every((read) => read.length <= size)).toBe(true)
      expect(res.progress.state).toBe('done')
    })
  }

  it('in a runtime without byte streams is a default stream, read whole and across a resume', async () => {
    const { fetch, requests } = server(30)
    const res = await sluice(URL_, { fetch, resume: { backoff: FAST } })
    const Native = globalThis.ReadableStream
    // As an engine that refuses `type: 'bytes'` does: a RangeError at construction.
    globalThis.ReadableStream = new Proxy(Native, {
      construct(target, args: unknown[]) {
        if ((args[0] as { type?: unknown } | undefined)?.type === 'bytes')
          throw new RangeError('bytes streams are not supported')
        return Reflect.construct(target, args) as object
      },
    })
    let body: ReadableStream<Uint8Array>
    try {
      body = res.body
    } finally {
      globalThis.ReadableStream = Native
    }
    expect(() => body.getReader({ mode: 'byob' })).toThrow(TypeError)
    expect(concatBytes(await Array.fromAsync(body))).toEqual(BODY)
    expect(requests).toEqual(['whole', 'bytes=30-'])
  })

  it('reads across a resume: the bytes before the drop and after it, each once', async () => {
    const { fetch, requests } = server(30)
    const res = await sluice(URL_, { fetch, resume: { backoff: FAST } })
    expect(concatBytes(await readByob(res, 7))).toEqual(BODY)
    expect(requests).toEqual(['whole', 'bytes=30-'])
  })

  it('reads with { min }: each read waits for that many bytes, over chunks, and the last gives what is left', async () => {
    const res = await sluice(URL_, { fetch: server(30).fetch, resume: { backoff: FAST } })
    const reads = await readByob(res, 24, 24)
    expect(reads.map((read) => read.length)).toEqual([24, 24, 16])
    expect(concatBytes(reads)).toEqual(BODY)
  })

  it("reads fetch's own body across a cut that its end marker reveals, and a resume by Range", async () => {
    const body = Uint8Array.from({ length: 300 }, (_, i) => (i * 13 + 1) % 256)
    const s = await scripted({
      kind: 'range',
      body: base64(body),
      etag: ['"v1"'],
      marker: true,
      length: false,
      chunk: 45,
      pace: 2,
      attempts: [{ cut: 100 }],
    })
    const res = await sluice(s.url, { resume: { backoff: FAST } })
    expect(concatBytes(await readByob(res, 7))).toEqual(body)
    expect((await s.log()).filter((e) => e.event === 'request')).toHaveLength(2)
  })

  it('a checkpoint after a read that took part of a chunk lands after the bytes read: resumeFrom gives the rest', async () => {
    const { fetch } = server()
    const res = await sluice(URL_, { fetch, resume: { backoff: FAST } })
    const reader = res.body.getReader({ mode: 'byob' })
    // The third chunk is bytes 6–18: read 4 of them.
    const read: Uint8Array[] = []
    while (read.reduce((n, r) => n + r.length, 0) < 10) {
      const { value } = await reader.read(new Uint8Array(4))
      read.push(value!)
    }
    const checkpoint = JSON.parse(JSON.stringify(res.checkpoint())) as Checkpoint
    const got = concatBytes(read)
    expect(checkpoint.offset).toBe(got.length)
    expect(checkpoint.loaded).toBe(got.length)
    await reader.cancel()
    const again = await sluice(URL_, { fetch, resumeFrom: checkpoint })
    expect(concatBytes([got, ...(await Array.fromAsync(again.bytes()))])).toEqual(BODY)
  })

  it("on a tee() branch too: its checkpoint lands after the bytes its body's BYOB reads took", async () => {
    const res = await sluice(URL_, { fetch: server().fetch, resume: { backoff: FAST } })
    const [a, b] = res.tee()
    const reader = a.body.getReader({ mode: 'byob' })
    const first = await reader.read(new Uint8Array(3))
    expect(first.value).toEqual(BODY.subarray(0, 3))
    expect(a.checkpoint().offset).toBe(3)
    await reader.cancel()
    await b.cancel()
  })

  it('a default reader gets whole chunks, and new Response(res.body) the whole body', async () => {
    const res = await sluice(URL_, { fetch: server().fetch })
    const chunks = await Array.fromAsync(res.body)
    expect(chunks).toEqual(cutAt(BODY, CUTS))
    const again = await sluice(URL_, { fetch: server().fetch })
    expect(new Uint8Array(await new Response(again.body).arrayBuffer())).toEqual(BODY)
  })

  it("reading one tee() branch's body leaves the other branch's bytes whole", async () => {
    const res = await sluice(URL_, { fetch: server().fetch })
    const [a, b] = res.tee()
    const [fromA, fromB] = await Promise.all([readByob(a, 5), Array.fromAsync(b.bytes())])
    expect(concatBytes(fromA)).toEqual(BODY)
    expect(concatBytes(fromB)).toEqual(BODY)
  })

  it("a tee() branch's body takes over the branch's own chunks, uncopied; neither branch sees the other's changes", async () => {
    // A byte stream, as fetch's bodies are: its chunks are sluice's alone.
    let i = 0
    const chunks = cutAt(BODY, CUTS)
    const stream = new ReadableStream({
      type: 'bytes',
      pull(controller) {
        if (i < chunks.length) controller.enqueue(new Uint8Array(chunks[i++]!))
        else controller.close()
      },
    })
    const res = await fromResponse(new Response(stream))
    const [a, b] = res.tee()
    const slice = vi.spyOn(Uint8Array.prototype, 'slice')
    let copied = 0
    slice.mockImplementation(function (this: Uint8Array, ...args: [number?, number?]) {
      const copy = new Uint8Array(this.subarray(...args))
      copied += copy.length
      return copy
    })
    try {
      // Each branch's body, read whole: a changes every chunk it gets, and transfers its buffer away.
      const fromA = (async () => {
        const read: Uint8Array[] = []
        for await (const chunk of a.body) {
          read.push(new Uint8Array(chunk))
          chunk.fill(0)
          structuredClone(chunk.buffer, { transfer: [chunk.buffer] })
        }
        return concatBytes(read)
      })()
      const [readA, readB] = await Promise.all([fromA, Array.fromAsync(b.body).then(concatBytes)])
      expect(readA).toEqual(BODY)
      expect(readB).toEqual(BODY)
    } finally {
      slice.mockRestore()
    }
    // The second branch's copy of each chunk (as ReadableStream's tee() gives): none by either body.
    expect(copied).toBe(BODY.length)
  })

  it('reads a body with an end marker in the same chunk as its last bytes, which sluice holds back, to its proven end', async () => {
    const text = 'hello, world\n'
    const marker = `{"$sluice":"end","bytes":${text.length}}\n`
    for (const mode of ['default', 'byob'] as const) {
      const res = await fromResponse(
        new Response(bodyOf([text + marker]).stream, { headers: { 'x-sluice-end': 'marker' } }),
      )
      const read = mode === 'byob' ? await readByob(res, 5) : await Array.fromAsync(res.body)
      expect(new TextDecoder().decode(concatBytes(read)), mode).toBe(text)
      expect(res.progress.state, mode).toBe('done')
    }
  })

  it('leaves the chunks of a stream made in code intact: one array enqueued twice is read twice', async () => {
    const ping = BODY.slice(0, 5)
    for (const mode of ['default', 'byob'] as const) {
      const res = await fromResponse(new Response(bodyOf([ping, ping, ping]).stream))
      const read = mode === 'byob' ? await readByob(res, 4) : await Array.fromAsync(res.body)
      expect(concatBytes(read), mode).toEqual(concatBytes([ping, ping, ping]))
      expect(ping, mode).toEqual(BODY.subarray(0, 5))
    }
  })

  it("leaves the chunks of a stream made in code intact through tee(): both branches' bodies read an array enqueued twice twice", async () => {
    const ping = BODY.slice(0, 5)
    const res = await fromResponse(new Response(bodyOf([ping, ping, ping]).stream))
    const [a, b] = res.tee()
    const [fromA, fromB] = await Promise.all([readByob(a, 4), Array.fromAsync(b.body)])
    expect(concatBytes(fromA)).toEqual(concatBytes([ping, ping, ping]))
    expect(concatBytes(fromB)).toEqual(concatBytes([ping, ping, ping]))
    expect(ping).toEqual(BODY.subarray(0, 5))
  })

  it('skips empty chunks, which a byte stream cannot take, rather than hang or fail', async () => {
    const parts = [new Uint8Array(0), BODY.subarray(0, 10), new Uint8Array(0), BODY.subarray(10)]
    const res = await fromResponse(new Response(bodyOf(parts.map((p) => p.slice())).stream))
    expect(concatBytes(await readByob(res, 8))).toEqual(BODY)
  })

  it('pulls nothing before a read, and a cancel of the BYOB reader releases the response', async () => {
    const body = bodyOf(cutAt(BODY, CUTS).map((chunk) => chunk.slice()))
    const res = await fromResponse(new Response(body.stream))
    const reader = res.body.getReader({ mode: 'byob' })
    expect(body.pulls()).toBe(0)
    await reader.read(new Uint8Array(2))
    await reader.cancel('enough')
    expect(body.cancelled()).toBe('enough')
    expect(res.progress.state).toBe('cancelled')
  })

  it('a read waiting for its { min } that fails loses what it gathered: a checkpoint then stands before those bytes', async () => {
    // The first answer drops after 15 bytes (chunks of 5, 1 and 9 bytes), without resume.
    const { fetch } = server(15)
    const res = await sluice(URL_, { fetch, resume: false })
    const reader = res.body.getReader({ mode: 'byob' })
    const first = await reader.read(new Uint8Array(4))
    expect(first.value).toEqual(BODY.subarray(0, 4))
    // 11 bytes arrive for it, then the connection drops: the read rejects, and its 11 bytes go with it.
    await expect(reader.read(new Uint8Array(20), { min: 20 })).rejects.toMatchObject({ name: 'NetworkError' })
    const checkpoint = JSON.parse(JSON.stringify(res.checkpoint())) as Checkpoint
    expect(checkpoint.offset).toBe(4)
    expect(checkpoint.loaded).toBe(4)
    const again = await sluice(URL_, { fetch, resumeFrom: checkpoint })
    expect(concatBytes([first.value!, ...(await Array.fromAsync(again.bytes()))])).toEqual(BODY)
  })

  it('two BYOB reads asked for at once are answered in order, each with its own bytes; a checkpoint stands after both', async () => {
    const res = await sluice(URL_, { fetch: server().fetch, resume: { backoff: FAST } })
    const reader = res.body.getReader({ mode: 'byob' })
    const reads: Uint8Array[] = []
    for (;;) {
      const [a, b] = await Promise.all([
        reader.read(new Uint8Array(8), { min: 8 }),
        reader.read(new Uint8Array(3)),
      ])
      reads.push(a.value!, b.value!)
      if (b.done) break
      expect(res.checkpoint().offset).toBe(concatBytes(reads).length)
    }
    expect(concatBytes(reads)).toEqual(BODY)
  })

  it('a second BYOB read asked for at once, in a buffer like the first where its bytes end, is another read: a checkpoint between them is exact', async () => {
    const { fetch, push } = gatedServer()
    const res = await sluice(URL_, { fetch, resume: { backoff: FAST } })
    const reader = res.body.getReader({ mode: 'byob' })
    push(BODY.subarray(0, 5))
    const first = reader.read(new Uint8Array(8))
    // The first read gets 5 bytes: the second starts at byte 5 of a buffer of 8, where the first's would go on.
    const second = reader.read(new Uint8Array(new ArrayBuffer(8), 5))
    const got = (await first).value!
    expect(got).toEqual(BODY.subarray(0, 5))
    const checkpoint = JSON.parse(JSON.stringify(res.checkpoint())) as Checkpoint
    expect(checkpoint.offset).toBe(5)
    expect(checkpoint.loaded).toBe(5)
    await reader.cancel()
    expect(await second).toEqual({ done: true, value: undefined })
    const again = await sluice(URL_, { fetch, resumeFrom: checkpoint })
    expect(concatBytes([got, ...(await Array.fromAsync(again.bytes()))])).toEqual(BODY)
  })

  it('a BYOB read into wider elements leaves the odd bytes of a chunk to the next read: a checkpoint stands before them', async () => {
    const { fetch, push } = gatedServer()
    const res = await sluice(URL_, { fetch, resume: { backoff: FAST } })
    const reader = res.body.getReader({ mode: 'byob' })
    push(BODY.subarray(0, 5))
    // Whole elements only: 4 of the 5 bytes; the stream keeps the fifth for the next read.
    const words = (await reader.read(new Uint32Array(4))).value!
    const got = new Uint8Array(words.buffer, words.byteOffset, words.byteLength)
    expect(got).toEqual(BODY.subarray(0, 4))
    const checkpoint = JSON.parse(JSON.stringify(res.checkpoint())) as Checkpoint
    expect(checkpoint.offset).toBe(4)
    expect(checkpoint.loaded).toBe(4)
    // The fifth byte is the next read's.
    expect((await reader.read(new Uint8Array(8))).value).toEqual(BODY.subarray(4, 5))
    expect(res.checkpoint().offset).toBe(5)
    await reader.cancel()
    const again = await sluice(URL_, { fetch, resumeFrom: checkpoint })
    expect(concatBytes([got, ...(await Array.fromAsync(again.bytes()))])).toEqual(BODY)
  })

  it("read through the platform's own tee(), whose reads are not ours, a checkpoint stands after the bytes it took", async () => {
    const res = await sluice(URL_, { fetch: server().fetch, resume: { backoff: FAST } })
    const [x, y] = res.body.tee()
    const reader = x.getReader({ mode: 'byob' })
    const read = await reader.read(new Uint8Array(3))
    expect(read.value).toEqual(BODY.subarray(0, 3))
    expect(res.checkpoint().offset).toBe(3)
    // A tee's source is cancelled once both of its branches are.
    await Promise.all([reader.cancel(), y.cancel()])
  })

  it('a checkpoint taken while the next chunk is on its way to a waiting read stands before that chunk', async () => {
    // An end-marked body, whose first answer drops after its first byte; a Range answer sends the rest in two
    // chunks, the last with the marker, which the source counts before the chunk reaches the stream.
    const body = BODY.subarray(0, 8)
    const wire = concatBytes([body, new TextEncoder().encode(`{"$sluice":"end","bytes":${body.length}}\n`)])
    const fetch = fetchWith((request) => {
      const from = Number(/bytes=(\d+)-/.exec(request.headers.get('range') ?? '')?.[1] ?? 0)
      const headers = { ...HEADERS, 'x-sluice-end': 'marker' }
      if (from === 0) {
        const { stream } = bodyOf([wire.slice(0, 1)], { error: new TypeError('terminated') })
        return new Response(stream, { headers })
      }
      const { stream } = bodyOf([wire.slice(from, 3), wire.slice(3)])
      return new Response(stream, {
        status: 206,
        headers: { ...headers, 'content-range': `bytes ${from}-*/*` },
      })
    })
    const res = await sluice(URL_, { fetch, resume: { backoff: FAST } })
    const reader = res.body.getReader({ mode: 'byob' })
    const got: Uint8Array[] = []
    const positions: Array<[number, number]> = []
    for (;;) {
      const first = reader.read(new Uint8Array(2))
      const second = reader.read(new Uint8Array(1))
      const a = await first
      if (a.value?.length) got.push(a.value)
      const at = concatBytes(got).length
      positions.push([at, res.checkpoint().offset])
      const b = await second
      if (b.value?.length) got.push(b.value)
      if (b.done) break
    }
    expect(concatBytes(got)).toEqual(body)
    expect(positions).toEqual(positions.map(([at]) => [at, at]))
  })

  it('res.bytes().toReadableStream() is a byte stream too: BYOB reads, and a checkpoint after a partial read is exact', async () => {
    const { fetch } = server()
    const res = await sluice(URL_, { fetch, resume: { backoff: FAST } })
    const reader = res.bytes().toReadableStream().getReader({ mode: 'byob' })
    // The first chunk is 5 bytes: read 3 of them.
    const { value } = await reader.read(new Uint8Array(3))
    expect(value).toEqual(BODY.subarray(0, 3))
    const checkpoint = JSON.parse(JSON.stringify(res.checkpoint())) as Checkpoint
    expect(checkpoint.offset).toBe(3)
    await reader.cancel()
    const again = await sluice(URL_, { fetch, resumeFrom: checkpoint })
    expect(concatBytes([value!, ...(await Array.fromAsync(again.bytes()))])).toEqual(BODY)
  })

  it('res.bytes({ chunkSize }).toReadableStream() gives those chunks to default reads, and a checkpoint at one is exact', async () => {
    const { fetch } = server()
    const res = await sluice(URL_, { fetch, resume: { backoff: FAST } })
    const stream = res.bytes({ chunkSize: 10 }).toReadableStream()
    expect(() => stream.getReader({ mode: 'byob' })).toThrow(TypeError)
    const reader = stream.getReader()
    const first = await reader.read()
    expect(first.value).toEqual(BODY.subarray(0, 10))
    expect(res.checkpoint().offset).toBe(10)
    await reader.cancel()
  })

  it('a BYOB reader released while its read waits, then a default reader: each checkpoint exact, nothing twice or lost', async () => {
    const { fetch, asked, go } = steppedServer(BODY, HEADERS, [3])
    const res = await sluice(URL_, { fetch, resume: { backoff: FAST } })
    const byob = res.body.getReader({ mode: 'byob' })
    const waiting = byob.read(new Uint8Array(10), { min: 10 })
    // The read has the first 3 bytes, and waits for 7 more: releasing its reader rejects it, and leaves its 3 bytes
    // to the next read.
    await asked
    expect(res.checkpoint().offset).toBe(0)
    byob.releaseLock()
    await expect(waiting).rejects.toThrow(TypeError)
    expect(res.checkpoint().offset).toBe(0)
    const reader = res.body.getReader()
    go()
    const { read, checkpoints } = await readAll(res, reader)
    expect(concatBytes(read)).toEqual(BODY)
    await expectEachResumes(fetch, checkpoints)
  })

  it('a default read after a BYOB read released while it waited gets its bytes, and the rest, to the end', async () => {
    const { fetch, asked, go } = steppedServer(BODY, HEADERS, [3])
    const res = await sluice(URL_, { fetch, resume: { backoff: FAST } })
    const byob = res.body.getReader({ mode: 'byob' })
    // Room for the whole body: the rest would fit in what the released read left.
    const waiting = byob.read(new Uint8Array(100), { min: 100 })
    await asked
    byob.releaseLock()
    await expect(waiting).rejects.toThrow(TypeError)
    const reader = res.body.getReader()
    go()
    const { read, checkpoints } = await readAll(res, reader)
    expect(concatBytes(read)).toEqual(BODY)
    expect(checkpoints.at(-1)!.checkpoint.offset).toBe(BODY.length)
  })

  it('new ReadableStreamBYOBReader(res.body): a checkpoint while its read waits for its { min } stands before the bytes it gathered', async () => {
    const { fetch, asked, go } = steppedServer(BODY, HEADERS, [3])
    const res = await sluice(URL_, { fetch, resume: { backoff: FAST } })
    const reader = new ReadableStreamBYOBReader(res.body)
    const waiting = reader.read(new Uint8Array(10), { min: 10 })
    await asked
    const checkpoint = JSON.parse(JSON.stringify(res.checkpoint())) as Checkpoint
    expect(checkpoint.offset).toBe(0)
    go()
    expect((await waiting).value).toEqual(BODY.subarray(0, 10))
    expect(res.checkpoint().offset).toBe(10)
    await reader.cancel()
    await expectEachResumes(fetch, [{ at: 0, checkpoint }])
  })

  it('new ReadableStreamBYOBReader(res.body) reading wider elements: a checkpoint stands before the odd bytes the stream keeps', async () => {
    const { fetch, go } = steppedServer(BODY, HEADERS, [5])
    go()
    const res = await sluice(URL_, { fetch, resume: { backoff: FAST } })
    const reader = new ReadableStreamBYOBReader(res.body)
    const words = (await reader.read(new Uint32Array(4))).value!
    expect(words.byteLength).toBe(4)
    const checkpoint = JSON.parse(JSON.stringify(res.checkpoint())) as Checkpoint
    await reader.cancel()
    await expectEachResumes(fetch, [{ at: 4, checkpoint }])
  })

  it('a checkpoint taken as the first chunk arrives, before any read returned it, stands before it', async () => {
    const { fetch } = server()
    let res: StreamResponse | undefined
    let first: Checkpoint | undefined
    res = await sluice(URL_, {
      fetch,
      resume: { backoff: FAST },
      progressInterval: 0,
      // As the source counts the chunk: the stream has not given it to the read yet.
      onProgress: (p) => {
        if (p.loaded > 0) first ??= JSON.parse(JSON.stringify(res!.checkpoint())) as Checkpoint
      },
    })
    const reader = res.body.getReader({ mode: 'byob' })
    await reader.read(new Uint8Array(2))
    expect(first!.offset).toBe(0)
    await reader.cancel()
    await expectEachResumes(fetch, [{ at: 0, checkpoint: first! }])
  })

  it('a cancel while a BYOB read waits on a silent body ends that read, and cancels the body once', async () => {
    const body = gatedBody()
    const res = await fromResponse(new Response(body.stream))
    const reader = res.body.getReader({ mode: 'byob' })
    body.push(BODY.slice(0, 3))
    expect((await reader.read(new Uint8Array(2))).value).toEqual(BODY.subarray(0, 2))
    const waiting = reader.read(new Uint8Array(8), { min: 8 })
    await reader.cancel('enough')
    expect(await waiting).toEqual({ done: true, value: undefined })
    expect(body.cancels()).toBe(1)
    expect(res.progress.state).toBe('cancelled')
  })
})
