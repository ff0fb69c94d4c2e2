import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

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

/** Stops listening and drops open connections (kept-alive ones too); resolves once the server is closed. */
export function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve())
    server.closeAllConnections()
  })
}
