import { encodingOf, parseContentRange, parseLength } from './resume/strategy.ts'

/**
 * The length a complete body must have, if anyone declared it. Content-Length is ignored for encoded bodies:
 * the bytes a client reads are decoded and would never match it.
 */
export function expectedLength(response: Response, declared: number | undefined): number | undefined {
  if (declared !== undefined) return declared
  const remapped = parseLength(response.headers.get('x-amzn-remapped-content-length'))
  if (remapped !== undefined) return remapped
  if (encodingOf(response) !== undefined) return undefined
  const range = parseContentRange(response.headers.get('content-range'))
  if (range !== undefined) return range.end ?? range.total
  return parseLength(response.headers.get('content-length'))
}

/** Who declared the length `expectedLength` gave, for a message: the caller's `total`, or a header. */
export function lengthSource(response: Response, length: number, total: number | undefined): string {
  if (length === total) return 'the `total` option'
  const { headers } = response
  if (parseLength(headers.get('x-amzn-remapped-content-length')) !== undefined)
    return 'x-amzn-remapped-content-length'
  return headers.has('content-range') ? 'Content-Range' : 'Content-Length'
}
