import type { IncomingMessage } from 'node:http'
import type { EventInput } from '../runtime/index.ts'

/**
 * Reads a `node:http` request into the parts an event is made of; `'too-large'` when its body passes
 * `maxBytes` (the rest is read and dropped, so that the client can still read the 413).
 *
 * @example
 * const input = await readNodeRequest(req, 6 * 1024 * 1024, requestId)
 */
export async function readNodeRequest(
  req: IncomingMessage,
  maxBytes: number,
  requestId: string,
): Promise<EventInput | 'too-large'> {
  const headers: Array<[string, string]> = []
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2)
    headers.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!])
  const chunks: Uint8Array[] = []
  let length = 0
  for await (const chunk of req as AsyncIterable<Uint8Array>) {
    length += chunk.length
    if (length <= maxBytes) chunks.push(chunk)
  }
  if (length > maxBytes) return 'too-large'
  const body = new Uint8Array(length)
  let offset = 0
  for (const chunk of chunks) {
    body.set(chunk, offset)
    offset += chunk.length
  }
  const host = req.headers.host ?? `${req.socket.localAddress}:${req.socket.localPort}`
  return {
    method: req.method ?? 'GET',
    url: `http://${host}${req.url ?? '/'}`,
    headers,
    body,
    sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
    protocol: `HTTP/${req.httpVersion}`,
    requestId,
  }
}
