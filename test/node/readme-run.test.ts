/**
 * README's client examples run, not only compile (doc-examples.test.ts type-checks every block): each block
 * below is taken from README.md as written, given the app around it (`table`, `bar`, `Row`, `url`…), and run
 * in this process against msw. A block that is gone or changed so that it no longer starts as below fails here:
 * update the test with it.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { mockStream, streamHandler } from '../../src/mock/index.ts'
import { readmeBlock as block } from '../support/readme-blocks.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))
// Under the repository's ignored /tmp: vitest transforms it as the sources (never what lies in node_modules).
const dir = `${root}tmp/readme-run/`

/** The entries the examples run here import, as sources. */
const ENTRIES: Record<string, string> = {
  sluice: 'src/index.ts',
  'sluice/mock': 'src/mock/index.ts',
  'sluice/lambda': 'src/lambda/index.ts',
}

const rows = Array.from({ length: 40 }, (_, id) => ({ id, name: `row ${id}` }))
const ndjson = rows.map((row) => `${JSON.stringify(row)}\n`).join('')
const FUNCTION_URL = 'https://abc.lambda-url.eu-west-1.on.aws/'
const url = 'https://fn.test/report'

const server = setupServer(
  http.get(`${FUNCTION_URL}report`, () =>
    mockStream(rows, { format: 'ndjson', contentLength: 'remapped', chunkSize: 7 }),
  ),
  http.get(FUNCTION_URL, () => mockStream(rows, { format: 'ndjson', endMarker: true })),
  http.get('https://fn.test/silent', () =>
    mockStream([ndjson.slice(0, 30), 'never'], { stallAfterBytes: 30 }),
  ),
  streamHandler('GET', url, rows, { format: 'ndjson', chunkSize: 16, range: true }),
)
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }))
afterAll(() => {
  server.close()
  rmSync(dir, { recursive: true, force: true })
})
afterEach(() => {
  delete (globalThis as { readmeApp?: unknown }).readmeApp
})

let runs = 0

/**
 * Runs `code` as a module whose imports of sluice's entries are its sources, with `app` — the names it uses
 * without defining them — declared above it from `globalThis.readmeApp`.
 */
async function run(code: string, app: Record<string, unknown>): Promise<void> {
  ;(globalThis as { readmeApp?: unknown }).readmeApp = app
  const names = Object.keys(app)
  const prelude = names.length === 0 ? '' : `const { ${names.join(', ')} } = (globalThis as any).readmeApp\n`
  await import(/* @vite-ignore */ write(`example-${++runs}.ts`, `${prelude}${sources(code)}\nexport {}\n`))
}

/** `code` with its imports of sluice's entries turned into imports of their sources. */
function sources(code: string): string {
  return code.replace(/from '(sluice(?:\/[\w-]+)?)'/g, (_, entry: string) => {
    const file = ENTRIES[entry]
    if (file === undefined) throw new Error(`no source for ${entry}`)
    return `from '${pathToFileURL(`${root}${file}`).href}'`
  })
}

/** Writes `text` to `name` in the examples' directory; returns its URL. */
function write(name: string, text: string): string {
  mkdirSync(dir, { recursive: true })
  writeFileSync(`${dir}${name}`, text)
  return pathToFileURL(`${dir}${name}`).href
}

/** A `table` that keeps what it is given; `onAppend` sees each row. */
function tableOf(onAppend: (count: number) => void = () => {}) {
  const appended: unknown[] = []
  return { appended, append: (row: unknown) => onAppend(appended.push(row)) }
}

it("the first example reads the report's rows, validated, with progress to 100", async () => {
  const table = tableOf()
  const percents: number[] = []
  await run(block("import { sluice } from 'sluice'\nimport { z } from 'zod'\n\nconst Row"), {
    table,
    bar: { update: (percent: number) => percents.push(percent) },
  })
  expect(table.appended).toEqual(rows)
  expect(percents.at(-1)).toBe(100)
})

it("createClient's example requests through a ky instance's prefix", async () => {
  const ky = (await import('ky')).default
  const { createClient } = await import('../../src/index.ts')
  const app: Record<string, unknown> = { ky, createClient }
  await run(`${block('const api = createClient(')}\n;(globalThis as any).readmeApp.res = res`, app)
  const res = app.res as import('../../src/index.ts').StreamResponse
  expect(res.url).toBe(`${FUNCTION_URL}report`)
  expect(await Array.fromAsync(res.ndjson())).toEqual(rows)
})

it('the errors example narrows a timeout by its code and reads its phase', async () => {
  const { sluice } = await import('../../src/index.ts')
  const res = await sluice('https://fn.test/silent', { idleTimeout: 50, resume: false })
  const logged: unknown[][] = []
  await run(block("import { isSluiceError } from 'sluice'"), {
    res,
    console: { log: (...values: unknown[]) => logged.push(values) },
  })
  expect(logged).toEqual([['idle']])
})

it('the raw fetch comparison reads the rows (its loop works where it claims to)', async () => {
  const { z } = await import('zod')
  const table = tableOf()
  await run(block('const response = await fetch(url)'), {
    url,
    table,
    Row: z.object({ id: z.number(), name: z.string() }),
  })
  expect(table.appended).toEqual(rows)
})

it("sluice's comparison and the Lambda guide's client read every row", async () => {
  const { z } = await import('zod')
  const { sluice } = await import('../../src/index.ts')
  const Row = z.object({ id: z.number(), name: z.string() })
  const table = tableOf()
  const rendered: unknown[] = []
  await run(block('const res = await sluice(url, { onProgress: render'), {
    sluice,
    url,
    table,
    Row,
    render: (progress: unknown) => rendered.push(progress),
  })
  expect(table.appended).toEqual(rows)
  expect(rendered.length).toBeGreaterThan(0)

  const inserted: unknown[] = []
  const reports: string[] = []
  // The Lambda guide's client (its block begins with a comment, which block() skips).
  await run(block("import { sluice } from 'sluice'\nconst res = await sluice(`$" + '{FUNCTION_URL}?month='), {
    FUNCTION_URL,
    Row,
    db: { insert: async (row: unknown) => void inserted.push(row) },
    console: { error: (text: string) => reports.push(text) },
  })
  expect(inserted).toEqual(rows)
  expect(reports.at(-1)).toMatch(/, done$/)
})

/**
 * The testing guide runs the Lambda guide's handler module as it loads on AWS: `sluiceHandler` at its top level,
 * which needs the `awslambda` global. Both blocks are taken as written; `reportRows` is the app's.
 */
it("the testing guide runs the Lambda guide's handler module through functionUrl, once the global is installed", async () => {
  const { z } = await import('zod')
  const report = (month: string | undefined) => [1, 2, 3].map((id) => ({ id, name: `${month} row ${id}` }))
  ;(globalThis as { readmeHandlerApp?: unknown }).readmeHandlerApp = {
    reportRows: async function* (month: string | undefined) {
      yield* report(month)
    },
  }
  const module = `const { reportRows } = globalThis.readmeHandlerApp\n${sources(
    block("import { sluiceHandler } from 'sluice/lambda'\nexport const handler = sluiceHandler("),
  )}\n`
  // Without the global, the module throws while it loads, and the error says how to install it.
  await expect(import(/* @vite-ignore */ write('handler-without-global.ts', module))).rejects.toThrow(
    'In a test, call installAwslambdaGlobal() from sluice/mock before importing the handler module',
  )
  write('handler.ts', module)
  const FUNCTION_URL = 'https://guide.lambda-url.eu-west-1.on.aws/'
  const app: Record<string, unknown> = {
    server,
    FUNCTION_URL,
    Row: z.object({ id: z.number(), name: z.string() }),
  }
  try {
    await run(
      `${block("import { sluice } from 'sluice'\nimport { functionUrl, installAwslambdaGlobal }")}\n;(globalThis as any).readmeApp.got = got\n;(globalThis as any).readmeApp.uninstall = uninstall`,
      app,
    )
    // The month went as the handler reads it, in the query: these are its rows for 2026-10.
    expect(app.got).toEqual(report('2026-10'))
  } finally {
    ;(app.uninstall as (() => void) | undefined)?.()
    server.resetHandlers()
    delete (globalThis as { readmeHandlerApp?: unknown }).readmeHandlerApp
  }
  expect((globalThis as { awslambda?: unknown }).awslambda).toBeUndefined()
})

/**
 * The reload guide's page, as README writes it, with its own `localStorage`, and the events a page leaves with:
 * `pagehide` on the window, `visibilitychange` on the document. (test/node/readme-reload-bfcache.test.ts runs it
 * in Chromium, back/forward cache included.)
 */
async function reloadGuide() {
  const { z } = await import('zod')
  const storage = new Map<string, string>()
  const localStorage = {
    getItem: (key: string) => storage.get(key) ?? null,
    setItem: (key: string, value: string) => void storage.set(key, value),
    removeItem: (key: string) => void storage.delete(key),
  }
  const code = block(
    "import { type Checkpoint, isResumeError, type StreamResponse, sluice } from 'sluice'\nlet current",
  )
  /** The listeners of the page loaded last. */
  let listeners = new Map<string, () => void>()
  let visibilityState: DocumentVisibilityState = 'visible'
  const fire = (type: string) => listeners.get(type)?.()
  return {
    storage,
    hide: () => fire('pagehide'),
    /**
     * One page load; `leaveAt` leaves the page after that row, or, with `discard`, hides it there and then runs
     * none of its code any more, as a phone that discards a hidden page (no `pagehide`).
     */
    load: async (leaveAt?: number, how: 'pagehide' | 'discard' = 'pagehide') => {
      listeners = new Map()
      visibilityState = 'visible'
      const addEventListener = (type: string, listener: () => void) => void listeners.set(type, listener)
      const document = {
        addEventListener,
        get visibilityState() {
          return visibilityState
        },
      }
      const table = tableOf((count) => {
        if (count !== leaveAt) return
        if (how === 'pagehide') return fire('pagehide')
        visibilityState = 'hidden'
        fire('visibilitychange')
        throw new Error('discarded')
      })
      const app = {
        url,
        Row: z.object({ id: z.number(), name: z.string() }),
        localStorage,
        addEventListener,
        document,
        table: { ...table, clear: () => void table.appended.splice(0) },
      }
      await run(code, app).catch((error: unknown) => {
        if (!(how === 'discard' && error instanceof Error && error.message === 'discarded')) throw error
      })
      return table.appended
    },
  }
}

it('the reload guide continues after the last row a page was given: nothing twice, nothing missing', async () => {
  const page = await reloadGuide()
  // The first page leaves after its 13th row: the loop ends quietly, the checkpoint is saved.
  const first = await page.load(13)
  expect(first).toEqual(rows.slice(0, 13))
  expect(page.storage.has('report')).toBe(true)

  // The next page load continues from it, reads to the end, and forgets it.
  const second = await page.load()
  expect([...first, ...second]).toEqual(rows)
  expect(page.storage.has('report')).toBe(false)
})

it('the reload guide keeps no checkpoint of a report read to its end when the page leaves after: the next load reads it all', async () => {
  const page = await reloadGuide()
  expect(await page.load()).toEqual(rows)
  page.hide()
  expect(page.storage.has('report')).toBe(false)
  expect(await page.load()).toEqual(rows)
})

it('the reload guide starts over from a checkpoint sluice refuses, rather than fail at every load', async () => {
  const page = await reloadGuide()
  await page.load(13)
  const saved = JSON.parse(page.storage.get('report')!) as { offset: number }
  page.storage.set('report', JSON.stringify({ ...saved, offset: saved.offset - 1 }))
  expect(await page.load()).toEqual(rows)
  expect(page.storage.has('report')).toBe(false)
})

it('the reload guide saves when the page is hidden: one discarded then, with no pagehide, is continued after its rows', async () => {
  const page = await reloadGuide()
  const first = await page.load(13, 'discard')
  expect(first).toEqual(rows.slice(0, 13))
  const second = await page.load()
  expect([...first, ...second]).toEqual(rows)
  expect(page.storage.has('report')).toBe(false)
})
