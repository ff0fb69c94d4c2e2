import type { RequestHandler } from 'msw'
import { setupWorker } from 'msw/browser'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { streamHandlerCancelCases, streamHandlerCases } from '../support/msw-stream-cases.ts'

// streamHandler behind msw's service worker in Chromium, read with the page's real fetch. The worker script is
// served by msw's Vite plugin (vitest.config.ts, chromium project).
const worker = setupWorker()
let started = false

beforeAll(async () => {
  // Vitest's own module requests pass through the worker too, so unhandled requests must go to the network.
  await worker.start({ quiet: true, onUnhandledFrame: 'bypass' })
  started = true
})
afterEach(() => {
  worker.resetHandlers()
})
afterAll(async () => {
  // stop() on a worker that never started waits 30 s for it.
  if (started) await worker.stop()
})

const transport = {
  where: 'behind the msw browser worker',
  reader: 'the page',
  use: (...handlers: RequestHandler[]) => worker.use(...handlers),
  url: `${location.origin}/sluice-mock/stream`,
  failure: 'network error',
  // msw's worker fails on a header it hands the page beyond Latin-1 (README, "Test kit").
  wide: false,
}
streamHandlerCases(transport)
streamHandlerCancelCases(transport)
