/** A strong entity tag as sent, or `undefined` for a weak or malformed one. */
export function strongTag(value: string | null | undefined): string | undefined {
  return value?.startsWith('"') && value.endsWith('"') && value.length >= 2 ? value : undefined
}

/**
 * Whether an `If-Range` value, if any, lets a range apply (RFC 9110 §13.1.5): an entity tag must equal the strong
 * ETag, a date the `Last-Modified`, exactly as the client received them. sluice/lambda's rule, and so sluice/mock's.
 */
export function ifRangeAllows(
  value: string | null | undefined,
  validators: { etag: string | undefined; lastModified: string | null | undefined },
): boolean {
  const given = value?.trim()
  if (given === undefined) return true
  const { etag, lastModified } = validators
  // A weak tag can never validate a byte range, and a date is what a client sends when there is no ETag.
  if (given.startsWith('"') || given.startsWith('W/')) return etag !== undefined && given === etag
  return etag === undefined && typeof lastModified === 'string' && given === lastModified.trim()
}
