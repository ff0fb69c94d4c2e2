/**
 * README's "Resume across reloads" guide, as written, in a page of headless Chromium with its back/forward cache on:
 * a page the user leaves and comes back to with the Back button is restored as it was, its stream detached by the
 * guide's `pagehide`. It must read on after the rows it shows, every row once. (test/node/readme-run.test.ts runs
 * the same block across page loads; test/browser/resume-reload.test.ts mirrors it against every resume strategy.)
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import type { Browser, BrowserContext, Page } from 'playwright'
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest'
import { closeServer } from '../../src/dev/http-server.ts'
import { launchChromium } from '../support/chromium.ts'
import { readmeBlock } from '../support/readme-blocks.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))

const ROWS = Array.from({ length: 30 }, (_, id) => ({ id, name: `row ${id}` }))
/** The report's body in its `version`: each row's name says which. */
const bodyOf = (version: number) =>
  Buffer.from(ROWS.map((row) => `${JSON.stringify({ ...row, name: `${row.name} v${version}` })}\n`).join(''))
const rowsOf = (version: number) => ROWS.map((row) => ({ ...row, name: `${row.name} v${version}` }))

/**
 * The report at /report, served with Range and an ETag of its version. The next request without Range sends
 * `stallAfter` rows, if set, and then nothing more until the page goes: a page left while it reads. Requests
 * with Range are counted, and answered once `hold` (if set) resolves: a continuation still connecting.
 */
const report = {
  version: 1,
  stallAfter: undefined as number | undefined,
  ranges: 0,
  hold: undefined as Promise<void> | undefined,
}

async function serveReport(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '')
  if (range) {
    report.ranges++
    await report.hold
  }
  const body = bodyOf(report.version)
  const etag = `"v${report.version}"`
  const ifRange = req.headers['if-range']
  const start = range && (ifRange === undefined || ifRange === etag) ? Number(range[1]) : undefined
  const headers = { 'content-type': 'application/x-ndjson', etag, 'accept-ranges': 'bytes' }
  if (start !== undefined) {
    res.writeHead(206, {
      ...headers,
      'content-length': String(body.length - start),
      'content-range': `bytes ${start}-${body.length - 1}/${body.length}`,
    })
    res.end(body.subarray(start))
    return
  }
  res.writeHead(200, { ...headers, 'content-length': String(body.length) })
  const stallAfter = range ? undefined : report.stallAfter
  report.stallAfter = undefined
  if (stallAfter === undefined) return void res.end(body)
  let end = 0
  for (let i = 0; i < stallAfter; i++) end = body.indexOf(10, end) + 1
  res.write(body.subarray(0, end))
}

/**
 * The page: a list as the guide's `table`, the report's URL as its `url`, and `data-restored` on the body once a
 * `pageshow` says the page came back from the back/forward cache (set before the guide's own listener runs).
 */
async function pageScript(): Promise<Uint8Array> {
  const guide = readmeBlock(
    "import { type Checkpoint, isResumeError, type StreamResponse, sluice } from 'sluice'\nlet current",
  ).replace("from 'sluice'", `from '${root}src/index.ts'`)
  const app = `import { z } from 'zod'
const url = new URL('/report', location.href).href
const Row = z.object({ id: z.number(), name: z.string() })
const list = document.querySelector('ol')!
const table = {
  append: (row: unknown) => void list.append(Object.assign(document.createElement('li'), { textContent: JSON.stringify(row) })),
  clear: () => list.replaceChildren(),
}
addEventListener('pageshow', (event) => {
  if (event.persisted) document.body.dataset.restored = String(Number(document.body.dataset.restored ?? 0) + 1)
})
`
  const result = await build({
    stdin: { contents: `${app}${guide}\n`, resolveDir: root, sourcefile: 'guide.ts', loader: 'ts' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  })
  return result.outputFiles[0]!.contents
}

let server: ReturnType<typeof createServer>
let base: string
let browser: Browser
let context: BrowserContext
let page: Page

beforeAll(async () => {
  const script = await pageScript()
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    if (path === '/report') return void serveReport(req, res)
    if (path === '/guide.js')
      return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(script)
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    res.end(
      path === '/page' ? '<ol></ol><script type="module" src="/guide.js"></script>' : '<p>Elsewhere</p>',
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  browser = await launchChromium({ backForwardCache: true })
})

afterAll(async () => {
  await browser?.close()
  if (server) await closeServer(server)
})

beforeEach(async () => {
  report.version = 1
  report.stallAfter = undefined
  report.ranges = 0
  report.hold = undefined
  context = await browser.newContext()
  page = await context.newPage()
})

afterEach(async () => {
  await context.close()
})

/** The rows the page's list shows. */
const shown = (): Promise<unknown[]> =>
  page.evaluate(() => [...document.querySelectorAll('li')].map((li) => JSON.parse(li.textContent ?? '')))

/** Waits until the list shows `count` rows; if it never does, says how many it stopped at. */
async function waitForRows(count: number, what: string): Promise<void> {
  try {
    await page.waitForFunction((n) => document.querySelectorAll('li').length >= n, count, { timeout: 10_000 })
  } catch {
    throw new Error(`${what} shows ${(await shown()).length} of ${count} rows and reads no more`)
  }
}

/** Back to the page left last, which must come from the back/forward cache (not a new load) for the `times`th time. */
async function back(times = 1): Promise<void> {
  const cdp = await context.newCDPSession(page)
  const notUsed: unknown[] = []
  cdp.on('Page.backForwardCacheNotUsed', (event) => notUsed.push(...event.notRestoredExplanations))
  await cdp.send('Page.enable')
  // A page restored from the cache fires no load event: wait for the navigation to commit, then for `pageshow`.
  await page.goBack({ waitUntil: 'commit' })
  try {
    await page.waitForFunction((n) => document.body.dataset.restored === String(n), times, {
      timeout: 10_000,
    })
  } catch {
    throw new Error(`The page was not restored from the back/forward cache: ${JSON.stringify(notUsed)}`)
  } finally {
    await cdp.detach()
  }
}

const saved = () => page.evaluate(() => localStorage.getItem('report'))

/** Waits until the page has read the report to its end: it forgets the checkpoint then. */
async function waitForEnd(what: string): Promise<void> {
  try {
    await page.waitForFunction(() => localStorage.getItem('report') === null, undefined, { timeout: 10_000 })
  } catch {
    throw new Error(`${what} shows ${(await shown()).length} rows and keeps its checkpoint: ${await saved()}`)
  }
}

it('a page left while it reads and restored from the back/forward cache reads on after its rows: every row once', async () => {
  report.stallAfter = 12
  await page.goto(`${base}/page`)
  await waitForRows(12, 'the page')
  await page.goto(`${base}/elsewhere`)
  await back()
  await waitForRows(ROWS.length, 'the restored page')
  await waitForEnd('the restored page')
  expect(await shown()).toEqual(rowsOf(1))
})

it('a restored page continues from its own checkpoint, though another load of the report finished it meanwhile', async () => {
  report.stallAfter = 12
  await page.goto(`${base}/page`)
  await waitForRows(12, 'the page')
  // Another load of the page continues from the checkpoint saved on leaving, reads to the end and forgets it.
  await page.goto(`${base}/page?again`)
  await waitForRows(ROWS.length - 12, 'the next load')
  await waitForEnd('the next load')
  expect(await shown()).toEqual(rowsOf(1).slice(12))
  await back()
  await waitForRows(ROWS.length, 'the restored page')
  await waitForEnd('the restored page')
  expect(await shown()).toEqual(rowsOf(1))
})

it('a restored page whose report changed meanwhile starts over: the new version only, never mixed', async () => {
  report.stallAfter = 12
  await page.goto(`${base}/page`)
  await waitForRows(12, 'the page')
  await page.goto(`${base}/elsewhere`)
  expect(JSON.parse((await saved())!)).toMatchObject({ items: 12 })
  report.version = 2
  await back()
  await waitForEnd('the restored page')
  expect(await shown()).toEqual(rowsOf(2))
})

it('a restored page left again while its continuation connects continues once when restored again', async () => {
  report.stallAfter = 12
  const held = Promise.withResolvers<void>()
  report.hold = held.promise
  await page.goto(`${base}/page`)
  await waitForRows(12, 'the page')
  await page.goto(`${base}/elsewhere`)
  await back()
  await expect.poll(() => report.ranges, { timeout: 10_000 }).toBe(1)
  // The continuation is connecting: the page leaves and comes back again before it has an answer.
  await page.goto(`${base}/elsewhere`)
  await back(2)
  held.resolve()
  await waitForRows(ROWS.length, 'the restored page')
  await waitForEnd('the restored page')
  // A request of the page after the restore reaches the server after any the restore made.
  await page.evaluate(() => fetch('/elsewhere'))
  expect(report.ranges).toBe(1)
  expect(await shown()).toEqual(rowsOf(1))
})
