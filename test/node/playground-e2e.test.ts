import { createHash } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { ANSWER_TEXT, binaryChunks, DOCUMENT, DOCUMENT_TEXT } from '../../playground/functions/data.ts'
import { type Playground, startPlayground } from '../../playground/server.ts'
import { launchChromium } from '../support/chromium.ts'

// Drives the playground page in headless Chromium at twice the functions' real pace (every stream still runs for
// seconds): every panel must render before its stream completes, end with exact content, and show the resume
// after a cut.
const BINARY_BYTES = 6_000_000
let playground: Playground
let browser: Browser
let page: Page

beforeAll(async () => {
  playground = await startPlayground({ port: 0, binaryBytes: BINARY_BYTES, pace: 0.5, log: false })
  browser = await launchChromium()
  page = await browser.newPage({ viewport: { width: 1400, height: 980 } })
})

afterAll(async () => {
  await browser?.close()
  await playground?.close()
})

const panel = (name: string) => page.locator(`section[data-fn="${name}"]`)
const waitForState = (name: string, state: string, timeout = 45_000) =>
  page.waitForSelector(`section[data-fn="${name}"][data-state="${state}"]`, { timeout })

it('renders every panel progressively and ends with exact content', { timeout: 90_000 }, async () => {
  const errors: string[] = []
  page.on('pageerror', (error) => errors.push(error.message))
  // Without a cut nothing should fail to load, the favicon included.
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text())
  })
  await page.goto(playground.url)
  for (const name of ['tokens', 'report', 'document', 'binary'])
    await panel(name).locator('button.start').click()

  // Intermediate renders, seen while the streams are still running.
  await page.waitForFunction(() => {
    const section = document.querySelector('section[data-fn="tokens"]') as HTMLElement
    return (
      section.dataset.state === 'streaming' &&
      (section.querySelector('.output')?.textContent ?? '').length > 20
    )
  })
  await page.waitForFunction(() => {
    const section = document.querySelector('section[data-fn="document"]') as HTMLElement
    return section.dataset.state === 'streaming' && section.querySelector('.tree .growing') !== null
  })
  // The partial document reads as the start of its final text, one … where more is coming (no staircase of
  // unclosed brackets, commas and … lines).
  const partialDocument = (await panel('document').locator('.tree').textContent()) ?? ''
  expect(partialDocument.indexOf('…')).toBe(partialDocument.length - 1)
  expect(DOCUMENT_TEXT.startsWith(partialDocument.slice(0, -1).trimEnd())).toBe(true)
  const partialTokens = (await panel('tokens').locator('.output').textContent()) ?? ''
  expect(partialTokens.length).toBeLessThan(ANSWER_TEXT.length)
  expect(ANSWER_TEXT.startsWith(partialTokens)).toBe(true)
  expect(await panel('binary').locator('.stats').textContent()).toMatch(/of 5\.7 MiB/)

  for (const name of ['tokens', 'report', 'document', 'binary']) await waitForState(name, 'done')
  expect(await panel('tokens').locator('.output').textContent()).toBe(ANSWER_TEXT)
  expect(await panel('report').locator('.count').textContent()).toBe('100,000 rows')
  expect(await panel('report').locator('tbody tr').count()).toBe(20)
  expect(await panel('report').locator('tbody tr').last().locator('td').first().textContent()).toBe('100000')
  expect(await panel('document').locator('.tree .growing').count()).toBe(0)
  expect(JSON.parse((await panel('document').locator('.tree').textContent()) ?? '')).toEqual(DOCUMENT)
  const sha = createHash('sha256')
  for (const chunk of binaryChunks(BINARY_BYTES)) sha.update(chunk)
  expect(await panel('binary').locator('.sha256').textContent()).toBe(sha.digest('hex'))
  expect(await panel('binary').locator('a[download]').getAttribute('href')).toMatch(/^blob:/)
  for (const name of ['report', 'document', 'binary']) {
    expect(await panel(name).locator('progress').getAttribute('value')).toBe('100')
  }
  expect(errors).toEqual([])
})

it('shows the resume after a cut and ends with the exact text', { timeout: 60_000 }, async () => {
  const tokens = panel('tokens')
  await tokens.locator('button.start').click()
  await page.waitForFunction(
    () => (document.querySelector('section[data-fn="tokens"] .output')?.textContent ?? '').length > 300,
  )
  await tokens.locator('button.cut').click()
  await page.waitForFunction(() =>
    /Resumed at/.test(document.querySelector('section[data-fn="tokens"] .failure')?.textContent ?? ''),
  )
  expect(await tokens.locator('.failure').textContent()).toMatch(
    /Connection lost after .* reconnecting \(attempt 2\)/,
  )
  // README's picture of the playground mid-resume; rewritten only on request, so a test run leaves the tree clean.
  if (process.env.UPDATE_SCREENSHOT === '1') {
    await page.screenshot({
      path: fileURLToPath(new URL('../../playground/screenshot.png', import.meta.url)),
    })
  }
  await waitForState('tokens', 'done', 30_000)
  expect(await tokens.locator('.output').textContent()).toBe(ANSWER_TEXT)
  expect(await tokens.locator('.stats').textContent()).toMatch(/attempt 2/)
})

it('a document stopped part way no longer says more is coming', { timeout: 60_000 }, async () => {
  await page.goto(playground.url)
  const document_ = panel('document')
  await document_.locator('button.start').click()
  await page.waitForFunction(
    () => document.querySelector('section[data-fn="document"] .tree .growing') !== null,
  )
  await document_.locator('button.stop').click()
  await waitForState('document', 'cancelled')
  // A frame's render still pending at the stop must not bring the … back.
  await page.evaluate(
    () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))),
  )
  const text = (await document_.locator('.tree').textContent()) ?? ''
  expect(text).not.toContain('…')
  expect(text.length).toBeGreaterThan(0)
  expect(DOCUMENT_TEXT.startsWith(text)).toBe(true)
  expect(await document_.locator('.tree .growing').count()).toBe(0)
  // Its checkpoint stands at its start: nothing to continue, Start starts over.
  expect(await document_.locator('button.start').textContent()).toBe('Start')
  expect(await document_.locator('button.restart').isVisible()).toBe(false)
})

/** Starts the tokens panel and, once it is under way, cuts it while every reconnect fails: the run fails. */
async function failTokens(): Promise<string> {
  const tokens = panel('tokens')
  await page.goto(playground.url)
  await tokens.locator('button.start').click()
  await page.waitForFunction(
    () => (document.querySelector('section[data-fn="tokens"] .output')?.textContent ?? '').length > 300,
  )
  await page.route('**/fn/tokens', (route) => route.abort('connectionreset'))
  await tokens.locator('button.cut').click()
  await waitForState('tokens', 'error', 30_000)
  await page.unroute('**/fn/tokens')
  expect(await tokens.locator('.failure').textContent()).toMatch(/ResumeError \[ERR_RESUME\]: Gave up after/)
  return (await tokens.locator('.output').textContent()) ?? ''
}

/**
 * Presses the token panel's Retry or Continue, and checks that it asks for the rest after the last event shown
 * (not the whole stream again) and ends with `before` followed by the rest, once.
 */
async function goesOnAfter(before: string, verb: 'Retrying' | 'Continuing'): Promise<void> {
  const tokens = panel('tokens')
  const request = page.waitForRequest('**/fn/tokens')
  await tokens.locator('button.start').click()
  expect((await request).headers()['last-event-id']).toMatch(/^\d+$/)
  await waitForState('tokens', 'done', 30_000)
  const text = (await tokens.locator('.output').textContent()) ?? ''
  expect(text.startsWith(before)).toBe(true)
  expect(text).toBe(ANSWER_TEXT)
  expect(await tokens.locator('.failure').textContent()).toMatch(
    new RegExp(
      `^${verb} from the checkpoint at .*: what arrived stays, the rest follows\\.Resumed at .*, nothing lost, nothing repeated\\.$`,
    ),
  )
  expect(await tokens.locator('button.start').textContent()).toBe('Start')
  expect(await tokens.locator('button.restart').isVisible()).toBe(false)
}

it('Retry after a failure continues from the checkpoint, keeping what arrived', {
  timeout: 60_000,
}, async () => {
  const tokens = panel('tokens')
  const before = await failTokens()
  expect(await tokens.locator('button.start').textContent()).toBe('Retry')
  expect(await tokens.locator('button.restart').isVisible()).toBe(true)
  await goesOnAfter(before, 'Retrying')
})

it('Start over after a failure starts the stream again from its first event', {
  timeout: 60_000,
}, async () => {
  const tokens = panel('tokens')
  await failTokens()
  const request = page.waitForRequest('**/fn/tokens')
  await tokens.locator('button.restart').click()
  expect((await request).headers()['last-event-id']).toBeUndefined()
  expect(await tokens.locator('.failure').textContent()).toBe('')
  await waitForState('tokens', 'done', 30_000)
  expect(await tokens.locator('.output').textContent()).toBe(ANSWER_TEXT)
  expect(await tokens.locator('.stats').textContent()).toMatch(/attempt 1$/)
})

it('Stop cancels a running stream', { timeout: 60_000 }, async () => {
  const tokens = panel('tokens')
  await tokens.locator('button.start').click()
  await page.waitForFunction(
    () => (document.querySelector('section[data-fn="tokens"] .output')?.textContent ?? '').length > 0,
  )
  expect(await tokens.locator('.failure').textContent()).toBe('')
  await tokens.locator('button.stop').click()
  await waitForState('tokens', 'cancelled', 10_000)
})

it('resumes every panel after a cut and ends with exactly the uncut content', {
  timeout: 120_000,
}, async () => {
  await page.goto(playground.url)
  for (const name of ['tokens', 'report', 'document', 'binary']) {
    await panel(name).locator('button.start').click()
    // Cut once the panel is visibly under way, then let it resume.
    await page.waitForFunction(
      (fn) =>
        (document.querySelector(`section[data-fn="${fn}"] .stats`)?.textContent ?? '').match(/^[1-9]/) !==
        null,
      name,
    )
    await panel(name).locator('button.cut').click()
  }
  let resumed = 0
  for (const name of ['tokens', 'report', 'document', 'binary']) {
    await waitForState(name, 'done', 90_000)
    // A cut that landed after the body was sent needs no resume (and may say it cut nothing); every other one
    // shows it.
    const log = (await panel(name).locator('.failure').textContent()) ?? ''
    if (log === '' || /^Nothing to cut/.test(log)) continue
    expect(log).toMatch(/Resumed at/)
    resumed++
  }
  // The slow streams are certainly still running when they are cut.
  expect(resumed).toBeGreaterThanOrEqual(3)
  expect(await panel('tokens').locator('.output').textContent()).toBe(ANSWER_TEXT)
  expect(await panel('report').locator('.count').textContent()).toBe('100,000 rows')
  expect(await panel('report').locator('tbody tr').last().locator('td').first().textContent()).toBe('100000')
  expect(JSON.parse((await panel('document').locator('.tree').textContent()) ?? '')).toEqual(DOCUMENT)
  const sha = createHash('sha256')
  for (const chunk of binaryChunks(BINARY_BYTES)) sha.update(chunk)
  expect(await panel('binary').locator('.sha256').textContent()).toBe(sha.digest('hex'))
})

it('lets the previous file go when the binary panel runs again', { timeout: 60_000 }, async () => {
  await page.goto(playground.url)
  const binary = panel('binary')
  const run = async () => {
    await binary.locator('button.start').click()
    // Reset to "Receiving…" on Start; the link comes once the file is whole.
    return (await binary.locator('a[download]').getAttribute('href', { timeout: 45_000 }))!
  }
  const fetchable = (href: string) =>
    page.evaluate(
      (url) =>
        fetch(url).then(
          (answer) => answer.ok,
          () => false,
        ),
      href,
    )
  const first = await run()
  expect(await fetchable(first)).toBe(true)
  const second = await run()
  // Each run holds the whole file in a Blob behind its link: a URL left registered keeps it in memory until the
  // page is closed, one more file per Start.
  expect(second).not.toBe(first)
  expect(await fetchable(first)).toBe(false)
  expect(await fetchable(second)).toBe(true)
})

it('Stop offers Continue, which goes on from where the stream was stopped, and Start over', {
  timeout: 60_000,
}, async () => {
  await page.goto(playground.url)
  const tokens = panel('tokens')
  await tokens.locator('button.start').click()
  await page.waitForFunction(
    () => (document.querySelector('section[data-fn="tokens"] .output')?.textContent ?? '').length > 300,
  )
  await tokens.locator('button.stop').click()
  await waitForState('tokens', 'cancelled', 10_000)
  const before = (await tokens.locator('.output').textContent()) ?? ''
  // Stopped part way, the stream has a place to go on from: Start would have thrown away what arrived.
  expect(await tokens.locator('button.start').textContent()).toBe('Continue')
  expect(await tokens.locator('button.start').getAttribute('title')).toMatch(
    /^Continues from .*, where the stream was stopped\.$/,
  )
  expect(await tokens.locator('button.restart').isVisible()).toBe(true)
  await goesOnAfter(before, 'Continuing')
  // The continuing request is the run's second.
  expect(await tokens.locator('.stats').textContent()).toMatch(/attempt 2$/)

  // Stopped again, Start over begins from the first event.
  await tokens.locator('button.start').click()
  await page.waitForFunction(
    () => (document.querySelector('section[data-fn="tokens"] .output')?.textContent ?? '').length > 0,
  )
  await tokens.locator('button.stop').click()
  await waitForState('tokens', 'cancelled', 10_000)
  const fresh = page.waitForRequest('**/fn/tokens')
  await tokens.locator('button.restart').click()
  expect((await fresh).headers()['last-event-id']).toBeUndefined()
  await waitForState('tokens', 'done', 30_000)
  expect(await tokens.locator('.output').textContent()).toBe(ANSWER_TEXT)
  expect(await tokens.locator('.stats').textContent()).toMatch(/attempt 1$/)
})

it('counts a Retry’s requests as attempts, and a Retry that fails keeps the total', {
  timeout: 90_000,
}, async () => {
  await page.goto(playground.url)
  const report = panel('report')
  const stats = () => report.locator('.stats').textContent()
  await report.locator('button.start').click()
  await page.waitForFunction(() =>
    / items /.test(document.querySelector('section[data-fn="report"] .stats')?.textContent ?? ''),
  )
  // Every connection fails from the cut on: the 5 reconnects, then a Retry's request and its 5 re-asks.
  await page.route('**/fn/report', (route) => route.abort('connectionreset'))
  await report.locator('button.cut').click()
  await waitForState('report', 'error', 30_000)
  expect(await stats()).toMatch(/ of 10\.0 MiB · \d+\.\d % · .* · attempt 6$/)
  await report.locator('button.start').click()
  // The Retry's request is the seventh, not the sixth again.
  expect(await stats()).toMatch(/attempt 7$/)
  await waitForState('report', 'error', 30_000)
  expect(await report.locator('.failure').textContent()).toMatch(/Gave up after 6 resume requests/)
  // The progress bar keeps its scale: a total, a percentage, and all the requests made.
  expect(await stats()).toMatch(/ of 10\.0 MiB · \d+\.\d % · .* · attempt 12$/)
  await page.unroute('**/fn/report')
  await report.locator('button.start').click()
  await waitForState('report', 'done', 60_000)
  expect(await stats()).toMatch(/attempt 13$/)
  expect(await report.locator('.count').textContent()).toBe('100,000 rows')
  expect(await report.locator('tbody tr').last().locator('td').first().textContent()).toBe('100000')
})

it('a reload continues the running panels where they stood, and keeps a stopped one', {
  timeout: 90_000,
}, async () => {
  await page.goto(playground.url)
  const tokens = panel('tokens')
  const report = panel('report')
  const errors: string[] = []
  const onError = (error: Error) => errors.push(error.message)
  page.on('pageerror', onError)
  try {
    await tokens.locator('button.start').click()
    await page.waitForFunction(
      () => (document.querySelector('section[data-fn="tokens"] .output')?.textContent ?? '').length > 300,
    )
    await tokens.locator('button.stop').click()
    await waitForState('tokens', 'cancelled', 10_000)
    const stopped = (await tokens.locator('.output').textContent()) ?? ''
    await report.locator('button.start').click()
    await page.waitForFunction(() =>
      / items /.test(document.querySelector('section[data-fn="report"] .stats')?.textContent ?? ''),
    )
    const request = page.waitForRequest(
      (r) => r.url().endsWith('/fn/report') && r.headers().range !== undefined,
    )
    await page.reload()
    // The report goes on by Range from the last row it showed, which it shows again.
    expect((await request).headers().range).toMatch(/^bytes=[1-9]\d*-$/)
    expect(await report.locator('.failure').textContent()).toMatch(
      /^Continuing after the reload from the checkpoint at /,
    )
    // The stopped panel is back as it was, with Continue.
    expect(await tokens.locator('.output').textContent()).toBe(stopped)
    expect(await tokens.locator('button.start').textContent()).toBe('Continue')
    expect(await tokens.locator('.stats').textContent()).toMatch(/ items · .*attempt 1$/)
    await waitForState('report', 'done', 60_000)
    expect(await report.locator('.count').textContent()).toBe('100,000 rows')
    expect(await report.locator('tbody tr').count()).toBe(20)
    expect(await report.locator('tbody tr').last().locator('td').first().textContent()).toBe('100000')
    expect(await report.locator('.stats').textContent()).toMatch(/100,000 items .*attempt 2$/)
    await tokens.locator('button.start').click()
    await waitForState('tokens', 'done', 30_000)
    expect(await tokens.locator('.output').textContent()).toBe(ANSWER_TEXT)
    // Opened anew (not reloaded), the page starts clean.
    await page.goto(playground.url)
    expect(await tokens.locator('.output').textContent()).toBe('')
    expect(await tokens.locator('button.start').textContent()).toBe('Start')
    expect(errors).toEqual([])
  } finally {
    page.off('pageerror', onError)
  }
})

it('the binary, stopped and continued, ends with the exact file', { timeout: 60_000 }, async () => {
  await page.goto(playground.url)
  const binary = panel('binary')
  await binary.locator('button.start').click()
  await page.waitForFunction(() =>
    /^[1-9][\d.]* MiB of/.test(document.querySelector('section[data-fn="binary"] .stats')?.textContent ?? ''),
  )
  await binary.locator('button.stop').click()
  await waitForState('binary', 'cancelled', 10_000)
  expect(await binary.locator('.output').textContent()).toBe('No file: the run ended before its last byte.')
  const request = page.waitForRequest('**/fn/binary')
  await binary.locator('button.start').click()
  expect((await request).headers().range).toMatch(/^bytes=[1-9]\d*-$/)
  await waitForState('binary', 'done', 45_000)
  const sha = createHash('sha256')
  for (const chunk of binaryChunks(BINARY_BYTES)) sha.update(chunk)
  expect(await binary.locator('.sha256').textContent()).toBe(sha.digest('hex'))
  expect(await binary.locator('.output').textContent()).toContain(`(${BINARY_BYTES.toLocaleString()} bytes)`)
})
