import { responseOf } from './streams.ts'

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
