/** The response header with which a server announces the in-band end marker (see README, "Proving completion"). */
export const END_MARKER_HEADER = 'x-sluice-end'

// The marker line is `{"$sluice":"end","bytes":N}\n`: at most 28 + 16 digits + 1 bytes.
const HOLD = 64
const EMPTY = new Uint8Array(0)
const PREFIX = '{"$sluice":"end","bytes":'

/** Formats the end-marker line for a body whose bytes before the marker number `bytes`. */
export function endMarkerLine(bytes: number): string {
  return `${PREFIX}${bytes}}\n`
}

/**
 * Holds back the last bytes of a body until its end, so that the end-marker line can be checked and removed
 * before any consumer sees it.
 */
export class EndMarkerTrap {
  #tail: Uint8Array = EMPTY

  /** Bytes that are certainly not part of the marker; the rest is held. */
  push(chunk: Uint8Array): Uint8Array {
    const tail = this.#tail
    const length = tail.length + chunk.length
    if (length <= HOLD) {
      this.#tail = concat(tail, chunk)
      return EMPTY
    }
    if (tail.length === 0) {
      this.#tail = chunk.subarray(chunk.length - HOLD)
      return chunk.subarray(0, chunk.length - HOLD)
    }
    const all = concat(tail, chunk)
    this.#tail = all.subarray(length - HOLD)
    return all.subarray(0, length - HOLD)
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

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b
  const out = new Uint8Array(a.length + b.length)
  out.set(a, 0)
  out.set(b, a.length)
  return out
}

function latin1(bytes: Uint8Array): string {
  let text = ''
  for (let i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]!)
  return text
}
