/**
 * Encodes bytes as base64 without `Buffer`, so the runtime stays isomorphic.
 *
 * @example
 * bytesToBase64(new Uint8Array([104, 105])) // 'aGk='
 */
export function bytesToBase64(bytes: Uint8Array): string {
  let binary = ''
  // String.fromCharCode takes its arguments on the stack: feed it slices small enough for any engine.
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  }
  return btoa(binary)
}

/**
 * Decodes base64 into bytes without `Buffer`.
 *
 * @example
 * base64ToBytes('aGk=') // Uint8Array [104, 105]
 */
export function base64ToBytes(base64: string): Uint8Array {
  const binary = atob(base64)
  const out = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i)
  return out
}
