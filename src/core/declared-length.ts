import { encodingOf, parseContentRange, parseLength } from './resume/strategy.ts'

/** The length a complete body must have, and who declared it (for messages). */
export interface DeclaredLength {
  /** Where the body ends, in the coordinates of the representation: a part's end, not its length. */
  end: number
  by: string
}

const REMAPPED = 'x-amzn-remapped-content-length'

/**
 * The length a complete body must have, if anyone declared it. Content-Length is ignored for encoded bodies, and
 * for cross-origin ones, which may be encoded unseen: the bytes a client reads are decoded and would never match
 * it. A part (206) ends where its Content-Range says; its own lengths (Content-Length, and a function URL's
 * remapped one) count from its start. Any other status's Content-Range has no meaning (RFC 9110 §14.4) and is
 * ignored.
 */
export function declaredLength(response: Response, total: number | undefined): DeclaredLength | undefined {
  if (total !== undefined) return { end: total, by: 'the `total` option' }
  const { headers } = response
  const range = response.status === 206 ? parseContentRange(headers.get('content-range')) : undefined
  const start = range?.start ?? 0
  const end = range?.end ?? range?.total
  if (end !== undefined) return { end, by: 'Content-Range' }
  const remapped = parseLength(headers.get(REMAPPED))
  if (remapped !== undefined) return { end: start + remapped, by: REMAPPED }
  // A cross-origin answer shows a page its Content-Length, but not its Content-Encoding unless the server
  // exposes it (CORS): a compressed body would pass for a plain one of its compressed size.
  if (response.type === 'cors' || encodingOf(response) !== undefined) return undefined
  const length = parseLength(headers.get('content-length'))
  return length === undefined ? undefined : { end: start + length, by: 'Content-Length' }
}
