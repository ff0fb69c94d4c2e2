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
export async function watch(args: string[]): Promise<number> {
  const child = spawn(
    process.execPath,
    [...process.execArgv, '--watch', '--watch-preserve-output', process.argv[1] ?? '', 'dev', ...args],
    { stdio: 'inherit' },
  )
  let stoppedBy: NodeJS.Signals | undefined
  // Ctrl-C reaches the whole process group, the watcher included; a signal sent to this process alone is passed on.
  const stop = (signal: NodeJS.Signals) => {
    stoppedBy ??= signal
    child.kill(signal)
  }
  for (const signal of STOP_SIGNALS) process.on(signal, stop)
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null]
  for (const each of STOP_SIGNALS) process.off(each, stop)
  const by = stoppedBy ?? signal ?? undefined
  return by !== undefined ? stopCode(by) : (code ?? 1)
}
