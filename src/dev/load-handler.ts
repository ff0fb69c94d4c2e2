import { stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { AnyLambdaHandler } from '../runtime/index.ts'

/**
 * Loads a handler module the way the Lambda runtime does: the `handler` export, else the default export (or its
 * `handler`). `path#name` picks another export, like the runtime's `file.name` handler setting.
 *
 * Throws an `Error` whose message says what is wrong and what to do: a missing file, a module that fails to
 * load, or one without a handler.
 *
 * @example
 * const handler = await loadHandler('./handler.mjs')
 */
export async function loadHandler(specifier: string, cwd: string = process.cwd()): Promise<AnyLambdaHandler> {
  const hash = specifier.lastIndexOf('#')
  const path = hash === -1 ? specifier : specifier.slice(0, hash)
  const exportName = hash === -1 ? undefined : specifier.slice(hash + 1)
  const absolute = resolve(cwd, path)
  const file = await stat(absolute).catch(() => undefined)
  if (!file?.isFile()) {
    throw new Error(
      `The handler module ${path} was not found (looked for ${absolute}); pass the path of a .mjs or .js file that exports handler.`,
    )
  }
  let module: Record<string, unknown>
  try {
    module = (await import(pathToFileURL(absolute).href)) as Record<string, unknown>
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new Error(`The handler module ${path} could not be loaded: ${reason}`, { cause: error })
  }
  const candidate = exportName !== undefined ? module[exportName] : pickDefault(module)
  if (typeof candidate !== 'function') {
    const names = Object.keys(module)
    const wanted =
      exportName !== undefined
        ? `an export named ${exportName}`
        : 'an export named handler or a default export'
    throw new Error(
      `The handler module ${path} has no handler: it needs ${wanted} that is a function (export const handler = awslambda.streamifyResponse(async (event, responseStream, context) => { … })). Its exports: ${names.length > 0 ? names.join(', ') : 'none'}.`,
    )
  }
  return candidate as AnyLambdaHandler
}

function pickDefault(module: Record<string, unknown>): unknown {
  if (typeof module.handler === 'function') return module.handler
  const fallback = module.default
  if (typeof fallback === 'function') return fallback
  if (typeof fallback === 'object' && fallback !== null) return (fallback as Record<string, unknown>).handler
  return undefined
}
