import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { LineDecoder } from '../src/core/decoders/lines.ts'
import { isLimitError } from '../src/index.ts'
import { TEXT_FIXTURES } from './fixtures/text.ts'
import {
  bytesOf,
  chunkings,
  encode,
  RUNS,
  referenceLineOffsets,
  referenceLines,
  trickyBytes,
  trickyText,
  withByteCuts,
  withCuts,
} from './support/chunking.ts'
import { decodeLines } from './support/line-decoding.ts'

const BIG = 1 << 20

interface Decoded {
  lines: string[]
  numbers: number[]
  offsets: number[]
  after: number[]
}

/** Runs a LineDecoder over `chunks`, recording each line with its number, start offset and end boundary. */
function decode(chunks: Uint8Array[]): Decoded {
  const decoder = new LineDecoder({ maxLineBytes: BIG })
  const out: Decoded = { lines: [], numbers: [], offsets: [], after: [] }
  const record = (batch: string[]): void => {
    for (let j = 0; j < batch.length; j++) {
      out.lines.push(batch[j]!)
      out.numbers.push(decoder.lineNumber(j))
      out.offsets.push(decoder.lineOffset(j))
      out.after.push(decoder.offsetAfter(j))
    }
  }
  for (const chunk of chunks) record(decoder.push(chunk))
  record(decoder.end())
  return out
}

/** What the decoder must report for `text`, computed on the whole body. */
function reference(text: string): Decoded {
  const lines = referenceLines(text)
  const offsets = referenceLineOffsets(text)
  const length = encode(text).length
  return {
    lines,
    numbers: lines.map((_, i) => i + 1),
    offsets,
    after: offsets.map((_, i) => offsets[i + 1] ?? length),
  }
}

/** The same as `reference`, for bytes that need not be UTF-8: a line starts after each LF byte. */
function referenceOfBytes(bytes: Uint8Array): Decoded {
  const lines = referenceLines(new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes))
  const offsets = [bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0]
  bytes.forEach((b, i) => {
    if (b === 10) offsets.push(i + 1)
  })
  offsets.length = lines.length
  return {
    lines,
    numbers: lines.map((_, i) => i + 1),
    offsets,
    after: offsets.map((_, i) => offsets[i + 1] ?? bytes.length),
  }
}

/**
 * Where each line of `bytes` starts and how many bytes of the body it takes, terminators excluded (LF, and the CR
 * before it or before the end), for bytes that need not be UTF-8: what maxLineBytes measures.
 */
function lineSizes(bytes: Uint8Array): Array<{ offset: number; size: number }> {
  const out: Array<{ offset: number; size: number }> = []
  let start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0
  for (let i = start; i <= bytes.length; i++) {
    if (i < bytes.length ? bytes[i] !== 10 : i === start) continue
    out.push({ offset: start, size: i - start - (i > start && bytes[i - 1] === 13 ? 1 : 0) })
    start = i + 1
  }
  return out
}

/** Where a LimitError says it happened; `false` for anything else. */
const placeOf = (error: unknown) =>
  isLimitError(error) && { limit: error.limit, line: error.line, offset: error.offset }

/** Where `chunks` fail a fatal decoder over `maxLineBytes: 4`: the error a push threw, or the one it holds. */
function fatalPlaceOf(chunks: readonly Uint8Array[]) {
  const decoder = new LineDecoder({ maxLineBytes: 4, fatal: true })
  try {
    for (const chunk of chunks) decoder.push(chunk)
  } catch (error) {
    return placeOf(error)
  }
  return placeOf(decoder.failure)
}

describe('LineDecoder', () => {
  for (const [name, text] of Object.entries(TEXT_FIXTURES)) {
    it(`gives the same lines for every chunking of a body with ${name}`, () => {
      const expected = referenceLines(text)
      for (const [label, chunks] of chunkings(encode(text))) {
        expect(decode(chunks).lines, label).toEqual(expected)
      }
    })

    it(`reports exact line numbers and byte offsets for every chunking of a body with ${name}`, () => {
      const expected = reference(text)
      for (const [label, chunks] of chunkings(encode(text))) {
        const { numbers, offsets, after } = decode(chunks)
        expect({ numbers, offsets, after }, label).toEqual({
          numbers: expected.numbers,
          offsets: expected.offsets,
          after: expected.after,
        })
      }
    })
  }

  it('gives the lines of the whole string for random chunkings of random text', () => {
    fc.assert(
      fc.property(withCuts(trickyText), ({ text, chunks }) => {
        expect(decode(chunks).lines).toEqual(referenceLines(text))
      }),
      RUNS,
    )
  })

  it('gives the offsets computed on the whole body for random chunkings, a BOM included', () => {
    fc.assert(
      fc.property(withCuts(trickyText.map((t) => `\uFEFF${t}`)), ({ text, chunks }) => {
        expect(decode(chunks)).toEqual(reference(text))
      }),
      RUNS,
    )
  })

  it('gives byte offsets of the body, not of the text, when invalid bytes were replaced, for any chunking', () => {
    // A U+FFFD is 3 bytes of text for 1 to 3 bytes of body: offsets measured on the text would put a
    // checkpoint before lines already delivered.
    fc.assert(
      fc.property(withByteCuts(trickyBytes()), ({ bytes, chunks }) => {
        expect(decode(chunks)).toEqual(referenceOfBytes(bytes))
      }),
      RUNS,
    )
  })

  it('strips a BOM split across chunks', () => {
    const bytes = encode('\uFEFFx\ny')
    expect(decode([bytes.slice(0, 1), bytes.slice(1, 2), bytes.slice(2)]).lines).toEqual(['x', 'y'])
  })

  it('throws a LimitError soon after an endless line passes maxLineBytes, fed in small chunks', () => {
    const max = 1000
    const decoder = new LineDecoder({ maxLineBytes: max })
    const chunk = encode('x'.repeat(100))
    let fed = 0
    let error: unknown
    try {
      for (; fed < 100 * max; fed += chunk.length) decoder.push(chunk)
    } catch (e) {
      error = e
    }
    expect(isLimitError(error) && error.limit).toBe('maxLineBytes')
    // It stops within one chunk of the limit: nothing grows unbounded.
    expect(fed).toBeLessThanOrEqual(max + chunk.length)
  })

  it('returns the lines before an over-long line of the same chunk, then fails with its line number', () => {
    const decoder = new LineDecoder({ maxLineBytes: 10 })
    expect(decoder.push(encode('short\r\nthis line is too long\nmore\n'))).toEqual(['short'])
    const failure = decoder.failure
    expect(failure).toMatchObject({ name: 'LimitError', limit: 'maxLineBytes' })
    expect(failure?.message).toContain('Line 2 exceeds')
    expect(() => decoder.push(encode('x\n'))).toThrow(failure)
    expect(() => decoder.end()).toThrow(failure)
  })

  it('does not count a line terminator, LF or CRLF, toward maxLineBytes, however the CRLF is split', () => {
    for (const parts of [['0123456789\r\n'], ['0123456789\r', '\n'], ['0123456789\n']]) {
      const decoder = new LineDecoder({ maxLineBytes: 10 })
      const lines = parts.flatMap((part) => decoder.push(encode(part)))
      expect([lines, decoder.failure]).toEqual([['0123456789'], undefined])
    }
    const over = new LineDecoder({ maxLineBytes: 10 })
    expect(over.push(encode('0123456789A\r\n'))).toEqual([])
    expect(over.failure).toMatchObject({ name: 'LimitError' })
  })

  it('goes on counting lines across a reset: a line number and a UTF-8 error after it count the lines before', () => {
    const decoder = new LineDecoder({ maxLineBytes: BIG, fatal: true })
    expect(decoder.push(encode('a\nb\n'))).toEqual(['a', 'b'])
    decoder.reset()
    expect(decoder.push(encode('c\n'))).toEqual(['c'])
    expect(decoder.lineNumber(0)).toBe(3)
    expect(decoder.push(Uint8Array.of(0x64, 0xff))).toEqual([])
    expect(decoder.failure).toMatchObject({ name: 'ParseError', type: 'utf8', line: 4, offset: 3 })
  })

  it('with fatal, a line already over the limit before a bad byte of the same chunk is a LimitError', () => {
    for (const chunks of [[bytesOf('abcdefgh', [0xff], '\n')], [bytesOf('abcd'), bytesOf('efgh', [0xff])]]) {
      expect(fatalPlaceOf(chunks)).toEqual({ limit: 'maxLineBytes', line: 1, offset: 0 })
    }
  })

  it('with fatal, a line over the limit before a bad byte is a LimitError after a BOM too, however the BOM is cut', () => {
    const body = bytesOf([0xef, 0xbb, 0xbf], 'abcde', [0xff])
    for (const cut of [0, 2, 3, 5]) {
      const chunks = cut === 0 ? [body] : [body.slice(0, cut), body.slice(cut)]
      expect({ cut, place: fatalPlaceOf(chunks) }).toEqual({
        cut,
        place: { limit: 'maxLineBytes', line: 1, offset: 3 },
      })
    }
  })

  it('finds a partial line over the limit in the chunk that ends the lines before it', () => {
    const decoder = new LineDecoder({ maxLineBytes: 4 })
    expect(decoder.push(encode('a\nxxxxxxxxxx'))).toEqual(['a'])
    expect(placeOf(decoder.failure)).toEqual({ limit: 'maxLineBytes', line: 2, offset: 2 })
  })

  it('measures a short line of 3-byte characters in bytes: 2 characters are 6 bytes', () => {
    const decoder = new LineDecoder({ maxLineBytes: 5 })
    expect(decoder.push(encode('ok\n€€\n'))).toEqual(['ok'])
    expect(placeOf(decoder.failure)).toEqual({ limit: 'maxLineBytes', line: 2, offset: 3 })
  })

  it('after a reset, places lines from the start of the new input, a BOM stripped before it notwithstanding', () => {
    const decoder = new LineDecoder({ maxLineBytes: BIG })
    expect(decoder.push(encode('\uFEFFa\n'))).toEqual(['a'])
    expect(decoder.lineOffset(0)).toBe(3)
    decoder.reset()
    expect(decoder.push(encode('b\nc\n'))).toEqual(['b', 'c'])
    expect([decoder.lineOffset(0), decoder.offsetAfter(0), decoder.offsetAfter(1)]).toEqual([0, 2, 4])
  })

  it('accepts a line of exactly maxLineBytes', () => {
    const decoder = new LineDecoder({ maxLineBytes: 10 })
    expect(decoder.push(encode('0123456789\n'))).toEqual(['0123456789'])
  })

  it('throws a LimitError for a line whose multi-byte characters exceed maxLineBytes in bytes', () => {
    // 4 characters but 16 bytes: the limit is in bytes, as its name says.
    const decoder = new LineDecoder({ maxLineBytes: 10 })
    expect(() => [...decoder.push(encode('😀😀😀😀\n')), ...decoder.end()]).toThrow(
      expect.objectContaining({ name: 'LimitError', limit: 'maxLineBytes' }),
    )
  })
  describe('measures maxLineBytes in bytes of the body, where invalid UTF-8 became U+FFFD (3 bytes each)', () => {
    const MAX = 30
    const ff = (n: number) => new Array<number>(n).fill(0xff)

    it('a line of maxLineBytes invalid bytes passes and one more fails there, whatever the chunking, LF or CRLF', () => {
      for (const eol of ['\n', '\r\n']) {
        for (const [label, chunks] of chunkings(bytesOf('ok\n', ff(MAX), eol, 'z\n'))) {
          expect(decodeLines(chunks, MAX), label).toEqual({
            lines: ['ok', '\uFFFD'.repeat(MAX), 'z'],
            error: undefined,
          })
        }
        for (const [label, chunks] of chunkings(bytesOf('ok\n', ff(MAX + 1), eol, 'z\n'))) {
          const { lines, error } = decodeLines(chunks, MAX)
          expect(lines, label).toEqual(['ok'])
          expect(placeOf(error), label).toEqual({ limit: 'maxLineBytes', line: 2, offset: 3 })
        }
      }
    })

    it('the last line, unterminated (a final CR excluded), is measured in the body too', () => {
      for (const [tail, fails] of [
        [ff(MAX), false],
        [[...ff(MAX), 13], false],
        [ff(MAX + 1), true],
      ] as const) {
        const body = bytesOf('ok\n', tail)
        for (const [label, chunks] of chunkings(body)) {
          const { lines, error } = decodeLines(chunks, MAX)
          if (fails) {
            expect(lines, label).toEqual(['ok'])
            expect(placeOf(error), label).toEqual({ limit: 'maxLineBytes', line: 2, offset: 3 })
          } else
            expect({ lines, error }, label).toEqual({ lines: ['ok', '\uFFFD'.repeat(MAX)], error: undefined })
        }
      }
    })

    it('a line in progress fails on the byte past the limit, not at a third of it', () => {
      const decoder = new LineDecoder({ maxLineBytes: MAX })
      // The line starts in a chunk that ends others, and goes on one byte per chunk.
      expect(decoder.push(bytesOf('ok\n', ff(MAX - 5)))).toEqual(['ok'])
      let fed = MAX - 5
      let error: unknown
      try {
        for (; fed < 10 * MAX; fed++) decoder.push(Uint8Array.of(0xff))
      } catch (e) {
        error = e
      }
      expect(fed).toBe(MAX)
      expect(placeOf(error)).toEqual({ limit: 'maxLineBytes', line: 2, offset: 3 })
    })

    it('sequences of every kind, cut short or not, count the bytes they had', () => {
      // 20 bytes: two sequences cut short (1 U+FFFD each), an `A`, an overlong form, an encoded surrogate, a code
      // point past U+10FFFF, a stray continuation byte and 0xFF: 16 U+FFFD and an `A`, 49 bytes of text.
      const line = [0xe2, 0x82, 0xf0, 0x9f, 0x98, 0x41, 0xc0, 0xaf, 0xe0, 0x80, 0xaf, 0xed, 0xa0, 0x80]
      line.push(0xf4, 0x90, 0x80, 0x80, 0x80, 0xff)
      expect(new TextDecoder().decode(Uint8Array.from(line))).toBe(
        `${'\uFFFD'.repeat(2)}A${'\uFFFD'.repeat(14)}`,
      )
      const body = bytesOf('a\n', line, '\r\nb\n')
      for (const [label, chunks] of chunkings(body)) {
        expect(decodeLines(chunks, line.length).error, label).toBeUndefined()
        expect(placeOf(decodeLines(chunks, line.length - 1).error), label).toEqual({
          limit: 'maxLineBytes',
          line: 2,
          offset: 2,
        })
      }
    })

    it('fails iff a line takes more bytes of the body than maxLineBytes, at that line, for any bytes and chunking', () => {
      fc.assert(
        fc.property(
          withByteCuts(trickyBytes({ maxLength: 40 })),
          fc.integer({ min: 1, max: 24 }),
          (body, max) => {
            const { bytes, chunks } = body
            const sizes = lineSizes(bytes)
            const over = sizes.findIndex((line) => line.size > max)
            const all = referenceOfBytes(bytes).lines
            const { lines, error } = decodeLines(chunks, max)
            if (over === -1) expect({ lines, error }).toEqual({ lines: all, error: undefined })
            else {
              expect(lines).toEqual(all.slice(0, over))
              expect(placeOf(error)).toEqual({
                limit: 'maxLineBytes',
                line: over + 1,
                offset: sizes[over]!.offset,
              })
            }
          },
        ),
        { numRuns: 400 },
      )
    })
  })
})
