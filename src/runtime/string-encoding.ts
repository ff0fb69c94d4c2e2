// The string encodings of Node's Buffer, for the minimal writable that browsers and edge runtimes get
// (response-stream-web.ts): `write(text, 'base64')` there must send the bytes Node's `stream.Writable` sends, which
// are `Buffer.from(text, encoding)`'s. Decoding is as lenient as Buffer's, not as strict as `atob`.

type Encoding = 'utf8' | 'utf16le' | 'latin1' | 'base64' | 'hex'

/** Node's encoding names (matched without regard to case, as Buffer does), by what they decode with. */
const ENCODINGS: Record<string, Encoding> = {
  utf8: 'utf8',
  'utf-8': 'utf8',
  utf16le: 'utf16le',
  'utf-16le': 'utf16le',
  ucs2: 'utf16le',
  'ucs-2': 'utf16le',
  // Encoding a string, 'ascii' keeps the low byte of each code unit, as 'latin1' does.
  latin1: 'latin1',
  binary: 'latin1',
  ascii: 'latin1',
  // Buffer's base64 decoder takes either alphabet, so 'base64url' decodes the same way.
  base64: 'base64',
  base64url: 'base64',
  hex: 'hex',
}

/**
 * Turns a chunk and the encoding given with it to `write(chunk, encoding)` or `end(chunk, encoding)` into what the
 * stream sends, as Node's `stream.Writable` does: a string in a named encoding becomes its bytes, bytes stay bytes,
 * and no encoding (`undefined`, `null`, `''`) means UTF-8. Throws {@link unknownEncodingError} for an encoding
 * Buffer does not know, bytes included, and for `'buffer'` with a string (which Writable takes with bytes only).
 *
 * @example
 * encodeChunk('aGk=', 'base64') // Uint8Array [104, 105]
 * encodeChunk('hi', undefined) // 'hi'
 */
export function encodeChunk(chunk: string | Uint8Array, encoding: unknown): string | Uint8Array {
  if (!encoding || (encoding === 'buffer' && typeof chunk !== 'string')) return chunk
  const decoder = typeof encoding === 'string' ? ENCODINGS[encoding.toLowerCase()] : undefined
  if (decoder === undefined) throw unknownEncodingError(encoding)
  if (typeof chunk !== 'string' || decoder === 'utf8') return chunk
  if (decoder === 'base64') return fromBase64(chunk)
  if (decoder === 'hex') return fromHex(chunk)
  const width = decoder === 'utf16le' ? 2 : 1
  const bytes = new Uint8Array(chunk.length * width)
  for (let i = 0; i < chunk.length; i++) {
    const unit = chunk.charCodeAt(i)
    bytes[i * width] = unit & 0xff
    if (width === 2) bytes[i * 2 + 1] = unit >> 8
  }
  return bytes
}

/**
 * The `ERR_UNKNOWN_ENCODING` TypeError with which Node's `stream.Writable` refuses an encoding; its message starts
 * as Node's and lists the encodings there are.
 *
 * @example
 * throw unknownEncodingError('utf32') // Unknown encoding: utf32. …
 */
export function unknownEncodingError(encoding: unknown): TypeError {
  const error = new TypeError(
    `Unknown encoding: ${String(encoding)}. The response stream takes a string in utf8, utf16le (ucs2), ` +
      'latin1 (binary), ascii, base64, base64url or hex; give no encoding for UTF-8.',
  ) as TypeError & { code: string }
  error.code = 'ERR_UNKNOWN_ENCODING'
  return error
}

/**
 * Buffer's base64: either alphabet, other characters skipped, decoding stops at the first `=`. Like Buffer, it reads
 * the low byte of each code unit only, so that `'\u0141'` counts as `'A'`.
 */
function fromBase64(text: string): Uint8Array {
  const bytes = new Uint8Array(Math.ceil((text.length * 3) / 4))
  let length = 0
  let bits = 0
  let value = 0
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i) & 0xff
    if (code === 0x3d) break
    const digit = base64Digit(code)
    if (digit === -1) continue
    value = ((value << 6) | digit) & 0xffff
    bits += 6
    if (bits >= 8) {
      bits -= 8
      bytes[length++] = (value >> bits) & 0xff
    }
  }
  return bytes.subarray(0, length)
}

function base64Digit(code: number): number {
  if (code >= 0x41 && code <= 0x5a) return code - 0x41 // A-Z
  if (code >= 0x61 && code <= 0x7a) return code - 0x61 + 26 // a-z
  if (code >= 0x30 && code <= 0x39) return code - 0x30 + 52 // 0-9
  if (code === 0x2b || code === 0x2d) return 62 // + -
  if (code === 0x2f || code === 0x5f) return 63 // / _
  return -1
}

/** Buffer's hex: pairs of digits up to the first pair that is not one, an odd last digit dropped, low bytes only. */
function fromHex(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length >> 1)
  for (let i = 0; i < bytes.length; i++) {
    const high = hexDigit(text.charCodeAt(i * 2) & 0xff)
    const low = hexDigit(text.charCodeAt(i * 2 + 1) & 0xff)
    if (high === -1 || low === -1) return bytes.subarray(0, i)
    bytes[i] = (high << 4) | low
  }
  return bytes
}

function hexDigit(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30
  const lower = code | 0x20
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10
  return -1
}
