import { constants } from 'node:os'

/** The signals that stop a command: Ctrl-C, SIGTERM, and SIGHUP from a terminal that closed. */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']

/** The exit code of a command that `signal` stopped, as a shell shows it: 128 + its number (130 for SIGINT). */
export function stopCode(signal: NodeJS.Signals): number {
  return 128 + constants.signals[signal]
}

/** The signal behind an exit code of 128 + its number (130 for SIGINT), when it is one of `STOP_SIGNALS`. */
export function stopSignal(code: number): NodeJS.Signals | undefined {
  return STOP_SIGNALS.find((signal) => stopCode(signal) === code)
}

/**
 * Ends the process by `signal`, as its default action would, whoever listens to it: a shell then sees a death by
 * that signal, not an exit code that a program chose (bash goes on with a loop or a script on Ctrl-C when the
 * command exited 130, taking it that the command used Ctrl-C for itself; it stops when the command died by it).
 * The shell still shows 128 + its number in `$?`.
 *
 * @example
 * dieBy('SIGINT') // after the clean stop that a Ctrl-C asked for
 */
export function dieBy(signal: NodeJS.Signals): void {
  // With no listener left, Node gives the signal its default action back at once: sent now, it ends the process
  // before this returns.
  process.removeAllListeners(signal)
  process.kill(process.pid, signal)
}
