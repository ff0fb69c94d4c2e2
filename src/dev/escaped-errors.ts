import { describeValue } from '../runtime/index.ts'
import { describeExitCall } from './exit-call.ts'

/** The invocations of one running server, as {@link watchEscapedErrors} sees them. */
export interface EscapedErrorWatcher {
  /** One controller per invocation still running; aborting one fails that invocation with the reason. */
  readonly running: ReadonlySet<AbortController>
  /** The server's log, if it has one. */
  readonly log: ((message: string) => void) | undefined
}

type ProcessEvent = 'unhandledRejection' | 'uncaughtException'

const watchers = new Set<EscapedErrorWatcher>()
/** What `process.exit` was before the first watcher replaced it. */
let realExit: typeof process.exit = process.exit
/** What the replacement of `process.exit` threw: reported at the call, so not again when it escapes in turn. */
const thrownByExit = new WeakSet<Error>()

// A handler's unhandled rejection or uncaught exception would otherwise end the whole process, every other server
// and invocation with it. On AWS it ends one execution environment: the invocation running there fails
// (Runtime.UnhandledPromiseRejection, or the runtime's exit) and the next request gets a fresh environment. One
// process here runs every invocation, so an error that escapes can only be attributed when one is running; with
// several, each is failed, and says why. With none (a timer left behind by an invocation that has ended), it is
// logged and the server serves on: on AWS the environment would have been frozen between invocations, and the
// error would surface in some later one, or never; failing an unrelated invocation here would only mislead.
const onEscape = (event: ProcessEvent) => (reason: unknown) => {
  if (reason instanceof Error && thrownByExit.has(reason)) return
  const running = countRunning()
  const what =
    event === 'unhandledRejection'
      ? 'an unhandled promise rejection (Runtime.UnhandledPromiseRejection)'
      : 'an uncaught exception'
  const thrown = describeReason(reason)
  if (running === 0) {
    for (const watcher of watchers)
      watcher.log?.(`${what} escaped a handler while no invocation was running: ${thrown}; serving on.`)
    return
  }
  const error = new Error(
    running === 1
      ? `${what} escaped the handler: ${thrown}`
      : `${what} escaped a handler: ${thrown}; it failed all ${running} invocations running, since it cannot be told which one it came from`,
    { cause: reason },
  )
  // Each invocation logs its own failure with this message, as it would a throw.
  for (const watcher of watchers) for (const controller of watcher.running) controller.abort(error)
}

const onUnhandledRejection = onEscape('unhandledRejection')
const onUncaughtException = onEscape('uncaughtException')

// On AWS, `process.exit` in a handler ends its execution environment: the invocation fails with
// Runtime.ExitError and the next request gets a fresh one. Here it would end every server and invocation of the
// process, so while a server watches, it fails the running invocations as an escaped error does (or, with none
// running, is logged) and throws, since the code after a call to `process.exit` must not run as if it had
// returned. A handler that catches that throw itself runs on, but its invocation has failed already.
function exitInstead(code?: number | string | null): never {
  // A replacement put over this one, then left in place when the last watcher went, still ends the process.
  if (watchers.size === 0) return realExit(code)
  const running = countRunning()
  const what = `called ${describeExitCall(code)}`
  if (running === 0) {
    const message = `a handler ${what} while no invocation was running`
    for (const watcher of watchers) watcher.log?.(`${message}; serving on.`)
    throw exitError(`${message}: the emulator serves on instead of ending the process.`)
  }
  const error = exitError(
    running === 1
      ? `the handler ${what}`
      : `a handler ${what}; it failed all ${running} invocations running, since it cannot be told which one it came from`,
  )
  for (const watcher of watchers) for (const controller of watcher.running) controller.abort(error)
  // The very error the invocations failed with: whichever of the abort and this throw reaches one first (the
  // throw does, in a buffered handler), the invocation says the same.
  throw error
}

function exitError(message: string): Error {
  const error = new Error(message)
  // The type that the trailers of a failure after the first byte report (`lateFailure: 'trailers'`).
  error.name = 'Runtime.ExitError'
  thrownByExit.add(error)
  return error
}

/**
 * Fails the running invocations of `watcher` when an error escapes every handler (`unhandledRejection`,
 * `uncaughtException`) or a handler calls `process.exit`, instead of letting it end the process; returns the
 * function that stops watching. The process listeners and the replacement of `process.exit` are shared by every
 * watching server and go away with the last one.
 *
 * @example
 * const running = new Set<AbortController>() // one per invocation, removed when it finishes
 * const unwatch = watchEscapedErrors({ running, log: console.error })
 * // … in close()
 * unwatch()
 */
export function watchEscapedErrors(watcher: EscapedErrorWatcher): () => void {
  if (watchers.size === 0) {
    process.on('unhandledRejection', onUnhandledRejection)
    process.on('uncaughtException', onUncaughtException)
    realExit = process.exit
    process.exit = exitInstead
  }
  watchers.add(watcher)
  return () => {
    if (!watchers.delete(watcher) || watchers.size > 0) return
    process.off('unhandledRejection', onUnhandledRejection)
    process.off('uncaughtException', onUncaughtException)
    // Unless something replaced it in turn: taking that away would undo its owner's work.
    if (process.exit === exitInstead) process.exit = realExit
  }
}

function countRunning(): number {
  let running = 0
  for (const watcher of watchers) running += watcher.running.size
  return running
}

/** `Error: message (at file:line:column)`: what was thrown and where, on one line. */
function describeReason(reason: unknown): string {
  // A realm's check too: an error from a vm context or a worker's message is not `instanceof` this realm's Error.
  const isError = reason instanceof Error || Object.prototype.toString.call(reason) === '[object Error]'
  if (!isError) return describeValue(reason)
  const error = reason as Error
  const where = error.stack
    ?.split('\n')
    .find((line) => line.trimStart().startsWith('at '))
    ?.trim()
  return `${error.name}: ${error.message}${where ? ` (${where})` : ''}`
}
