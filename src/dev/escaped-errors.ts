import { describeValue } from '../runtime/index.ts'

/** The invocations of one running server, as {@link watchEscapedErrors} sees them. */
export interface EscapedErrorWatcher {
  /** One controller per invocation still running; aborting one fails that invocation with the reason. */
  readonly running: ReadonlySet<AbortController>
  /** The server's log, if it has one. */
  readonly log: ((message: string) => void) | undefined
}

type ProcessEvent = 'unhandledRejection' | 'uncaughtException'

const watchers = new Set<EscapedErrorWatcher>()

// A handler's unhandled rejection or uncaught exception would otherwise end the whole process, every other server
// and invocation with it. On AWS it ends one execution environment: the invocation running there fails
// (Runtime.UnhandledPromiseRejection, or the runtime's exit) and the next request gets a fresh environment. One
// process here runs every invocation, so an error that escapes can only be attributed when one is running; with
// several, each is failed, and says why. With none (a timer left behind by an invocation that has ended), it is
// logged and the server serves on: on AWS the environment would have been frozen between invocations, and the
// error would surface in some later one, or never; failing an unrelated invocation here would only mislead.
const onEscape = (event: ProcessEvent) => (reason: unknown) => {
  let running = 0
  for (const watcher of watchers) running += watcher.running.size
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

/**
 * Fails the running invocations of `watcher` when an error escapes every handler (`unhandledRejection`,
 * `uncaughtException`) instead of letting it end the process; returns the function that stops watching. The
 * process listeners are shared by every watching server and go away with the last one.
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
  }
  watchers.add(watcher)
  return () => {
    if (!watchers.delete(watcher) || watchers.size > 0) return
    process.off('unhandledRejection', onUnhandledRejection)
    process.off('uncaughtException', onUncaughtException)
  }
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
