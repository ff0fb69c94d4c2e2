/**
 * A loopback TCP proxy that cuts HTTP/1.1 responses after a chosen number of body bytes: the client gets the
 * status line, the headers and exactly that many bytes of the body over a real socket, then a fault — the
 * connection closes (FIN) or is reset (RST), the body ends cleanly there (what a client sees when a function URL
 * reports a failure in trailers), or it stalls. Node only (node:net).
 *
 * It reads the requests it forwards (one at a time per connection, as fetch sends them) and the responses it
 * passes back, so that a test can decide each cut from the request and the response's head, and see afterwards
 * what every request asked for and how much of every answer went through. Chunked bodies are passed on re-framed
 * (one chunk per piece that arrived), so that a clean end can come anywhere.
 */
import { createServer, type Server, Socket } from 'node:net'
import { afterEach } from 'vitest'

/** How an answer is cut once its body has let `at` bytes through. */
export type Fault =
  /** The connection closes (FIN) mid-body. */
  | 'drop'
  /** The connection is reset (RST). */
  | 'reset'
  /** The body ends cleanly (the last chunk), as if it were complete; the connection then closes. */
  | 'end'
  /** Nothing more is sent; the connection stays open until the client gives up. */
  | 'stall'

export interface Cut {
  at: number
  fault: Fault
}

/** One request as the proxy saw it, and what became of its answer. */
export interface ProxiedExchange {
  /** 0-based, in the order the answers' heads arrived, over all connections. */
  index: number
  method: string
  /** The request target: path and query. */
  target: string
  /** Request headers, names lower-cased. */
  requestHeaders: Record<string, string>
  status: number
  /** Response headers, names lower-cased. */
  headers: Record<string, string>
  /** The body bytes the client was given (de-chunked). */
  body: Uint8Array
  /** The cut made, or `undefined` when the answer went through whole (or as far as the connection lasted). */
  cut: Cut | undefined
}

/** What decides the cut of an answer, from the request and the answer's head. */
export type CutChooser = (exchange: Omit<ProxiedExchange, 'body' | 'cut'>) => Cut | undefined

export interface CuttingProxy {
  /** The proxy's base URL, e.g. `http://127.0.0.1:40123/`. */
  url: string
  /** Every exchange since the last {@link CuttingProxy.reset}, in order. */
  readonly exchanges: readonly ProxiedExchange[]
  /** Forgets the exchanges and decides the cuts of the next answers with `chooser`. */
  reset(chooser?: CutChooser): void
  close(): Promise<void>
}

const running: CuttingProxy[] = []

afterEach(async () => {
  await Promise.all(running.splice(0).map((proxy) => proxy.close()))
})

const CRLF2 = Buffer.from('\r\n\r\n')
const CRLF = Buffer.from('\r\n')
const LAST_CHUNK = Buffer.from('0\r\n\r\n')

interface Head {
  first: string
  headers: Record<string, string>
}

function parseHead(raw: Buffer): Head {
  const [first = '', ...lines] = raw.toString('latin1').split('\r\n')
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const name = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim()
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`
  }
  return { first, headers }
}

interface RequestHead {
  method: string
  target: string
  headers: Record<string, string>
}

/** Reads request heads off the client's bytes (bodies with a Content-Length are skipped), in order. */
class RequestReader {
  #buffer = Buffer.alloc(0)
  #skip = 0
  readonly queue: RequestHead[] = []

  push(data: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, data])
    for (;;) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, this.#buffer.length)
        this.#skip -= n
        this.#buffer = this.#buffer.subarray(n)
        if (this.#skip > 0) return
      }
      const end = this.#buffer.indexOf(CRLF2)
      if (end === -1) return
      const { first, headers } = parseHead(this.#buffer.subarray(0, end))
      this.#buffer = this.#buffer.subarray(end + 4)
      const [method = '', target = ''] = first.split(' ')
      this.queue.push({ method, target, headers })
      this.#skip = Number(headers['content-length'] ?? 0)
    }
  }
}

type BodyState =
  | { kind: 'head' }
  | { kind: 'size' }
  | { kind: 'data'; left: number }
  | { kind: 'data-end'; left: number }
  | { kind: 'trailers' }
  | { kind: 'length'; left: number }
  | { kind: 'gone' }

/**
 * Starts a cutting proxy in front of `upstream` (an `http://host:port/` base URL) on a free loopback port; it is
 * closed after the test.
 */
export async function startCuttingProxy(upstream: string): Promise<CuttingProxy> {
  const target = new URL(upstream)
  let chooser: CutChooser = () => undefined
  let exchanges: ProxiedExchange[] = []
  let counter = 0
  const sockets = new Set<Socket>()

  const server: Server = createServer((client) => {
    sockets.add(client)
    const requests = new RequestReader()
    const up = new Socket()
    sockets.add(up)
    client.on('close', () => {
      sockets.delete(client)
      up.destroy()
    })
    up.on('close', () => {
      sockets.delete(up)
      if (state.kind !== 'gone') client.end()
    })
    client.on('error', () => up.destroy())
    up.on('error', () => client.destroy())
    client.on('data', (data: Buffer) => {
      requests.push(data)
      up.write(data)
    })
    up.connect(Number(target.port), target.hostname)

    // The answer being passed on.
    let state: BodyState = { kind: 'head' }
    let head = Buffer.alloc(0)
    let line = Buffer.alloc(0)
    let chunked = false
    let current: ProxiedExchange | undefined
    let cut: Cut | undefined
    let body: Buffer[] = []
    let bodyBytes = 0

    const next = (): void => {
      if (current !== undefined) current.body = new Uint8Array(Buffer.concat(body))
      current = undefined
      state = { kind: 'head' }
      head = Buffer.alloc(0)
      body = []
      bodyBytes = 0
      cut = undefined
    }

    /** The planned fault, now that `cut.at` body bytes went through. */
    const fault = (): void => {
      const { fault: how } = cut!
      current!.cut = cut
      current!.body = new Uint8Array(Buffer.concat(body))
      state = { kind: 'gone' }
      if (how === 'stall') {
        // Silent, but open: the client's idle timeout is what ends it.
        up.destroy()
        return
      }
      up.destroy()
      // The bytes let through must reach the client before the reset, which would discard them otherwise.
      if (how === 'reset') client.write(Buffer.alloc(0), () => client.resetAndDestroy())
      else if (how === 'end' && chunked) client.end(LAST_CHUNK)
      else client.end()
    }

    const forward = (piece: Buffer): void => {
      if (piece.length === 0) return
      client.write(
        chunked ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, CRLF]) : piece,
      )
      body.push(piece)
      bodyBytes += piece.length
    }

    const onHead = (raw: Buffer): void => {
      const parsed = parseHead(raw)
      const status = Number(parsed.first.split(' ')[1] ?? 0)
      const request = requests.queue.shift() ?? { method: '?', target: '?', headers: {} }
      const info = {
        index: counter++,
        method: request.method,
        target: request.target,
        requestHeaders: request.headers,
        status,
        headers: parsed.headers,
      }
      current = { ...info, body: new Uint8Array(0), cut: undefined }
      exchanges.push(current)
      cut = chooser(info)
      chunked = /\bchunked\b/i.test(parsed.headers['transfer-encoding'] ?? '')
      // An answer cut cleanly must end its connection too: what follows it upstream never comes.
      const close = cut?.fault === 'end' && parsed.headers.connection === undefined
      client.write(
        close
          ? Buffer.concat([raw, Buffer.from('\r\nconnection: close'), CRLF2])
          : Buffer.concat([raw, CRLF2]),
      )
      const noBody =
        request.method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200)
      if (noBody) {
        next()
        return
      }
      if (chunked) state = { kind: 'size' }
      else if (parsed.headers['content-length'] !== undefined)
        state = { kind: 'length', left: Number(parsed.headers['content-length']) }
      else state = { kind: 'length', left: Number.POSITIVE_INFINITY }
      if (cut?.at === 0) fault()
      else if (state.kind === 'length' && state.left === 0) next()
    }

    up.on('data', (data: Buffer) => {
      let at = 0
      while (at < data.length) {
        switch (state.kind) {
          case 'gone':
            return
          case 'head': {
            const before = head.length
            head = Buffer.concat([head, data.subarray(at)])
            const end = head.indexOf(CRLF2)
            if (end === -1) {
              at = data.length
              break
            }
            at += end + 4 - before
            onHead(head.subarray(0, end))
            break
          }
          case 'size':
          case 'trailers': {
            // A line may come in pieces (a CRLF split across packets too): look for its end in all of it.
            const joined = Buffer.concat([line, data.subarray(at)])
            const end = joined.indexOf(CRLF)
            if (end === -1) {
              line = joined
              at = data.length
              break
            }
            at += end + 2 - line.length
            line = Buffer.alloc(0)
            const text = joined.subarray(0, end).toString('latin1')
            if (state.kind === 'trailers') {
              if (text === '') {
                client.write(LAST_CHUNK)
                next()
              }
              break
            }
            const size = Number.parseInt(text.split(';')[0]!.trim(), 16)
            state = size === 0 ? { kind: 'trailers' } : { kind: 'data', left: size }
            break
          }
          case 'data':
          case 'length': {
            let n = Math.min(state.left, data.length - at)
            if (cut !== undefined) n = Math.min(n, cut.at - bodyBytes)
            forward(data.subarray(at, at + n))
            at += n
            state.left -= n
            if (cut !== undefined && bodyBytes >= cut.at) {
              fault()
              return
            }
            if (state.left === 0) {
              if (state.kind === 'length') next()
              else state = { kind: 'data-end', left: 2 }
            }
            break
          }
          case 'data-end': {
            const n = Math.min(state.left, data.length - at)
            at += n
            state.left -= n
            if (state.left === 0) state = { kind: 'size' }
            break
          }
        }
      }
    })
    up.on('end', () => {
      if (current !== undefined && state.kind === 'length') next()
    })
  })

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  const proxy: CuttingProxy = {
    url: `http://127.0.0.1:${port}/`,
    get exchanges() {
      return exchanges
    },
    reset(nextChooser = () => undefined) {
      chooser = nextChooser
      exchanges = []
      counter = 0
    },
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
  running.push(proxy)
  return proxy
}
