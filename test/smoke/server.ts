import { createHash } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { serveOnLoopback } from '../support/test-server.ts'

/**
 * The loopback server the runtime matrix's smoke cases (`cases.mjs`) talk to. Every body is deterministic and
 * comes with its expectations in `x-smoke-*` headers, so a case checks what it got without a copy of the
 * generator. Routes:
 *
 * - `GET /bytes?size=N&chunk=C` — N bytes (byte i = i % 251), `Content-Length`, a strong `ETag` and
 *   `Accept-Ranges: bytes`; honours `Range: bytes=K-` (206) and `If-Range`. `&drop=K&id=X` destroys the socket
 *   after K bytes on the first request for X (for resume cases); `/requests?id=X` tells how many came.
 * - `GET /text?lines=N&chunk=C&eol=lf|crlf|mixed&bom=1` — N lines of multi-byte UTF-8, the last one unterminated,
 *   written C bytes at a time (an odd C splits characters). `x-smoke-sha256`: the body's hash;
 *   `x-smoke-lines-sha256`: the hash of the lines joined by `\n` (no BOM); `x-smoke-lines`: N.
 * - `GET /ndjson?rows=N&chunk=C&marker=end|cut` — N rows `{ id, name, tags }`; `marker=end` ends with sluice's
 *   end marker (`x-sluice-end: marker`), `marker=cut` announces it and leaves it out (a truncated body).
 *   `&bad=K` makes row K invalid for the schema.
 * - `GET /sse?events=N` — N events (`id`, `event: delta`, JSON data `{ i, text }`), then `data: [DONE]`.
 * - `GET /json?items=N` — one JSON document `{ title, items: [{ id, label }], done: true }`, written in small
 *   pieces with short pauses so a consumer sees it grow.
 * - `GET /hang?id=X` — a few NDJSON rows, then silence; the socket's close is recorded under X.
 * - `GET /state?id=X` — `{ closed }` for X (`null` before the request arrived).
 * - `GET /status?code=N` — that status with a short text body.
 * - `GET /refusing` — `{ url }`: a URL on 127.0.0.1 where nothing listens (`refusingUrl`, given at the start),
 *   for cases whose connection must be refused; a case cannot open a socket to find one in every runtime.
 */
export interface SmokeServer {
  url: string
  /** What the server saw of each `id`: socket closes (cancellation) and request counts (resume). */
  state: Map<string, { closed: boolean; requests: number }>
  close(): Promise<void>
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex')

function bytesBody(size: number): Uint8Array {
  const out = new Uint8Array(size)
  for (let i = 0; i < size; i++) out[i] = i % 251
  return out
}

function textLines(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${i} ünïcødé ✓ 🚀 ${'ß€'.repeat(i % 13)}${'x'.repeat(i % 37)}`)
}

function eolFor(mode: string, i: number): string {
  if (mode === 'crlf') return '\r\n'
  if (mode === 'mixed') return i % 2 ? '\r\n' : '\n'
  return '\n'
}

async function write(res: ServerResponse, data: Uint8Array, chunk: number, pauseMs = 0): Promise<boolean> {
  for (let i = 0; i < data.length; i += chunk) {
    if (res.destroyed) return false
    const ok = res.write(data.subarray(i, i + chunk))
    if (!ok) await new Promise((resolve) => res.once('drain', resolve))
    // Yield so that pieces leave as separate writes; a pause makes them separate network chunks.
    await (pauseMs > 0 ? sleep(pauseMs) : new Promise((resolve) => setImmediate(resolve)))
  }
  return !res.destroyed
}

/**
 * Starts the smoke server on 127.0.0.1. `refusingUrl`: a URL where nothing listens, which `/refusing` hands to
 * the cases (the vitest global setup provides one as `inject('refusingUrl')`).
 */
export async function startSmokeServer({ refusingUrl }: { refusingUrl: string }): Promise<SmokeServer> {
  const state: SmokeServer['state'] = new Map()
  const entry = (id: string) => {
    let found = state.get(id)
    if (!found) {
      found = { closed: false, requests: 0 }
      state.set(id, found)
    }
    return found
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const q = url.searchParams
    const chunk = Math.max(1, Number(q.get('chunk') ?? 4096))
    const encoder = new TextEncoder()
    switch (url.pathname) {
      case '/bytes': {
        const full = bytesBody(Number(q.get('size') ?? 0))
        const etag = `"bytes-${full.length}"`
        const id = q.get('id')
        const seen = id ? entry(id) : undefined
        if (seen) seen.requests++
        const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '')
        const ifRange = req.headers['if-range']
        const headers: Record<string, string> = {
          'content-type': 'application/octet-stream',
          'accept-ranges': 'bytes',
          etag,
        }
        let body = full
        let status = 200
        if (range && (!ifRange || ifRange === etag)) {
          const start = Number(range[1])
          if (start >= full.length) {
            res.writeHead(416, { 'content-range': `bytes */${full.length}` }).end()
            return
          }
          body = full.subarray(start)
          status = 206
          headers['content-range'] = `bytes ${start}-${full.length - 1}/${full.length}`
        }
        headers['content-length'] = String(body.length)
        res.writeHead(status, headers)
        const drop = q.get('drop')
        if (drop !== null && seen?.requests === 1) {
          await write(res, body.subarray(0, Number(drop)), chunk)
          await sleep(20)
          res.destroy()
          return
        }
        if (await write(res, body, chunk)) res.end()
        return
      }
      case '/text': {
        const lines = textLines(Number(q.get('lines') ?? 0))
        const eol = q.get('eol') ?? 'lf'
        const text = lines.map((line, i) => (i < lines.length - 1 ? line + eolFor(eol, i) : line)).join('')
        const body = encoder.encode((q.get('bom') === '1' ? '\uFEFF' : '') + text)
        res.writeHead(200, {
          'content-type': 'text/plain; charset=utf-8',
          'x-smoke-sha256': sha256(body),
          'x-smoke-lines-sha256': sha256(lines.join('\n')),
          'x-smoke-lines': String(lines.length),
        })
        if (await write(res, body, chunk)) res.end()
        return
      }
      case '/ndjson': {
        const rows = Number(q.get('rows') ?? 0)
        const bad = Number(q.get('bad') ?? -1)
        const marker = q.get('marker')
        let text = ''
        for (let i = 0; i < rows; i++) {
          const row =
            i === bad ? { id: `not a number ${i}` } : { id: i, name: `row ${i}`, tags: ['a', i % 7] }
          text += `${JSON.stringify(row)}\n`
        }
        const bytes = encoder.encode(text).length
        if (marker === 'end') text += `{"$sluice":"end","bytes":${bytes}}\n`
        const headers: Record<string, string> = { 'content-type': 'application/x-ndjson' }
        if (marker) headers['x-sluice-end'] = 'marker'
        res.writeHead(200, headers)
        if (await write(res, encoder.encode(text), chunk)) res.end()
        return
      }
      case '/sse': {
        const events = Number(q.get('events') ?? 0)
        let text = 'retry: 1000\n\n'
        for (let i = 0; i < events; i++) {
          text += `id: ${i}\nevent: delta\ndata: ${JSON.stringify({ i, text: `token ${i} ✓` })}\n\n`
        }
        text += 'data: [DONE]\n\n'
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache',
        })
        if (await write(res, encoder.encode(text), chunk)) res.end()
        return
      }
      case '/json': {
        const items = Number(q.get('items') ?? 0)
        const doc = {
          title: 'smoke report ✓',
          items: Array.from({ length: items }, (_, id) => ({ id, label: `item ${id}` })),
          done: true,
        }
        res.writeHead(200, { 'content-type': 'application/json' })
        if (await write(res, encoder.encode(JSON.stringify(doc)), chunk, 2)) res.end()
        return
      }
      case '/hang': {
        const seen = entry(q.get('id') ?? '')
        seen.requests++
        res.on('close', () => {
          seen.closed = true
        })
        res.writeHead(200, { 'content-type': 'application/x-ndjson' })
        for (let i = 0; i < 20; i++) res.write(`{"n":${i}}\n`)
        return // only the client ends this response
      }
      case '/state': {
        const seen = state.get(q.get('id') ?? '')
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
        res.end(JSON.stringify(seen ?? null))
        return
      }
      case '/requests': {
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
        res.end(JSON.stringify(state.get(q.get('id') ?? '')?.requests ?? 0))
        return
      }
      case '/refusing': {
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
        res.end(JSON.stringify({ url: refusingUrl }))
        return
      }
      case '/status': {
        res.writeHead(Number(q.get('code') ?? 500), { 'content-type': 'text/plain; charset=utf-8' })
        res.end(`smoke: status ${q.get('code') ?? 500} as asked`)
        return
      }
      default:
        res.writeHead(404, { 'content-type': 'text/plain' }).end('no such route')
    }
  }

  return { ...(await serveOnLoopback(handle)), state }
}
