import { awslambda } from './awslambda.ts'
import type { Awslambda } from './types.ts'

interface WithAwslambda {
  awslambda?: Awslambda
}

let installs = 0
let ours = false

/**
 * Defines `globalThis.awslambda` (as the Lambda runtime does) for code that calls it at module top level; returns
 * a function that undoes it. Only on explicit request: importing sluice never touches globals. An `awslambda`
 * that already exists (the real runtime's, or one installed by the caller) is left alone; nested installs are
 * counted, and the global goes away with the last uninstall.
 *
 * @example
 * const uninstall = installAwslambdaGlobal()
 * const { handler } = await import('./handler.mjs')
 * // … later
 * uninstall()
 */
export function installAwslambdaGlobal(): () => void {
  const scope = globalThis as WithAwslambda
  if (installs === 0 && scope.awslambda === undefined) {
    scope.awslambda = awslambda
    ours = true
  }
  installs++
  let done = false
  return () => {
    if (done) return
    done = true
    installs--
    if (installs === 0 && ours) {
      delete scope.awslambda
      ours = false
    }
  }
}
