/**
 * A real CORS refusal in Chromium: the page's origin is not the test server's, and an answer without CORS headers
 * is refused with the same `Failed to fetch` as a network down (see test/client.test.ts for each runtime's words).
 */
import { expect, inject, it } from 'vitest'
import { isNetworkError, sluice } from '../../src/index.ts'

it("a request the server's CORS refuses says to check the server's CORS, not only the URL and the network", async () => {
  const target = `${inject('serverUrl')}/text?body=hello&cors=none`
  const error = await sluice(target, { retry: 0 }).catch((e: unknown) => e)
  expect(isNetworkError(error)).toBe(true)
  expect((error as Error).message).toBe(
    `Could not connect to ${target} (Failed to fetch). Check the URL and the network, or the server's CORS.`,
  )
})
