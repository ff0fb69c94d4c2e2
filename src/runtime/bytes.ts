/**
 * Converts what a handler may write (bytes or a string) to bytes, keeping a `Buffer`'s memory without a copy.
 *
 * @example
 * toBytes('hé') // Uint8Array [104, 195, 169]
 */
export function toBytes(chunk: Uint8Array | string): Uint8Array {
  if (typeof chunk === 'string') return new TextEncoder().encode(chunk)
  return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)
}

/**
 * {@link toBytes}, with bytes copied: for what a handler writes. Node lets a writer reuse a chunk once its write's
 * callback ran (the runtime's socket has sent it by then), but the sink acknowledges a write before the client has
 * read it, so a chunk kept by reference would go out with whatever the handler put in its buffer next.
 *
 * @example
 * const buffer = new Uint8Array([1, 2])
 * const bytes = ownBytes(buffer)
 * buffer.fill(0) // bytes still holds 1, 2
 */
export function ownBytes(chunk: Uint8Array | string): Uint8Array {
  // `new Uint8Array(view)` copies (a Buffer's `slice` would not).
  return typeof chunk === 'string' ? new TextEncoder().encode(chunk) : new Uint8Array(chunk)
}
