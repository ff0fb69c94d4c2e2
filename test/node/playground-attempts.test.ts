import type { Page, Route } from 'playwright'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { ANSWER_TEXT } from '../../playground/functions/data.ts'
import type { Playground } from '../../playground/server.ts'
import { openPlaygroundPage, type PlaygroundPage } from '../support/playground-page.ts'

// The attempt a panel shows counts the requests made for its stream, once each, across a reload, a Stop and a
// Continue that failed: the checkpoint counts those sent, and the page adds those of continuations that failed.
let opened: PlaygroundPage | undefined
let playground: Playground
let page: Page

beforeAll(async () => {
  opened = await openPlaygroundPage()
  ;({ playground, page } = opened)
})

afterAll(() => opened?.close())

const tokens = () => page.locator('section[data-fn="tokens"]')
const waitForState = (state: string) =>
  page.waitForSelector(`section[data-fn="tokens"][data-state="${state}"]`, { timeout: 20_000 })
const stats = async () => (await tokens().locator('.stats').textContent()) ?? ''

/**
 * Routes the tokens function: its first answer ends before its `[DONE]` (a cut the end marker reveals), and with
 * `wait` asks, with `retry:`, for a reconnect ten minutes later, so the reconnect waits out its backoff for the
 * whole test (else the function's own `retry: 1000` stands); request n > 1 goes to `then(n, route)`. Returns a way
 * to wait for request n.
 */
async function routeTokens(wait: boolean, then: (n: number, route: Route) => Promise<void>) {
  let n = 0
  const seen: PromiseWithResolvers<void>[] = []
  const nth = (k: number) => (seen[k] ??= Promise.withResolvers<void>())
  await page.route('**/fn/tokens', async (route) => {
    const k = ++n
    nth(k).resolve()
    if (k > 1) return then(k, route)
    const answer = await route.fetch()
    const body = (await answer.text()).replace(/id: \d+\ndata: \[DONE\][\s\S]*$/, '')
    await route.fulfill({ response: answer, body: wait ? `${body}retry: 600000\n\n` : body })
  })
  return { request: (k: number) => nth(k).promise }
}

it('a reload while a reconnect waits out its backoff counts the request that continues once', async () => {
  await page.goto(playground.url)
  await routeTokens(true, (_, route) => route.continue())
  try {
    await tokens().locator('button.start').click()
    await waitForState('reconnecting')
    // Announced: the reconnect it is about to make.
    expect(await stats()).toMatch(/attempt 2$/)
    await page.reload()
    await waitForState('done')
    expect(await tokens().locator('.output').textContent()).toBe(ANSWER_TEXT)
    // The first request, then the one that continued after the reload: the reconnect was never sent.
    expect(await stats()).toMatch(/attempt 2$/)
  } finally {
    await page.unroute('**/fn/tokens')
  }
})

it('a reload while a reconnect waits for its answer counts that request too', async () => {
  await page.goto(playground.url)
  const release = Promise.withResolvers<void>()
  const routed = await routeTokens(false, async (n, route) => {
    if (n > 2) return route.continue()
    await release.promise
    await route.abort().catch(() => {})
  })
  try {
    await tokens().locator('button.start').click()
    // The reconnect, sent a second later (the function's own `retry:`), waits for its answer.
    await routed.request(2)
    await page.reload()
    await waitForState('done')
    expect(await tokens().locator('.output').textContent()).toBe(ANSWER_TEXT)
    // The first request, the reconnect, and the one that continued after the reload.
    expect(await stats()).toMatch(/attempt 3$/)
  } finally {
    release.resolve()
    await page.unroute('**/fn/tokens')
  }
})

it('a reload while a Continue waits for its answer counts that request too', async () => {
  await page.goto(playground.url)
  let held: Route | undefined
  const routed = await routeTokens(true, async (n, route) => {
    // The Continue's request is sent and never answered; the one after the reload goes through.
    if (n === 2) held = route
    else await route.continue()
  })
  try {
    await tokens().locator('button.start').click()
    await waitForState('reconnecting')
    await tokens().locator('button.stop').click()
    await waitForState('cancelled')
    await tokens().locator('button.start').click()
    await routed.request(2)
    expect(await stats()).toMatch(/attempt 2$/)
    await page.reload()
    await waitForState('done')
    expect(await tokens().locator('.output').textContent()).toBe(ANSWER_TEXT)
    // The first request, the Continue's, and the one that continued after the reload.
    expect(await stats()).toMatch(/attempt 3$/)
  } finally {
    await held?.abort().catch(() => {})
    await page.unroute('**/fn/tokens')
  }
})

it('a Continue stopped after two requests counts both, and the next Continue is the fourth request', async () => {
  await page.goto(playground.url)
  let held: Route | undefined
  const routed = await routeTokens(true, async (n, route) => {
    // The Continue's first request fails (asked again after a backoff), its second waits for ever.
    if (n === 2) return route.abort('connectionreset')
    if (n === 3) held = route
    else await route.continue()
  })
  try {
    await tokens().locator('button.start').click()
    await waitForState('reconnecting')
    await tokens().locator('button.stop').click()
    await waitForState('cancelled')
    await tokens().locator('button.start').click()
    // Its number shows while it waits for an answer: the checkpoint's request, then this one.
    expect(await stats()).toMatch(/attempt 2$/)
    await routed.request(3)
    await tokens().locator('button.stop').click()
    await waitForState('cancelled')
    expect(await stats()).toMatch(/attempt 3$/)
    expect(await tokens().locator('button.start').textContent()).toBe('Continue')
    await tokens().locator('button.start').click()
    expect(await stats()).toMatch(/attempt 4$/)
    await waitForState('done')
    expect(await tokens().locator('.output').textContent()).toBe(ANSWER_TEXT)
    expect(await stats()).toMatch(/attempt 4$/)
  } finally {
    await held?.abort().catch(() => {})
    await page.unroute('**/fn/tokens')
  }
})
