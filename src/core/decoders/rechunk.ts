import { describeValue } from '../../runtime/describe-value.ts'

/**
 * Re-chunks bytes to a fixed size: every chunk it returns has exactly `size` bytes, except the last one at
 * `end()`. Chunks that already line up pass through as views of the input, without a copy.
 */
export class Rechunker {
  /** Bytes per chunk. */
  readonly size: number
  // Grown as bytes come until a first chunk is full: a size far beyond the body (say, "the whole body at once")
  // costs only the body, and one the memory could never hold fails on the bytes, not at the call.
  #buffer = new Uint8Array(0)
  #filled = 0

  /** `where` names the caller in the error for a size it cannot take. */
  constructor(size: number, where = 'bytes()') {
    if (!Number.isSafeInteger(size) || size < 1) {
      throw new RangeError(`${where}: chunkSize must be a positive integer, got ${describeValue(size)}.`)
    }
    this.size = size
  }

  push(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = []
    let at = 0
    if (this.#filled > 0) {
      at = Math.min(this.size - this.#filled, chunk.length)
      this.#hold(chunk.subarray(0, at))
      if (this.#filled < this.size) return out
      out.push(this.#buffer)
      this.#buffer = new Uint8Array(this.size)
      this.#filled = 0
    }
    while (chunk.length - at >= this.size) {
      out.push(chunk.subarray(at, at + this.size))
      at += this.size
    }
    if (at < chunk.length) this.#hold(chunk.subarray(at))
    return out
  }

  #hold(bytes: Uint8Array): void {
    const filled = this.#filled + bytes.length
    if (filled > this.#buffer.length) {
      const grown = new Uint8Array(Math.min(this.size, filled * 2))
      grown.set(this.#buffer)
      this.#buffer = grown
    }
    this.#buffer.set(bytes, this.#filled)
    this.#filled = filled
  }

  /** Bytes held for the next chunk. */
  get buffered(): number {
    return this.#filled
  }

  end(): Uint8Array[] {
    if (this.#filled === 0) return []
    const last = this.#buffer.subarray(0, this.#filled)
    this.#filled = 0
    return [last]
  }
}
