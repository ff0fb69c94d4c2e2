import { setupWorker } from 'msw/browser'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { functionUrlCases } from '../support/function-url-cases.ts'

// Same origin as the test page: the worker intercepts it without any CORS question.
const base = new URL('/function-url-msw/', location.href).href
const worker = setupWorker()
let started = false

beforeAll(async () => {
  await worker.start({ onUnhandledFrame: 'bypass', quiet: true })
  started = true
})
afterEach(() => worker.resetHandlers())
afterAll(() => {
  // Stopping a worker that never started hangs the hook (TOOLCHAIN.md).
  if (started) worker.stop()
})

functionUrlCases({
  where: 'in the page under the msw worker',
  use: (...handlers) => worker.use(...handlers),
  base,
})
