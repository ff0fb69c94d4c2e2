/**
 * `res.body` read any way a byte stream can be read — BYOB reads of any size, with or without `min`, by a reader from
 * `getReader()` or made directly, a reader released while its read waits, default reads in between, over any
 * chunking, across drops resumed by Range — delivers the body exactly: nothing lost, nothing twice. A checkpoint taken between any two reads stands right after the bytes read, so that a `resumeFrom` in a
 * fresh call continues exactly there; so does one of a `tee()` branch's body, and one taken after a failed read. One
 * taken while a read waits for its `min` stands before the bytes that read gathered (at or before them for a reader
 * made directly), never after.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type Checkpoint, type StreamResponse, sluice } from '../src/index.ts'
import { concatBytes, cutAt } from './support/chunking.ts'
import { FAST } from './support/scripted.ts'
import { fetchWith } from './support/streams.ts'

const URL_ = 'https://fn.example/blob'
const RUNS = { numRuns: 60 } as const

type Mode = 'content-length' | 'end marker' | 'no length'
type Op =
  | { kind: 'byob'; size: number; min: number; offset: number; wide: boolean; direct: boolean }
  | { kind: 'pair'; size: number; offset: number }
  | { kind: 'release'; size: number; min: number; ticks: number }
  | { kind: 'default' }
  | { kind: 'checkpoint' }

interface Case {
  body: Uint8Array
  cuts: number[]
  /** Absolute offsets at which the first answers drop, one per answer, ascending. */
  drops: number[]
  mode: Mode
  /** Whether the server's bodies are byte streams (fetch's are), whose chunks sluice may hand on as they are. */
  bytes: boolean
  ops: Op[]
}

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('byob' as const),
      size: fc.integer({ min: 1, max: 40 }),
      min: fc.nat({ max: 40 }),
      offset: fc.nat({ max: 3 }),
      wide: fc.boolean(),
      direct: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('release' as const),
      size: fc.integer({ min: 1, max: 40 }),
      min: fc.nat({ max: 40 }),
      ticks: fc.nat({ max: 12 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('pair' as const),
      size: fc.integer({ min: 2, max: 12 }),
      offset: fc.integer({ min: 1, max: 11 }),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'default' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'checkpoint' as const }) },
)

const cases: fc.Arbitrary<Case> = fc.uint8Array({ minLength: 1, maxLength: 160 }).chain((body) =>
  fc.record({
    body: fc.constant(body),
    cuts: fc.array(fc.nat({ max: body.length }), { maxLength: 12 }),
    drops: fc
      .uniqueArray(fc.integer({ min: 1, max: body.length }), { maxLength: 3 })
      .map((d) => d.sort((a, b) => a - b)),
    mode: fc.constantFrom<Mode>('content-length', 'end marker', 'no length'),
    bytes: fc.boolean(),
    ops: fc.array(op, { minLength: 1, maxLength: 8 }),
  }),
)

/** The end-marker line for a body of `n` bytes. */
const markerLine = (n: number): Uint8Array => new TextEncoder().encode(`{"$sluice":"end","bytes":${n}}\n`)

/** A stream of `chunks`, a byte stream or not, that fails after them when `error` is given. */
function streamOf(chunks: Uint8Array[], bytes: boolean, error?: unknown): ReadableStream<Uint8Array> {
  let i = 0
  const pull = (
    controller: ReadableStreamDefaultController<Uint8Array> | ReadableByteStreamController,
  ): void => {
    if (i < chunks.length) controller.enqueue(chunks[i++]!.slice())
    else if (error !== undefined) controller.error(error)
    else controller.close()
  }
  return bytes ? new ReadableStream({ type: 'bytes', pull }) : new ReadableStream({ pull })
}

/**
 * Serves the case's body (with its end marker when the mode has one) in its chunks, whole or from a
 * `Range: bytes=N-` as a 206; the k-th answer drops at `drops[k]` when that lies ahead of where it starts.
 */
function server({ body, cuts, drops, mode, bytes }: Case): typeof fetch {
  const wire = mode === 'end marker' ? concatBytes([body, markerLine(body.length)]) : body
  let answers = 0
  return fetchWith((request) => {
    const range = request.headers.get('range')
    const from = Number(/bytes=(\d+)-/.exec(range ?? '')?.[1] ?? 0)
    const drop = drops[answers++]
    // Nothing left: a 416 that says the length (RFC 9110 §15.5.17).
    if (from >= wire.length) {
      return new Response(null, { status: 416, headers: { 'content-range': `bytes */${wire.length}` } })
    }
    const end = drop !== undefined && drop > from ? drop : wire.length
    const chunks = cutAt(
      wire,
      cuts.filter((c) => c > from && c < end),
    )
      .map((chunk, i, all) => {
        // cutAt cuts the whole wire: keep the part of each chunk between `from` and `end`.
        const start = all.slice(0, i).reduce((n, c) => n + c.length, 0)
        return chunk.subarray(Math.max(0, from - start), Math.max(0, end - start))
      })
      .filter((chunk) => chunk.length > 0)
    const headers: Record<string, string> = { 'accept-ranges': 'bytes', etag: '"v1"' }
    if (mode === 'end marker') headers['x-sluice-end'] = 'marker'
    if (mode === 'content-length') headers['content-length'] = String(wire.length - from)
    if (range !== null) {
      headers['content-range'] =
        mode === 'content-length' ? `bytes ${from}-${wire.length - 1}/${wire.length}` : `bytes ${from}-*/*`
    }
    const stream = streamOf(chunks, bytes, end < wire.length ? new TypeError('terminated') : undefined)
    return new Response(stream, { status: range === null ? 200 : 206, headers })
  })
}

/** A checkpoint as it is stored and read back. */
const stored = (checkpoint: Checkpoint): Checkpoint => JSON.parse(JSON.stringify(checkpoint)) as Checkpoint

/** The bytes of a view. */
const bytesOf = (view: ArrayBufferView): Uint8Array =>
  new Uint8Array(view.buffer, view.byteOffset, view.byteLength)

/** A number of turns of the microtask queue: a read in progress gathers bytes meanwhile. */
async function ticks(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await Promise.resolve()
}

/**
 * Reads `res.body` with `ops`, over and over until the end: BYOB reads into a fresh buffer (at an offset in it,
 * with `min` when it is 2 or more, of 4-byte elements while the body has that many bytes left), by a reader from
 * `getReader()` or `new ReadableStreamBYOBReader()`, two BYOB reads asked for at once (the second in a buffer like
 * the first's, at an offset where the first's bytes may end, with a checkpoint between them), a BYOB read whose
 * reader is released while it waits (with a checkpoint before), then a default read, which gets its bytes first,
 * default reads, and checkpoints, each with the bytes read before it. (A BYOB read right after such a release
 * would wait for ever on a source that is not pulling then, as the Streams standard has it.)
 */
async function readWith(
  res: StreamResponse,
  ops: Op[],
  reads: Uint8Array[] = [],
  length = Infinity,
): Promise<{
  read: Uint8Array
  checkpoints: Array<{ at: number; checkpoint: Checkpoint }>
  waiting: Array<{ at: number; checkpoint: Checkpoint; direct: boolean }>
}> {
  const checkpoints: Array<{ at: number; checkpoint: Checkpoint }> = []
  const waiting: Array<{ at: number; checkpoint: Checkpoint; direct: boolean }> = []
  let count = 0
  let byob: ReadableStreamBYOBReader | undefined
  let direct = false
  let plain: ReadableStreamDefaultReader<Uint8Array> | undefined
  /** The BYOB reader, from `getReader()` or made directly, once any default reader is released. */
  const byobReader = (made: boolean): ReadableStreamBYOBReader => {
    plain?.releaseLock()
    plain = undefined
    if (byob !== undefined && direct !== made) byob.releaseLock()
    if (byob === undefined || direct !== made)
      byob = made ? new ReadableStreamBYOBReader(res.body) : res.body.getReader({ mode: 'byob' })
    direct = made
    return byob
  }
  const keep = (value: Uint8Array | undefined): void => {
    if (value !== undefined && value.length > 0) {
      reads.push(value.slice())
      count += value.length
    }
  }
  for (let i = 0; ; i++) {
    const step = ops[i % ops.length]!
    if (step.kind === 'checkpoint') {
      checkpoints.push({ at: count, checkpoint: stored(res.checkpoint()) })
      continue
    }
    let result: ReadableStreamReadResult<Uint8Array>
    if (step.kind === 'release') {
      const reader = byobReader(false)
      const min = Math.min(step.min, step.size)
      let answer: ReadableStreamReadResult<Uint8Array> | undefined
      let failure: unknown
      const read = reader.read(new Uint8Array(step.size), min >= 2 ? { min } : undefined)
      read.then(
        (done) => {
          answer = done
        },
        (error: unknown) => {
          failure = error
        },
      )
      await ticks(step.ticks)
      if (answer === undefined) checkpoints.push({ at: count, checkpoint: stored(res.checkpoint()) })
      reader.releaseLock()
      byob = undefined
      await read.catch(() => {})
      // A failure of the body rejects the read as it would any other; the release's own is a TypeError.
      if (failure !== undefined && (failure as Error).name !== 'TypeError') throw failure
      keep(answer?.value)
      if (answer?.done) return { read: concatBytes(reads), checkpoints, waiting }
      checkpoints.push({ at: count, checkpoint: stored(res.checkpoint()) })
      plain = res.body.getReader()
      result = await plain.read()
    } else if (step.kind === 'pair') {
      const reader = byobReader(false)
      const first = reader.read(new Uint8Array(step.size))
      const second = reader.read(new Uint8Array(new ArrayBuffer(step.size), step.offset % step.size))
      // A failure rejects both: the first's is the one awaited.
      let early: ReadableStreamReadResult<Uint8Array> | undefined
      second.then(
        (answer) => {
          early = answer
        },
        () => {},
      )
      const a = await first
      keep(a.value)
      // Both may be answered at once, from what the stream held (Chromium does): then the second's bytes are the
      // caller's too when the checkpoint is taken. A turn lets its answer show.
      await ticks(1)
      checkpoints.push({ at: count + (early?.value?.length ?? 0), checkpoint: stored(res.checkpoint()) })
      result = await second
    } else if (step.kind === 'byob') {
      const reader = byobReader(step.direct)
      // Elements of 4 bytes only while the body has enough left: a stream that ends inside one fails the read.
      const width = step.wide && length - count >= 4 * step.size ? 4 : 1
      const buffer = new ArrayBuffer((step.size + step.offset) * width)
      const view =
        width === 4 ? new Uint32Array(buffer, step.offset * 4) : new Uint8Array(buffer, step.offset)
      const min = Math.min(step.min, step.size)
      const asked = reader.read(view, min >= 2 ? { min } : undefined)
      if (min >= 2) {
        // A checkpoint while the read may wait for its `min`: before the bytes it gathered, which it may have
        // taken from what the stream held.
        let settled = false
        asked.then(
          () => {
            settled = true
          },
          () => {},
        )
        await ticks(3)
        const checkpoint = stored(res.checkpoint())
        // Answered before the checkpoint was taken, the read's reaction has run a turn later: then it did not wait.
        await ticks(1)
        if (!settled) waiting.push({ at: count, checkpoint, direct: step.direct })
      }
      const wide = await asked
      result = {
        done: wide.done,
        value: wide.value && bytesOf(wide.value),
      } as ReadableStreamReadResult<Uint8Array>
      if (result.value !== undefined) {
        expect(result.value.byteOffset).toBe(step.offset * width)
        expect(result.value.length).toBeLessThanOrEqual(step.size * width)
        if (!result.done) expect(result.value.length).toBeGreaterThanOrEqual(Math.max(1, min) * width)
      }
    } else {
      byob?.releaseLock()
      byob = undefined
      plain ??= res.body.getReader()
      result = await plain.read()
    }
    keep(result.value)
    if (result.done) return { read: concatBytes(reads), checkpoints, waiting }
  }
}

/** The rest after `checkpoint`, read in a fresh call with BYOB reads of 5 bytes. */
async function rest(fetch: typeof globalThis.fetch, checkpoint: Checkpoint): Promise<Uint8Array> {
  const res = await sluice(URL_, { fetch, resumeFrom: checkpoint, resume: { backoff: FAST, attempts: 10 } })
  return (await readWith(res, [{ kind: 'byob', size: 5, min: 0, offset: 0, wide: false, direct: false }]))
    .read
}

/** Each checkpoint stands at the bytes read when it was taken, and continues with the rest of the body from there. */
async function expectEachResumes(
  c: Case,
  checkpoints: Array<{ at: number; checkpoint: Checkpoint }>,
): Promise<void> {
  for (const { at, checkpoint } of checkpoints) {
    expect(checkpoint.offset).toBe(at)
    // A fresh server, which drops nothing: the rest comes in one answer.
    const after = await rest(server({ ...c, drops: [] }), checkpoint)
    expect(concatBytes([c.body.subarray(0, at), after])).toEqual(c.body)
  }
}

/**
 * Each checkpoint taken while a read waited for its `min` stands before the bytes that read gathered: exactly at
 * the bytes read before it for a reader from `getReader()`, at or before them for one made directly (which may
 * count bytes another read took from the stream's queue as held), never after; and continues from there.
 */
async function expectWaitingResume(
  c: Case,
  waiting: Array<{ at: number; checkpoint: Checkpoint; direct: boolean }>,
): Promise<void> {
  for (const { at, checkpoint, direct } of waiting) {
    if (direct) expect(checkpoint.offset).toBeLessThanOrEqual(at)
    else expect(checkpoint.offset).toBe(at)
    const after = await rest(server({ ...c, drops: [] }), checkpoint)
    expect(concatBytes([c.body.subarray(0, checkpoint.offset), after])).toEqual(c.body)
  }
}

/**
 * Expects the bytes read to be the body, but for those of a read released while it waited, which the next read
 * gets unless the body ends first: the Streams standard's close then drops them, and a checkpoint taken after it
 * stands before them. Returns the checkpoints, with that one.
 */
function expectBody(
  c: Case,
  res: StreamResponse,
  { read, checkpoints }: Awaited<ReturnType<typeof readWith>>,
): Array<{ at: number; checkpoint: Checkpoint }> {
  if (read.length < c.body.length && c.ops.some((o) => o.kind === 'release')) {
    expect(read).toEqual(c.body.subarray(0, read.length))
    return [...checkpoints, { at: read.length, checkpoint: stored(res.checkpoint()) }]
  }
  expect(read).toEqual(c.body)
  return checkpoints
}

/** The case with a read among its ops that is not released, which would otherwise never end. */
const readable = (c: Case): Case =>
  c.ops.some((o) => o.kind !== 'checkpoint' && o.kind !== 'release')
    ? c
    : { ...c, ops: [...c.ops, { kind: 'default' }] }

describe('res.body as a byte stream, any way it is read (property)', () => {
  it('delivers the body exactly, and each checkpoint continues exactly after the bytes read before it', async () => {
    await fc.assert(
      fc.asyncProperty(cases.map(readable), async (c) => {
        const res = await sluice(URL_, { fetch: server(c), resume: { backoff: FAST, attempts: 10 } })
        const read = await readWith(res, c.ops, [], c.body.length)
        const checkpoints = expectBody(c, res, read)
        expect(res.progress.state).toBe('done')
        expect(res.progress.loaded).toBe(c.body.length)
        for (const { at, checkpoint } of checkpoints) expect(checkpoint.loaded).toBe(at)
        await expectEachResumes(c, checkpoints)
        await expectWaitingResume(c, read.waiting)
      }),
      RUNS,
    )
  })

  it("on a tee() branch's body too, while the other branch reads bytes()", async () => {
    await fc.assert(
      fc.asyncProperty(cases.map(readable), async (c) => {
        const res = await sluice(URL_, { fetch: server(c), resume: { backoff: FAST, attempts: 10 } })
        const [a, b] = res.tee({ maxBuffer: 16 })
        const [read, other] = await Promise.all([
          readWith(a, c.ops, [], c.body.length),
          Array.fromAsync(b.bytes()).then(concatBytes),
        ])
        const checkpoints = expectBody(c, a, read)
        expect(other).toEqual(c.body)
        await expectEachResumes(c, checkpoints)
        await expectWaitingResume(c, read.waiting)
      }),
      RUNS,
    )
  })

  it('a failed read rejects, the bytes read before it are the body up to there, and a checkpoint then gives the rest', async () => {
    await fc.assert(
      fc.asyncProperty(
        cases
          .map(readable)
          .filter((c) => c.drops.length > 0 && c.drops[0]! < c.body.length && c.mode === 'content-length')
          // By readers from `getReader()`: of one made directly, sluice may count bytes that another read took from
          // the stream's queue as held by its read that waits when the body fails (a checkpoint then stands early,
          // never late; README, `body`).
          .map((c) => ({ ...c, ops: c.ops.map((o) => (o.kind === 'byob' ? { ...o, direct: false } : o)) })),
        async (c) => {
          const drop = c.drops[0]!
          const res = await sluice(URL_, { fetch: server(c), resume: false })
          const reads: Uint8Array[] = []
          const failed = await readWith(res, c.ops, reads, c.body.length).then(
            () => undefined,
            (error: unknown) => error,
          )
          expect((failed as Error).name).toBe('NetworkError')
          expect(res.progress.state).toBe('error')
          const read = concatBytes(reads)
          expect(read).toEqual(c.body.subarray(0, read.length))
          const checkpoint = stored(res.checkpoint())
          expect(checkpoint.offset).toBe(read.length)
          // The bytes before the failure: all of them, but those a read waiting for its `min` had gathered.
          expect(checkpoint.offset).toBeLessThanOrEqual(drop)
          // (or a read of 4-byte elements had, short of one, or a read released while it waited had).
          if (
            !c.ops.some(
              (o) =>
                (o.kind === 'byob' && (o.wide || Math.min(o.min, o.size) >= 2)) ||
                (o.kind === 'release' && Math.min(o.min, o.size) >= 2),
            )
          )
            expect(checkpoint.offset).toBe(drop)
          const after = await rest(server({ ...c, drops: [] }), checkpoint)
          expect(concatBytes([c.body.subarray(0, checkpoint.offset), after])).toEqual(c.body)
          expect(checkpoint.loaded).toBe(checkpoint.offset)
        },
      ),
      RUNS,
    )
  })
})
