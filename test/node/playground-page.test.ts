import type { Browser, Page } from 'playwright'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { ANSWER_TEXT, DOCUMENT_TEXT } from '../../playground/functions/data.ts'
import type { Playground } from '../../playground/server.ts'
import { openPlaygroundPage, type PlaygroundPage } from '../support/playground-page.ts'

// The page's own logic in headless Chromium, flat out: what the query string selects, and what the cut control
// says. (test/node/playground-e2e.test.ts drives the panels at the functions' real pace.)
let opened: PlaygroundPage | undefined
let playground: Playground
let browser: Browser
let page: Page

beforeAll(async () => {
  opened = await openPlaygroundPage()
  ;({ playground, browser, page } = opened)
})

afterAll(() => opened?.close())

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

it('fits a narrow window: one column, no sideways scrolling of the page', async () => {
  const narrow = await browser.newPage({ viewport: { width: 375, height: 740 } })
  try {
    await narrow.goto(playground.url)
    const { scrollWidth, clientWidth, panels } = await narrow.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      clientWidth: document.documentElement.clientWidth,
      panels: [...document.querySelectorAll('section.panel')].map(
        (section) => section.getBoundingClientRect().right,
      ),
    }))
    // Panels of 560 px at least made a phone scroll the page sideways, with the controls and output cut off.
    expect(scrollWidth).toBe(clientWidth)
    for (const right of panels) expect(right).toBeLessThanOrEqual(clientWidth)
  } finally {
    await narrow.close()
  }
})

it('fits a narrow window with an error that names a long URL', async () => {
  const narrow = await browser.newPage({ viewport: { width: 375, height: 740 } })
  try {
    // Port 1 is refused at once; the error names the URL, a word too long for the panel's width.
    const long = `http://127.0.0.1:1/${'function-url-path/'.repeat(3)}${'x'.repeat(60)}`
    await narrow.goto(`${playground.url}?tokens=${encodeURIComponent(long)}`)
    await narrow.locator('section[data-fn="tokens"] button.start').click()
    await narrow.waitForSelector('section[data-fn="tokens"][data-state="error"]', { timeout: 20_000 })
    expect(await narrow.locator('section[data-fn="tokens"] .failure').textContent()).toContain(long)
    const { scrollWidth, clientWidth, failure } = await narrow.evaluate(() => {
      const box = document.querySelector('section[data-fn="tokens"] .failure')!
      return {
        scrollWidth: document.documentElement.scrollWidth,
        clientWidth: document.documentElement.clientWidth,
        failure: box.scrollWidth <= box.clientWidth,
      }
    })
    // Unbroken, the URL ran out of its box and the panel, and the page scrolled sideways.
    expect(failure).toBe(true)
    expect(scrollWidth).toBe(clientWidth)
  } finally {
    await narrow.close()
  }
})

it('keeps the keyboard focus on the panel: Start moves it to Stop, the end of the run back to Start', async () => {
  await page.goto(playground.url)
  // Held before it reaches the server: the run lasts until the test lets it go.
  const release = Promise.withResolvers<void>()
  await page.route('**/fn/tokens', async (route) => {
    await release.promise
    await route.continue().catch(() => {})
  })
  const focused = () =>
    page.evaluate(() => {
      const element = document.activeElement as HTMLElement
      return `${element.closest('section')?.dataset.fn ?? 'page'} ${element.className || element.tagName}`
    })
  try {
    await page.keyboard.press('Tab')
    expect(await focused()).toBe('tokens start')
    await page.keyboard.press('Enter')
    await waitForState('tokens', 'connecting')
    // Start disables itself: left there, the focus falls to the page and the next Enter does nothing.
    expect(await focused()).toBe('tokens stop')
    await page.keyboard.press('Enter')
    await waitForState('tokens', 'cancelled')
    expect(await focused()).toBe('tokens start')
    release.resolve()
    await page.keyboard.press('Enter')
    await waitForState('tokens', 'done')
    expect(await focused()).toBe('tokens start')
    expect(await panel('tokens').locator('.output').textContent()).toBe(ANSWER_TEXT)
  } finally {
    release.resolve()
    await page.unroute('**/fn/tokens')
  }
})

it('says there is no file when the binary run is stopped before its last byte', async () => {
  await page.goto(playground.url)
  const release = Promise.withResolvers<void>()
  await page.route('**/fn/binary', async (route) => {
    await release.promise
    await route.continue().catch(() => {})
  })
  try {
    const binary = panel('binary')
    await binary.locator('button.start').click()
    await waitForState('binary', 'connecting')
    expect(await binary.locator('.output').textContent()).toBe('Receiving…')
    await binary.locator('button.stop').click()
    await waitForState('binary', 'cancelled')
    expect(await binary.locator('.output').textContent()).toBe('No file: the run ended before its last byte.')
  } finally {
    release.resolve()
    await page.unroute('**/fn/binary')
  }
})

it('counts one item in the singular', async () => {
  await page.goto(playground.url)
  await panel('document').locator('button.start').click()
  await waitForState('document', 'done')
  expect(await panel('document').locator('.stats').textContent()).toMatch(/ · 1 item · /)
})

it('names CORS as a possible cause when a function on another origin cannot be fetched', async () => {
  // The emulator's own URL is another origin that allows none: the browser refuses the answer, and tells the page
  // only "Failed to fetch", as for a network down.
  await page.goto(`${playground.url}?tokens=${encodeURIComponent(playground.functions.tokens)}`)
  await panel('tokens').locator('button.start').click()
  await waitForState('tokens', 'error')
  const origin = new URL(playground.url).origin
  expect(await panel('tokens').locator('.failure').textContent()).toContain(
    `its function URL must allow ${origin}, e.g. sam deploy --parameter-overrides AllowOrigin=${origin}.`,
  )
})

it('clears the last run’s progress when a panel starts again', async () => {
  await page.goto(playground.url)
  const document_ = panel('document')
  await document_.locator('button.start').click()
  await waitForState('document', 'done')
  expect(await document_.locator('.stats').textContent()).toMatch(/100\.0 %/)
  // The next request waits in the browser, as one to a cold function waits for its first byte.
  const release = Promise.withResolvers<void>()
  await page.route('**/fn/document', async (route) => {
    await release.promise
    await route.continue().catch(() => {})
  })
  try {
    await document_.locator('button.start').click()
    await waitForState('document', 'connecting')
    expect(await document_.locator('.stats').textContent()).toBe('')
    expect(await document_.locator('progress').getAttribute('value')).toBe('0')
    release.resolve()
    await waitForState('document', 'done')
    expect(await document_.locator('progress').getAttribute('value')).toBe('100')
  } finally {
    release.resolve()
    await page.unroute('**/fn/document')
  }
})

it('stills the progress bar of a run that ends without a total', async () => {
  await page.goto(playground.url)
  // Held before it reaches the server: the run is stopped while it waits, with no total known.
  const release = Promise.withResolvers<void>()
  await page.route('**/fn/tokens', async (route) => {
    await release.promise
    await route.continue().catch(() => {})
  })
  try {
    const tokens = panel('tokens')
    await tokens.locator('button.start').click()
    await waitForState('tokens', 'connecting')
    await tokens.locator('button.stop').click()
    await waitForState('tokens', 'cancelled')
    // Without a value the bar is indeterminate: it keeps moving, as if the stream still ran.
    expect(await tokens.locator('progress').getAttribute('value')).toBe('0')
  } finally {
    release.resolve()
    await page.unroute('**/fn/tokens')
  }
})

it('shows the last of the text again after a reload, as the run left it', async () => {
  await page.goto(playground.url)
  // The whole answer but its [DONE] and end marker, then every reconnect held: the run is stopped while it waits,
  // with more text than the panel's height.
  let first = true
  const release = Promise.withResolvers<void>()
  await page.route('**/fn/tokens', async (route) => {
    if (!first) {
      await release.promise
      return route.abort().catch(() => {})
    }
    first = false
    const answer = await route.fetch()
    const body = (await answer.text()).replace(/id: \d+\ndata: \[DONE\][\s\S]*$/, '')
    await route.fulfill({ response: answer, body })
  })
  const scrolled = () =>
    page.evaluate(() => {
      const output = document.querySelector('section[data-fn="tokens"] .output')!
      return {
        overflow: output.scrollHeight > output.clientHeight,
        atEnd: output.scrollHeight - output.clientHeight - output.scrollTop < 2,
      }
    })
  try {
    const tokens = panel('tokens')
    await tokens.locator('button.start').click()
    await waitForState('tokens', 'reconnecting')
    await tokens.locator('button.stop').click()
    await waitForState('tokens', 'cancelled')
    expect(await tokens.locator('.output').textContent()).toBe(ANSWER_TEXT)
    expect(await scrolled()).toEqual({ overflow: true, atEnd: true })
    release.resolve()
    await page.unroute('**/fn/tokens')
    await page.reload()
    expect(await tokens.locator('button.start').textContent()).toBe('Continue')
    expect(await tokens.locator('.output').textContent()).toBe(ANSWER_TEXT)
    // Scrolled to its start, the panel would hide where the text stopped.
    expect(await scrolled()).toEqual({ overflow: true, atEnd: true })
  } finally {
    release.resolve()
    await page.unroute('**/fn/tokens')
  }
})

it('says after a reload that a run finished, showing what it showed, and Start runs it again', async () => {
  await page.goto(playground.url)
  const names = ['tokens', 'report', 'document', 'binary'] as const
  for (const name of names) await panel(name).locator('button.start').click()
  for (const name of names) await waitForState(name, 'done')
  const stats = await Promise.all(names.map((name) => panel(name).locator('.stats').textContent()))
  // A panel that finished is saved as such: it does not come back blank and idle, as if it never ran.
  const finished = async () => {
    for (const [i, name] of names.entries()) {
      const section = panel(name)
      expect(await section.getAttribute('data-state')).toBe('done')
      expect(await section.locator('.state').textContent()).toBe('done')
      expect(await section.locator('button.start').textContent()).toBe('Start')
      expect(await section.locator('button.restart').isVisible()).toBe(false)
      expect(await section.locator('progress').getAttribute('value')).toBe('100')
      expect(await section.locator('.stats').textContent()).toBe(stats[i])
    }
    expect(await panel('tokens').locator('.failure').textContent()).toMatch(
      /^Finished before the reload: \d+ events, 8\.\d KiB\.$/,
    )
    expect(await panel('tokens').locator('.output').textContent()).toBe(ANSWER_TEXT)
    expect(await panel('report').locator('.failure').textContent()).toBe(
      'Finished before the reload: 100,000 rows, 10.0 MiB.',
    )
    expect(await panel('report').locator('.count').textContent()).toBe('100,000 rows')
    expect(await panel('report').locator('tbody tr').count()).toBe(20)
    expect(await panel('report').locator('tbody tr').last().locator('td').first().textContent()).toBe(
      '100000',
    )
    expect(await panel('document').locator('.failure').textContent()).toBe(
      'Finished before the reload: 2.5 KiB.',
    )
    expect(await panel('document').locator('.tree').textContent()).toBe(DOCUMENT_TEXT)
    // The file is not kept (50 MB is more than sessionStorage holds): the panel says so.
    expect(await panel('binary').locator('.failure').textContent()).toBe(
      'Finished before the reload: 976.6 KiB. What it showed is not kept across a reload: Start runs it again.',
    )
    expect(await panel('binary').locator('.output').textContent()).toBe('')
  }
  await page.reload()
  await finished()
  // Said once after a second reload too, not once per reload.
  await page.reload()
  await finished()
  // Start runs the stream again from its first event, the note gone.
  const request = page.waitForRequest('**/fn/tokens')
  await panel('tokens').locator('button.start').click()
  expect((await request).headers()['last-event-id']).toBeUndefined()
  await waitForState('tokens', 'done')
  expect(await panel('tokens').locator('.failure').textContent()).toBe('')
  expect(await panel('tokens').locator('.output').textContent()).toBe(ANSWER_TEXT)
})

/**
 * Routes the tokens: the first request of the page (after `failures` that fail at once) gets the whole answer but
 * its [DONE] and end marker, so the stream reconnects; every later request waits for `release`, then fails.
 */
async function tokensCutBeforeTheEnd(release: Promise<void>, failures = 0): Promise<void> {
  let calls = 0
  await page.route('**/fn/tokens', async (route) => {
    calls++
    if (calls <= failures) return route.abort('connectionreset')
    if (calls > failures + 1) {
      await release
      return route.abort().catch(() => {})
    }
    const answer = await route.fetch()
    const body = (await answer.text()).replace(/id: \d+\ndata: \[DONE\][\s\S]*$/, '')
    await route.fulfill({ response: answer, body })
  })
}

it('labels the disabled Start "Start" while a run lasts, not the Retry or Continue that began it', async () => {
  await page.goto(playground.url)
  const release = Promise.withResolvers<void>()
  await tokensCutBeforeTheEnd(release.promise, 1)
  const tokens = panel('tokens')
  const start = tokens.locator('button.start')
  const label = async () => [await start.textContent(), await start.isDisabled()]
  try {
    await start.click()
    await waitForState('tokens', 'error')
    expect(await label()).toEqual(['Retry', false])
    await start.click()
    await waitForState('tokens', 'reconnecting')
    expect(await label()).toEqual(['Start', true])
    await tokens.locator('button.stop').click()
    await waitForState('tokens', 'cancelled')
    expect(await label()).toEqual(['Continue', false])
    await start.click()
    await waitForState('tokens', 'connecting')
    expect(await label()).toEqual(['Start', true])
    await tokens.locator('button.stop').click()
    await waitForState('tokens', 'cancelled')
    expect(await label()).toEqual(['Continue', false])
  } finally {
    release.resolve()
    await page.unroute('**/fn/tokens')
  }
})

it('continues a run after a back/forward navigation, says so, and reads no stale answer from the HTTP cache', async () => {
  await page.goto(playground.url)
  const tokens = panel('tokens')
  // A whole answer in the browser's cache: while a page loads by a back/forward navigation, Chromium answers its
  // requests from there if it can, even with a stale answer.
  await tokens.locator('button.start').click()
  await waitForState('tokens', 'done')
  const release = Promise.withResolvers<void>()
  await tokensCutBeforeTheEnd(release.promise)
  try {
    await tokens.locator('button.start').click()
    await waitForState('tokens', 'reconnecting')
    // Left while it runs, the page saves its place; Playwright's Chromium has no back/forward cache, so going
    // back loads the page anew, as a browser that keeps a `no-store` page out of that cache does.
    await page.goto(new URL('/style.css', playground.url).href)
  } finally {
    release.resolve()
    await page.unroute('**/fn/tokens')
  }
  await page.goBack()
  await waitForState('tokens', 'done')
  expect(await page.evaluate(() => performance.getEntriesByType('navigation')[0]?.toJSON().type)).toBe(
    'back_forward',
  )
  expect(await tokens.locator('.failure').textContent()).toMatch(
    /^Continuing after the back\/forward navigation from the checkpoint at /,
  )
  // The answer once: the continuation asked for the events after the last one shown, and got only those.
  expect(await tokens.locator('.output').textContent()).toBe(ANSWER_TEXT)
})
