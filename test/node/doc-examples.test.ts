import { spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

// The examples users copy compile against the current sources: every ```ts / ```tsx block of README.md, and every
// `@example` in the TSDoc of src (what an editor shows on hover; the CLI's internals excepted). Each example is a
// module of its own, with one line above it. A TSDoc example gets there imports of the names it uses from its own
// module, from sluice's entries (its own entry first) and from the libraries below; README's examples write their
// imports themselves. Both get the declarations of STANDINS they use: the app around the examples. Any other
// unknown name is an error.

const root = fileURLToPath(new URL('../../', import.meta.url))
const cache = `${root}node_modules/.cache/doc-examples/`

const ENTRIES: Record<string, string> = {
  sluice: 'index.ts',
  'sluice/mock': 'mock/index.ts',
  'sluice/mock/stream': 'mock/stream.ts',
  'sluice/lambda': 'lambda/index.ts',
  'sluice/dev': 'dev/index.ts',
  'sluice/partial-json': 'partial-json.ts',
  'sluice/react': 'react/index.ts',
}
/**
 * The public entry whose names a module's examples may use unimported. The runtime's types are sluice/mock's:
 * free of Node's, where sluice/dev re-types the handler's stream as Node's `Writable`.
 */
const ENTRY_OF_DIR: [string, string][] = [
  ['src/core/', 'sluice'],
  ['src/mock/', 'sluice/mock'],
  ['src/lambda/', 'sluice/lambda'],
  ['src/dev/', 'sluice/dev'],
  ['src/runtime/', 'sluice/mock'],
  ['src/react/', 'sluice/react'],
  ['src/partial-json.ts', 'sluice/partial-json'],
]
/** Globals the examples use as a function's code would: never imported (sluice/mock's `awslambda` is not the global). */
const GLOBAL_NAMES = new Set(['awslambda'])
const LIBRARIES: Record<string, string> = {
  z: 'zod',
  setupServer: 'msw/node',
  http: 'msw',
  createReadStream: 'node:fs',
  createServer: 'node:http',
  stat: 'node:fs/promises',
  pipeline: 'node:stream/promises',
  Readable: 'node:stream',
}

/**
 * The app around the examples, declared on an example's first line when it uses the name without defining it:
 * each with the shape the examples rely on. `declare let` where an example assigns to it.
 */
const STANDINS: Record<string, string> = {
  // README: imported by the examples above them, so used without an import in later ones.
  sluice: `declare const sluice: typeof import('sluice').sluice`,
  createClient: `declare const createClient: typeof import('sluice').createClient`,
  createStreamStore: `declare const createStreamStore: typeof import('sluice').createStreamStore`,
  useStreamStore: `declare const useStreamStore: typeof import('sluice/react').useStreamStore`,
  useCallback: `declare const useCallback: typeof import('react').useCallback`,
  ky: `declare const ky: typeof import('ky').default`,
  // Values of the app.
  url: 'declare const url: string',
  reportUrl: 'declare const reportUrl: string',
  base: 'declare const base: string',
  FUNCTION_URL: 'declare const FUNCTION_URL: string',
  month: 'declare const month: string',
  requestId: 'declare const requestId: string',
  contentType: 'declare const contentType: string | null',
  bytesWritten: 'declare const bytesWritten: number',
  error: 'declare const error: unknown',
  res: `declare const res: import('sluice').StreamResponse`,
  response: 'declare const response: Response',
  request: 'declare const request: Request',
  api: `declare const api: import('sluice').SluiceClient`,
  store: `declare const store: import('sluice').StreamStore`,
  snapshot: `declare const snapshot: import('sluice').StreamSnapshot`,
  Row: `declare const Row: import('zod').ZodObject<{ id: import('zod').ZodNumber; name: import('zod').ZodString }>; type Row = { id: number; name: string }`,
  RowSchema: `declare const RowSchema: import('zod').ZodObject<{ id: import('zod').ZodNumber; name: import('zod').ZodString }>`,
  Delta: `declare const Delta: import('zod').ZodObject<{ text: import('zod').ZodString }>`,
  Summary: `declare const Summary: import('zod').ZodObject<{ title: import('zod').ZodString; total: import('zod').ZodNumber }>`,
  Report: `declare const Report: import('zod').ZodObject<{ title: import('zod').ZodString; total: import('zod').ZodNumber }>`,
  ReportSchema: `declare const ReportSchema: import('zod').ZodObject<{ title: import('zod').ZodString; total: import('zod').ZodNumber }>`,
  Doc: `declare const Doc: import('zod').ZodObject<{ title: import('zod').ZodString; body: import('zod').ZodString }>`,
  rows: 'declare const rows: readonly unknown[]',
  parts: 'declare const parts: readonly unknown[]',
  chunks: 'declare const chunks: AsyncIterable<Uint8Array>',
  chunk: 'declare const chunk: Uint8Array',
  bytes: 'declare const bytes: Uint8Array',
  body: 'declare const body: Uint8Array',
  tokens: 'declare const tokens: string[]',
  textChunks: 'declare const textChunks: AsyncIterable<string>',
  path: 'declare const path: string',
  req: `declare const req: import('node:http').IncomingMessage`,
  nodeResponse: `declare const nodeResponse: import('node:http').ServerResponse`,
  table:
    'declare const table: { append(row: unknown): void; clear(): void; render(rows: readonly unknown[], ...more: unknown[]): void }',
  output: 'declare const output: { append(text: string): void }',
  bar: 'declare const bar: { update(percent: number): void }',
  banner: 'declare const banner: { show(error: unknown): void }',
  stopButton: 'declare const stopButton: HTMLButtonElement',
  retryButton: 'declare const retryButton: HTMLButtonElement',
  db: 'declare const db: { insert(row: unknown): Promise<void>; query(sql: string): { stream(): AsyncIterable<{ id: number; name: string }> }; rowsAfter(after: string | number | undefined): AsyncIterable<{ id: number; name: string }> }',
  server: `declare const server: import('msw/node').SetupServer`,
  fileWritable: 'declare const fileWritable: WritableStream<Uint8Array>',
  // A function URL's handler, and what it is called with.
  handler: `declare const handler: import('sluice/mock').StreamingHandler`,
  fn: `declare const fn: import('sluice/mock').StreamingHandler`,
  event: `declare const event: import('sluice/dev').FunctionUrlEvent`,
  context: `declare const context: import('sluice/dev').LambdaContext`,
  // Both kinds of stream: the global awslambda (and sluice/dev's) gives Node's, sluice/mock's the portable one.
  responseStream: `declare let responseStream: import('sluice/lambda').ResponseStream & import('sluice/mock').ResponseStream`,
  stream: `declare const stream: import('sluice/lambda').ResponseStream & import('sluice/mock').ResponseStream`,
  fakeRuntime: `declare const fakeRuntime: import('sluice/dev').Awslambda`,
  invocation: `declare const invocation: import('sluice/dev').Invocation`,
  input: `declare const input: import('${root}src/runtime/event.ts').EventInput`,
  sink: `declare const sink: import('${root}src/runtime/response-sink.ts').ResponseSink`,
  decoder: `declare let decoder: import('${root}src/runtime/prelude.ts').PreludeDecoder | undefined`,
  // Functions of the app.
  render: 'declare function render(value: unknown): void',
  append: 'declare function append(text: string): void',
  use: 'declare function use(value: unknown): void',
  log: 'declare function log(value: unknown): void',
  send: 'declare function send(prelude: unknown, rest: Uint8Array): void',
  upload: 'declare function upload(body: Uint8Array | ReadableStream<Uint8Array>): Promise<void>',
  showError: 'declare function showError(error: unknown): void',
  showOfflineBanner: 'declare function showOfflineBanner(): void',
  refreshToken: 'declare function refreshToken(): Promise<void>',
  retryLater: 'declare function retryLater(ms?: number): void',
  restartFromScratch: 'declare function restartFromScratch(): void',
  expectMarker: 'declare function expectMarker(): void',
  respond: `declare function respond(event: import('sluice/dev').FunctionUrlEvent): Promise<import('sluice/lambda').SluiceResponse>`,
  reportRows:
    'declare function reportRows(query?: string | { month?: string | undefined; after?: string | undefined }): AsyncIterable<unknown>',
  rowsFor: 'declare function rowsFor(query: unknown): AsyncIterable<unknown>',
  rowsAfter: 'declare function rowsAfter(after: string | undefined): AsyncIterable<{ id: number }>',
  feedOf: 'declare function feedOf(id: unknown, attempt: number): AsyncIterable<unknown>',
  tokensAfter:
    'declare function tokensAfter(lastEventId: string | undefined): AsyncIterable<{ id: string; data: string }>',
  // Components.
  Table: `declare const Table: import('react').ComponentType<{ rows: readonly unknown[]; percent?: number | undefined }>`,
  ErrorBanner: `declare const ErrorBanner: import('react').ComponentType<{ error: unknown; onRetry: () => void }>`,
  Article: `declare const Article: import('react').ComponentType<{ title: string | undefined; titleDone: boolean; body: string | undefined }>`,
}

type Kind = 'value' | 'type'

interface Example {
  /** The file it is compiled as. */
  name: string
  code: string
  /** Imports for its first line (TSDoc examples). */
  imports: string
  /** Where its first line of code is. */
  where: string
  line: number
}

function readmeExamples(): Example[] {
  const lines = readFileSync(`${root}README.md`, 'utf8').split('\n')
  const out: Example[] = []
  for (let i = 0; i < lines.length; i++) {
    const lang = /^```(tsx?)\s*$/.exec(lines[i]!)?.[1]
    if (lang === undefined) continue
    const end = lines.indexOf('```', i + 1)
    const code = lines.slice(i + 1, end).join('\n')
    out.push({ name: `readme-${i + 2}.${lang}`, code, imports: '', where: 'README.md', line: i + 2 })
    i = end
  }
  return out
}

/** The names a module exports, as values or as types (from its `export` declarations and lists). */
function exportsOf(source: string): Map<string, Kind> {
  const names = new Map<string, Kind>()
  for (const m of source.matchAll(
    /^export (?:declare )?(?:async )?(function\*?|const|let|class|abstract class|interface|type|enum) (\w+)/gm,
  )) {
    names.set(m[2]!, m[1] === 'interface' || m[1] === 'type' ? 'type' : 'value')
  }
  for (const m of source.matchAll(/^export (type )?\{([^}]*)\}/gm)) {
    for (const part of m[2]!.split(',')) {
      const spec = part.trim()
      if (spec === '') continue
      const name = spec
        .replace(/^type /, '')
        .split(/\s+as\s+/)
        .pop()!
        .trim()
      names.set(name, m[1] !== undefined || spec.startsWith('type ') ? 'type' : 'value')
    }
  }
  return names
}

function sourceFiles(dir: string): string[] {
  return readdirSync(`${root}${dir}`, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(`${dir}${entry.name}/`)
      : entry.name.endsWith('.ts')
        ? [`${dir}${entry.name}`]
        : [],
  )
}

function tsdocExamples(): Example[] {
  const entries = Object.entries(ENTRIES).map(
    ([entry, file]) => [entry, exportsOf(readFileSync(`${root}src/${file}`, 'utf8'))] as const,
  )
  const libraries = Object.entries(LIBRARIES).map(
    ([name, from]) => [from, new Map([[name, 'value' as Kind]])] as const,
  )
  const out: Example[] = []
  for (const file of sourceFiles('src/').filter((path) => !path.startsWith('src/cli/'))) {
    const source = readFileSync(`${root}${file}`, 'utf8')
    const lines = source.split('\n')
    const own = ENTRY_OF_DIR.find(([prefix]) => file.startsWith(prefix))?.[1]
    // Where a name comes from: the module's own entry, the module, the other entries, then the libraries.
    const sources = [
      ...entries.filter(([entry]) => entry === own),
      [`${root}${file}`, exportsOf(source)] as const,
      ...entries.filter(([entry]) => entry !== own),
      ...libraries,
    ]
    for (let i = 0; i < lines.length; i++) {
      if (!/^\s*\*\s*@example\s*$/.test(lines[i]!)) continue
      let end = i + 1
      while (end < lines.length && !/^\s*\*(\/|\s*@\w)/.test(lines[end]!)) end++
      const code = lines
        .slice(i + 1, end)
        .map((line) => line.replace(/^\s*\* ?/, ''))
        .join('\n')
      const imported = new Set<string>()
      const imports: string[] = []
      for (const [from, names] of sources) {
        const byKind: Record<Kind, string[]> = { value: [], type: [] }
        for (const [name, kind] of names) {
          if (imported.has(name) || GLOBAL_NAMES.has(name) || !usesUnbound(code, name)) continue
          imported.add(name)
          byKind[kind].push(name)
        }
        if (byKind.value.length > 0) imports.push(`import { ${byKind.value.join(', ')} } from '${from}';`)
        if (byKind.type.length > 0) imports.push(`import type { ${byKind.type.join(', ')} } from '${from}';`)
      }
      const lang = file.startsWith('src/react/') ? 'tsx' : 'ts'
      const name = `${file.replaceAll('/', '_')}-${i + 2}.${lang}`
      out.push({ name, code, imports: imports.join(' '), where: file, line: i + 2 })
      i = end - 1
    }
  }
  return out
}

/** Whether `code` uses `name` without declaring or importing it. */
function usesUnbound(code: string, name: string): boolean {
  if (!new RegExp(`(^|[^.\\w$'"/-])${name}\\b(?!['"/-])`).test(code)) return false
  const bindings = [
    `\\b(const|let|var|class|type|interface|function\\*?)\\s*${name}\\b`, // const name, function* name…
    `\\b(const|let|var)\\s*([{][^}]*\\b${name}\\b[^}]*[}]|\\[[^\\]]*\\b${name}\\b[^\\]]*\\])\\s*(:[^=]*)?=`, // const { name } = …
    `\\bimport\\s+(type\\s+)?([{][^}]*\\b${name}\\b[^}]*[}]|${name}\\b|\\*\\s+as\\s+${name}\\b)`,
  ]
  return !bindings.some((binding) => new RegExp(binding).test(code))
}

/** Compiles the examples, each as `first line` + its code; returns the errors, at their place in the sources. */
function compile(examples: Example[]): string[] {
  rmSync(cache, { recursive: true, force: true })
  mkdirSync(cache, { recursive: true })
  const origin = new Map<string, Example>()
  for (const example of examples) {
    const { code, imports } = example
    const standins = Object.keys(STANDINS)
      .filter(
        (name) =>
          !imports.includes(` ${name},`) && !imports.includes(` ${name} }`) && usesUnbound(code, name),
      )
      .map((name) => `${STANDINS[name]};`)
    // A `catch (error) { … }` fragment gets the `try {}` it belongs to.
    const first = [imports, ...standins, code.startsWith('catch') ? 'try {}' : ''].join(' ')
    // `export {}` makes every example a module: top-level await compiles and names do not clash across them.
    writeFileSync(cache + example.name, `${first}\n${code}\nexport {}\n`)
    origin.set(example.name, example)
  }
  // The function modules the examples import (the testing guide imports the Lambda guide's handler.ts).
  for (const module of ['my-function.d.mts', 'handler.d.mts', 'handler.d.ts']) {
    writeFileSync(`${cache}${module}`, `export const handler: import('sluice/dev').StreamingHandler\n`)
  }
  writeFileSync(
    `${cache}tsconfig.json`,
    JSON.stringify({
      extends: '../../../tsconfig.base.json',
      compilerOptions: {
        types: ['node'],
        // The stand-ins are checked too: one with a wrong type would otherwise pass as any.
        skipLibCheck: false,
        paths: Object.fromEntries(
          Object.entries(ENTRIES).map(([entry, file]) => [entry, [`../../../src/${file}`]]),
        ),
      },
      include: ['.'],
    }),
  )
  const tsc = `${root}node_modules/typescript/bin/tsc`
  const run = spawnSync(process.execPath, [tsc, '--noEmit', '-p', `${cache}tsconfig.json`], {
    encoding: 'utf8',
  })
  const errors = run.stdout
    .split('\n')
    .filter((text) => text.trim() !== '' && !text.startsWith(' '))
    .map((text) => {
      const match = /doc-examples\/([^(]+)\((\d+),(\d+)\): (.*)$/.exec(text)
      const from = match === null ? undefined : origin.get(match[1]!)
      if (match === null || from === undefined) return text
      const [, , line, column, message] = match
      return Number(line) === 1
        ? `${from.where}:${from.line}: (the line above the example) ${message}`
        : `${from.where}:${from.line + Number(line) - 2}:${column}: ${message}`
    })
  if (run.status !== 0 && errors.length === 0) errors.push(run.stderr || `tsc exited with ${run.status}`)
  return errors
}

it("README's TypeScript examples and the TSDoc @examples of src compile against the current API", () => {
  const readme = readmeExamples()
  const tsdoc = tsdocExamples()
  expect(readme.length).toBeGreaterThan(15)
  expect(tsdoc.length).toBeGreaterThan(120)
  expect(compile([...readme, ...tsdoc])).toEqual([])
}, 60_000)
