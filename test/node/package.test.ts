import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertFreshDist, root } from '../support/dist.ts'
import { runProcess } from '../support/run-process.ts'

// The package as users get it: `npm pack` of the built dist/, installed from its tarball into a fresh project,
// then imported by a Node script, type-checked by tsc under two module resolutions, and bundled for a browser
// by Vite; plus publint and attw over the package (the `check:package` script). One install serves every test.

const bin = (name: string) => join(root, 'node_modules/.bin', name)
const devVersion = (name: string): string => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    devDependencies: Record<string, string>
  }
  const version = pkg.devDependencies[name]
  if (!version) throw new Error(`package.json has no devDependency ${name}`)
  return version
}

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

function run(command: string, args: string[], cwd: string, timeoutMs = 60_000): Promise<Run> {
  return runProcess(command, args, { cwd, env: { npm_config_update_notifier: 'false' }, timeoutMs }).then(
    ({ code, signal, stdout, stderr }) => ({ code: code ?? (signal ? 128 : null), stdout, stderr }),
  )
}

/** Runs a command and fails with its output unless it exits 0. */
async function ok(command: string, args: string[], cwd: string, timeoutMs?: number): Promise<Run> {
  const result = await run(command, args, cwd, timeoutMs)
  if (result.code !== 0) {
    throw new Error(
      `\`${[command, ...args].join(' ')}\` (in ${cwd}) exited ${result.code}\nstdout:\n${result.stdout.slice(-4000)}\nstderr:\n${result.stderr.slice(-4000)}`,
    )
  }
  return result
}

let temp: string
let app: string
let packed: { filename: string; files: { path: string }[] }

// A Node program that uses every Node-facing entry: the dev emulator (sluice/dev) serves a handler written with
// sluice/lambda's helpers, with the awslambda runtime object of sluice/mock; the client (sluice) streams it over
// real HTTP with a zod schema; mockStream (sluice/mock and sluice/mock/stream) feeds fromResponse.
const nodeProgram = `
import { fromResponse, isHTTPError, sluice } from 'sluice'
import { awslambda, mockStream } from 'sluice/mock'
import { mockStream as mockStreamAlone } from 'sluice/mock/stream'
import { createPartialJsonParser } from 'sluice/partial-json'
import { sluiceHandler } from 'sluice/lambda'
import { serve } from 'sluice/dev'
import { z } from 'zod'

const Row = z.object({ id: z.number(), name: z.string() })
async function* rows() {
  for (let id = 0; id < 5000; id++) yield { id, name: 'row ' + id }
}
const handler = sluiceHandler(() => ({ ndjson: rows() }), { awslambda })
const server = await serve(handler, { log: false })
try {
  const res = await sluice(server.url)
  let count = 0
  for await (const row of res.ndjson(Row)) if (row.id === count) count++
  let httpError = false
  try {
    await sluice(new URL('/missing', server.url), { fetch: () => Promise.resolve(new Response('no', { status: 404 })) })
  } catch (error) {
    httpError = isHTTPError(error) && error.status === 404
  }
  const mocked = await fromResponse(mockStream(['a\\n', 'b\\n']))
  const lines = await Array.fromAsync(mocked.lines())
  const alone = await fromResponse(mockStreamAlone(['x', 'y']))
  const parser = createPartialJsonParser()
  parser.push('{"a":[1,')
  const partial = parser.snapshot
  // json() loads the same parser lazily, from its own chunk of dist/.
  const doc = await (await fromResponse(mockStreamAlone(['{"b":', '"c"}']))).json().final
  console.log(JSON.stringify({
    node: process.versions.node, count, status: res.status, state: res.progress.state, httpError, lines,
    text: await alone.collect.text(), partial, doc,
  }))
} finally {
  await server.close()
}
`

// Uses the public types of every entry; the @ts-expect-error lines fail the check if a type collapses to any.
/** streamHandler() and functionUrl() under setupServer(), printing msw's version and what sluice read. */
const msw2Program = `
import { readFileSync } from 'node:fs'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { setupServer } from 'msw/node'
import { sluice } from 'sluice'
import { awslambda, functionUrl, streamHandler } from 'sluice/mock'

const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
  await pipeline(Readable.from(['a\\n', 'b\\n']), responseStream)
})
const server = setupServer(
  streamHandler('GET', 'https://fn.test/rows', [{ n: 1 }, { n: 2 }], { format: 'ndjson' }),
  functionUrl('https://abc.lambda-url.eu-west-1.on.aws', handler),
)
server.listen({ onUnhandledRequest: 'error' })
const rows = await Array.fromAsync((await sluice('https://fn.test/rows')).ndjson())
const lines = await Array.fromAsync((await sluice('https://abc.lambda-url.eu-west-1.on.aws/x')).lines())
server.close()
const { version } = JSON.parse(readFileSync('node_modules/msw/package.json', 'utf8'))
console.log(JSON.stringify({ msw: version, rows, lines }))
`

const typesProgram = `
import {
  createClient, fromResponse, HTTPError, isSluiceError, sluice,
  type DeepPartial, type Progress, type SluiceOptions, type StreamResponse,
} from 'sluice'
import { functionUrl, mockStream, streamHandler } from 'sluice/mock'
import { mockStream as mockStreamAlone } from 'sluice/mock/stream'
import { createPartialJsonParser, type PartialJsonParser } from 'sluice/partial-json'
import { sluiceHandler, streamNdjson, type LambdaFunctionUrlEvent } from 'sluice/lambda'
import { awslambda, serve, type DevServer } from 'sluice/dev'
import { z } from 'zod'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'

const Row = z.object({ id: z.number(), name: z.string() })
type Row = z.infer<typeof Row>

export async function use(url: string): Promise<number> {
  const options: SluiceOptions = { onProgress: (p: Progress) => void p.loaded, idleTimeout: 1000 }
  const res: StreamResponse = await sluice(url, options)
  let total = 0
  for await (const row of res.ndjson(Row)) total += row.id
  // @ts-expect-error a validated row's id is a number, not a string
  const wrong: string = (await Array.fromAsync((await sluice(url)).ndjson(Row)))[0]!.id
  const doc = (await sluice(url)).json(Row)
  for await (const partial of doc) {
    const p: DeepPartial<Row> = partial
    void p
  }
  const final: Row = await doc.final
  const parser: PartialJsonParser<Row> = createPartialJsonParser<Row>()
  const snapshot: DeepPartial<Row> | undefined = parser.snapshot
  // @ts-expect-error a partial row's id may be missing, so it is not a number
  const id: number = parser.snapshot!.id
  void [snapshot, id]
  const api = createClient({ timeout: 5000 }).extend({ idleTimeout: 100 })
  const wrapped = await fromResponse(mockStream(['x']))
  const alone = await fromResponse(mockStreamAlone(['y']))
  // sluice/dev's awslambda hands a Node-typed stream (pipeline without a cast), and sluice/mock runs what it marks.
  const piped = awslambda.streamifyResponse(async (_event, responseStream) => {
    await pipeline(Readable.from(['a']), responseStream)
  })
  const handlers = [functionUrl('http://fn/', sluiceHandler(() => ({ ndjson: [1, 2] }))), functionUrl('http://p/', piped), streamHandler('get', '/s', ['a'])]
  const server: DevServer = await serve(async (_event: LambdaFunctionUrlEvent, stream: Parameters<typeof streamNdjson>[0]) => {
    await streamNdjson(stream, [1, 2, 3])
  })
  await server.close()
  try {
    await api(url)
  } catch (error) {
    if (error instanceof HTTPError) total += error.status
    if (isSluiceError(error)) total += error.code.length
  }
  return total + final.id + wrong.length + handlers.length + (await wrapped.collect.text()).length + (await alone.collect.bytes()).length
}
`

const browserPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>sluice in a browser bundle</title></head>
<body><pre id="out"></pre><script type="module" src="/main.ts"></script></body></html>
`

// The isomorphic entries only; references keep every export in the bundle (no tree-shaking them away).
const browserMain = `
import * as core from 'sluice'
import * as mock from 'sluice/mock'
import * as mockStreamOnly from 'sluice/mock/stream'

const res = await core.fromResponse(mockStreamOnly.mockStream(['{"n":1}\\n', '{"n":2}\\n']))
const rows = await Array.fromAsync(res.ndjson())
const doc = await (await core.fromResponse(mockStreamOnly.mockStream(['{"a":', '1}']))).json().final
document.getElementById('out')!.textContent = JSON.stringify({ rows, doc, core: Object.keys(core), mock: Object.keys(mock) })
`

function tsconfig(moduleResolution: 'bundler' | 'nodenext'): string {
  return JSON.stringify({
    compilerOptions: {
      target: 'es2023',
      module: moduleResolution === 'bundler' ? 'preserve' : 'nodenext',
      moduleResolution,
      lib: ['es2024', 'dom', 'dom.iterable'],
      types: ['node'],
      strict: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      // The package's own declaration files are checked too, as a user with skipLibCheck off would see them.
      skipLibCheck: false,
      noEmit: true,
    },
    files: ['types.ts'],
  })
}

beforeAll(async () => {
  assertFreshDist()
  temp = mkdtempSync(join(tmpdir(), 'sluice-package-'))
  const pack = await ok('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', temp], root)
  packed = (JSON.parse(pack.stdout) as (typeof packed)[])[0]!
  app = join(temp, 'app')
  mkdirSync(app)
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'sluice-package-check', private: true, type: 'module' }, null, 2),
  )
  // The tarball plus what a user adds: zod (optional peer, for schemas), msw (optional peer, for sluice/mock),
  // @types/node (for the Node entries' types). --prefer-offline reuses npm's cache of the repository's install.
  await ok(
    'npm',
    [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      join(temp, packed.filename),
      `zod@${devVersion('zod')}`,
      `msw@${devVersion('msw')}`,
      `@types/node@${devVersion('@types/node')}`,
    ],
    app,
    120_000,
  )
  writeFileSync(join(app, 'run.mjs'), nodeProgram)
  writeFileSync(join(app, 'types.ts'), typesProgram)
  writeFileSync(join(app, 'tsconfig.bundler.json'), tsconfig('bundler'))
  writeFileSync(join(app, 'tsconfig.nodenext.json'), tsconfig('nodenext'))
  writeFileSync(join(app, 'index.html'), browserPage)
  writeFileSync(join(app, 'main.ts'), browserMain)
}, 180_000)

afterAll(() => {
  if (temp) rmSync(temp, { recursive: true, force: true })
})

// Each test runs a process (node, tsc, vite) that the rest of the suite, in parallel on two cores, may slow down
// well past vitest's 5 s default: the processes' own limit (60 s, in run()) is the one that counts.
describe('the packed package, installed in a fresh project', { timeout: 60_000 }, () => {
  it('installs the sluice bin, which knows its version from the installed package', async () => {
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }
    const { stdout } = await ok(process.execPath, [join(app, 'node_modules/.bin/sluice'), '--version'], app)
    expect(stdout).toBe(`${version}\n`)
  })

  it('holds dist/, README and LICENSE only: no sources, no tests', () => {
    const paths = packed.files.map((f) => f.path)
    expect(paths).toContain('package.json')
    expect(paths).toContain('README.md')
    expect(paths).toContain('LICENSE')
    for (const entry of ['index', 'mock', 'mock-stream', 'partial-json', 'lambda', 'dev', 'react', 'cli']) {
      expect(paths).toContain(`dist/${entry}.js`)
      expect(paths).toContain(`dist/${entry}.d.ts`)
    }
    expect(
      paths.filter((p) => !p.startsWith('dist/') && !['package.json', 'README.md', 'LICENSE'].includes(p)),
    ).toEqual([])
  })

  it.each([
    // The Node running the suite (24 here), then the lowest supported and the newest LTS.
    [`Node ${process.versions.node.split('.')[0]}`, process.execPath],
    ['Node 22', join(root, 'test/smoke/node22/node_modules/.bin/node')],
    ['Node 26', join(root, 'test/smoke/node26/node_modules/.bin/node')],
  ])(
    'a Node script imports sluice, sluice/mock, sluice/partial-json, sluice/lambda and sluice/dev and streams (%s)',
    async (label, node) => {
      if (!existsSync(node)) throw new Error(`${label} is missing at ${node}: run \`npm ci\``)
      const { stdout } = await ok(node, ['run.mjs'], app)
      const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>
      expect(String(result.node).split('.')[0]).toBe(label.slice('Node '.length))
      expect(result).toMatchObject({
        count: 5000,
        status: 200,
        state: 'done',
        httpError: true,
        lines: ['a', 'b'],
        text: 'xy',
        partial: { a: [1] },
        doc: { b: 'c' },
      })
    },
  )

  it.each(['bundler', 'nodenext'])(
    'its types resolve and check with moduleResolution %s',
    async (resolution) => {
      const result = await run(bin('tsc'), ['-p', `tsconfig.${resolution}.json`], app)
      const output = `${result.stdout}\n${result.stderr}`
      const errors = output.split('\n').filter((line) => /\): error TS\d+:/.test(line))
      // Errors inside other packages' declarations (skipLibCheck is off) are theirs, not sluice's: @types/node 24.0
      // against TypeScript 7's DOM lib, for one. Everything in types.ts or in sluice's own .d.ts files counts.
      const ours = errors.filter(
        (line) => !line.startsWith('node_modules/') || line.startsWith('node_modules/sluice/'),
      )
      expect(ours, `tsc -p tsconfig.${resolution}.json:\n${ours.join('\n')}`).toEqual([])
      if (result.code !== 0)
        expect(errors.length, `tsc exited ${result.code}:\n${output.slice(-3000)}`).toBeGreaterThan(0)
    },
  )

  it('bundles for a browser with Vite, with no node: import', async () => {
    const { stdout, stderr } = await ok(bin('vite'), ['build', '--logLevel', 'warn', '--outDir', 'out'], app)
    const output = `${stdout}\n${stderr}`
    // Vite stubs a Node built-in in a browser build and only warns: the warning is the failure.
    const warnings = output
      .split('\n')
      .filter((line) => /externalized for browser compatibility|node:/.test(line))
    expect(warnings, 'Vite had to stub Node built-ins').toEqual([])
    const assets = join(app, 'out/assets')
    const js = readdirSync(assets).filter((f) => f.endsWith('.js'))
    expect(js.length).toBeGreaterThan(0)
    // An import of a Node built-in, static or dynamic. (sluice/mock may look Node's stream module up at run time
    // through process.getBuiltinModule, guarded; that is not an import.)
    const nodeImport =
      /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)["'`]node:[\w/]+["'`]|__vite-browser-external/g
    for (const file of js) {
      const code = readFileSync(join(assets, file), 'utf8')
      const found = [...code.matchAll(nodeImport)].map((m) =>
        code.slice(Math.max(0, m.index - 60), m.index + 60),
      )
      expect(found, `${file} imports Node built-ins`).toEqual([])
    }
    // json()'s parser is loaded on first use: the bundler puts it in a chunk of its own, not in the app's.
    const parserMessage = 'The JSON document ended before it was complete'
    const withParser = js.filter((file) => readFileSync(join(assets, file), 'utf8').includes(parserMessage))
    expect(withParser).toHaveLength(1)
    const entryChunk = readFileSync(join(app, 'out/index.html'), 'utf8').match(/assets\/([\w.-]+\.js)/)?.[1]
    expect(entryChunk).toBeDefined()
    expect(withParser).not.toContain(entryChunk)
  })

  it('sluice/mock runs with msw 2.11, the lowest version its peer range allows', async () => {
    // test/smoke/msw2 pins it, so that `npm ci` caches it for this install; the peer range starts there.
    const lowest = (
      JSON.parse(readFileSync(join(root, 'test/smoke/msw2/package.json'), 'utf8')) as {
        dependencies: { msw: string }
      }
    ).dependencies.msw
    const peers = (
      JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
        peerDependencies: Record<string, string>
      }
    ).peerDependencies
    expect(peers.msw).toBe(`>=${lowest.split('.').slice(0, 2).join('.')}`)
    const older = join(temp, 'app-msw2')
    mkdirSync(older)
    writeFileSync(join(older, 'package.json'), JSON.stringify({ private: true, type: 'module' }))
    await ok(
      'npm',
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        join(temp, packed.filename),
        `msw@${lowest}`,
      ],
      older,
      120_000,
    )
    writeFileSync(join(older, 'run.mjs'), msw2Program)
    const { stdout } = await ok(process.execPath, ['run.mjs'], older)
    // functionUrl() matches its requests with a predicate, which msw takes from 2.11 on (2.10 threw at the call).
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({
      msw: lowest,
      rows: [{ n: 1 }, { n: 2 }],
      lines: ['a', 'b'],
    })
  }, 180_000)
})

describe('package lint (npm run check:package)', { timeout: 60_000 }, () => {
  it('publint finds no problem', async () => {
    const { stdout } = await ok(bin('publint'), [], root)
    expect(stdout).not.toMatch(/^Errors:|^Warnings:/m)
  })

  it('attw (esm-only profile) finds no problem', async () => {
    await ok(bin('attw'), ['--pack', '.', '--profile', 'esm-only', '--no-emoji', '--no-color'], root)
  })
})
