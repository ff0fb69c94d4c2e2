/** The signals that stop a command: Ctrl-C, SIGTERM, and SIGHUP from a terminal that closed. */
const SIGNALS: readonly string[] = ['SIGINT', 'SIGTERM', 'SIGHUP']

/**
 * How the `sluice` bin ends on Ctrl-C, SIGTERM and SIGHUP. While a command runs, its own listeners handle a signal
 * (`sluice get` stops cleanly), or else the signal has its default action. Once the command has its exit code
 * (`settle`), and the process only closes connections and flushes output, a signal ends the process with that
 * code, once standard output has taken what was written to it, and a second one at once: the default action would
 * report a finished download as interrupted. A command that a signal stopped (exit code 128 + its number) has had
 * its first.
 *
 * @example
 * const signals = exitOnSignal()
 * const code = await main(process.argv.slice(2))
 * if (code >= 0) signals.settle(code)
 */
export function exitOnSignal(): { settle: (code: number) => void } {
  let outcome: number | undefined
  let signalled = false
  const listening = new Set<string>()
  const onSignal = (signal: NodeJS.Signals): void => {
    if (outcome === undefined) {
      if (process.listenerCount(signal) > 1) return
      process.off(signal, onSignal)
      process.kill(process.pid, signal)
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
    if (typeof event === 'string' && SIGNALS.includes(event)) listen(event)
  })
  return {
    settle(code) {
      outcome = code
      signalled = code > 128
      for (const signal of SIGNALS) listen(signal)
    },
  }
}
