import { execFile } from 'node:child_process'
import { stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { AnyLambdaHandler } from '../runtime/index.ts'

/**
 * Loads a handler module the way the Lambda runtime does: the `handler` export, else the default export (or its
 * `handler`). `path#name` picks another export, like the runtime's `file.name` handler setting; it is split at the
 * last `#`, and a path with a `#` in it (a directory `a#b`) is taken whole when it names a file. A relative path
 * is resolved from `cwd` (default: `process.cwd()`, not the calling module's directory); a `file:` URL
 * (`new URL('./handler.mjs', import.meta.url)`, its hash naming another export) is taken as it is.
 *
 * Throws an `Error` whose message says what is wrong and what to do: a missing file, a module that fails to
 * load (a syntax error with its file, line and column, when Node can tell them, in the module or in one it
 * imports), or one without a handler; a `URL` that is not a `file:` URL is a `TypeError`.
 *
 * @example
 * const handler = await loadHandler('./handler.mjs')
 */
export async function loadHandler(
  specifier: string | URL,
  cwd: string = process.cwd(),
): Promise<AnyLambdaHandler> {
  const { path, exportName } =
    specifier instanceof URL ? moduleOfUrl(specifier, 'loadHandler') : await splitSpecifier(specifier, cwd)
  const absolute = resolve(cwd, path)
  if (!(await isFile(absolute))) {
    throw new Error(
      `The handler module ${path} was not found (looked for ${absolute}); pass the path of a .mjs, .js or .ts file (Node 22.18+ strips types) that exports handler.`,
    )
  }
  let module: Record<string, unknown>
  try {
    module = (await import(pathToFileURL(absolute).href)) as Record<string, unknown>
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    const at = await syntaxErrorLocation(error, absolute)
    throw new Error(
      at === undefined
        ? `The handler module ${path} could not be loaded: ${reason}`
        : `The handler module ${path} could not be loaded: ${reason} at ${at}; fix the code there.`,
      { cause: error },
    )
  }
  const candidate = exportName !== undefined ? pickNamed(module, exportName) : pickDefault(module)
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

/**
 * The module path and export name of a handler given as a `file:` URL: its path, and its hash (`#name`) for the
 * export. A `#` in the path itself is `%23` there, so the two never mix. Any other URL is a `TypeError` that names
 * `caller`: an `http:` module cannot be loaded, and a `data:` one would have no file to watch or report errors in.
 */
export function moduleOfUrl(url: URL, caller: string): { path: string; exportName: string | undefined } {
  if (url.protocol !== 'file:') {
    throw new TypeError(
      `${caller}: a handler module given as a URL must be a file: URL, got ${url.href}; pass its file: URL (new URL('./handler.mjs', import.meta.url)) or its path.`,
    )
  }
  const name = url.hash.slice(1)
  return { path: fileURLToPath(url), exportName: name === '' ? undefined : decoded(name) }
}

/** A URL's percent-encoded text as it was written (`caf%C3%A9` is `café`), or as it is when it decodes to none. */
function decoded(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

/**
 * The module path and export name of `path#name`, split at the last `#`. A `#` may be part of the path too (a
 * directory `a#b`): when what comes before the last `#` is no file, the specifier is taken whole, with the default
 * export, if it is a file's path or if what follows the `#` holds a `/`, which no export name would.
 */
async function splitSpecifier(
  specifier: string,
  cwd: string,
): Promise<{ path: string; exportName: string | undefined }> {
  const hash = specifier.lastIndexOf('#')
  const whole = { path: specifier, exportName: undefined }
  if (hash === -1) return whole
  const split = { path: specifier.slice(0, hash), exportName: specifier.slice(hash + 1) }
  if (await isFile(resolve(cwd, split.path))) return split
  return /[\\/]/.test(split.exportName) || (await isFile(resolve(cwd, specifier))) ? whole : split
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() === true
}

/**
 * The export `name`, else the default export's `name`: a CommonJS module's exports are its default export, and
 * Node finds them as named exports only where it can tell them from the source (not `module.exports[key] = …`).
 */
function pickNamed(module: Record<string, unknown>, name: string): unknown {
  if (typeof module[name] === 'function') return module[name]
  const fallback = module.default
  if (typeof fallback === 'object' && fallback !== null) return (fallback as Record<string, unknown>)[name]
  return undefined
}

function pickDefault(module: Record<string, unknown>): unknown {
  if (typeof module.handler === 'function') return module.handler
  const fallback = module.default
  if (typeof fallback === 'function') return fallback
  if (typeof fallback === 'object' && fallback !== null) return (fallback as Record<string, unknown>).handler
  return undefined
}

/**
 * Where a syntax error is, as `file:line:column` (or `file:line`), in the handler module or in a module it
 * imports. Node gives it at the top of the stack of a CommonJS, TypeScript or linking error (`/path/handler.mjs:3`,
 * the source line, a caret under the column), but not for an ES module that does not parse, whose error names
 * neither the module nor the place: then a child Node loads the module graph again and reports it, the way it
 * reports any uncaught error.
 */
async function syntaxErrorLocation(error: unknown, file: string): Promise<string | undefined> {
  if (!(error instanceof Error) || error.name !== 'SyntaxError') return undefined
  const fromStack = locationIn(error.stack ?? '')
  if (fromStack !== undefined) return fromStack
  if (process.release?.name !== 'node') return undefined
  return locationIn(await reportOfLoading(file))
}

/**
 * What Node prints on standard error when a child process imports `file`. None of the handler's code runs there:
 * every module of a static import graph is parsed and linked before any of it runs, and the child's first import,
 * which runs first, throws. So a module that does not parse anywhere in the graph fails the load, and Node's
 * report starts with its `file:line`; a graph that parses gets a report with no file in its first line.
 */
function reportOfLoading(file: string): Promise<string> {
  const source = `import 'data:text/javascript,throw 0'\nimport ${JSON.stringify(pathToFileURL(file).href)}\n`
  return new Promise((done) => {
    execFile(
      process.execPath,
      // No warning (an experimental feature's) may come before the report.
      ['--no-warnings', '--input-type=module', '--eval', source],
      { timeout: 10_000 },
      (_, __, stderr) => done(String(stderr)),
    )
  })
}

/** The location at the top of Node's report of a syntax error: its first line, and the caret under the source. */
function locationIn(report: string): string | undefined {
  const lines = report.split('\n')
  // A path or file URL (POSIX or Windows), then the line: never the `SyntaxError: …` line of a bare stack.
  const head = /^((?:file:\/\/|\/|[A-Za-z]:[\\/]).*):(\d+)$/.exec(lines[0]?.trim() ?? '')
  const where = head?.[1]
  const line = head?.[2]
  if (where === undefined || line === undefined) return undefined
  const file = where.startsWith('file://') ? fileURLToPath(where) : where
  // The caret comes after one or more lines of source; the report ends at a blank line or the error's name.
  const caret = lines.slice(1, 6).find((text) => /^\s*\^+\s*$/.test(text))
  return caret === undefined ? `${file}:${line}` : `${file}:${line}:${caret.indexOf('^') + 1}`
}
