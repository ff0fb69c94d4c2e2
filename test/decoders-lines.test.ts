import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { LineDecoder } from '../src/core/decoders/lines.ts'
import { isLimitError } from '../src/index.ts'
import { TEXT_FIXTURES } from './fixtures/text.ts'
import {
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
    expect(failure?.message).toContain('at line 2')
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
})
