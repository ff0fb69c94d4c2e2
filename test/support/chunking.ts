/**
 * Chunkings of one body and references computed on the whole body, for the "any chunk boundary, same output"
 * tests of every decoder and consumer.
 */
import fc from 'fast-check'

import { concatBytes } from '../../src/core/concat-bytes.ts'

export { concatBytes }

const encoder = new TextEncoder()

export const BOM_BYTES = [0xef, 0xbb, 0xbf] as const

export function encode(text: string): Uint8Array {
  return encoder.encode(text)
}

/** Splits `bytes` at sorted, de-duplicated cut points (cuts at 0 or past the end are ignored). */
export function cutAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const sorted = [...new Set(cuts)].filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b)
  const out: Uint8Array[] = []
  let start = 0
  for (const cut of sorted) {
    out.push(bytes.slice(start, cut))
    start = cut
  }
  out.push(bytes.slice(start))
  return out
}

/** One byte per chunk. */
export function bytewise(bytes: Uint8Array): Uint8Array[] {
  return Array.from(bytes, (b) => Uint8Array.of(b))
}

/**
 * The deterministic chunkings of `bytes`, each with a label: the whole body at once, one byte per chunk, and
 * every single cut point.
 */
export function chunkings(bytes: Uint8Array): Array<[label: string, chunks: Uint8Array[]]> {
  const out: Array<[string, Uint8Array[]]> = [
    ['whole', [bytes.slice()]],
    ['one byte per chunk', bytewise(bytes)],
  ]
  for (let cut = 1; cut < bytes.length; cut++) out.push([`cut at ${cut}`, cutAt(bytes, [cut])])
  return out
}

/** Pieces that stress decoders: 1- to 4-byte characters, emoji with ZWJ, every line ending, JSON, blanks. */
export const PIECES = [
  'a',
  'b',
  ' ',
  'é',
  'ß',
  '€',
  '中',
  '𝄞',
  '😀',
  '👩‍👩‍👧',
  '\n',
  '\r\n',
  '\r',
  '\n\n',
  '{"k":"v"}',
  '[1,2]',
  '"é😀"',
  ':',
  'data: ',
] as const

/** A string built from {@link PIECES}. */
export const trickyText: fc.Arbitrary<string> = fc
  .array(fc.constantFrom(...PIECES), { maxLength: 24 })
  .map((pieces) => pieces.join(''))

/**
 * Byte sequences that are not UTF-8, each replaced by one or more U+FFFD: a lone continuation byte, bytes that
 * never start a sequence, sequences cut short, an overlong form, an encoded surrogate, a code point past
 * U+10FFFF — and a BOM that is not the body's first bytes (a U+FEFF that must be kept).
 */
export const INVALID_UTF8: readonly (readonly number[])[] = [
  [0x80],
  [0xff],
  [0xf5],
  [0xc3],
  [0xe2, 0x82],
  [0xf0, 0x9f, 0x98],
  [0xc0, 0xaf],
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xef, 0xbb, 0xbf],
]

/** A body of text (as UTF-8) and raw bytes, which need not be UTF-8. */
export function bytesOf(...parts: Array<string | readonly number[]>): Uint8Array {
  return concatBytes(parts.map((part) => (typeof part === 'string' ? encode(part) : Uint8Array.from(part))))
}

/** Bodies of {@link PIECES} (or of `pieces`) with invalid UTF-8 mixed in ({@link INVALID_UTF8}). */
export function trickyBytes(
  size: { minLength?: number; maxLength: number } = { maxLength: 24 },
  pieces: readonly string[] = PIECES,
) {
  return fc
    .array(
      fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom(...pieces).map(encode) },
        { weight: 1, arbitrary: fc.constantFrom(...INVALID_UTF8).map((b) => Uint8Array.from(b)) },
      ),
      size,
    )
    .map(concatBytes)
}

/** Bytes and random cut points inside them. */
export function withByteCuts(
  bytes: fc.Arbitrary<Uint8Array>,
): fc.Arbitrary<{ bytes: Uint8Array; chunks: Uint8Array[] }> {
  return fc.tuple(bytes, fc.array(fc.nat({ max: 1000 }), { maxLength: 12 })).map(([b, raw]) => ({
    bytes: b,
    chunks: cutAt(
      b,
      raw.map((c) => c % (b.length + 1)),
    ),
  }))
}

/** A body and random cut points inside it. */
export function withCuts(text: fc.Arbitrary<string>): fc.Arbitrary<{ text: string; chunks: Uint8Array[] }> {
  return fc.tuple(text, fc.array(fc.nat({ max: 1000 }), { maxLength: 12 })).map(([t, raw]) => {
    const bytes = encode(t)
    return {
      text: t,
      chunks: cutAt(
        bytes,
        raw.map((c) => c % (bytes.length + 1)),
      ),
    }
  })
}

/** Modest run counts: the suite also runs in Chromium on a 2-core machine. */
export const RUNS = { numRuns: 150 } as const

/** The lines `lines()` must give for `text` decoded whole: LF or CRLF, one leading BOM dropped, no trailing empty line. */
export function referenceLines(text: string): string[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
  if (body === '') return []
  const lines = body.split('\n')
  if (lines.at(-1) === '') lines.pop()
  return lines.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line))
}

/** Byte offset of the start of each line of `referenceLines(text)`, computed on the whole body. */
export function referenceLineOffsets(text: string): number[] {
  const bom = text.charCodeAt(0) === 0xfeff
  const body = bom ? text.slice(1) : text
  if (body === '') return []
  const raw = body.split('\n')
  if (raw.at(-1) === '') raw.pop()
  const offsets: number[] = []
  let at = bom ? 3 : 0
  for (const line of raw) {
    offsets.push(at)
    at += encode(line).length + 1
  }
  return offsets
}

/** What `ndjson()` must give: one JSON value per non-blank line. */
export function referenceNdjson(text: string): unknown[] {
  return (
    referenceLines(text)
      // Blank: JSON's whitespace alone (space, tab, CR), as ndjson() skips.
      .filter((line) => !/^[ \t\r]*$/.test(line))
      .map((line) => JSON.parse(line) as unknown)
  )
}

/** Text for inside a record or an event: multi-byte characters of every length, quotes, a backslash, CR, tab. */
export const inlineText: fc.Arbitrary<string> = fc
  .array(fc.constantFrom('a', ' ', 'é', '€', '中', '𝄞', '😀', '"', '\\', '\r', '\t'), { maxLength: 12 })
  .map((p) => p.join(''))

/** A line end, LF or CRLF. */
export const eol: fc.Arbitrary<string> = fc.constantFrom('\n', '\r\n')

/** NDJSON bodies of `{ i, s }` records, with LF or CRLF and the odd blank line. */
export function ndjsonBodies(size: { minLength?: number; maxLength: number }): fc.Arbitrary<string> {
  return fc
    .array(fc.tuple(inlineText, eol, fc.boolean()), size)
    .map((rows) =>
      rows.map(([s, end, blank], i) => `${JSON.stringify({ i, s })}${end}${blank ? end : ''}`).join(''),
    )
}
