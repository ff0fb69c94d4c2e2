import type { IncomingMessage, Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'

/** Listens on `port` and `host`; rejects with the listen error (`EADDRINUSE`, `EACCES`…) instead of throwing it. */
export function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
}

/** The listening server's base URL, with an IPv6 host in brackets. */
export function baseUrlOf(server: Server): string {
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return `http://${host}:${address.port}/`
}

/**
 * Stops listening and drops open connections (kept-alive ones too, and those of refused tunnels); resolves once the
 * server is closed.
 */
export function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve())
    server.closeAllConnections()
    // closeAllConnections() knows only the connections Node still parses HTTP on, not those handed to 'connect'.
    for (const socket of tunnels.get(server) ?? []) socket.destroy()
  })
}

/**
 * The methods a function URL passes to the function, which a refused `CONNECT` is told of (RFC 9110 §15.5.6: a
 * 405 lists the allowed methods).
 */
const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS'

/** The connections of refused tunnels still open, by server, for {@link closeServer} to cut. */
const tunnels = new WeakMap<Server, Set<Duplex>>()

/**
 * Answers every `CONNECT` request with a 405 and a plain-text reason, then closes the connection: a function URL
 * opens no tunnel, and the function is not invoked. Node hands such a request to the server's `'connect'`
 * listeners as a bare socket, and destroys the socket when there are none: the client got an empty reply.
 *
 * @example
 * const emulator = createServer((req, res) => res.end('ok'))
 * refuseTunnels(emulator)
 */
export function refuseTunnels(server: Server): void {
  const open = new Set<Duplex>()
  tunnels.set(server, open)
  server.on('connect', (req: IncomingMessage, socket: Duplex) => {
    open.add(socket)
    socket.on('close', () => open.delete(socket))
    // A client gone before the answer is no failure of the emulator: without a listener the error would be thrown.
    socket.on('error', () => socket.destroy())
    // What the client sends after the request is read and dropped, so that its end is seen and the socket closes.
    socket.resume()
    const why = `Method not allowed: CONNECT asks for a tunnel to ${JSON.stringify(req.url ?? '')}, which a function URL does not open, so the function was not invoked.\n`
    socket.end(
      [
        `HTTP/1.1 405 Method Not Allowed`,
        `allow: ${ALLOWED_METHODS}`,
        'content-type: text/plain; charset=utf-8',
        `content-length: ${Buffer.byteLength(why)}`,
        'connection: close',
        '',
        why,
      ].join('\r\n'),
    )
  })
}
