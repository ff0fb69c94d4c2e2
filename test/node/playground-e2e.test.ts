import { createHash } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { ANSWER_TEXT, binaryChunks, DOCUMENT } from '../../playground/functions/data.ts'
import { type Playground, startPlayground } from '../../playground/server.ts'
import { launchChromium } from '../support/chromium.ts'

// Drives the playground page in headless Chromium at the functions' real pace: every panel must render before
// its stream completes, end with exact content, and show the resume after a cut.
const BINARY_BYTES = 6_000_000
let playground: Playground
let browser: Browser
let page: Page

beforeAll(async () => {
  playground = await startPlayground({ port: 0, binaryBytes: BINARY_BYTES, pace: 1, log: false })
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
