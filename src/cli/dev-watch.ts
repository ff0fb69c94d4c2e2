import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { STOP_SIGNALS, stopCode } from './die-by-signal.ts'

/**
 * `sluice dev --watch`: serves `args` (without `--watch`) from a child `sluice dev` that Node's watch mode restarts
 * whenever the handler module, or any module it imports, changes; resolves with the exit code once a signal has
 * stopped it (130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP), as `sluice dev` alone does.
 *
 * A module is loaded once per process, so a server that stays up keeps serving the code it started with. Node's
 * watch mode knows the whole module graph, the handler's own imports included, and starts a fresh process, with
 * fresh module state, as a new deployment does. It ends its child and exits 0 on a signal: this process dies by
 * the signal instead, so that a shell loop or script stops on Ctrl-C.
 *
 * @example
 * await watch(['./handler.mjs', '--port', '3000'])
 */
/** How long after the watcher's own exit a stop signal still counts, in ms. */
const GRACE_MS = 2000

export async function watch(args: string[]): Promise<number> {
  const child = spawn(
    process.execPath,
    [...process.execArgv, '--watch', '--watch-preserve-output', process.argv[1] ?? '', 'dev', ...args],
    { stdio: 'inherit' },
  )
  let stoppedBy: NodeJS.Signals | undefined
  const { promise: signalled, resolve: signalCame } = Promise.withResolvers<void>()
  // Ctrl-C reaches the whole process group, the watcher included; a signal sent to this process alone is passed on.
  const stop = (signal: NodeJS.Signals) => {
    stoppedBy ??= signal
    signalCame()
    if (child.exitCode === null && child.signalCode === null) child.kill(signal)
  }
  for (const signal of STOP_SIGNALS) process.on(signal, stop)
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null]
  // The watcher exits 0 only when a signal stopped it. A Ctrl-C reached this process too, but on a loaded machine
  // the thread that takes it may run after the watcher's exit was seen (CI once saw exit 0, and the script went
  // on): for a moment, a signal still counts as the one that stopped the server.
  if (stoppedBy === undefined && code === 0) {
    let timer: ReturnType<typeof setTimeout> | undefined
    await Promise.race([signalled, new Promise((resolve) => (timer = setTimeout(resolve, GRACE_MS)))])
    clearTimeout(timer)
  }
  for (const each of STOP_SIGNALS) process.off(each, stop)
  const by = stoppedBy ?? signal ?? undefined
  return by !== undefined ? stopCode(by) : (code ?? 1)
}
