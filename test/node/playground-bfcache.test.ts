import type { Page } from 'playwright'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { ANSWER_TEXT } from '../../playground/functions/data.ts'
import type { Playground } from '../../playground/server.ts'
import { openPlaygroundPage, type PlaygroundPage } from '../support/playground-page.ts'

// The playground page in a Chromium with its back/forward cache on, as a user's is: a page left while a panel runs
// and restored from that cache (not loaded anew) goes on with the run, as a reload does.
let opened: PlaygroundPage | undefined
let playground: Playground
let page: Page

beforeAll(async () => {
  // The functions at a fifth of their pace: the token stream lasts about two seconds, long enough to leave it.
  opened = await openPlaygroundPage({ pace: 0.2, backForwardCache: true })
  ;({ playground, page } = opened)
  await page.addInitScript(() =>
    addEventListener('pageshow', (event) => {
      if (event.persisted) document.documentElement.dataset.restored = 'yes'
    }),
  )
})

afterAll(() => opened?.close())

const tokens = () => page.locator('section[data-fn="tokens"]')
const waitForState = (state: string) =>
  page.waitForSelector(`section[data-fn="tokens"][data-state="${state}"]`, { timeout: 20_000 })

/** Starts the token stream and leaves the page once some of it is shown (a checkpoint past the start). */
async function leaveWhileTokensStream(): Promise<void> {
  await tokens().locator('button.start').click()
  await page.waitForFunction(
    () => (document.querySelector('section[data-fn="tokens"] .output')?.textContent ?? '').length > 20,
  )
  await page.goto(new URL('/style.css', playground.url).href)
}

/** Back to the playground, which must come from the back/forward cache; if not, says why Chromium did not keep it. */
async function backFromTheCache(): Promise<void> {
  const cdp = await page.context().newCDPSession(page)
  const notUsed: unknown[] = []
  cdp.on('Page.backForwardCacheNotUsed', (event) => notUsed.push(...event.notRestoredExplanations))
  await cdp.send('Page.enable')
  // A page restored from the cache fires no load event: wait for the navigation to commit, then for `pageshow`.
  await page.goBack({ waitUntil: 'commit' })
  try {
    await page.waitForSelector('html[data-restored]', { timeout: 10_000 })
  } catch {
    throw new Error(`The page was not restored from the back/forward cache: ${JSON.stringify(notUsed)}`)
  } finally {
    await cdp.detach()
  }
}

it('a running token stream restored from the back/forward cache continues from its checkpoint, every token once', async () => {
  await page.goto(playground.url)
  await leaveWhileTokensStream()
  await backFromTheCache()
  await waitForState('done')
  expect(await tokens().locator('.failure').textContent()).toMatch(
    /^Continuing after the back\/forward navigation from the checkpoint at /,
  )
  expect(await tokens().locator('.output').textContent()).toBe(ANSWER_TEXT)
  expect(await tokens().locator('.stats').textContent()).toMatch(/attempt 2$/)
})

it('a page kept out of the cache by a no-store answer (the report) loads anew, and the token stream continues the same', async () => {
  await page.goto(playground.url)
  await page.locator('section[data-fn="report"] button.start').click()
  await page.waitForSelector('section[data-fn="report"][data-state="done"]', { timeout: 20_000 })
  await leaveWhileTokensStream()
  await page.goBack()
  await waitForState('done')
  expect(
    await page.evaluate(() => [
      document.documentElement.dataset.restored,
      performance.getEntriesByType('navigation')[0]?.toJSON().type,
    ]),
  ).toEqual([undefined, 'back_forward'])
  expect(await tokens().locator('.failure').textContent()).toMatch(
    /^Continuing after the back\/forward navigation from the checkpoint at /,
  )
  expect(await tokens().locator('.output').textContent()).toBe(ANSWER_TEXT)
  expect(await tokens().locator('.stats').textContent()).toMatch(/attempt 2$/)
})
