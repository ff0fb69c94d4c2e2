/**
 * Joins byte chunks into one array. `length` is their total when the caller already counted it. A single
 * chunk comes back as it is, without a copy.
 */
export function concatBytes<Buffer extends ArrayBufferLike>(
  parts: readonly Uint8Array<Buffer>[],
  length?: number,
): Uint8Array<Buffer | ArrayBuffer> {
  if (parts.length === 1) return parts[0]!
  let total = length ?? 0
  if (length === undefined) for (const part of parts) total += part.length
  const out = new Uint8Array(total)
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}
