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
