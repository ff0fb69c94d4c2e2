/**
 * Re-chunks bytes to a fixed size: every chunk it returns has exactly `size` bytes, except the last one at
 * `end()`. Chunks that already line up pass through as views of the input, without a copy.
 */
export class Rechunker {
  /** Bytes per chunk. */
  readonly size: number
  #buffer: Uint8Array
  #filled = 0

  constructor(size: number) {
    if (!Number.isSafeInteger(size) || size < 1) {
      throw new RangeError(`bytes(): chunkSize must be a positive integer, got ${String(size)}.`)
    }
    this.size = size
    this.#buffer = new Uint8Array(size)
  }

  push(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = []
    let at = 0
    if (this.#filled > 0) {
      const take = Math.min(this.size - this.#filled, chunk.length)
      this.#buffer.set(chunk.subarray(0, take), this.#filled)
      this.#filled += take
      at = take
      if (this.#filled < this.size) return out
      out.push(this.#buffer)
      this.#buffer = new Uint8Array(this.size)
      this.#filled = 0
    }
    while (chunk.length - at >= this.size) {
      out.push(chunk.subarray(at, at + this.size))
      at += this.size
    }
    if (at < chunk.length) {
      this.#buffer.set(chunk.subarray(at), 0)
      this.#filled = chunk.length - at
    }
    return out
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
