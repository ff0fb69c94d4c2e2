import { parseArgs } from 'node:util'
import { isOrigin, sluiceCors } from '../dev/cors.ts'
import { serveWith } from '../dev/serve.ts'
import { MAX_TIMEOUT_MS } from '../runtime/index.ts'
import { watch } from './dev-watch.ts'
import { STOP_SIGNALS, stopCode } from './die-by-signal.ts'
import { watchedGraph } from './module-graph.ts'
import { parseFailure } from './parse-failure.ts'

const usage = `Usage: sluice dev <handler module> [options]

Serves a Lambda handler module (export const handler = awslambda.streamifyResponse(…)) as a local function URL
in RESPONSE_STREAM mode. Use ./handler.mjs#name to serve another export. The function runs at UTC (TZ=:UTC),
as on Lambda, unless TZ is set.

Options:
  -p, --port <n>      port to listen on (default 3000; 0 picks a free one)
  --host <address>    address to listen on (default 127.0.0.1)
  --shaping lambda    send the first 6 MiB at once, then about 2 MiB/s, as the service does
  --timeout <ms>      invocation timeout (default 900000, 15 minutes)
  --late-failure trailers
                      end the body cleanly when the function fails after its first byte, the error in
                      HTTP trailers, as a function URL may (default cut: the connection is cut)
  --cors <origin>     answer CORS as a function URL configured for this origin (repeat it, or separate
                      origins with commas; * for any): preflights answered without invoking the function,
                      any method, the request headers sluice sends allowed (content-type, range, if-range,
                      last-event-id, x-sluice-cursor) and the response headers it reads exposed
                      (x-sluice-end, x-amzn-remapped-content-length, content-range, accept-ranges, etag,
                      content-encoding, date, retry-after)
  --watch             restart when the handler module or a module it imports changes
  -h, --help          show this help

Ctrl-C (SIGINT), SIGTERM or SIGHUP closes the server, cutting the responses in flight, then ends the process
by that signal, so that a shell loop or script stops too.

Exit status, as $? shows it: 1 the handler module did not load or the server could not listen, 2 bad usage,
130 stopped by Ctrl-C (143 by SIGTERM, 129 by SIGHUP).`

/**
 * `sluice dev`: starts the emulator and serves until a signal stops it; resolves with the exit code: 130 once
 * Ctrl-C (143 SIGTERM, 129 SIGHUP) has closed the server (the bin then dies by that signal), 1 for a handler that
 * cannot be loaded or an address it cannot listen on, 2 for bad options. A second signal while the server closes
 * ends the process at once, by that signal.
 *
 * @example
 * await run(['./handler.mjs', '--port', '3000'])
 */
export async function run(args: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(args)
  } catch (error) {
    return bad(parseFailure(error))
  }
  const { values, positionals } = parsed
  if (values.help) {
    process.stdout.write(`${usage}\n`)
    return 0
  }
  const [module, ...extra] = positionals
  if (module === undefined || extra.length > 0) {
    process.stderr.write(`sluice dev: pass exactly one handler module.\n\n${usage}\n`)
    return 2
  }
  // Number('') is 0, a free port: an empty --port is a mistake, not a choice.
  const port = values.port === undefined ? 3000 : values.port.trim() === '' ? Number.NaN : Number(values.port)
  const timeoutMs = values.timeout === undefined ? undefined : Number(values.timeout)
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    return bad(`--port must be a port number; got ${values.port === '' ? 'an empty one' : values.port}.`)
  if (timeoutMs !== undefined && !(timeoutMs > 0))
    return bad(`--timeout must be a positive number of milliseconds; got ${values.timeout}.`)
  if (timeoutMs !== undefined && timeoutMs > MAX_TIMEOUT_MS && timeoutMs !== Number.POSITIVE_INFINITY)
    return bad(
      `--timeout must be at most ${MAX_TIMEOUT_MS} ms (about 24.8 days, the longest a timer waits); got ${values.timeout}.`,
    )
  // node:net takes an empty host for none, the wildcard: the emulator would be open to the whole network.
  if (values.host?.trim() === '') return bad('--host must be an address such as 127.0.0.1; got an empty one.')
  if (values.shaping !== undefined && values.shaping !== 'lambda')
    return bad(`--shaping takes only lambda; got ${values.shaping}.`)
  const lateFailure = values['late-failure']
  if (lateFailure !== undefined && lateFailure !== 'cut' && lateFailure !== 'trailers')
    return bad(
      `--late-failure takes cut or trailers; got ${lateFailure === '' ? 'an empty one' : lateFailure}.`,
    )

  const origins = values.cors?.flatMap((value) => value.split(',').map((origin) => origin.trim()))
  const notOrigin = origins?.find((origin) => origin !== '*' && !isOrigin(origin))
  if (notOrigin !== undefined)
    return bad(
      `--cors takes origins such as http://localhost:5173 (scheme, host and port, no path), or *; got ${notOrigin === '' ? 'an empty one' : notOrigin}.`,
    )

  // The module is loaded once per process: a child started afresh at each change serves the code as it now is.
  if (values.watch)
    return watch(
      args.filter((arg) => arg !== '--watch'),
      module,
    )
  // Lambda runs a function at UTC (TZ=:UTC) unless its configuration sets TZ: on the machine's own zone, a handler
  // that reads the local date or hour answers otherwise once deployed. A TZ from the shell stands for that setting,
  // as the shell's other variables stand for the function's. Set before the module loads: its top level may read
  // the time too.
  process.env.TZ ??= ':UTC'
  // Under `--watch`: the files the handler loads are recorded from here, for the watcher to watch.
  const graph = watchedGraph()
  let server: Awaited<ReturnType<typeof serveWith>>
  try {
    server = await serveWith(
      module,
      {
        port,
        host: values.host ?? '127.0.0.1',
        shaping: values.shaping === 'lambda' ? 'lambda' : false,
        limits: timeoutMs === undefined ? {} : { timeoutMs },
        lateFailure,
        cors: origins === undefined ? undefined : sluiceCors(origins),
        // The process is the emulator alone: a handler's escaped error fails its invocation, as on the service.
        catchEscapedErrors: true,
      },
      // Timeouts, logged here and sent to the client, tell to raise the flag rather than the library's option.
      { timeoutSetting: '--timeout' },
    )
  } catch (error) {
    process.stderr.write(`sluice dev: ${startFailure(error, port, values.host ?? '127.0.0.1')}\n`)
    // A module that did not load may load once fixed, and the watcher waits for that; an address stays taken.
    await graph?.report(isListenFailure(error) ? 'not-listening' : 'not-loaded')
    return 1
  }
  const { promise: stopped, resolve: stop } = Promise.withResolvers<NodeJS.Signals>()
  // Before the URL goes out: a script that waits for it and then sends Ctrl-C must find the server stopping.
  for (const signal of STOP_SIGNALS) process.on(signal, stop)
  // A watcher passes a signal on by message: one that reached this process too (Ctrl-C) would come twice.
  graph?.onStop(stop)
  await graph?.report('served')
  process.stdout.write(`sluice dev: serving ${module} at ${server.url}\n`)
  const signal = await stopped
  // A second signal, while the server closes, has its default action: it ends the process at once.
  for (const each of STOP_SIGNALS) process.off(each, stop)
  await server.close()
  // The bin dies by the signal, once what was written is out: a shell loop (`until sluice dev …`) or a script
  // (`sluice dev … && next`) stops on Ctrl-C, as it does for any command, instead of taking it for a success.
  return stopCode(signal)
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      shaping: { type: 'string' },
      timeout: { type: 'string' },
      'late-failure': { type: 'string' },
      cors: { type: 'string', multiple: true },
      watch: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
}

// The server could not start: a listen error gets what to do about it, anything else (the handler module) its
// first line.
function startFailure(error: unknown, port: number, host: string): string {
  const code = errorCode(error)
  if (code === 'EADDRINUSE')
    return `port ${port} on ${host} is already in use; pass another --port, or --port 0 for a free one.`
  if (code === 'EACCES')
    return `listening on port ${port} on ${host} is not allowed here; pass a port above 1023, or --port 0 for a free one.`
  if (code === 'EADDRNOTAVAIL')
    return `${host} is not an address of this machine; pass another --host, such as 127.0.0.1.`
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? ''
}

const errorCode = (error: unknown): unknown => (error as { code?: unknown } | null)?.code

function isListenFailure(error: unknown): boolean {
  const code = errorCode(error)
  return code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL'
}

function bad(message: string): number {
  process.stderr.write(`sluice dev: ${message}\n\n${usage}\n`)
  return 2
}
