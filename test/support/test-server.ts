import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A loopback HTTP server with scripted routes, shared by every test project. Routes:
 * - `GET /bytes?size=N&chunk=C&delay=MS` — N deterministic bytes (byte i = i % 251), in C-byte writes.
 * - `GET /text?body=…&chunk=C` — the given body, C bytes per write.
 * - `GET /hang?id=X` — sends a little, then stays open; the socket's close is recorded under X.
 * - `GET /state?id=X` — `{ closed: boolean, aborted: boolean }` for that id.
 * - `GET /status?code=N&body=…` — that status with that body.
 */
export interface TestServer {
  url: string
  close(): Promise<void>
}

const state = new Map<string, { closed: boolean; aborted: boolean }>()

function cors(res: ServerResponse): void {
  res.setHeader('access-control-allow-origin', '*')
  res.setHeader('access-control-allow-headers', '*')
  res.setHeader('access-control-expose-headers', '*')
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function write(res: ServerResponse, data: Uint8Array, chunk: number, delay: number): Promise<void> {
  for (let i = 0; i < data.length; i += chunk) {
    if (res.destroyed) return
    const ok = res.write(data.subarray(i, i + chunk))
    if (!ok) await new Promise((resolve) => res.once('drain', resolve))
    if (delay > 0) await sleep(delay)
  }
}

export function deterministicBytes(size: number): Uint8Array {
  const out = new Uint8Array(size)
  for (let i = 0; i < size; i++) out[i] = i % 251
  return out
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  cors(res)
  if (req.method === 'OPTIONS') {
    res.writeHead(204).end()
    return
  }
  const url = new URL(req.url ?? '/', 'http://127.0.0.1')
  const q = url.searchParams
  const chunk = Number(q.get('chunk') ?? 65536)
  const delay = Number(q.get('delay') ?? 0)
  switch (url.pathname) {
    case '/bytes': {
      const data = deterministicBytes(Number(q.get('size') ?? 0))
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': String(data.length),
      })
      await write(res, data, chunk, delay)
      res.end()
      return
    }
    case '/text': {
      const data = new TextEncoder().encode(q.get('body') ?? '')
      res.writeHead(200, { 'content-type': q.get('type') ?? 'text/plain; charset=utf-8' })
      await write(res, data, chunk, delay)
      res.end()
      return
    }
    case '/hang': {
      const id = q.get('id') ?? ''
      const entry = { closed: false, aborted: false }
      state.set(id, entry)
      req.on('aborted', () => {
        entry.aborted = true
      })
      res.on('close', () => {
        entry.closed = true
      })
      res.writeHead(200, { 'content-type': 'application/x-ndjson' })
      // Enough lines for any consumer to yield, then silence: only the client can end this response.
      for (let i = 0; i < 20; i++) res.write(`{"n":${i}}\n`)
      return
    }
    case '/state': {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify(state.get(q.get('id') ?? '') ?? null))
      return
    }
    case '/status': {
      res.writeHead(Number(q.get('code') ?? 500), { 'content-type': 'text/plain' })
      res.end(q.get('body') ?? '')
      return
    }
    default:
      res.writeHead(404).end('no such route')
  }
}

export function startTestServer(): Promise<TestServer> {
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.destroy(error instanceof Error ? error : new Error(String(error)))
    })
  })
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections()
            server.close(() => done())
          }),
      })
    })
  })
}
