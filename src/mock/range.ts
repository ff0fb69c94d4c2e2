/**
 * What a mock answers to a request's `Range`: the whole body, the bytes from `start`, or `416` when `start` is
 * at or past a known end.
 */
import { ifRangeAllows, strongTag } from '../runtime/if-range.ts'

export type RangePlan = { kind: 'full' } | { kind: 'partial'; start: number } | { kind: 'unsatisfiable' }

/**
 * Plans the answer to `Range: bytes=N-` on `request` over a body of `length` bytes (`undefined` when not known
 * yet). Only the open-ended form is honoured — it is what resuming clients send; other forms get the full body,
 * which RFC 9110 allows. `If-Range` must equal the strong `etag` of the response's `headers`, or, when there is
 * none, be their `last-modified` date, as sluice/lambda checks it; otherwise the full body is sent. Range is defined
 * for GET only (RFC 9110 §14.2): a HEAD gets the head of the full body, as from sluice/lambda, which answers any
 * other method (a POST that sluice resumes by Range) as a GET.
 */
export function planRange(request: Request, length: number | undefined, headers: Headers): RangePlan {
  const header = request.headers.get('range')
  if (header === null || request.method === 'HEAD') return { kind: 'full' }
  const match = /^\s*bytes\s*=\s*(\d+)\s*-\s*$/i.exec(header)
  if (match === null) return { kind: 'full' }
  // A weak ETag (a caller's W/ one) validates no range.
  const validators = { etag: strongTag(headers.get('etag')), lastModified: headers.get('last-modified') }
  if (!ifRangeAllows(request.headers.get('if-range'), validators)) return { kind: 'full' }
  const start = Number(match[1])
  if (!Number.isSafeInteger(start)) return { kind: 'full' }
  if (length !== undefined && start >= length) return { kind: 'unsatisfiable' }
  return { kind: 'partial', start }
}

/**
 * The `Content-Range` of a `206` starting at `start`: `bytes N-*\/*` is sluice's form for a body whose length is
 * not known yet or whose end is proven by the end marker.
 */
export function contentRange(start: number, length: number | undefined): string {
  return length === undefined ? `bytes ${start}-*/*` : `bytes ${start}-${length - 1}/${length}`
}

/**
 * A strong ETag derived from the body's bytes (32-bit FNV-1a plus the length), so the same parts give the same
 * tag on every request and `If-Range` from an earlier response matches.
 */
export function etagOf(chunks: readonly Uint8Array[], length: number): string {
  let hash = 0x811c9dc5
  for (const chunk of chunks) {
    for (let i = 0; i < chunk.length; i++) {
      hash ^= chunk[i]!
      hash = Math.imul(hash, 0x01000193)
    }
  }
  return `"sluice-${(hash >>> 0).toString(16).padStart(8, '0')}-${length.toString(16)}"`
}
