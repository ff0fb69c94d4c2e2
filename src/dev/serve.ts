import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { randomId } from '../runtime/ids.ts'
import {
  type AnyLambdaHandler,
  checkOptions,
  checkRules,
  describeValue,
  discardUnread,
  type FunctionInfo,
  type FunctionUrlResponse,
  type Invocation,
  installAwslambdaGlobal,
  invoke,
  type Limits,
  requestEvent,
  type Shaping,
} from '../runtime/index.ts'
import { type Cors, checkCors, preflightHeaders, responseHeaders } from './cors.ts'
import { watchEscapedErrors } from './escaped-errors.ts'
import { exitWhileLoading } from './exit-call.ts'
import { baseUrlOf, closeServer, listen, refuseTunnels } from './http-server.ts'
import { loadHandler, moduleOfUrl } from './load-handler.ts'
import { readNodeRequest } from './node-request.ts'
import { writeResponse } from './write-response.ts'

/**
 * Options of {@link serve}.
 *
 * @example
 * serve('./handler.mjs', { port: 3000, limits: { timeoutMs: 30_000 }, shaping: 'lambda' })
 */
export interface ServeOptions extends FunctionInfo {
  /** Default `0`: any free port (read the chosen one from `url`). */
  port?: number | undefined
  /** Default `'127.0.0.1'`. */
  host?: string | undefined
  /**
   * Service limits: 200 MiB streamed responses, 6 MB buffered results, a 15-minute timeout and 6 MiB requests
   * (counted as their events' JSON, a binary body as base64) by default.
   */
  limits?: Limits | undefined
  /** `'lambda'` for the service's 6 MiB burst then 2 MiB/s, a custom `{ burstBytes, bytesPerSecond }`, or none (default). */
  shaping?: 'lambda' | Shaping | false | undefined
  /** Where the function's failures are reported, one line each; `false` for nowhere. Default: standard error. */
  log?: ((message: string) => void) | false | undefined
  /** Called with every invocation as it starts, e.g. to await `invocation.finished` in tests. */
  onInvocation?: ((invocation: Invocation) => void) | undefined
  /**
   * Let an error that escapes a handler (an unhandled promise rejection, an uncaught exception), or its call to
   * `process.exit`, fail the invocation running, as the service fails it, instead of ending the process. It is
   * caught through process listeners and a replaced `process.exit`, which cannot tell a handler's error or exit
   * from the host program's own: so only where the process is the emulator alone (`sluice dev` sets it). Default
   * `false`.
   */
  catchEscapedErrors?: boolean | undefined
  /**
   * How a failure after the first byte (the handler's error, the timeout, `limits.maxResponseBytes`) shows:
   * `'cut'`, the connection cut without the last chunk, so that a client cannot miss it; or `'trailers'`, the body
   * ended cleanly, the error in the `Lambda-Runtime-Function-Error-Type` and `Lambda-Runtime-Function-Error-Body`
   * (base64 JSON) trailers that every streamed response then declares in a `Trailer` header, as a function URL
   * may show it: `fetch` cannot read trailers, so only a client that proves the end (a length, an end marker)
   * tells it from a complete body. Default `'cut'`.
   */
  lateFailure?: 'cut' | 'trailers' | undefined
  /**
   * The function URL's CORS setting, for a page on another origin (a dev server's): preflights are answered
   * without invoking the function, and the function's answers to an allowed origin get `Access-Control-Allow-Origin`
   * and the rest, as the service adds them. Default: none, as a function URL without CORS, whose function gets
   * every request, preflights included.
   */
  cors?: Cors | undefined
}

/**
 * A running emulator.
 *
 * @example
 * const server = await serve('./handler.mjs')
 * await fetch(server.url)
 * await server.close()
 */
export interface DevServer {
  /** The base URL, e.g. `http://127.0.0.1:3000/`. */
  url: string
  /**
   * Stops listening and cuts open connections. By default (`running: 'finish'`) running handlers finish on their
   * own, as on AWS, where a client that leaves does not stop its invocation, with the `awslambda` global still
   * defined (and, with `catchEscapedErrors`, their escaped errors and exits still caught) until the last of them
   * has. With `running: 'abort'` their invocations fail at once and their response streams' writes fail, so that a
   * handler that pipes or awaits its writes stops (its source closed) and a test process can exit; a later call
   * with it aborts those a first `close()` left running.
   */
  close(options?: DevServerCloseOptions): Promise<void>
}

/**
 * Options of {@link DevServer.close}.
 *
 * @example
 * const server = await serve('./handler.mjs')
 * await server.close({ running: 'abort' }) // in a test's teardown: no handler outlives the test
 */
export interface DevServerCloseOptions {
  /**
   * What happens to the invocations still running: `'finish'` (the default) lets them run to their end;
   * `'abort'` fails them, their response streams refusing writes with an error that says the server was closed.
   */
  running?: 'finish' | 'abort' | undefined
}

/**
 * Serves a Lambda handler over HTTP exactly as a function URL in `RESPONSE_STREAM` mode would: the payload-2.0
 * event built from each request, the `awslambda` globals, the prelude turned into status, headers and cookies,
 * the service's header rewrites, chunked streaming with backpressure, its limits and (optionally) its shaping.
 *
 * `handler` is a module path (`./handler.mjs`, or `./handler.mjs#name` for another export), resolved from
 * `process.cwd()` when relative, a `file:` URL (`new URL('./handler.mjs', import.meta.url)`, resolved from the
 * calling module; `#name` picks an export there too), or the handler function itself. `globalThis.awslambda` is
 * defined while the server runs (and its handlers, past `close()`) if nothing defined it before, and before the
 * module loads, since handlers call `awslambda.streamifyResponse` at top level.
 *
 * With `catchEscapedErrors` (as `sluice dev` runs it), an error that escapes a handler (an unhandled promise
 * rejection, an uncaught exception) does not end the process: it fails the invocation that is running, as the
 * service fails it (a 502 before the first byte, after it as `lateFailure` says), or every running one when
 * there are several, since it cannot tell which one the error came from; with none running, it is logged. A call
 * to `process.exit` fails them the same way (as `Runtime.ExitError`), or is logged, and throws instead of ending
 * the process, so that the code after it does not run; a handler module that calls it while it loads still ends
 * the process, with status 1 and a line that says why. The process listeners and the replaced `process.exit`
 * go away with `close()`, once the handlers still running then have finished; other `unhandledRejection` and
 * `uncaughtException` listeners (a test runner's) still get the error. Without it, such an error or exit is the
 * host program's, as any other.
 *
 * @example
 * const server = await serve('./handler.mjs', { port: 3000 })
 * console.log(`function URL at ${server.url}`)
 */
export async function serve(
  handler: string | URL | AnyLambdaHandler,
  options: ServeOptions = {},
): Promise<DevServer> {
  return serveWith(handler, options, {})
}

/** How a front end other than the library names the settings in messages: `sluice dev` names its flags. */
export interface ServeWording {
  /** The timeout setting, which a timeout tells to raise. Default: `'limits.timeoutMs'`. */
  timeoutSetting?: string | undefined
}

/** {@link serve}, with messages in the words of its caller (not exported by `sluice/dev`). */
export async function serveWith(
  handler: string | URL | AnyLambdaHandler,
  options: ServeOptions,
  wording: ServeWording,
): Promise<DevServer> {
  const { limits, shaping } = checkOptions('serve', options, {
    port: [
      'a port number from 0 to 65535',
      (port) => Number.isInteger(port) && (port as number) >= 0 && (port as number) <= 65535,
    ],
    host: ['a string', (host) => typeof host === 'string'],
    log: ['a function, or false', (log) => typeof log === 'function' || log === false],
    catchEscapedErrors: ['a boolean', (value) => typeof value === 'boolean'],
    lateFailure: ["'cut' or 'trailers'", (value) => value === 'cut' || value === 'trailers'],
    // Checked below, setting by setting.
    cors: ['an object', () => true],
  })
  const cors = options.cors === undefined ? undefined : checkCors(options.cors, 'serve')
  if (typeof handler !== 'string' && typeof handler !== 'function' && !(handler instanceof URL)) {
    throw new TypeError(
      `serve: handler must be a module path, a file: URL or a handler function, got ${describeValue(handler)}.`,
    )
  }
  // A URL is checked here, before the global is installed: one that is not file: has nothing to load.
  const modulePath =
    handler instanceof URL
      ? moduleOfUrl(handler, 'serve').path
      : typeof handler === 'string'
        ? handler
        : undefined
  const log =
    options.log === false
      ? undefined
      : (options.log ?? ((message: string) => process.stderr.write(`sluice dev: ${message}\n`)))
  const uninstall = installAwslambdaGlobal()
  let fn: AnyLambdaHandler
  const loaded =
    modulePath !== undefined && options.catchEscapedErrors === true
      ? exitWhileLoading(modulePath, log)
      : () => {}
  try {
    fn = typeof handler === 'function' ? handler : await loadHandler(handler)
  } catch (error) {
    uninstall()
    throw error
  } finally {
    loaded()
  }

  const running = new Set<AbortController>()
  // Aborted by close({ running: 'abort' }): it stops every invocation still running, and any that starts after.
  const stopping = new AbortController()
  let closing: Promise<void> | undefined
  const handle = async (req: IncomingMessage, res: ServerResponse, asked: boolean): Promise<void> => {
    const requestId = randomId()
    // The service answers a preflight itself: the function is not invoked.
    const preflight = cors === undefined ? undefined : preflightHeaders(req.method, req.headers, cors)
    if (preflight !== undefined) {
      res.writeHead(200, [...preflight, ['x-amzn-requestid', requestId], ['content-length', '0']].flat())
      res.end()
      return
    }
    const invite = asked ? () => res.writeContinue() : undefined
    const input = await readNodeRequest(req, limits.maxRequestBytes, requestId, invite)
    // The request never arrived whole: as on AWS, nothing is invoked, and there is no failure to log. Its connection
    // is closing already; destroying it makes sure no half-closed one stays open.
    if (input === 'gone') {
      res.destroy()
      return
    }
    let response: FunctionUrlResponse
    if (input === 'bad-url') {
      // As a front end answers a request it cannot route: the function is not invoked, the body is left unread.
      const hosts = req.headersDistinct.host ?? []
      const why =
        hosts.length > 1
          ? `Bad request: the request has ${hosts.length} Host headers (${hosts.map((host) => JSON.stringify(host)).join(', ')}), and HTTP allows one, so the function was not invoked.\n`
          : `Bad request: the Host header ${JSON.stringify(req.headers.host ?? '')} and the request target ${JSON.stringify(req.url)} make no valid URL, so the function was not invoked.\n`
      res.writeHead(400, {
        'content-type': 'text/plain; charset=utf-8',
        'content-length': Buffer.byteLength(why),
        connection: 'close',
      })
      res.end(why)
      return
    }
    // The rest of the body is left unread (it may never end): the connection closes once the 413 is sent.
    if (input === 'too-large') res.setHeader('connection', 'close')
    const event = requestEvent(input, requestId, limits.maxRequestBytes)
    if ('status' in event) {
      response = event
    } else {
      const controller = new AbortController()
      // Running before the handler is called: it may call process.exit before its first await, inside invoke().
      running.add(controller)
      let invocation: ReturnType<typeof invoke>
      try {
        invocation = invoke(fn, event, {
          ...options,
          limits,
          shaping,
          log,
          signal: controller.signal,
          stop: stopping.signal,
          timeoutSetting: wording.timeoutSetting,
        })
      } catch (error) {
        running.delete(controller)
        throw error
      }
      // The global stays while the handler runs, even past close(): it may still call awslambda.HttpResponseStream.
      const release = installAwslambdaGlobal()
      void invocation.finished.then(() => {
        running.delete(controller)
        release()
        // The escaped-error listeners, like the global, stay past close() until the last handler has finished.
        if (closing !== undefined && running.size === 0) unwatch()
      })
      try {
        options.onInvocation?.(invocation)
        response = await invocation.response
      } catch (error) {
        // The connection is cut below; the body nobody will read must not hold the handler up.
        discardUnread(invocation.response)
        throw error
      }
    }
    // Added to the head, before the first byte: the body streams as it would without them.
    if (cors !== undefined)
      response = { ...response, headers: [...response.headers, ...responseHeaders(req.headers.origin, cors)] }
    await writeResponse(response, res, options.lateFailure)
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse, asked = false): void => {
    handle(req, res, asked).catch((error: unknown) => {
      log?.(
        `the emulator failed on ${req.method} ${req.url}: ${error instanceof Error ? error.message : String(error)}`,
      )
      res.destroy()
    })
  }
  const server = createServer((req, res) => onRequest(req, res))
  // Node would answer `Expect: 100-continue` with a 100 at once, inviting a body the emulator then refuses unread
  // (over maxRequestBytes, or a request that makes no URL): the client, cut off while it sends it, gets EPIPE
  // instead of the 413 or 400. The 100 goes out only once the body is to be read.
  server.on('checkContinue', (req, res) => onRequest(req, res, true))
  refuseTunnels(server)
  await listen(server, options.port ?? 0, options.host ?? '127.0.0.1').catch((error: unknown) => {
    uninstall()
    throw error
  })
  // An error on the listening socket (an accept that failed: EMFILE when out of file descriptors) is not fatal:
  // the server keeps listening. Without a listener it would be thrown, ending the process.
  server.on('error', (error: Error) =>
    log?.(`the server failed to accept a connection: ${error.message}; serving on.`),
  )
  const unwatch = options.catchEscapedErrors === true ? watchEscapedErrors({ running, log }) : () => {}
  return {
    url: baseUrlOf(server),
    async close(closeOptions) {
      if (runningOnClose(closeOptions) === 'abort' && !stopping.signal.aborted) {
        stopping.abort(
          new Error(
            "The emulator was closed with close({ running: 'abort' }) while the function was running: its invocation failed, and its response stream takes no more writes.",
          ),
        )
      }
      if (running.size === 0) unwatch()
      closing ??= closeServer(server).finally(uninstall)
      return closing
    },
  }
}

/** Checks the options of {@link DevServer.close} when they are given, as `serve` checks its own. */
function runningOnClose(options: unknown): 'finish' | 'abort' {
  if (options === undefined) return 'finish'
  checkRules('server.close', options, {
    running: ["'finish' or 'abort'", (running) => running === 'finish' || running === 'abort'],
  })
  return (options as DevServerCloseOptions).running ?? 'finish'
}
