/**
 * A real opaque Response in Chromium: the page's origin is not the test server's, so a no-cors request gets one
 * (see test/opaque-response.test.ts for the constructed ones, in every runtime).
 */
import { expect, inject, it } from 'vitest'
import { sluice } from '../../src/index.ts'

// A real one: the page's origin is not the test server's, so a no-cors request gets an opaque answer.
it("a no-cors request sent by the browser's own fetch rejects, rather than streaming nothing as a complete body", async () => {
  const target = `${inject('serverUrl')}/text?body=hello`
  const error = await sluice(target, { mode: 'no-cors', retry: 0 }).catch((e: unknown) => e)
  expect(error).toBeInstanceOf(TypeError)
  expect((error as Error).message).toBe(
    `Requesting ${target} failed, not for a network error: fetch resolved to a Response of type "opaque" (no-cors, or redirect: 'manual'), whose body cannot be read.`,
  )
})
