import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { isAbsolute, relative, resolve } from 'node:path'
import { STOP_SIGNALS, stopCode, stopSignal } from './die-by-signal.ts'
import { type GraphReport, isGraphReport, WATCHED_ENV, type WatcherMessage } from './module-graph.ts'
import { watchFiles } from './watch-files.ts'

/** How long a server stopped for a restart may take to close (its handlers to finish) before it is killed, in ms. */
const KILL_AFTER_MS = 2000

/** A `sluice dev` this process started. */
interface Server {
  child: ChildProcess
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** How its handler module loaded, as it last told; `undefined` while it loads. */
  outcome: GraphReport['sluiceDevGraph'] | undefined
}

/**
 * `sluice dev --watch`: serves `args` (without `--watch`) from a child `sluice dev`, started afresh whenever the
 * handler module (`module`, as given) or a module it imports, however deep, changes; resolves with the exit code
 * once a signal has stopped it (130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP), as `sluice dev` alone does.
 *
 * A module is loaded once per process, so a server that stays up keeps serving the code it started with: a fresh
 * process, with fresh module state, serves the code as it now is, as a new deployment does. The child records the
 * files its module graph loads (through `module.registerHooks`; the handler module alone on a Node without it)
 * and reports them; this process watches their directories, which see a file saved in place and one saved by
 * replacing it (a new file renamed over it, as `sed -i` and editors' "safe write" save) alike, and one that leaves
 * the content as it was not at all. A burst of saves is one restart: the server is stopped (SIGTERM, killed if it
 * has not closed within 2 s) and started again, after a line that names what changed. A module that does not load
 * is reported, and the next save is tried; a server that cannot listen (the port taken) ends this process with its
 * exit code, 1, since no edit changes that.
 * A signal passed to this process alone stops the server as it would stop `sluice dev`, and this process then
 * dies by it, so that a shell loop or script stops on Ctrl-C; a second signal ends both at once.
 *
 * @example
 * await watch(['./handler.mjs', '--port', '3000'], './handler.mjs')
 */
export async function watch(args: string[], module: string): Promise<number> {
  const entry = entryFiles(module)
  // The files of the running server's module graph.
  let watched = new Set(entry)
  let changed = Promise.withResolvers<string[]>()
  const files = watchFiles((paths) => changed.resolve(paths))
  files.set(entry)
  let stoppedBy: NodeJS.Signals | undefined
  const { promise: signalled, resolve: signalCame } = Promise.withResolvers<'signal'>()
  let server: Server | undefined
  // Ctrl-C reaches the whole process group, the server included; a signal sent to this process alone is passed on.
  const onSignal = (signal: NodeJS.Signals): void => {
    if (server !== undefined && stoppedBy !== undefined) server.child.kill(signal)
    else if (server !== undefined) stop(server, signal)
    stoppedBy ??= signal
    signalCame('signal')
  }
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal)
  try {
    for (;;) {
      // A change seen before this server starts is one it loads already: what it loads is what later saves change.
      changed = Promise.withResolvers()
      files.rebase()
      const current = start(args, (report) => {
        // The first report of a server names its whole graph: a module it no longer imports is no longer watched.
        const graph = report.sluiceDevGraph === 'imported' ? watched : new Set(entry)
        for (const file of report.files) graph.add(file)
        watched = graph
        files.set(watched)
      })
      server = current
      const next = await Promise.race([current.exited, changed.promise, signalled])
      if (next === 'signal') {
        await current.exited
        return stopCode(stoppedBy ?? 'SIGTERM')
      }
      if (Array.isArray(next)) {
        process.stdout.write(`sluice dev: restarting after ${listed(next)} changed\n`)
        await restart(current)
      } else {
        if (stoppedBy !== undefined) return stopCode(stoppedBy)
        // Stopped by a signal that this process has not taken yet (Ctrl-C), or that was sent to the server alone.
        const by =
          next.signal !== null
            ? STOP_SIGNALS.find((each) => each === next.signal)
            : stopSignal(next.code ?? 0)
        if (by !== undefined) return stopCode(by)
        if (current.outcome === 'not-listening' || !files.watching()) return next.code ?? 1
        process.stderr.write(
          'sluice dev: not serving; starting again when the handler module or a module it imports changes.\n',
        )
        server = undefined
        const fix = await Promise.race([changed.promise, signalled])
        if (fix === 'signal') return stopCode(stoppedBy ?? 'SIGTERM')
        process.stdout.write(`sluice dev: restarting after ${listed(fix)} changed\n`)
      }
      if (stoppedBy !== undefined) return stopCode(stoppedBy)
    }
  } finally {
    files.close()
    for (const each of STOP_SIGNALS) process.off(each, onSignal)
  }
}

/** Starts `sluice dev args` with an IPC channel, over which it reports the files of its module graph. */
function start(args: string[], reported: (report: GraphReport) => void): Server {
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1] ?? '', 'dev', ...args], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, [WATCHED_ENV]: '1' },
  })
  const server: Server = {
    child,
    // A process that could not be started at all counts as one that failed.
    exited: (once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>).then(
      ([code, signal]) => ({ code, signal }),
      () => ({ code: 1, signal: null }),
    ),
    outcome: undefined,
  }
  child.on('message', (message) => {
    if (!isGraphReport(message)) return
    reported(message)
    if (message.sluiceDevGraph === 'imported') return
    server.outcome = message.sluiceDevGraph
    // Before the server prints its URL: a save made once it is out restarts it.
    if (child.connected) child.send({ sluiceDevWatching: true } satisfies WatcherMessage, ignore)
  })
  return server
}

/**
 * Stops `server` as `signal` would stop `sluice dev`. One that serves is asked by message, since the same signal may
 * have reached it already (Ctrl-C reaches the whole process group) and a second one would end it at once; one that
 * still loads has no listener yet, and the signal ends it.
 */
function stop(server: Server, signal: NodeJS.Signals): void {
  const { child } = server
  if (child.exitCode !== null || child.signalCode !== null) return
  if (server.outcome === 'served' && child.connected)
    child.send({ sluiceDevStop: signal } satisfies WatcherMessage, ignore)
  else child.kill(signal)
}

// A message to a server that exited meanwhile: its exit tells the rest.
const ignore = (): void => {}

/** Stops `server` for a restart, and resolves once it has exited: killed if it does not within `KILL_AFTER_MS`. */
async function restart(server: Server): Promise<void> {
  stop(server, 'SIGTERM')
  const timer = setTimeout(() => server.child.kill('SIGKILL'), KILL_AFTER_MS)
  await server.exited
  clearTimeout(timer)
}

/**
 * The files a handler module given as `module` may be, watched from the start and whatever the server reports:
 * `./handler.mjs#name` names `./handler.mjs`, unless a file is named so (a directory `a#b`).
 */
function entryFiles(module: string): string[] {
  const hash = module.lastIndexOf('#')
  return hash === -1 ? [resolve(module)] : [resolve(module), resolve(module.slice(0, hash))]
}

/** The files that changed, for the restart notice: from the working directory when they are under it. */
function listed(files: string[]): string {
  const shown = files.map((file) => {
    const path = relative(process.cwd(), file)
    return path.startsWith('..') || isAbsolute(path) ? file : path
  })
  return shown.length <= 2 ? shown.join(' and ') : `${shown[0]} and ${shown.length - 1} other files`
}
