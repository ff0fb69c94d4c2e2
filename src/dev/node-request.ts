import type { IncomingMessage } from 'node:http'
import type { EventInput } from '../runtime/index.ts'

/**
 * Reads a `node:http` request into the parts an event is made of; `'too-large'` as soon as its body is known to
 * pass `maxBytes`: at once for a `Content-Length` over it, else at the chunk that crosses it; `'bad-url'`, before
 * any of the body, when its `Host` header and target make no URL with a path (Node's parser lets `Host: bad host`,
 * `Host: user@host` and `OPTIONS *` through), or when it has several `Host` headers, which RFC 9112 §3.2 answers
 * 400 (Node keeps the first for the URL, while the event would join them all into one host no one sent);
 * `'gone'` when the body never arrives whole (the client left, the server closed, Node could not parse it).
 * The rest of the body is then left unread, the request paused, so that an upload that never ends cannot hold
 * the answer back: the caller answers and closes the connection. `beforeBody` runs once the body is to be read,
 * and only then: where a client waits for `100 Continue` before it sends the body, the caller sends it there.
 *
 * @example
 * const input = await readNodeRequest(req, 6 * 1024 * 1024, requestId)
 */
export async function readNodeRequest(
  req: IncomingMessage,
  maxBytes: number,
  requestId: string,
  beforeBody?: () => void,
): Promise<EventInput | 'too-large' | 'bad-url' | 'gone'> {
  const headers: Array<[string, string]> = []
  let hosts = 0
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    headers.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!])
    if (req.rawHeaders[i]!.toLowerCase() === 'host') hosts++
  }
  // Only HTTP/1.0 may leave the Host out (Node answers 400 to an HTTP/1.1 request without one).
  const address = req.socket.localAddress ?? '127.0.0.1'
  const host =
    req.headers.host ?? `${address.includes(':') ? `[${address}]` : address}:${req.socket.localPort}`
  const target = originForm(req.url ?? '/')
  const url = `http://${host}${target}`
  // The asterisk form (`OPTIONS *`, the one target Node lets through that is no path) names no path to invoke. A
  // Host that is no host and port (`user@host`, `host/path`) would still make a URL, of another host or path than
  // the event's domainName says.
  if (hosts > 1 || !HOST.test(host) || !target.startsWith('/') || !URL.canParse(url)) return 'bad-url'
  const body = await readBody(req, maxBytes, beforeBody)
  if (typeof body === 'string') return body
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

/** A Host header's value (RFC 9110 §7.2): a host — an IP literal, or a name of URI characters — and a port. */
const HOST = /^(\[[\dA-Fa-f:.]+\]|[\w\-.~!$&'()*+,;=%]+)(:\d*)?$/

/**
 * The path and query of a request target, as sent. A proxy sends the absolute form, `http://host/path?x=1`
 * (RFC 9112 §3.2.2): the function gets `/path` and `x=1`, as behind a function URL whichever form reached it. The
 * host stays the `Host` header's, which a proxy sets to the target's.
 */
function originForm(target: string): string {
  const origin = /^[a-z][a-z\d+.-]*:\/\/[^/?#]*/i.exec(target)?.[0]
  if (origin === undefined) return target
  const rest = target.slice(origin.length)
  return rest.startsWith('/') ? rest : `/${rest}`
}

function readBody(
  req: IncomingMessage,
  maxBytes: number,
  beforeBody: (() => void) | undefined,
): Promise<Uint8Array | 'too-large' | 'gone'> {
  // Node's parser has checked the header: it is digits alone, or the request was refused before it got here.
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > maxBytes) return Promise.resolve('too-large')
  beforeBody?.()
  return new Promise((resolve) => {
    const chunks: Uint8Array[] = []
    let length = 0
    const stop = () => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onGone)
      req.off('close', onGone)
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
    // The client's doing, not a failure of the function or of the emulator: Node has closed the connection (after
    // its own 400 for a body it could not parse), so there is no one to answer.
    const onGone = () => {
      stop()
      resolve('gone')
    }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onGone)
    req.on('close', onGone)
  })
}
