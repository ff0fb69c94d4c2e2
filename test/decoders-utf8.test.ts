import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Rechunker } from '../src/core/decoders/rechunk.ts'
import { Utf8Decoder, utf8Length } from '../src/core/decoders/utf8.ts'
import { isParseError } from '../src/index.ts'
import { TEXT_FIXTURES } from './fixtures/text.ts'
import {
  chunkings,
  concatBytes,
  cutAt,
  encode,
  RUNS,
  trickyBytes,
  trickyText,
  withByteCuts,
  withCuts,
} from './support/chunking.ts'

function decodeAll(chunks: Uint8Array[], fatal = false): string {
  const decoder = new Utf8Decoder(fatal)
  let text = ''
  for (const chunk of chunks) text += decoder.decode(chunk)
  return text + decoder.end()
}

function caught(run: () => unknown): unknown {
  try {
    run()
  } catch (error) {
    return error
  }
  return undefined
}

describe('Utf8Decoder', () => {
  for (const [name, text] of Object.entries(TEXT_FIXTURES)) {
    it(`decodes every chunking of a body with ${name} to the text of the whole body`, () => {
      const bytes = encode(text)
      const expected = new TextDecoder().decode(bytes)
      for (const [label, chunks] of chunkings(bytes)) expect(decodeAll(chunks), label).toBe(expected)
    })
  }

  it('decodes random chunkings of random text to the text of the whole body', () => {
    fc.assert(
      fc.property(withCuts(trickyText), ({ text, chunks }) => {
        expect(decodeAll(chunks, true)).toBe(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text)
      }),
      RUNS,
    )
  })

  it('replaces invalid bytes with U+FFFD exactly as a whole-body decode does, under any chunking', () => {
    const bytes = Uint8Array.of(0x61, 0xff, 0xe2, 0x82, 0x62, 0xf0, 0x9f, 0x98, 0x80, 0xc3)
    const expected = new TextDecoder().decode(bytes)
    for (const [label, chunks] of chunkings(bytes)) expect(decodeAll(chunks), label).toBe(expected)
  })

  it('knows how many bytes of input the decoded text stands for, under any chunking', () => {
    fc.assert(
      fc.property(withCuts(trickyText), ({ chunks }) => {
        const decoder = new Utf8Decoder()
        let fed = 0
        let text = ''
        for (const chunk of chunks) {
          text += decoder.decode(chunk)
          fed += chunk.length
          // Bytes held back as an incomplete sequence are not yet text: offsetBefore('') stops before them.
          const consumed = decoder.offsetBefore('')
          expect(consumed).toBeLessThanOrEqual(fed)
          expect(fed - consumed).toBeLessThan(4)
          expect(new TextDecoder().decode(concatBytes(chunks).subarray(0, consumed))).toBe(text)
        }
      }),
      RUNS,
    )
  })

  it('knows the bytes its text stands for when invalid bytes were replaced, under any chunking', () => {
    // A replaced byte is not held back: an offset before it would make a resume from there replace it twice.
    fc.assert(
      fc.property(withByteCuts(trickyBytes()), ({ bytes, chunks }) => {
        const decoder = new Utf8Decoder()
        let text = ''
        for (const chunk of chunks) {
          text += decoder.decode(chunk)
          const consumed = decoder.offsetBefore('')
          expect(decoder.fed - consumed).toBeLessThan(4)
          expect(new TextDecoder().decode(bytes.subarray(0, consumed))).toBe(text)
        }
        expect(text + decoder.end()).toBe(new TextDecoder().decode(bytes))
      }),
      RUNS,
    )
  })

  it('keeps a U+FEFF that follows a first chunk which decoded to nothing, as a whole-body decode does', () => {
    // Node's streaming TextDecoder strips it (E4, then B8 AD EF BB BF 61): only a first character is a BOM.
    const bytes = Uint8Array.of(0xe4, 0xb8, 0xad, 0xef, 0xbb, 0xbf, 0x61)
    const expected = new TextDecoder().decode(bytes)
    expect(expected).toBe('中\uFEFFa')
    for (const [label, chunks] of chunkings(bytes)) expect(decodeAll(chunks), label).toBe(expected)
    for (const [label, chunks] of chunkings(Uint8Array.of(0xef, 0xbb, 0xbf, ...bytes)))
      expect(decodeAll(chunks), label).toBe(expected)
  })

  it('holds back only a sequence that is valid so far: not a lead byte whose second byte rules it out', () => {
    for (const [bytes, held] of [
      [[0x61, 0x62, 0xff], 0],
      [[0x61, 0x62, 0xed, 0xa0], 0],
      [[0x61, 0x62, 0xe0, 0x80], 0],
      [[0x61, 0x62, 0xf4, 0x90], 0],
      [[0x61, 0x62, 0xf0, 0x8f], 0],
      [[0x61, 0x62, 0xed, 0x9f], 2],
      [[0x61, 0x62, 0xf0, 0x90, 0x80], 3],
      [[0x61, 0x62, 0xc3], 1],
    ] as const) {
      const decoder = new Utf8Decoder()
      decoder.decode(Uint8Array.from(bytes))
      expect(decoder.fed - decoder.offsetBefore(''), bytes.join(' ')).toBe(held)
    }
  })

  it('with fatal, throws a ParseError of type utf8 at the offset of the bad byte, under any chunking', () => {
    const bytes = concatBytes([encode('ok é\n'), Uint8Array.of(0xff), encode('rest')])
    for (const [label, chunks] of chunkings(bytes)) {
      const error = caught(() => decodeAll(chunks, true))
      expect(isParseError(error) && { type: error.type, offset: error.offset }, label).toEqual({
        type: 'utf8',
        offset: 6,
      })
    }
  })

  it('with fatal, reports a truncated sequence cut by a later byte at the offset of its lead byte', () => {
    // E2 82 is the start of "€" (E2 82 AC), cut by "x".
    const bytes = concatBytes([encode('ab'), Uint8Array.of(0xe2, 0x82), encode('x')])
    for (const [label, chunks] of chunkings(bytes)) {
      const error = caught(() => decodeAll(chunks, true))
      expect(isParseError(error) && error.offset, label).toBe(2)
    }
  })

  it('with fatal, reports an overlong encoding and an encoded surrogate at their first byte', () => {
    for (const bad of [Uint8Array.of(0xe0, 0x80, 0x80), Uint8Array.of(0xed, 0xa0, 0x80)]) {
      const bytes = concatBytes([encode('abcd'), bad, encode('efgh')])
      for (const [label, chunks] of chunkings(bytes).slice(0, 1)) {
        const error = caught(() => decodeAll(chunks, true))
        expect(isParseError(error) && error.offset, label).toBe(4)
      }
    }
  })

  it('with fatal, delivers the same text and finds the same bad byte under any chunking, a stray continuation byte after a character split across chunks included', () => {
    /** The text decoded before the error, and where the error is. */
    const decodeFatal = (chunks: Uint8Array[]) => {
      const decoder = new Utf8Decoder(true)
      let text = ''
      let error: unknown
      try {
        for (const chunk of chunks) {
          text += decoder.decode(chunk)
          if (decoder.failure !== undefined) break
        }
        if (decoder.failure === undefined) text += decoder.end()
      } catch (thrown) {
        error = thrown
      }
      error ??= decoder.failure
      // The excerpt starts at the bad byte; how many bytes follow it depends on what had arrived.
      const place = isParseError(error)
        ? { offset: error.offset, line: error.line, bad: error.excerpt?.split(' ')[0] }
        : error
      return { text, error: place }
    }
    fc.assert(
      fc.property(withByteCuts(trickyBytes()), ({ bytes, chunks }) => {
        const whole = decodeFatal([bytes])
        expect(decodeFatal(chunks)).toEqual(whole)
        // What was delivered is the text of the bytes before the bad one, whatever they were cut into.
        const before =
          whole.error === undefined ? bytes : bytes.subarray(0, (whole.error as { offset: number }).offset)
        expect(whole.text).toBe(new TextDecoder().decode(before))
      }),
      RUNS,
    )
    // The counterexamples that found it: "€" and "😀" split after their first bytes, then a stray 80.
    for (const bytes of [
      concatBytes([encode('ok\n'), Uint8Array.of(0xe2, 0x82, 0xac, 0x80), encode('AA\n')]),
      concatBytes([encode('ok\n'), Uint8Array.of(0xf0, 0x9f, 0x98, 0x80, 0x80), encode('AA\n')]),
    ]) {
      for (const [label, chunks] of chunkings(bytes))
        expect(decodeFatal(chunks), label).toEqual(decodeFatal([bytes]))
    }
  })

  it('with fatal, throws a ParseError when the body ends inside a sequence', () => {
    const bytes = concatBytes([encode('abc'), Uint8Array.of(0xf0, 0x9f)])
    for (const [label, chunks] of chunkings(bytes)) {
      const error = caught(() => decodeAll(chunks, true))
      expect(isParseError(error) && { type: error.type, offset: error.offset }, label).toEqual({
        type: 'utf8',
        offset: 3,
      })
    }
  })
})

describe('utf8Length', () => {
  it('gives the UTF-8 length of each code point at the boundaries between 1, 2, 3 and 4 bytes', () => {
    // U+0800 is the first 3-byte code point: counted as 2 bytes, it would let a line or an event 1 byte per such
    // character over its limit and misplace checkpoints after it.
    const cases = ['\u007f', '\u0080', '\u07ff', '\u0800', '\u0801', '\uffff', '\u{10000}', '\u{10ffff}']
    expect(cases.map((c) => utf8Length(c))).toEqual([1, 2, 2, 3, 3, 3, 4, 4])
    expect(cases.map((c) => utf8Length(c))).toEqual(cases.map((c) => new TextEncoder().encode(c).length))
    // And of a slice, without slicing.
    expect(utf8Length('a\u0800\u07ffb', 1, 3)).toBe(5)
  })
})

describe('Rechunker', () => {
  const rechunk = (chunks: Uint8Array[], size: number): Uint8Array[] => {
    const rechunker = new Rechunker(size)
    const out: Uint8Array[] = []
    // Copy each piece at once: a piece may be a view of an internal buffer that the next push reuses.
    for (const chunk of chunks) for (const piece of rechunker.push(chunk)) out.push(piece.slice())
    for (const piece of rechunker.end()) out.push(piece.slice())
    return out
  }

  it('gives chunks of exactly chunkSize, the last shorter, with the same bytes, for random chunkings', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.array(fc.nat({ max: 1000 }), { maxLength: 12 }),
        fc.integer({ min: 1, max: 40 }),
        (bytes, raw, size) => {
          const out = rechunk(
            cutAt(
              bytes,
              raw.map((c) => c % (bytes.length + 1)),
            ),
            size,
          )
          expect(concatBytes(out)).toEqual(bytes)
          for (const piece of out.slice(0, -1)) expect(piece.length).toBe(size)
          if (out.length > 0) expect(out.at(-1)!.length).toBeGreaterThan(0)
          expect(out.length).toBe(Math.ceil(bytes.length / size))
        },
      ),
      RUNS,
    )
  })

  it('does not change a chunk it returned earlier when later input arrives', () => {
    const rechunker = new Rechunker(4)
    const kept = [...rechunker.push(Uint8Array.of(1, 2)), ...rechunker.push(Uint8Array.of(3, 4, 5, 6))]
    const first = kept[0]!.slice()
    rechunker.push(Uint8Array.of(7, 8, 9))
    rechunker.end()
    expect(kept[0]).toEqual(first)
  })

  it('hands out a chunk that fills chunkSize at once, as a view of the input, holding nothing back', () => {
    const rechunker = new Rechunker(4)
    const input = Uint8Array.of(1, 2, 3, 4)
    const out = rechunker.push(input)
    expect(out).toEqual([input])
    expect(out[0]!.buffer).toBe(input.buffer)
    expect(rechunker.buffered).toBe(0)
    expect(rechunker.push(Uint8Array.of(5, 6))).toEqual([])
    expect(rechunker.push(Uint8Array.of(7, 8))).toEqual([Uint8Array.of(5, 6, 7, 8)])
    expect(rechunker.buffered).toBe(0)
  })

  it('holds nothing once end() has handed out the last piece', () => {
    const rechunker = new Rechunker(4)
    rechunker.push(Uint8Array.of(1, 2, 3, 4, 5, 6))
    expect(rechunker.end()).toEqual([Uint8Array.of(5, 6)])
    expect(rechunker.buffered).toBe(0)
  })

  it('rejects a chunkSize that is not a positive integer', () => {
    expect(() => new Rechunker(0)).toThrow(RangeError)
    expect(() => new Rechunker(1.5)).toThrow(RangeError)
  })
})
