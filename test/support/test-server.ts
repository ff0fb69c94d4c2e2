import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { text } from 'node:stream/consumers'
import { gzipSync } from 'node:zlib'
import { closeServer } from '../../src/dev/http-server.ts'

/**
 * A loopback HTTP server with scripted routes, shared by every test project. Routes:
 * - `GET /bytes?size=N&chunk=C&delay=MS` — N deterministic bytes (byte i = i % 251), in C-byte writes.
 * - `GET /text?body=…&chunk=C` — the given body, C bytes per write.
 * - `GET /hang?id=X&status=N` — sends a little (with status N, default 200), then stays open; the socket's close
 *   is recorded under X.
 * - `GET /state?id=X` — `{ closed: boolean, aborted: boolean }` for that id.
 * - `GET /status?code=N&body=…&type=…` — that status with that body (text/plain unless `type` says).
 * - any route with `cors=none` — answered without CORS headers, as by a server whose CORS allows no other origin.
 * - `POST /script?id=X` with a JSON {@link Script} (a simple request, no preflight), then `GET /s/X` — a resumable
 *   stream with scripted faults per attempt; `GET /log?id=X` — what each request asked for, and when it dropped.
 */
export interface TestServer {
  url: string
  close(): Promise<void>
}

const state = new Map<string, { closed: boolean; aborted: boolean }>()

/** What the n-th request to a scripted stream gets; offsets count bytes of that answer's representation. */
export interface AttemptScript {
  /** Destroy the connection after this many bytes (range: absolute offset in the body; else in this answer). */
  drop?: number
  /**
   * With `drop`: destroy it once the test calls `release()` (having seen the client read the bytes), not after a
   * fixed wait. Chromium drops what the page has not read yet when a connection fails, and under load a wait
   * can be too short for the page to read them.
   */
  release?: boolean
  /** End the answer cleanly after this many bytes (a cut only a length or an end marker can reveal). */
  cut?: number
  /** Send this many bytes, then stay silent until the client goes away. */
  stall?: number
  /** Answer this status with an empty body instead (e.g. 503), with `headers`. */
  status?: number
  headers?: Record<string, string>
  /**
   * Range only: answer a Range request with the full 200, a 206 that starts elsewhere, a 206 that runs to the
   * body's end past the end a bounded Range asked for, or 416 `bytes *\/total`.
   */
  answer?: 'full' | 'mismatch' | 'overshoot' | 416
  /** With `answer: 416`: the total to claim. Default: the body's length. */
  total?: number
  /** Range only: serve this body (base64) from this attempt on, as if the resource changed. */
  body?: string
  /** This answer's own Content-Type, Content-Length and end marker, instead of the script's. */
  type?: string
  length?: boolean
  marker?: boolean
}

/** A scripted stream: one body, served with Range, Last-Event-ID replay or a cursor, and faults per attempt. */
export interface Script {
  kind: 'range' | 'sse' | 'cursor'
  /** range: the body, base64. */
  body?: string
  /** sse: events with ids, replayed after `Last-Event-ID`. */
  events?: Array<{ id: string; data: string; retry?: number }>
  /** cursor: records (JSON texts with a numeric `i`), served after `?after=i`, as NDJSON or SSE without ids. */
  records?: string[]
  format?: 'ndjson' | 'sse'
  /** cursor: read the position from this request header (a cursor sent as `{ headers }`) instead of `?after=`. */
  cursorHeader?: string
  type?: string
  /** Send Content-Length (range: of the answer). Default true for range, false otherwise. */
  length?: boolean
  /** ETag per attempt (the last one repeats). Default none. */
  etag?: string[]
  /** Last-Modified per attempt (the last one repeats). Default none. */
  lastModified?: string[]
  /** Send the `Date` header Node adds to every answer (which makes a Last-Modified before it strong). Default true. */
  date?: boolean
  /** Announce `Accept-Ranges: bytes`. Default true for range. */
  acceptRanges?: boolean
  /** Append sluice's end-marker line and send `x-sluice-end: marker`. */
  marker?: boolean
  /**
   * Serve the body gzip-compressed (`Content-Encoding: gzip`, as a CDN in front of a function would): lengths and
   * ranges then count the compressed bytes.
   */
  gzip?: boolean
  /**
   * With `gzip`: compress only for a request whose Accept-Encoding names gzip, as a server or CDN that negotiates
   * does. fetch asks a Range with `Accept-Encoding: identity`, so a resume then gets plain bytes.
   */
  negotiate?: boolean
  /**
   * `Access-Control-Expose-Headers` instead of `*`: what a cross-origin page may see besides the safelisted
   * headers (Content-Length and Content-Type among them; Content-Encoding, ETag and Accept-Ranges not).
   */
  expose?: string
  /**
   * `Access-Control-Allow-Headers` of the answer to a preflight instead of `*`: the request headers a cross-origin
   * page may send (Range is safelisted only as a single `bytes=N-` or `bytes=N-M`; If-Range, Last-Event-ID and
   * custom headers never are).
   */
  allowHeaders?: string
  attempts?: AttemptScript[]
  /**
   * `Cache-Control` of every answer instead of `no-store`: `max-age=60` lets a browser's HTTP cache keep the answer
   * and give it again to a request for the same URL, whatever its other headers.
   */
  cacheControl?: string
  /** Write the answer in pieces of this many bytes, `pace` ms apart. Default: one write. */
  chunk?: number
  pace?: number
  /**
   * How long a drop (without `release`) waits after its last byte before it destroys the connection, in ms, for the
   * client to read what was sent. Default 50, or 250 for Chromium: it drops what the page has not read when a
   * connection fails, and a loaded page reads late. A property that may drop anywhere can wait less.
   */
  settle?: number
}

/** One entry of a scripted stream's log: a request (with the resume headers it carried) or a fault. */
export interface LogEntry {
  at: number
  event: 'request' | 'drop' | 'cut' | 'stall' | 'end'
  range?: string | null
  ifRange?: string | null
  lastEventId?: string | null
  /** The Accept-Encoding sent (fetch asks a Range for `identity`). */
  acceptEncoding?: string | null
  search?: string
}

const scripts = new Map<
  string,
  { script: Script; served: number; log: LogEntry[]; released: Promise<void>; release: () => void }
>()

// 15 ms once proved too short for Chromium under the full suite on two cores (a drop read as a fresh restart), and
// 50 ms too short for it with two workers beside it (bytes sent before a drop never delivered).
const DROP_SETTLE_MS = 50
const BROWSER_DROP_SETTLE_MS = 250
const MARKER_PREFIX = '{"$sluice":"end","bytes":'

function writeAsync(res: ServerResponse, data: Uint8Array): Promise<void> {
  if (data.length === 0 || res.destroyed) return Promise.resolve()
  return new Promise((resolve) => res.write(data, () => resolve()))
}

async function serveScript(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
  const entry = scripts.get(id)
  if (entry === undefined) {
    res.writeHead(404).end('no such script')
    return
  }
  const { script, log } = entry
  const n = entry.served++
  const attempt: AttemptScript = script.attempts?.[n] ?? {}
  const url = new URL(req.url ?? '/', 'http://127.0.0.1')
  log.push({
    at: Date.now(),
    event: 'request',
    range: req.headers.range ?? null,
    ifRange: (req.headers['if-range'] as string | undefined) ?? null,
    lastEventId: (req.headers['last-event-id'] as string | undefined) ?? null,
    acceptEncoding: req.headers['accept-encoding'] ?? null,
    search: url.search,
  })
  const headers: Record<string, string> = { 'cache-control': script.cacheControl ?? 'no-store' }
  if (attempt.status !== undefined) {
    res.writeHead(attempt.status, { ...headers, ...attempt.headers })
    res.end()
    return
  }
  const etags = script.etag ?? []
  const etag = etags[Math.min(n, etags.length - 1)]
  if (etag !== undefined) headers.etag = etag
  const dates = script.lastModified ?? []
  const lastModified = dates[Math.min(n, dates.length - 1)]
  if (lastModified !== undefined) headers['last-modified'] = lastModified
  let full: Uint8Array
  if (script.kind === 'range') {
    const changed = script.attempts?.slice(0, n + 1).findLast((a) => a.body !== undefined)?.body
    full = Uint8Array.from(atob(changed ?? script.body ?? ''), (c) => c.charCodeAt(0))
  } else if (script.kind === 'sse') {
    const events = script.events ?? []
    const after = req.headers['last-event-id']
    const from = after === undefined ? 0 : events.findIndex((e) => e.id === after) + 1
    full = new TextEncoder().encode(
      events
        .slice(from)
        .map((e) => `${e.retry === undefined ? '' : `retry: ${e.retry}\n`}id: ${e.id}\ndata: ${e.data}\n\n`)
        .join(''),
    )
  } else {
    const after = script.cursorHeader
      ? ((req.headers[script.cursorHeader.toLowerCase()] as string | undefined) ?? null)
      : url.searchParams.get('after')
    const records = (script.records ?? []).filter(
      (r) => after === null || (JSON.parse(r) as { i: number }).i > Number(after),
    )
    full = new TextEncoder().encode(
      records.map((r) => (script.format === 'sse' ? `data: ${r}\n\n` : `${r}\n`)).join(''),
    )
  }
  if (attempt.marker ?? script.marker) {
    const line = new TextEncoder().encode(`${MARKER_PREFIX}${full.length}}\n`)
    const all = new Uint8Array(full.length + line.length)
    all.set(full)
    all.set(line, full.length)
    full = all
    headers['x-sluice-end'] = 'marker'
  }
  if (script.gzip && !(script.negotiate && !/\bgzip\b/.test(req.headers['accept-encoding'] ?? ''))) {
    full = gzipSync(full)
    headers['content-encoding'] = 'gzip'
  }
  if (script.expose !== undefined) headers['access-control-expose-headers'] = script.expose
  headers['content-type'] =
    attempt.type ??
    script.type ??
    (script.kind === 'sse' || script.format === 'sse' ? 'text/event-stream' : 'application/octet-stream')
  const length = attempt.length ?? script.length ?? script.kind === 'range'
  let start = 0
  let finish = full.length
  let status = 200
  if (script.kind === 'range') {
    if (script.acceptRanges ?? true) headers['accept-ranges'] = 'bytes'
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '')
    const ifRange = req.headers['if-range']
    // If-Range names the version the client holds: a strong ETag or a date (RFC 9110 §13.1.5).
    const honour = range !== null && (ifRange === undefined || ifRange === etag || ifRange === lastModified)
    const beyond = honour && attempt.answer !== 'full' && Number(range[1]) >= full.length && full.length > 0
    if (attempt.answer === 416 || beyond) {
      res.writeHead(416, { ...headers, 'content-range': `bytes */${attempt.total ?? full.length}` })
      res.end()
      return
    }
    if (honour && attempt.answer !== 'full') {
      start = Number(range[1])
      if (range[2] !== '' && attempt.answer !== 'overshoot') finish = Math.min(finish, Number(range[2]) + 1)
      const shown = attempt.answer === 'mismatch' ? start + 1 : start
      status = 206
      headers['content-range'] = length ? `bytes ${shown}-${finish - 1}/${full.length}` : `bytes ${shown}-*/*`
    }
  }
  if (length) headers['content-length'] = String(finish - start)
  // Range faults count absolute offsets; the others count bytes of this answer.
  const base = script.kind === 'range' ? start : 0
  const stop = attempt.drop ?? attempt.cut ?? attempt.stall
  const upto = stop === undefined ? finish : Math.min(finish, Math.max(base, stop))
  // A drop at the end of a body of declared length lets the client finish the answer before the connection goes:
  // said closing, the connection is not taken again for another request (a concurrent test's), which the drop would
  // reset. (Only there: a closing answer cut short is another error for fetch, a length mismatch, than a drop.)
  if (length && attempt.drop !== undefined && upto === finish) headers.connection = 'close'
  res.sendDate = script.date ?? true
  res.writeHead(status, headers)
  // A drop at offset 0 is a drop of the body, after the headers: never one that fetch would see as no answer.
  res.flushHeaders()
  const piece = script.chunk ?? Number.POSITIVE_INFINITY
  for (let at = start; at < upto; at += piece) {
    if (at > start && script.pace !== undefined) await sleep(script.pace)
    await writeAsync(res, full.subarray(at, Math.min(upto, at + piece)))
  }
  if (attempt.drop !== undefined) {
    // A browser discards what it has not handed to the page when the connection fails: let the bytes land.
    if (attempt.release) await entry.released
    else if (upto > base)
      await sleep(
        script.settle ??
          (/Chrome\//.test(req.headers['user-agent'] ?? '') ? BROWSER_DROP_SETTLE_MS : DROP_SETTLE_MS),
      )
    log.push({ at: Date.now(), event: 'drop' })
    res.destroy()
    return
  }
  if (attempt.stall !== undefined) {
    log.push({ at: Date.now(), event: 'stall' })
    return
  }
  if (attempt.cut !== undefined) {
    log.push({ at: Date.now(), event: 'cut' })
    res.end()
    return
  }
  log.push({ at: Date.now(), event: 'end' })
  res.end()
}

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
    const allow = scripts.get(req.url?.match(/^\/s\/([^?]*)/)?.[1] ?? '')?.script.allowHeaders
    if (allow !== undefined) res.setHeader('access-control-allow-headers', allow)
    res.writeHead(204).end()
    return
  }
  const url = new URL(req.url ?? '/', 'http://127.0.0.1')
  const q = url.searchParams
  if (q.get('cors') === 'none') {
    for (const name of res.getHeaderNames()) if (name.startsWith('access-control-')) res.removeHeader(name)
  }
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
      res.writeHead(Number(q.get('status') ?? 200), { 'content-type': 'application/x-ndjson' })
      // Enough lines for any consumer to yield, then silence: only the client can end this response.
      for (let i = 0; i < 20; i++) res.write(`{"n":${i}}\n`)
      return
    }
    case '/state': {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify(state.get(q.get('id') ?? '') ?? null))
      return
    }
    case '/script': {
      const id = q.get('id') ?? ''
      let release!: () => void
      const released = new Promise<void>((resolve) => {
        release = resolve
      })
      scripts.set(id, {
        script: JSON.parse(await text(req)) as Script,
        served: 0,
        log: [],
        released,
        release,
      })
      res.writeHead(204).end()
      return
    }
    case '/release': {
      scripts.get(q.get('id') ?? '')?.release()
      res.writeHead(204, { 'cache-control': 'no-store' }).end()
      return
    }
    case '/log': {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
      res.end(JSON.stringify(scripts.get(q.get('id') ?? '')?.log ?? null))
      return
    }
    case '/status': {
      res.writeHead(Number(q.get('code') ?? 500), { 'content-type': q.get('type') ?? 'text/plain' })
      res.end(q.get('body') ?? '')
      return
    }
    default:
      if (url.pathname.startsWith('/s/')) return serveScript(req, res, url.pathname.slice(3))
      res.writeHead(404).end('no such route')
  }
}

/**
 * Serves `handle` on 127.0.0.1 at a free port; a handler that throws destroys its response. `close()` also
 * ends kept-alive connections.
 */
export function serveOnLoopback(
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
): Promise<TestServer> {
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.destroy(error instanceof Error ? error : new Error(String(error)))
    })
  })
  // Node closes a connection idle for 5 s; under a loaded full run a client may reuse it at that very moment, and
  // its request fails with "other side closed" (a script's registration POST once did: fetch does not retry a
  // POST). The clients close their idle connections themselves (undici after 4 s), and `close()` ends the rest.
  server.keepAliveTimeout = 0
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () => closeServer(server),
      })
    })
  })
}

export function startTestServer(): Promise<TestServer> {
  return serveOnLoopback(handle)
}
