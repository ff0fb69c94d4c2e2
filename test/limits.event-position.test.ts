/**
 * An SSE event over maxEventBytes is reported where it starts — its byte offset, and its line where lines are
 * counted (events({ json }) and events(schema)), in its message and as the LimitError's `offset` and `line` —
 * the same under any chunking, after the events before it.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { SseDecoder } from '../src/core/decoders/sse.ts'
import { fromResponse, isLimitError, isParseError } from '../src/index.ts'
import { bytesOf, chunkings, cutAt, encode, RUNS } from './support/chunking.ts'
import { bodyOf, drain } from './support/streams.ts'

/** Feeds `chunks` to a decoder until it fails: the data of the events before, and the error. */
function decode(chunks: Uint8Array[], countLines: boolean): { data: string[]; error: unknown } {
  const decoder = new SseDecoder({ maxEventBytes: 50, countLines })
  const data: string[] = []
  try {
    for (const chunk of chunks) {
      for (const event of decoder.push(chunk)) data.push(event.data)
      if (decoder.failure !== undefined) throw decoder.failure
    }
    for (const event of decoder.end()) data.push(event.data)
    if (decoder.failure !== undefined) throw decoder.failure
  } catch (error) {
    return { data, error }
  }
  return { data, error: undefined }
}

const BIG = `data: ${'x'.repeat(200)}\n\n`

/** Where a LimitError says it happened, as data; `false` for anything else. */
const placeOf = (error: unknown) => isLimitError(error) && { offset: error.offset, line: error.line }

describe('an event over maxEventBytes', () => {
  const cases: Array<[string, string, string[], number, number]> = [
    // body, the events before, where the big one starts: byte, line
    ['first', `${BIG}data: 1\n\n`, [], 0, 1],
    ['after one event', `data: a\n\n${BIG}data: 1\n\n`, ['a'], 9, 3],
    ['after blank lines and CRLFs', `data: a\r\n\r\n\r\n\n${BIG}`, ['a'], 14, 5],
    // An id-only block is a block of its own; a comment or an `event:` line before the data is the event's.
    ['after an id-only block, with a comment', `data: a\n\nid: 7\n\n: hi\n${BIG}`, ['a'], 16, 5],
    ['with a multi-byte character before it', `data: é😀\n\nevent: big\n${BIG}`, ['é😀'], 14, 3],
    ['several data lines', `data: a\n\ndata: b\ndata: ${'y'.repeat(60)}\n\n`, ['a'], 9, 3],
  ]
  for (const [name, body, before, byte, line] of cases) {
    it(`${name}: reported at byte ${byte} (line ${line}), whatever the chunking`, () => {
      for (const [label, chunks] of chunkings(encode(body))) {
        for (const countLines of [false, true]) {
          const { data, error } = decode(chunks, countLines)
          expect(data, label).toEqual(before)
          expect(isLimitError(error) && error.message, label).toBe(
            `The event starting at byte ${byte}${countLines ? ` (line ${line})` : ''} exceeds maxEventBytes (50 bytes); raise the \`maxEventBytes\` option if this is expected.`,
          )
          expect(placeOf(error), label).toEqual({ offset: byte, line: countLines ? line : undefined })
        }
      }
    })
  }

  it('any chunking of any events before it gives the same position', () => {
    const small = fc.constantFrom(
      'data: a\n\n',
      'data: é\r\n\r\n',
      'id: 1\ndata: b\n\n',
      ': c\n',
      '\n',
      'data: 😀\rdata: z\r\r',
    )
    fc.assert(
      fc.property(fc.array(small, { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 8 }), (parts, cuts) => {
        const prefix = parts.join('')
        const bytes = encode(prefix + BIG)
        const want = decode([bytes], true)
        // The big event's block starts after the last blank line before it.
        let start = 0
        let line = 1
        let lineStart = 0
        let n = 0
        for (const m of prefix.matchAll(/\r\n|\r|\n/g)) {
          n++
          if (m.index === lineStart) {
            start = m.index + m[0].length
            line = n + 1
          }
          lineStart = m.index + m[0].length
        }
        expect((want.error as Error).message).toMatch(
          `The event starting at byte ${encode(prefix.slice(0, start)).length} (line ${line}) exceeds`,
        )
        expect(placeOf(want.error)).toEqual({ offset: encode(prefix.slice(0, start)).length, line })
        const got = decode(
          cutAt(
            bytes,
            cuts.map((c) => c % (bytes.length + 1)),
          ),
          true,
        )
        expect(got.data).toEqual(want.data)
        expect((got.error as Error).message).toBe((want.error as Error).message)
        expect(placeOf(got.error)).toEqual(placeOf(want.error))
      }),
      RUNS,
    )
  })

  it('through events(): the events before it, then where it starts (and its line with { json: true })', async () => {
    const body = `data: 1\n\n${BIG}data: 2\n\n`
    for (const json of [false, true]) {
      const res = await fromResponse(new Response(body), { maxEventBytes: 50 })
      const { items, error } = await drain(res.events({ json }))
      expect(items.map((e) => e.data)).toEqual([json ? 1 : '1'])
      expect(isLimitError(error) && error.message).toMatch(
        json ? /^The event starting at byte 9 \(line 3\) exceeds/ : /^The event starting at byte 9 exceeds/,
      )
      expect(placeOf(error)).toEqual({ offset: 9, line: json ? 3 : undefined })
    }
  })

  it('through events(): data of invalid bytes counts the bytes of the body, not the U+FFFD that replaced them', async () => {
    const body = (n: number) =>
      bytesOf('data: 1\n\ndata: ', new Array<number>(n).fill(0xff), '\n\ndata: 2\n\n')
    for (const [n, want] of [
      [50, undefined],
      [51, { offset: 9, line: undefined }],
    ] as const) {
      for (const [label, chunks] of chunkings(body(n))) {
        const res = await fromResponse(new Response(bodyOf(chunks).stream), { maxEventBytes: 50 })
        const { items, error } = await drain(res.events())
        expect(
          items.map((e) => e.data),
          label,
        ).toEqual(want === undefined ? ['1', '\uFFFD'.repeat(n), '2'] : ['1'])
        expect(placeOf(error), label).toEqual(want ?? false)
      }
    }
  })

  it('the position counts from where a continued stream started', async () => {
    const decoder = new SseDecoder({
      maxEventBytes: 50,
      countLines: true,
      origin: () => ({ offset: 1000, lines: 40 }),
    })
    decoder.push(encode(`data: a\n\n${BIG}`))
    expect(decoder.failure?.message).toMatch(/^The event starting at byte 1009 \(line 43\)/)
    expect(placeOf(decoder.failure)).toEqual({ offset: 1009, line: 43 })
  })
})

describe('the offset of an event whose data is not JSON', () => {
  it('is where its block starts, whatever the chunking', async () => {
    for (const [what, body, place] of [
      // The bad event's block starts at byte 16, after `id: 7` and its blank line; the blank line that ends it
      // is line 7.
      [
        'after an id-only block before it',
        encode('data: 1\n\nid: 7\n\n: hi\ndata: {oops\n\ndata: 2\n\n'),
        { offset: 16, line: 7 },
      ],
      [
        'when its own data holds an invalid byte',
        bytesOf('data: 1\n\ndata: {', [0xff], '\n\n'),
        { offset: 9, line: 4 },
      ],
    ] as const) {
      for (const [label, chunks] of chunkings(body)) {
        const res = await fromResponse(new Response(bodyOf(chunks).stream))
        const { items, error } = await drain(res.events({ json: true }))
        expect(
          items.map((e) => e.data),
          `${what}: ${label}`,
        ).toEqual([1])
        expect(
          isParseError(error) && { offset: error.offset, line: error.line },
          `${what}: ${label}`,
        ).toEqual(place)
      }
    }
  })

  it('counts U+0800, the first 3-byte character, as 3 bytes before it', async () => {
    const head = 'data: "\u0800"\n\n'
    const res = await fromResponse(new Response(bodyOf([`${head}data: {oops\n\n`]).stream))
    const { items, error } = await drain(res.events({ json: true }))
    expect(items.map((e) => e.data)).toEqual(['\u0800'])
    expect(isParseError(error) && error.offset).toBe(encode(head).length)
  })
})
