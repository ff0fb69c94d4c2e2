import type { IncomingMessage } from 'node:http'
import type { EventInput } from '../runtime/index.ts'

/**
 * Reads a `node:http` request into the parts an event is made of; `'too-large'` as soon as its body is known to
 * pass `maxBytes`: at once for a `Content-Length` over it, else at the chunk that crosses it; `'bad-url'`, before
 * any of the body, when its `Host` header and target make no URL (Node's parser lets `Host: bad host` through).
 * The rest of the body is then left unread, the request paused, so that an upload that never ends cannot hold
 * the answer back: the caller answers and closes the connection.
 *
 * @example
 * const input = await readNodeRequest(req, 6 * 1024 * 1024, requestId)
 */
export async function readNodeRequest(
  req: IncomingMessage,
  maxBytes: number,
  requestId: string,
): Promise<EventInput | 'too-large' | 'bad-url'> {
  const headers: Array<[string, string]> = []
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2)
    headers.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!])
  // Only HTTP/1.0 may leave the Host out (Node answers 400 to an HTTP/1.1 request without one).
  const address = req.socket.localAddress ?? '127.0.0.1'
  const host =
    req.headers.host ?? `${address.includes(':') ? `[${address}]` : address}:${req.socket.localPort}`
  const target = req.url ?? '/'
  const url = `http://${host}${target}`
  if (!URL.canParse(url)) return 'bad-url'
  const body = await readBody(req, maxBytes)
  if (body === 'too-large') return 'too-large'
  return {
    method: req.method ?? 'GET',
    url,
    target,
    headers,
    body,
    sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
    protocol: `HTTP/${req.httpVersion}`,
    requestId,
  }
}

function readBody(req: IncomingMessage, maxBytes: number): Promise<Uint8Array | 'too-large'> {
  // Node's parser has checked the header: it is digits alone, or the request was refused before it got here.
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > maxBytes) return Promise.resolve('too-large')
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = []
    let length = 0
    const stop = () => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
      req.off('close', onClose)
    }
    const onData = (chunk: Uint8Array) => {
      length += chunk.length
      if (length > maxBytes) {
        stop()
        req.pause()
        resolve('too-large')
        return
      }
      chunks.push(chunk)
    }
    const onEnd = () => {
      stop()
      const body = new Uint8Array(length)
      let offset = 0
      for (const chunk of chunks) {
        body.set(chunk, offset)
        offset += chunk.length
      }
      resolve(body)
    }
    const onError = (error: Error) => {
      stop()
      reject(error)
    }
    const onClose = () => {
      stop()
      reject(new Error('the client closed the connection before the end of the request body'))
    }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
    req.on('close', onClose)
  })
}
