import { bodyOf, fetchWith, responseOf } from './streams.ts'

/** The URL the scripted connections of a ranged-drop test answer. */
export const URL_R = 'https://fn.example/r'
/** The headers of a body a client may resume by Range. */
export const RANGED = { 'accept-ranges': 'bytes', 'content-type': 'application/octet-stream' }

/** An 8-byte body served by Range that drops after its first 4 bytes. */
export const dropping = (headers: Record<string, string> = {}): Response =>
  responseOf(['abcd'], {
    headers: { ...RANGED, 'content-length': '8', ...headers },
    error: new TypeError('network error (scripted drop)'),
  })

/** The rest of that body (`bytes 4-7/8`), as a 206. */
export const rest = (body: BodyInit | null, headers: Record<string, string> = {}): Response =>
  new Response(body, { status: 206, headers: { ...RANGED, 'content-range': 'bytes 4-7/8', ...headers } })

/**
 * A server of `bytes` by Range whose first answer ends cleanly after `cut` bytes (no declared length, no end
 * marker: nothing proves the end) and whose later ones send the rest as 206s; each answer's body in the chunks
 * `chunks` gives (whole by default). `calls()` counts the requests.
 */
export function cutOnceByRange(
  bytes: Uint8Array,
  cut: number,
  contentType: string,
  chunks: (part: Uint8Array) => Uint8Array[] = (part) => [part],
): { fetch: typeof fetch; calls: () => number } {
  let calls = 0
  const fetch = fetchWith((request) => {
    calls++
    const from = Number(/bytes=(\d+)-/.exec(request.headers.get('range') ?? '')?.[1] ?? 0)
    const part = bytes.slice(from, calls === 1 ? cut : bytes.length)
    const headers: Record<string, string> = {
      'content-type': contentType,
      'accept-ranges': 'bytes',
      etag: '"v1"',
    }
    if (from > 0) headers['content-range'] = `bytes ${from}-${bytes.length - 1}/${bytes.length}`
    return new Response(bodyOf(chunks(part)).stream, { status: from > 0 ? 206 : 200, headers })
  })
  return { fetch, calls: () => calls }
}
