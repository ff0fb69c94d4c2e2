/**
 * `maxBytes` loses nothing that arrived within it: the chunk that crosses the limit is cut there, the bytes
 * before the cut are delivered (and the whole lines, records and events in them), and the LimitError follows,
 * the same under any chunking. Progress never counts past the limit.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fromResponse, isLimitError, type Progress, type StreamResponse } from '../src/index.ts'
import { chunkings, concatBytes, cutAt, encode, RUNS } from './support/chunking.ts'
import { bodyOf, drain } from './support/streams.ts'

const MAX = 50
const BODY = encode(`a\nb\nc\n${'x'.repeat(100)}`)
const RECORDS = encode(`{"n":1}\n{"n":2}\n{"n":3}\n{"n":4}\n{"n":5}\n{"n":6}\n{"n":7}\n`)
const EVENTS = encode(`data: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\ndata: 5\n\ndata: 6\n\n`)

/** What a consumer of `chunks` delivers under maxBytes, the error, and the last progress reported. */
async function readUnderLimit<T>(
  chunks: Uint8Array[],
  read: (res: StreamResponse) => AsyncIterable<T>,
): Promise<{ items: T[]; error: unknown; last: Progress | undefined }> {
  let last: Progress | undefined
  const res = await fromResponse(new Response(bodyOf(chunks).stream), {
    maxBytes: MAX,
    progressInterval: 0,
    onProgress: (p) => {
      last = p
    },
  })
  const { items, error } = await drain(read(res))
  return { items, error, last }
}

const kinds: Array<[string, Uint8Array, (res: StreamResponse) => AsyncIterable<unknown>, unknown[]]> = [
  ['lines()', BODY, (res) => res.lines(), ['a', 'b', 'c']],
  ['ndjson()', RECORDS, (res) => res.ndjson(), [1, 2, 3, 4, 5, 6].map((n) => ({ n }))],
  [
    'events()',
    EVENTS,
    async function* (res) {
      for await (const event of res.events()) yield event.data
    },
    ['1', '2', '3', '4', '5'],
  ],
]

describe('a body over maxBytes', () => {
  for (const [name, body, read, want] of kinds) {
    it(`${name}: the units within the limit, then the LimitError, whatever the chunking`, async () => {
      for (const [label, chunks] of chunkings(body)) {
        const { items, error, last } = await readUnderLimit(chunks, read)
        expect(items, label).toEqual(want)
        expect(isLimitError(error) && error.limit, label).toBe('maxBytes')
        expect(last?.loaded, label).toBe(MAX)
        expect(last?.state, label).toBe('error')
      }
    })
  }

  it('bytes(): exactly maxBytes bytes, then the LimitError, whatever the chunking', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat({ max: BODY.length }), { maxLength: 8 }), async (cuts) => {
        const { items, error, last } = await readUnderLimit(cutAt(BODY, cuts), (res) => res.bytes())
        expect(concatBytes(items)).toEqual(BODY.slice(0, MAX))
        expect(isLimitError(error) && error.message).toBe(
          'The body of the response exceeds maxBytes (50 bytes); raise the `maxBytes` option if this is expected.',
        )
        expect(last?.loaded).toBe(MAX)
      }),
      RUNS,
    )
  })

  it('bytes(): a chunk that starts exactly at maxBytes yields no empty chunk before the LimitError', async () => {
    const { items, error } = await readUnderLimit([BODY.slice(0, MAX), BODY.slice(MAX, MAX + 10)], (res) =>
      res.bytes(),
    )
    expect(items.map((chunk) => chunk.length)).toEqual([MAX])
    expect(isLimitError(error) && error.offset).toBe(MAX)
  })

  it('text(): the text within the limit, then the LimitError', async () => {
    const { items, error } = await readUnderLimit([BODY], (res) => res.text())
    expect(items.join('')).toBe(new TextDecoder().decode(BODY.slice(0, MAX)))
    expect(isLimitError(error)).toBe(true)
  })

  it('the LimitError says where the body was cut, the first byte not delivered, whatever the chunking', async () => {
    for (const [label, chunks] of chunkings(BODY)) {
      for (const read of [(res: StreamResponse) => res.bytes(), (res: StreamResponse) => res.lines()]) {
        const { error } = await readUnderLimit<unknown>(chunks, read)
        expect(isLimitError(error) && { offset: error.offset, line: error.line }, label).toEqual({
          offset: MAX,
          line: undefined,
        })
      }
    }
  })

  it('a part the caller asked for with Range is cut where its bytes lie in the whole body', async () => {
    const part = new Response(new Uint8Array(BODY), {
      status: 206,
      headers: { 'content-range': `bytes 1000-${999 + BODY.length}/5000` },
    })
    const res = await fromResponse(part, { maxBytes: MAX })
    const { error } = await drain(res.bytes())
    expect(isLimitError(error) && error.offset).toBe(1000 + MAX)
  })

  it('a body of exactly maxBytes is no error', async () => {
    const { items, error } = await readUnderLimit([BODY.slice(0, MAX)], (res) => res.bytes())
    expect(error).toBeUndefined()
    expect(concatBytes(items)).toEqual(BODY.slice(0, MAX))
  })

  it('on the full read path (an idle timeout is armed), a body of exactly maxBytes is no error', async () => {
    const res = await fromResponse(
      new Response(bodyOf([BODY.slice(0, MAX - 10), BODY.slice(MAX - 10, MAX)]).stream),
      {
        maxBytes: MAX,
        idleTimeout: 5_000,
      },
    )
    expect(await res.collect.bytes()).toEqual(BODY.slice(0, MAX))
    expect(res.progress).toMatchObject({ loaded: MAX, state: 'done' })
  })

  it('on the full read path (an idle timeout is armed), one byte over maxBytes is cut there too', async () => {
    const res = await fromResponse(new Response(bodyOf([BODY.slice(0, MAX + 1)]).stream), {
      maxBytes: MAX,
      idleTimeout: 10_000,
    })
    const { items, error } = await drain(res.bytes())
    expect(isLimitError(error)).toBe(true)
    expect(concatBytes(items)).toEqual(BODY.slice(0, MAX))
  })

  it('the connection is released when the limit is crossed, not read further', async () => {
    const body = bodyOf(Array.from({ length: 100 }, () => 'b'.repeat(30)))
    const res = await fromResponse(new Response(body.stream), { maxBytes: MAX })
    const { items, error } = await drain(res.lines())
    expect(items).toEqual([])
    expect(isLimitError(error)).toBe(true)
    expect(body.pulls()).toBeLessThanOrEqual(3)
    expect(body.cancels()).toBe(1)
  })

  it('a checkpoint after the LimitError lands after the last unit delivered', async () => {
    const res = await fromResponse(
      new Response(new Uint8Array(BODY), { headers: { 'accept-ranges': 'bytes' } }),
      {
        url: 'https://e.example/f',
        maxBytes: MAX,
      },
    )
    const { items, error } = await drain(res.lines())
    expect(items).toEqual(['a', 'b', 'c'])
    expect(isLimitError(error)).toBe(true)
    expect(res.checkpoint()).toMatchObject({ offset: 6, loaded: 6 })
  })
})
