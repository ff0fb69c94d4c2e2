// The playground: one sluice/dev emulator per example function, and a small HTTP server that serves the page
// and proxies /fn/<name> to the emulators (same origin, so no CORS setup). `npm run playground` runs it.
import { readFile } from 'node:fs/promises'
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  request,
  type Server,
  type ServerResponse,
} from 'node:http'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { build } from 'esbuild'
import { baseUrlOf, closeServer, listen } from '../src/dev/http-server.ts'
import { type DevServer, type Shaping, serve } from '../src/dev/index.ts'

/** The example functions, each a real Lambda handler module in playground/functions. */
export const FUNCTIONS = ['tokens', 'report', 'document', 'binary'] as const
/** The name of an example function. */
export type FunctionName = (typeof FUNCTIONS)[number]

const MiB = 1024 * 1024
/**
 * Lambda-like bandwidth shaping per function, scaled down so that progress is visible on one machine: the real
 * service sends 6 MiB, then about 2 MiB/s. `tokens` and `document` pace themselves.
 */
const SHAPING: Record<FunctionName, Shaping | false> = {
  tokens: false,
  // Not shaped: the emulator's shaping caps a stream of small writes (one per NDJSON row) at about two writes
  // per millisecond, far below bytesPerSecond; the report paces itself like a paged database query instead.
  report: false,
  document: false,
  binary: { burstBytes: 2 * MiB, bytesPerSecond: 2 * MiB },
}

/** Options of {@link startPlayground}. */
export interface PlaygroundOptions {
  /** Port of the page server. Default 5173; `0` for any free port. A taken port falls back to a free one. */
  port?: number
  /** Default `'127.0.0.1'`. */
  host?: string
  /** Size of the `binary` function's file in bytes (sets `PLAYGROUND_BINARY_BYTES`). Default 50 MB. */
  binaryBytes?: number
  /** Factor applied to the functions' pauses (sets `PLAYGROUND_PACE`); `0` runs them flat out. Default 1. */
  pace?: number
  /** Whether to shape bandwidth like a function URL (scaled down). Default `true`. */
  shaping?: boolean
  /** Where emulator and proxy failures are reported; `false` for nowhere. Default: standard error. */
  log?: ((message: string) => void) | false
}

/** A running playground. */
export interface Playground {
  /** The page's URL, e.g. `http://127.0.0.1:5173/`. */
  url: string
  /** The emulators' own URLs, by function name. */
  functions: Record<FunctionName, string>
  /** Stops the page server and the emulators. */
  close(): Promise<void>
}

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'host',
])

function endToEnd(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value
  }
  return out
}

/**
 * Starts the emulators and the page server.
 *
 * @example
 * const playground = await startPlayground({ port: 0, binaryBytes: 1_000_000, shaping: false })
 * await fetch(new URL('/fn/report', playground.url))
 * await playground.close()
 */
export async function startPlayground(options: PlaygroundOptions = {}): Promise<Playground> {
  const log =
    options.log === false
      ? undefined
      : (options.log ?? ((message: string) => process.stderr.write(`playground: ${message}\n`)))

  const [page, style, bundle] = await Promise.all([
    readFile(here('./web/index.html')),
    readFile(here('./web/style.css')),
    build({
      entryPoints: [here('./web/app.ts')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      write: false,
      sourcemap: 'inline',
      logLevel: 'silent',
    }).then((result) => result.outputFiles[0]!.contents),
  ])

  const restoreEnv = setEnv({ PLAYGROUND_BINARY_BYTES: options.binaryBytes, PLAYGROUND_PACE: options.pace })
  const emulators = new Map<FunctionName, DevServer>()
  try {
    for (const name of FUNCTIONS) {
      emulators.set(
        name,
        await serve(here(`./functions/${name}.ts`), {
          shaping: options.shaping === false ? false : SHAPING[name],
          log: log === undefined ? false : (message) => log(`${name}: ${message}`),
          functionName: `sluice-playground-${name}`,
        }),
      )
    }
  } catch (error) {
    await Promise.all([...emulators.values()].map((emulator) => emulator.close()))
    restoreEnv()
    throw error
  }

  // The proxied responses in flight, by function, so that /control/cut can drop them.
  const active = new Map<FunctionName, Set<ServerResponse>>(FUNCTIONS.map((name) => [name, new Set()]))

  const proxy = (name: FunctionName, rest: string, req: IncomingMessage, res: ServerResponse) => {
    // Appended to the emulator's origin, not resolved against its URL: a path such as //host/… would name
    // another host, and the page server would proxy to any server its caller names.
    const target = new URL(`${new URL(emulators.get(name)!.url).origin}${rest}`)
    const upstream = request(target, { method: req.method, headers: endToEnd(req.headers) })
    const responses = active.get(name)!
    // Set once the client has gone (or a cut): the upstream errors that follow are the proxy's own doing.
    let gone = false
    const failed = (what: string, error: Error) => {
      if (!gone) log?.(`${name}: ${req.method} ${rest} ${what}: ${error.message}`)
    }
    upstream.on('response', (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, endToEnd(answer.headers))
      res.flushHeaders()
      responses.add(res)
      // pipe() forwards each chunk as it arrives, with backpressure, and buffers nothing beyond that.
      answer.pipe(res)
      answer.on('error', (error) => {
        failed('broke off mid-body, a dropped connection to the client', error)
        res.destroy()
      })
    })
    upstream.on('error', (error) => {
      if (res.headersSent) {
        res.destroy()
      } else {
        failed('could not reach the function, answered 502', error)
        res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' })
        res.end(`The playground could not reach the ${name} function: ${error.message}\n`)
      }
    })
    // A client that goes away (or a cut) ends the upstream request too, as a dropped connection would.
    res.on('close', () => {
      responses.delete(res)
      if (!res.writableFinished) {
        gone = true
        upstream.destroy()
      }
    })
    req.pipe(upstream)
  }

  const cut = (name: FunctionName): number => {
    const responses = active.get(name)!
    const count = responses.size
    for (const res of responses) {
      // Destroying the socket mid-body is exactly what a network drop looks like to the client: the chunked
      // body stops without its last chunk.
      res.socket?.destroy()
      res.destroy()
    }
    responses.clear()
    return count
  }

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://playground')
    const fn = /^\/fn\/([a-z]+)(\/.*)?$/.exec(url.pathname)
    if (fn !== null) {
      const name = fn[1] as FunctionName
      if (!FUNCTIONS.includes(name)) return notFound(res, `There is no function named ${fn[1]}.`)
      return proxy(name, `${fn[2] ?? '/'}${url.search}`, req, res)
    }
    if (url.pathname === '/control/cut') {
      const name = url.searchParams.get('name') as FunctionName
      if (req.method !== 'POST') {
        // RFC 9110 §15.5.6: a 405 names the methods the resource takes.
        res.setHeader('allow', 'POST')
        return send(res, 405, 'text/plain; charset=utf-8', 'Use POST.\n')
      }
      if (!FUNCTIONS.includes(name)) return notFound(res, `There is no function named ${String(name)}.`)
      return send(res, 200, 'application/json', JSON.stringify({ name, cut: cut(name) }))
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return notFound(res, 'Not found.')
    switch (url.pathname) {
      case '/':
      case '/index.html':
        return send(res, 200, 'text/html; charset=utf-8', page)
      case '/style.css':
        return send(res, 200, 'text/css; charset=utf-8', style)
      case '/app.js':
        return send(res, 200, 'text/javascript; charset=utf-8', bundle)
      default:
        return notFound(res, 'Not found.')
    }
  }

  const server = createServer((req, res) => {
    try {
      handle(req, res)
    } catch (error) {
      log?.(`failed on ${req.method} ${req.url}: ${error instanceof Error ? error.message : String(error)}`)
      res.destroy()
    }
  })
  try {
    await listenOrFallBack(server, options.port ?? 5173, options.host ?? '127.0.0.1', log)
  } catch (error) {
    await Promise.all([...emulators.values()].map((emulator) => emulator.close()))
    restoreEnv()
    throw error
  }
  let closing: Promise<void> | undefined
  return {
    url: baseUrlOf(server),
    functions: Object.fromEntries([...emulators].map(([name, emulator]) => [name, emulator.url])) as Record<
      FunctionName,
      string
    >,
    close() {
      closing ??= (async () => {
        await closeServer(server)
        await Promise.all([...emulators.values()].map((emulator) => emulator.close()))
        restoreEnv()
      })()
      return closing
    },
  }
}

/**
 * Sets the variables whose value is given (the functions read them at request time); returns what puts back
 * the values they had, so that a playground started in a test leaves the process as it found it.
 */
function setEnv(values: Record<string, number | undefined>): () => void {
  const before = Object.entries(values)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => {
      const old = process.env[name]
      process.env[name] = String(value)
      return [name, old] as const
    })
  return () => {
    for (const [name, old] of before) {
      if (old === undefined) delete process.env[name]
      else process.env[name] = old
    }
  }
}

function send(res: ServerResponse, status: number, type: string, body: string | Uint8Array): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' })
  res.end(body)
}

function notFound(res: ServerResponse, message: string): void {
  send(res, 404, 'text/plain; charset=utf-8', `${message}\n`)
}

/** Listens on `port`, or on a free port when it is taken (the page's usual 5173 may be in use). */
async function listenOrFallBack(
  server: Server,
  port: number,
  host: string,
  log: ((message: string) => void) | undefined,
): Promise<void> {
  try {
    await listen(server, port, host)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === 0) throw error
    log?.(`port ${port} is taken; using a free port instead.`)
    await listen(server, 0, host)
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { port: { type: 'string' } } })
  // An empty value is none (as a shell's `PORT= npm run playground` or an env file's `PORT=` leave it): the
  // default, not Number('') = 0, any free port.
  const raw = values.port || process.env.PORT || undefined
  const port = raw === undefined ? 5173 : Number(raw)
  if (!(Number.isInteger(port) && port >= 0 && port < 65536)) {
    throw new Error(`--port (or PORT) must be a port number between 0 and 65535, got ${raw}.`)
  }
  const playground = await startPlayground({ port })
  process.stdout.write(`sluice playground: open ${playground.url}\n`)
  for (const [name, url] of Object.entries(playground.functions)) {
    process.stdout.write(
      `  ${name.padEnd(9)} ${new URL(`fn/${name}`, playground.url).href}  (emulator ${url})\n`,
    )
  }
  process.stdout.write('Ctrl-C stops it.\n')
  const stop = () => {
    playground.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
    // Running handlers keep their timers; do not wait for them.
    setTimeout(() => process.exit(0), 1000).unref()
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    process.stderr.write(`sluice playground: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  })
}
