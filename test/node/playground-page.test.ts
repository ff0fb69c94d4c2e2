import { type Browser, chromium, type Page } from 'playwright'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { ANSWER_TEXT } from '../../playground/functions/data.ts'
import { type Playground, startPlayground } from '../../playground/server.ts'

// The page's own logic in headless Chromium, flat out: what the query string selects, and what the cut control
// says. (test/node/playground-e2e.test.ts drives the panels at the functions' real pace.)
let playground: Playground
let browser: Browser
let page: Page

beforeAll(async () => {
  playground = await startPlayground({ port: 0, binaryBytes: 1_000_000, shaping: false, pace: 0, log: false })
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/lib/chromium/chromium',
    args: [
      '--no-sandbox',
      '--headless',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
  page = await browser.newPage()
})

afterAll(async () => {
  await browser?.close()
  await playground?.close()
})

const panel = (name: string) => page.locator(`section[data-fn="${name}"]`)
const waitForState = (name: string, state: string) =>
  page.waitForSelector(`section[data-fn="${name}"][data-state="${state}"]`, { timeout: 20_000 })

it('keeps a function local when its query parameter is empty', async () => {
  // An empty URL is no URL: fetched, it is the page itself.
  await page.goto(new URL('/?tokens=&report=', playground.url).href)
  expect(await page.locator('#target').textContent()).toBe(
    'The functions run in local emulators behind /fn/<name>.',
  )
  expect(await panel('tokens').locator('button.cut').getAttribute('title')).toMatch(/^Drops the connection/)
  await panel('tokens').locator('button.start').click()
  await waitForState('tokens', 'done')
  expect(await panel('tokens').locator('.output').textContent()).toBe(ANSWER_TEXT)
  expect(await panel('tokens').locator('.failure').textContent()).toBe('')
})

it('refuses a function URL that is not an absolute http(s) URL, saying which and why', async () => {
  // Relative, it would name a path of the page server, whose 404 says nothing about the query string.
  await page.goto(new URL('/?document=abc.lambda-url.eu-west-1.on.aws', playground.url).href)
  await panel('document').locator('button.start').click()
  await waitForState('document', 'error')
  expect(await panel('document').locator('.failure').textContent()).toBe(
    'Error: ?document=abc.lambda-url.eu-west-1.on.aws is not a function URL: pass an absolute http(s) URL, such as https://abc.lambda-url.eu-west-1.on.aws/.',
  )
})

it('says so when a cut finds nothing to cut', async () => {
  await page.goto(playground.url)
  // The request waits in the browser until the cut has been answered: the panel is connecting, the button is
  // enabled, and the page server has no response of that function to cut.
  const cutDone = Promise.withResolvers<void>()
  await page.route('**/fn/tokens', async (route) => {
    await cutDone.promise
    await route.continue()
  })
  const tokens = panel('tokens')
  await tokens.locator('button.start').click()
  await waitForState('tokens', 'connecting')
  const answered = page.waitForResponse('**/control/cut?name=tokens')
  await tokens.locator('button.cut').click()
  expect((await answered).status()).toBe(200)
  await page.waitForFunction(
    () =>
      /Nothing to cut/.test(document.querySelector('section[data-fn="tokens"] .failure')?.textContent ?? ''),
    undefined,
    { timeout: 10_000 },
  )
  expect(await (await answered).json()).toEqual({ name: 'tokens', cut: 0 })
  cutDone.resolve()
  await waitForState('tokens', 'done')
  expect(await tokens.locator('.output').textContent()).toBe(ANSWER_TEXT)
  await page.unroute('**/fn/tokens')
})
