// Runtimes hand over chunks of 64 KiB and more. The line, record, event and document decoders take such a
// chunk DECODE_SLICE_BYTES at a time (a decoded string past 128 KiB is a slow large object for V8): what they
// deliver, where they say an error is, and what a checkpoint or cancel() does are those of any other chunking.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { LineDecoder } from '../src/core/decoders/lines.ts'
import { SseDecoder } from '../src/core/decoders/sse.ts'
import { DECODE_SLICE_BYTES, Utf8Decoder } from '../src/core/decoders/utf8.ts'
import { fromResponse, isParseError, type StreamResponse } from '../src/index.ts'
import { cutAt, encode, referenceLines } from './support/chunking.ts'
import { bodyOf } from './support/streams.ts'

const open = (chunks: Uint8Array[]): Promise<StreamResponse> =>
  fromResponse(new Response(bodyOf(chunks).stream))

/**
 * NDJSON records over about 150 KB, lines ending with LF or CRLF, with a 4-byte character across the first
 * slice edge and a CRLF across the second: padded records put them there.
 */
function ndjsonAcrossEdges(): { text: string; records: unknown[] } {
  const lines: string[] = []
  let bytes = 0
  const add = (line: string): void => {
    lines.push(line)
    bytes += encode(line).length
  }
  const row = (i: number): string =>
    `${JSON.stringify({ i, s: `ligne ${i} — ${'€'.repeat(i % 5)}😀 ${'x'.repeat(i % 97)}` })}${i % 2 ? '\r\n' : '\n'}`
  let i = 0
  while (bytes < DECODE_SLICE_BYTES - 400) add(row(i++))
  // '{"edge":"' is 9 bytes: the emoji's 4 bytes start 2 before the edge.
  add(`{"edge":"${'x'.repeat(DECODE_SLICE_BYTES - 2 - bytes - 9)}😀"}\n`)
  while (bytes < 2 * DECODE_SLICE_BYTES - 400) add(row(i++))
  // '{"pad":"' and '"}' are 10 bytes: the CR is the last byte before the edge, the LF the first after it.
  add(`{"pad":"${'x'.repeat(2 * DECODE_SLICE_BYTES - 1 - bytes - 10)}"}\r\n`)
  while (bytes < 150_000) add(row(i++))
  const text = lines.join('')
  return { text, records: lines.map((line) => JSON.parse(line) as unknown) }
}

const { text: NDJSON_TEXT, records } = ndjsonAcrossEdges()
const NDJSON = encode(NDJSON_TEXT)
const crlfAt = 2 * DECODE_SLICE_BYTES
const SSE = encode(records.map((r, n) => `id: ${n}\ndata: ${JSON.stringify(r)}\n\n`).join(''))
const DOC = encode(JSON.stringify({ records }))

const chunkings = (bytes: Uint8Array): [string, Uint8Array[]][] => [
  ['one chunk', [bytes]],
  ['64 KiB chunks', cutAt(bytes, [65536, 131072])],
  ['chunks of 70 000 bytes', cutAt(bytes, [70_000, 140_000])],
]

afterEach(() => {
  vi.restoreAllMocks()
})

describe('chunks longer than a decode slice', () => {
  it('the bodies are what the cases need: longer than two 64 KiB chunks, edges inside a character and a CRLF', () => {
    expect(NDJSON.length).toBeGreaterThan(2 * 65536)
    expect(records.length).toBeGreaterThan(500)
    expect(NDJSON[crlfAt - 1]).toBe(13)
    expect(NDJSON[crlfAt]).toBe(10)
    expect(Array.from(NDJSON.subarray(DECODE_SLICE_BYTES - 2, DECODE_SLICE_BYTES + 2))).toEqual(
      Array.from(encode('😀')),
    )
  })

  it.each(chunkings(NDJSON))(
    'lines() and ndjson() give the output of the whole text from %s',
    async (_, chunks) => {
      expect(await Array.fromAsync((await open(chunks)).lines())).toEqual(referenceLines(NDJSON_TEXT))
      expect(await Array.fromAsync((await open(chunks)).ndjson())).toEqual(records)
    },
  )

  it.each(chunkings(SSE))('events() gives every event from %s', async (_, chunks) => {
    const events = await Array.fromAsync((await open(chunks)).events({ json: true }))
    expect(events.map((e) => e.data)).toEqual(records)
    expect(events.map((e) => e.id)).toEqual(records.map((_, n) => String(n)))
  })

  it.each(chunkings(DOC))('json() ends with the whole document from %s', async (_, chunks) => {
    const doc = (await open(chunks)).json()
    let snapshots = 0
    for await (const _ of doc) snapshots++
    expect(await doc.final).toEqual({ records })
    // One snapshot per chunk at most, as before slicing: the slices of a chunk do not each make one.
    expect(snapshots).toBeLessThanOrEqual(chunks.length)
  })

  it('feeds the decoders at most DECODE_SLICE_BYTES at a time, every byte once and in order', async () => {
    const lines = vi.spyOn(LineDecoder.prototype, 'push')
    const events = vi.spyOn(SseDecoder.prototype, 'push')
    const decode = vi.spyOn(Utf8Decoder.prototype, 'decode')
    await Array.fromAsync((await open([NDJSON])).ndjson())
    await Array.fromAsync((await open([SSE])).events())
    decode.mockClear()
    await (await open([DOC])).json().final
    for (const [spy, body] of [
      [lines, NDJSON],
      [events, SSE],
      [decode, DOC],
    ] as const) {
      const fed = spy.mock.calls.map(([chunk]) => chunk)
      expect(Math.max(...fed.map((chunk) => chunk.length))).toBe(DECODE_SLICE_BYTES)
      expect(fed.reduce((n, chunk) => n + chunk.length, 0)).toBe(body.length)
      expect(fed.flatMap((chunk) => Array.from(chunk.subarray(0, 4)))).toEqual(
        fed.flatMap((_, k) => Array.from(body.subarray(k * DECODE_SLICE_BYTES, k * DECODE_SLICE_BYTES + 4))),
      )
    }
  })

  it('places invalid UTF-8 (fatal) by its byte and line, after the lines before it', async () => {
    const at = DECODE_SLICE_BYTES + 1000
    const bytes = NDJSON.slice()
    bytes[at] = 0xff
    const whole = new TextDecoder().decode(NDJSON.subarray(0, at))
    const complete = referenceLines(whole).slice(0, -1)
    for (const [label, chunks] of chunkings(bytes)) {
      const seen: string[] = []
      const error = await (async () => {
        for await (const line of (await open(chunks)).lines({ fatal: true })) seen.push(line)
      })().catch((e: unknown) => e)
      expect(seen, label).toEqual(complete)
      expect(isParseError(error) && [error.offset, error.line], label).toEqual([at, complete.length + 1])
    }
  })

  it('after cancel() following the last line of a slice, decodes no further slice and ends quietly', async () => {
    const push = vi.spyOn(LineDecoder.prototype, 'push')
    const bytes = NDJSON.slice()
    bytes[DECODE_SLICE_BYTES + 1000] = 0xff // would fail the next slice, were it decoded
    const inFirstSlice = bytes.subarray(0, DECODE_SLICE_BYTES).filter((b) => b === 10).length
    const res = await open([bytes])
    const iterator = res.lines({ fatal: true })[Symbol.asyncIterator]()
    for (let n = 0; n < inFirstSlice; n++) expect((await iterator.next()).done).toBe(false)
    await res.cancel()
    expect(await iterator.next()).toEqual({ done: true, value: undefined })
    expect(push).toHaveBeenCalledTimes(1)
  })
})

describe('json() error offsets across a piece edge', () => {
  // An invalid number is reported at its first byte, which may lie in the piece (slice or chunk) before the one
  // where the parser finds it wrong: the offset is still in bytes, past multi-byte text.
  const prefix = (pad: number): string => `{"pad":"${'x'.repeat(pad)}","note":"${'é'.repeat(5000)}","n":`
  // The number's first two bytes before the slice edge, the rest after it.
  const pad = DECODE_SLICE_BYTES - 2 - encode(prefix(0)).length
  it.each([
    ['one chunk, the number across a slice edge', pad, (b: Uint8Array) => [b]],
    [
      'two chunks, the number across their edge',
      0,
      (b: Uint8Array) => cutAt(b, [encode(prefix(0)).length + 2]),
    ],
  ])('%s', async (_, padding, chunksOf) => {
    const at = encode(prefix(padding)).length
    const error = await (await open(chunksOf(encode(`${prefix(padding)}0123}`))))
      .json()
      .final.catch((e: unknown) => e)
    expect(isParseError(error) && [error.message, error.offset]).toEqual([
      expect.stringContaining('Invalid number'),
      at,
    ])
  })
})

describe('text() over chunks longer than a decode slice', () => {
  const whole = new TextDecoder().decode(NDJSON)

  it.each([
    ...chunkings(NDJSON),
    ['chunks of 60 000 bytes', cutAt(NDJSON, [60_000, 120_000])] as [string, Uint8Array[]],
  ])(
    'gives the whole text, one string per slice of a chunk over 64 000 bytes, from %s',
    async (_, chunks) => {
      const pieces = await Array.fromAsync((await open(chunks)).text())
      expect(pieces.join('')).toBe(whole)
      // A chunk that could decode to a large object (over 64 000 bytes) is sliced; a shorter one is not.
      const strings = (n: number): number => (n > 64_000 ? Math.ceil(n / DECODE_SLICE_BYTES) : 1)
      const slices = chunks.reduce((n, chunk) => n + strings(chunk.length), 0)
      expect(pieces.length).toBe(slices)
    },
  )

  it('decodes at most DECODE_SLICE_BYTES at a time', async () => {
    const decode = vi.spyOn(Utf8Decoder.prototype, 'decode')
    await Array.fromAsync((await open([NDJSON])).text())
    const fed = decode.mock.calls.map(([chunk]) => chunk.length)
    expect(Math.max(...fed)).toBe(DECODE_SLICE_BYTES)
    expect(fed.reduce((a, b) => a + b, 0)).toBe(NDJSON.length)
  })

  it('hands every slice out once, in order, to calls made before the previous one settled', async () => {
    for (const [label, chunks] of chunkings(NDJSON)) {
      const iterator = (await open(chunks)).text()[Symbol.asyncIterator]()
      const steps = await Promise.all(Array.from({ length: 12 }, () => iterator.next()))
      const done = steps.findIndex((step) => step.done === true)
      expect(done, label).toBeGreaterThan(0)
      expect(
        steps.slice(done).every((step) => step.done),
        label,
      ).toBe(true)
      expect(
        steps
          .slice(0, done)
          .map((step) => step.value)
          .join(''),
        label,
      ).toBe(whole)
    }
  })

  it('places invalid UTF-8 (fatal) by its byte, after the text before it', async () => {
    const at = DECODE_SLICE_BYTES + 1000
    const bytes = NDJSON.slice()
    bytes[at] = 0xff
    for (const [label, chunks] of chunkings(bytes)) {
      let seen = ''
      const error = await (async () => {
        for await (const text of (await open(chunks)).text({ fatal: true })) seen += text
      })().catch((e: unknown) => e)
      expect(seen, label).toBe(new TextDecoder().decode(bytes.subarray(0, at)))
      expect(isParseError(error) && error.offset, label).toBe(at)
    }
  })

  it('after cancel() following a slice, decodes no further slice and ends quietly', async () => {
    const decode = vi.spyOn(Utf8Decoder.prototype, 'decode')
    const res = await open([NDJSON])
    const iterator = res.text()[Symbol.asyncIterator]()
    expect((await iterator.next()).done).toBe(false)
    await res.cancel()
    expect(await iterator.next()).toEqual({ done: true, value: undefined })
    expect(decode).toHaveBeenCalledTimes(1)
  })
})
