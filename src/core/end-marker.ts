import { concatBytes } from './concat-bytes.ts'

/** The response header with which a server announces the in-band end marker (see README, "Proving completion"). */
export const END_MARKER_HEADER = 'x-sluice-end'

// The marker line is `{"$sluice":"end","bytes":N}\n`: at most 28 + 16 digits + 1 bytes.
const HOLD = 64
const EMPTY = new Uint8Array(0)
const PREFIX = '{"$sluice":"end","bytes":'

const MARKER_JSON = /^\{"\$sluice":"end","bytes":\d+\}$/
const MARKER_END = /\{"\$sluice":"end","bytes":\d+\}$/

/**
 * A record's JSON as a body that ends with the marker sends it (sluice/lambda's helpers, and sluice/mock as they do):
 * one that reads as the marker line gets a space after its `{`, the same value, which no client takes for the
 * marker — a client holds such a line back and, when the body ends right after it (a cut, which looks like a clean
 * end) and N happens to be its offset, would drop it and take the stream as complete.
 */
export function unlikeMarker(json: string): string {
  return json.startsWith(PREFIX) && MARKER_JSON.test(json) ? `{ ${json.slice(1)}` : json
}

/**
 * An SSE field line: ended with `\r\n` when its text ends as the end-marker line does (see `unlikeMarker`), with
 * `\n` otherwise. Before `\r\n` it is no marker, and SSE reads either end.
 */
export function sseLine(text: string): string {
  return text.endsWith('}') && MARKER_END.test(text) ? `${text}\r\n` : `${text}\n`
}

/** Formats the end-marker line for a body whose bytes before the marker number `bytes`. */
export function endMarkerLine(bytes: number): string {
  return `${PREFIX}${bytes}}\n`
}

/**
 * Holds back, until the body's end, only the bytes that could be the start of the end-marker line — so that the
 * marker can be checked and removed before any consumer sees it, without delaying anything else: a token or a
 * record reaches the consumer as soon as it arrives.
 */
export class EndMarkerTrap {
  #tail: Uint8Array = EMPTY

  /** Bytes that are certainly not part of the marker; the rest is held. */
  push(chunk: Uint8Array): Uint8Array {
    const all = this.#tail.length === 0 ? chunk : concatBytes([this.#tail, chunk])
    const start = markerCandidate(all)
    if (start === all.length) {
      this.#tail = EMPTY
      return all
    }
    this.#tail = all.subarray(start)
    return all.subarray(0, start)
  }

  /** Whether the held bytes end with a valid marker; `offset` is the body offset of the first held byte. */
  check(offset: number): boolean {
    return this.#markerStart(offset) !== -1
  }

  /**
   * At the end of the body: the held bytes to deliver and whether they ended with a valid marker. `offset` is
   * the body offset of the first held byte; the marker's `bytes` must equal the offset where it starts.
   */
  end(offset: number): { rest: Uint8Array; proven: boolean } {
    const tail = this.#tail
    const start = this.#markerStart(offset)
    this.#tail = EMPTY
    return start === -1 ? { rest: tail, proven: false } : { rest: tail.subarray(0, start), proven: true }
  }

  #markerStart(offset: number): number {
    const text = latin1(this.#tail)
    const start = text.lastIndexOf(PREFIX)
    if (start === -1 || !text.endsWith('}\n')) return -1
    const digits = text.slice(start + PREFIX.length, -2)
    return /^\d{1,16}$/.test(digits) && Number(digits) === offset + start ? start : -1
  }

  reset(): void {
    this.#tail = EMPTY
  }

  /** Bytes currently held back. */
  get held(): number {
    return this.#tail.length
  }
}

function latin1(bytes: Uint8Array): string {
  let text = ''
  for (let i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]!)
  return text
}

const OPEN = 0x7b // '{'

/** Where, in the last HOLD bytes, a suffix begins that could still become the marker line; `bytes.length` if none. */
function markerCandidate(bytes: Uint8Array): number {
  for (let i = Math.max(0, bytes.length - HOLD); i < bytes.length; i++) {
    if (bytes[i] === OPEN && couldBeMarker(bytes, i)) return i
  }
  return bytes.length
}

/** Whether bytes[from..] is a prefix of `{"$sluice":"end","bytes":<digits>}\n`. */
function couldBeMarker(bytes: Uint8Array, from: number): boolean {
  const n = bytes.length - from
  const fixed = Math.min(n, PREFIX.length)
  for (let k = 0; k < fixed; k++) if (bytes[from + k] !== PREFIX.charCodeAt(k)) return false
  if (n <= PREFIX.length) return true
  let k = PREFIX.length
  let digits = 0
  while (k < n && bytes[from + k]! >= 0x30 && bytes[from + k]! <= 0x39) {
    k++
    digits++
  }
  if (digits > 16) return false
  if (k === n) return true
  if (bytes[from + k] !== 0x7d || digits === 0) return false // '}'
  k++
  if (k === n) return true
  return bytes[from + k] === 0x0a && k + 1 === n // '\n', and nothing after it
}
