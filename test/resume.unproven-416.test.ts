/**
 * A `416` with `Content-Range: bytes *\/N` for exactly the bytes received proves the body ended there only when it
 * speaks of the version delivered: same validators and the complete length declared before. A server that lost or
 * replaced the body answers so of any offset it is asked from, and taking that for the end would end a cut stream
 * `done`, its last line half a line. An end marker announced and not received is no reason to refuse it: sluice/lambda
 * answers a Range at the end of a marked body so (an empty body, or one cut right before its marker).
 */
import { describe, expect, it } from 'vitest'
import { type Checkpoint, END_MARKER_HEADER, endMarkerLine, sluice } from '../src/index.ts'
import { encode } from './support/chunking.ts'
import { droppedAfter, fetchWith, resumeError } from './support/streams.ts'

const URL_ = 'https://fn.example/report'
const FAST = { initial: 1, max: 2, jitter: 0 }
const LINES = Array.from({ length: 100 }, (_, i) => `line ${i}`)
const BODY = encode(LINES.map((line) => `${line}\n`).join(''))
/** Inside line 38: a drop there leaves half a line behind. */
const DROP = 300
const HEAD = { 'content-type': 'text/plain', 'accept-ranges': 'bytes', etag: '"v1"' }

/**
 * A first answer with `first` headers that drops after `DROP` bytes, and a 416 with `answer` headers that says
 * the body has exactly the bytes asked from, for every Range.
 */
function cutThen416(first: Record<string, string>, answer: Record<string, string> = {}) {
  const ranges: Array<string | null> = []
  const fetch = fetchWith((request) => {
    const range = request.headers.get('range')
    ranges.push(range)
    if (range === null) return new Response(droppedAfter(BODY, DROP), { headers: first })
    const from = /^bytes=(\d+)-$/.exec(range)![1]!
    return new Response(null, { status: 416, headers: { 'content-range': `bytes */${from}`, ...answer } })
  })
  return { fetch, ranges }
}

describe('a 416 for exactly the bytes received, after a drop', () => {
  it("is refused ('validator-changed') when a length was declared and it gives another: no half line, no total rewritten", async () => {
    const { fetch, ranges } = cutThen416({ ...HEAD, 'content-length': String(BODY.length) }, { etag: '"v1"' })
    const res = await sluice(URL_, { fetch, resume: { backoff: FAST } })
    const lines: string[] = []
    const error = await resumeError(
      (async () => {
        for await (const line of res.lines()) lines.push(line)
      })(),
    )
    expect(error.reason).toBe('validator-changed')
    expect(error.message).toBe(
      `The resource changed between attempts (its length ${BODY.length} became ${DROP} bytes); the bytes already delivered belong to another version, so the stream cannot be resumed.`,
    )
    expect(error.response?.status).toBe(416)
    // Only the whole lines before the drop: the half of line 38 is never delivered as a line.
    expect(lines).toEqual(LINES.slice(0, 38))
    expect(res.progress).toMatchObject({ state: 'error', loaded: DROP, total: BODY.length })
    expect(ranges).toEqual([null, `bytes=${DROP}-`])
  })

  it("is refused ('validator-changed') when its ETag is another, with no length declared", async () => {
    const { fetch } = cutThen416(HEAD, { etag: '"v2"' })
    const res = await sluice(URL_, { fetch, resume: { backoff: FAST } })
    const error = await resumeError(Array.fromAsync(res.lines()))
    expect(error.reason).toBe('validator-changed')
    expect(error.message).toMatch(/^The resource changed between attempts \(ETag "v1" became "v2"\)/)
  })

  it('completes under the same ETag when the stream announced an end marker that has not come', async () => {
    const { fetch } = cutThen416({ ...HEAD, [END_MARKER_HEADER]: 'marker' })
    const res = await sluice(URL_, { fetch, resume: { backoff: FAST } })
    await Array.fromAsync(res.lines())
    expect(res.progress.state).toBe('done')
  })

  it('completes after a drop inside the end-marker line: the body itself arrived whole', async () => {
    const marked = new Uint8Array([...BODY, ...encode(endMarkerLine(BODY.length))])
    const fetch = fetchWith((request) =>
      request.headers.get('range') === null
        ? new Response(droppedAfter(marked, BODY.length + 13), {
            headers: { ...HEAD, [END_MARKER_HEADER]: 'marker' },
          })
        : new Response(null, {
            status: 416,
            headers: { ...HEAD, 'content-range': `bytes */${BODY.length}` },
          }),
    )
    const res = await sluice(URL_, { fetch, resume: { backoff: FAST } })
    expect(await Array.fromAsync(res.lines())).toEqual(LINES)
    expect(res.progress).toMatchObject({ state: 'done', loaded: BODY.length })
  })
})

describe('a 416 that answers the request of resumeFrom', () => {
  /** The checkpoint after the first 20 lines of a body served whole, with `headers`, as storage keeps it. */
  async function checkpointOf(
    body: Uint8Array,
    headers: Record<string, string>,
    lines = 20,
  ): Promise<Checkpoint> {
    const fetch = fetchWith(() => new Response(body.slice(), { headers }))
    const res = await sluice(URL_, { fetch })
    const read = res.lines()[Symbol.asyncIterator]()
    for (let i = 0; i < lines; i++) await read.next()
    const checkpoint = JSON.parse(JSON.stringify(res.checkpoint())) as Checkpoint
    await read.return?.()
    return checkpoint
  }

  it("is refused ('validator-changed') when its ETag is not the checkpoint's", async () => {
    const checkpoint = await checkpointOf(BODY, { ...HEAD, 'content-length': String(BODY.length) })
    const fetch = fetchWith(
      () =>
        new Response(null, {
          status: 416,
          headers: { etag: '"v2"', 'content-range': `bytes */${checkpoint.offset}` },
        }),
    )
    const error = await resumeError(sluice(URL_, { fetch, resumeFrom: checkpoint }))
    expect(error.reason).toBe('validator-changed')
    expect(error.message).toMatch(/^The resource changed since the checkpoint \(ETag "v1" became "v2"\)/)
  })

  it('still completes a checkpoint at the proven end of a stream with an end marker', async () => {
    const marked = new Uint8Array([...BODY, ...encode(endMarkerLine(BODY.length))])
    const checkpoint = await checkpointOf(
      marked,
      { ...HEAD, [END_MARKER_HEADER]: 'marker' },
      LINES.length + 1,
    )
    expect(checkpoint).toMatchObject({ offset: BODY.length, ended: true })
    const fetch = fetchWith(
      () =>
        new Response(null, {
          status: 416,
          headers: { ...HEAD, 'content-range': `bytes */${BODY.length}` },
        }),
    )
    const res = await sluice(URL_, { fetch, resumeFrom: checkpoint })
    expect(await Array.fromAsync(res.lines())).toEqual([])
    expect(res.progress).toMatchObject({ state: 'done', loaded: BODY.length })
  })
})

describe('a 206 without Content-Range', () => {
  it('is refused (\'range-mismatch\') with a message that says the header is missing, not that it is "null"', async () => {
    const fetch = fetchWith((request) =>
      request.headers.get('range') === null
        ? new Response(droppedAfter(BODY, DROP), {
            headers: { ...HEAD, 'content-length': String(BODY.length) },
          })
        : new Response(BODY.slice(DROP), { status: 206, headers: HEAD }),
    )
    const res = await sluice(URL_, { fetch, resume: { backoff: FAST } })
    const error = await resumeError(Array.fromAsync(res.lines()))
    expect(error.reason).toBe('range-mismatch')
    expect(error.message).toBe(
      `The server answered Range bytes=${DROP}- with a 206 without a Content-Range header; the stream cannot be spliced.`,
    )
  })
})
