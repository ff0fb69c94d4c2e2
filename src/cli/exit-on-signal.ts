import { dieBy, STOP_SIGNALS, stopSignal } from './die-by-signal.ts'

/**
 * How the `sluice` bin ends on Ctrl-C, SIGTERM and SIGHUP. While a command runs, its own listeners handle a signal
 * (`sluice get` and `sluice dev` stop cleanly), or else the signal has its default action. Once the command has
 * its exit code (`settle`), and the process only closes connections and flushes output, a signal ends the process
 * with that code, once standard output has taken what was written to it, and a second one at once: the default
 * action would report a finished download as interrupted. A command that a signal stopped (exit code 128 + its number) dies by
 * that signal once standard output and standard error have taken what was written to them, so that a shell loop
 * or script stops on Ctrl-C as it does for any command; a signal that comes meanwhile ends it at once, by itself.
 *
 * @example
 * const signals = exitOnSignal()
 * const code = await main(process.argv.slice(2))
 * if (code >= 0) signals.settle(code)
 */
export function exitOnSignal(): { settle: (code: number) => void } {
  let outcome: number | undefined
  let signalled = false
  let stopped = false
  const listening = new Set<string>()
  const onSignal = (signal: NodeJS.Signals): void => {
    if (outcome === undefined) {
      if (process.listenerCount(signal) > 1) return
      process.off(signal, onSignal)
      process.kill(process.pid, signal)
      return
    }
    if (stopped) {
      dieBy(signal)
      return
    }
    const code = outcome
    if (signalled) process.exit(code)
    signalled = true
    process.stdout.write('', () => process.exit(code))
  }
  const listen = (signal: string): void => {
    if (listening.has(signal)) return
    listening.add(signal)
    process.on(signal, onSignal)
  }
  // From a command's first listener for a signal on, not from the command's end: between its listeners going and
  // these coming, Node would drop a signal sent to the listeners gone (it hands signals out in a later turn of the
  // event loop) or leave it its default action. Not before: a signal listener keeps a Ctrl-C from interrupting a
  // synchronous read, of `-d @-` from a terminal say.
  process.on('newListener', (event: string | symbol) => {
    if (typeof event === 'string' && (STOP_SIGNALS as readonly string[]).includes(event)) listen(event)
  })
  return {
    settle(code) {
      outcome = code
      for (const signal of STOP_SIGNALS) listen(signal)
      const stopper = stopSignal(code)
      if (stopper === undefined) return
      stopped = true
      const flushed = (stream: NodeJS.WriteStream) =>
        new Promise<void>((resolve) => stream.write('', () => resolve()))
      void Promise.all([flushed(process.stdout), flushed(process.stderr)]).then(() => dieBy(stopper))
    },
  }
}
