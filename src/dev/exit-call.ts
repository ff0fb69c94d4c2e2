import { describeValue } from '../runtime/index.ts'

/**
 * A handler's call to `process.exit` and what the Lambda runtime reports for it, e.g. `process.exit(1)
 * (Runtime.ExitError: Runtime exited with error: exit status 1)`: the status is `code`, else `process.exitCode`,
 * as Node takes it.
 *
 * @example
 * describeExitCall(undefined) // 'process.exit() (Runtime.ExitError: Runtime exited without providing a reason)'
 */
export function describeExitCall(code: unknown): string {
  const call = `process.exit(${code === undefined ? '' : describeValue(code)})`
  const status = code ?? process.exitCode ?? 0
  return Number(status) === 0
    ? `${call} (Runtime.ExitError: Runtime exited without providing a reason)`
    : `${call} (Runtime.ExitError: Runtime exited with error: exit status ${String(status)})`
}

/**
 * While the handler module at `path` loads, lets a `process.exit` it calls end the process, as Node would, but
 * with a line to `log` that says so and with status 1, as for any module that does not load: a silent exit 0
 * would let `sluice dev handler.mjs && next` go on as if it had served. Returns the function that puts the
 * previous `process.exit` back.
 *
 * @example
 * const restore = exitWhileLoading('./handler.mjs', console.error)
 * try { await loadHandler('./handler.mjs') } finally { restore() }
 */
export function exitWhileLoading(path: string, log: ((message: string) => void) | undefined): () => void {
  const real = process.exit
  // On AWS such a module fails the function's init: no request would ever be served by it.
  const replacement = (code?: number | string | null): never => {
    log?.(
      `The handler module ${path} could not be loaded: it called ${describeExitCall(code)} while it loaded, which ends the process; throw an error instead, which says why the module cannot load.`,
    )
    return real(1)
  }
  process.exit = replacement
  return () => {
    if (process.exit === replacement) process.exit = real
  }
}
