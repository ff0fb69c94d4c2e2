import { concatBytes } from '../concat-bytes.ts'
import { ParseError } from '../errors/parse-error.ts'
import { BODY_START, type OriginOf } from './origin.ts'

/**
 * The most bytes worth decoding at once. Past 64 Ki UTF-16 units (128 KiB), a string is a large object for V8,
 * allocated and collected apart from the young generation: decoding a 64 KiB chunk of mostly ASCII text with
 * the odd non-Latin-1 character took 4–5× as long as a 60 000-byte one in Node 24, and Chromium's cost per byte
 * grows with the chunk too. Both runtimes hand over 64 KiB chunks. Decoding such chunks 32 KiB at a time made
 * `ndjson()` of 64 KiB records in 64 KiB chunks 1.45–1.5× as fast (Node 24, Chromium) and `events()` of 64 KiB
 * events 2× (Node 24); 200 B records in chunks over 32 KiB read 0.96× in Chromium and within the noise in Node.
 */
export const DECODE_SLICE_BYTES: number = 32 * 1024

const NOTHING_HELD = new Uint8Array(0)

/**
 * Decodes UTF-8 chunk by chunk (a sequence split across chunks is held until complete) and keeps just enough
 * state to turn a position in the decoded text back into a byte offset, lazily: the hot path pays O(1) per
 * chunk, and the O(text) conversion happens only for an error message or a checkpoint.
 */
export class Utf8Decoder {
  readonly #decoder: TextDecoder
  /** Bytes fed so far. */
  fed = 0
  /** Bytes at the end of the input that the TextDecoder holds back as an incomplete sequence. */
  #pending = 0
  /** The held-back bytes themselves (a view, at most 3 bytes), valid while `#pending > 0`. */
  #held: Uint8Array = new Uint8Array(0)
  /**
   * With `fatal`, the error found in the last chunk, whose valid text before the bad byte was returned first:
   * a caller delivers that text, then throws this. Any later call throws it too.
   */
  failure: ParseError | undefined
  /** With `fatal`, the line feeds decoded so far, for the line number of an error; 0 without (never needed). */
  #lineFeeds = 0
  readonly #fatal: boolean
  readonly #keepBOM: boolean
  readonly #origin: OriginOf
  /** No character decoded yet, and a leading BOM would be stripped (see `#stripBOM`). */
  #atStart = false
  /** Where the text starts in the bytes since the start (or the last reset): 3 after a stripped BOM. */
  start = 0

  /**
   * `keepBOM`: leave a leading BOM in the text, for a parser that strips it itself (SSE's). `origin`: where the
   * input begins in the body, added to the positions of errors.
   */
  constructor(fatal = false, keepBOM = false, origin: OriginOf = BODY_START) {
    // The BOM is stripped here, not by the TextDecoder: Node's (24) strips a U+FEFF that follows a first chunk
    // that decoded to nothing (E4, then B8 AD EF BB BF: "中" then U+FEFF), which a whole-body decode keeps.
    this.#decoder = new TextDecoder('utf-8', { fatal, ignoreBOM: true })
    this.#fatal = fatal
    this.#keepBOM = keepBOM
    this.#origin = origin
  }

  decode(chunk: Uint8Array): string {
    if (this.failure) throw this.failure
    // A BOM is the body's only where the body starts. A stream that continues one from a checkpoint (or a part
    // asked for with Range) starts further on, and a U+FEFF there is text.
    if (this.fed === 0) this.#atStart = !this.#keepBOM && this.#origin().offset === 0
    let text: string
    try {
      text = this.#decoder.decode(chunk, { stream: true })
    } catch (error) {
      return this.#invalid(chunk, error)
    }
    if (this.#atStart) text = this.#stripBOM(text)
    this.fed += chunk.length
    this.#track(chunk)
    if (this.#fatal) this.#lineFeeds += countLineFeeds(text)
    return text
  }

  /** With `fatal`, the line feeds decoded since the start (or the last reset); 0 without. */
  get lineFeeds(): number {
    return this.#lineFeeds
  }

  /** Flushes a trailing incomplete sequence (U+FFFD, or a ParseError with `fatal`). */
  end(): string {
    if (this.failure) throw this.failure
    try {
      const text = this.#decoder.decode()
      this.#pending = 0
      return text
    } catch (error) {
      const origin = this.#origin()
      throw new ParseError(
        'utf8',
        'The body ends inside a UTF-8 sequence',
        {
          line: origin.lines + this.#lineFeeds + 1,
          offset: origin.offset + this.fed - this.#pending,
          excerpt: '',
        },
        { cause: error },
      )
    }
  }

  /** The byte offset where `textAfter` — all text decoded after some position, up to now — begins. */
  offsetBefore(textAfter: string): number {
    return this.fed - this.#pending - utf8Length(textAfter)
  }

  /** The bytes held back from the input so far, which the next text starts with (a copy, at most 3). */
  get held(): Uint8Array {
    // Asked before every decode by json(), for its error offsets: nothing held, as mostly, costs no copy.
    return this.#pending === 0 ? NOTHING_HELD : this.#held.slice(this.#held.length - this.#pending)
  }

  /** Starts over on a fresh stream: offsets count from here again. */
  reset(): void {
    try {
      this.#decoder.decode()
    } catch {
      // A sequence cut by the drop is discarded with the partial unit it belonged to.
    }
    this.#pending = 0
    this.#lineFeeds = 0
    this.start = 0
    this.fed = 0
  }

  /** Strips a BOM from the first character decoded, once there is one (WHATWG's "BOM seen"). */
  #stripBOM(text: string): string {
    if (text === '') return text
    this.#atStart = false
    if (text.charCodeAt(0) !== 0xfeff) return text
    this.start = 3
    return text.slice(1)
  }

  // The TextDecoder holds back the start of a sequence that is valid so far and incomplete, and nothing else: an
  // invalid byte (C0, C1, F5–FF, a stray continuation, a second byte out of range) is replaced at once, and a
  // decoder that counted it as held back would put a checkpoint before bytes already delivered. The last 3 bytes
  // decide it: O(1) per chunk.
  #track(chunk: Uint8Array): void {
    let tail = chunk
    if (chunk.length < 3 && this.#pending > 0) {
      // A short chunk may continue the sequence held back before it.
      const held = this.#held.subarray(this.#held.length - this.#pending)
      tail = new Uint8Array(held.length + chunk.length)
      tail.set(held, 0)
      tail.set(chunk, held.length)
    }
    const pending = heldBack(tail)
    this.#pending = pending
    if (pending > 0) this.#held = tail.subarray(tail.length - pending)
  }

  /** Records the error and returns the valid text before the bad byte; throws at once if there is none. */
  #invalid(chunk: Uint8Array, cause: unknown): string {
    // Found in the bytes held back and the chunk together, as it would be had the body arrived in one chunk: a
    // sequence begun in an earlier chunk that this one cuts short or makes invalid is reported at its lead byte
    // (at < 0); one it completes is text, and a stray continuation byte after it is the bad byte.
    const pending = this.#pending
    let scanned = chunk
    if (pending > 0) {
      scanned = new Uint8Array(pending + chunk.length)
      scanned.set(this.#held.subarray(this.#held.length - pending), 0)
      scanned.set(chunk, pending)
    }
    const first = firstInvalidByte(scanned, 0)
    const at = first - pending
    // The excerpt starts at the bad byte, a lead byte held from an earlier chunk included.
    const bad = Array.from(scanned.subarray(first, first + 4), (b) => b.toString(16).padStart(2, '0')).join(
      ' ',
    )
    // The text before the bad byte is valid and was sent: it is delivered whatever the chunking.
    let text = ''
    if (at > 0) {
      text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(scanned.subarray(0, first))
      if (this.#atStart) text = this.#stripBOM(text)
    }
    const origin = this.#origin()
    const error = new ParseError(
      'utf8',
      'The body is not valid UTF-8 (pass `fatal: false` to replace bad bytes with U+FFFD)',
      {
        line: origin.lines + this.#lineFeeds + countLineFeeds(text) + 1,
        offset: origin.offset + this.fed + at,
        excerpt: bad,
      },
      { cause },
    )
    this.failure = error
    if (text === '') throw error
    return text
  }
}

/** How many bytes at the end of `tail` start a UTF-8 sequence that is valid so far and incomplete (0 to 3). */
function heldBack(tail: Uint8Array): number {
  const n = tail.length
  for (let k = 1; k <= Math.min(3, n); k++) {
    const b = tail[n - k]!
    if ((b & 0xc0) === 0x80) continue
    // An ASCII or never-valid byte (length 1 or 0) holds nothing back, nor does a complete sequence.
    if (sequenceLength(b) <= k) return 0
    return k > 1 && !secondByteFits(b, tail[n - k + 1]!) ? 0 : k
  }
  return 0
}

/** The length of the UTF-8 sequence that `b` leads: 1 for ASCII, 2 to 4, or 0 for a byte that never leads one. */
function sequenceLength(b: number): number {
  return b < 0x80 ? 1 : b >= 0xc2 && b < 0xe0 ? 2 : b >= 0xe0 && b < 0xf0 ? 3 : b >= 0xf0 && b < 0xf5 ? 4 : 0
}

/** Whether `c` may follow the lead byte `b`: overlong forms, surrogates and code points past U+10FFFF are ruled out by the second byte. */
function secondByteFits(b: number, c: number): boolean {
  if ((c & 0xc0) !== 0x80) return false
  return b === 0xe0
    ? c >= 0xa0
    : b === 0xed
      ? c <= 0x9f
      : b === 0xf0
        ? c >= 0x90
        : b === 0xf4
          ? c <= 0x8f
          : true
}

/** How many line feeds `text` holds (a CRLF counts once, by its LF). */
export function countLineFeeds(text: string): number {
  let n = 0
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++
  return n
}

/** The UTF-8 byte length of a string, or of `text[start, end)`, without encoding it or slicing it. */
export function utf8Length(text: string, start: number = 0, end: number = text.length): number {
  let bytes = end - start
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x80) continue
    if (c < 0x800) bytes += 1
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < end) {
      const next = text.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 2
        i++
      } else bytes += 2
    } else bytes += 2
  }
  return bytes
}

/**
 * How many of the bytes of `parts` decode to no more than `i` characters: where character `i` of their text starts
 * (a part of a character decodes to one more, U+FFFD). For an error's position only.
 */
export function bytesBefore(parts: readonly Uint8Array[], i: number): number {
  const bytes = concatBytes(parts)
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true })
  let low = 0
  let high = bytes.length
  while (low < high) {
    const mid = (low + high + 1) >> 1
    if (decoder.decode(bytes.subarray(0, mid)).length <= i) low = mid
    else high = mid - 1
  }
  return low
}

/** Index of the first byte that breaks UTF-8 in `bytes`, starting after `start` carried continuation bytes. */
function firstInvalidByte(bytes: Uint8Array, start: number): number {
  let i = start
  while (i < bytes.length) {
    const b = bytes[i]!
    const length = sequenceLength(b)
    if (length === 0) return i
    for (let k = 1; k < length; k++) {
      if (i + k >= bytes.length) return i
      const c = bytes[i + k]!
      if (k === 1 ? !secondByteFits(b, c) : (c & 0xc0) !== 0x80) return i
    }
    i += length
  }
  return Math.max(0, bytes.length - 1)
}
