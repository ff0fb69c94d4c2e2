/**
 * An HTTP date is in GMT whatever its format (RFC 9110 §5.6.7), asctime's too, which names no zone: read in the
 * machine's zone, a `Retry-After` in it waited hours too long east of Greenwich's opposite, or not at all.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { retryAfter } from '../../src/core/resume/options.ts'

// Node follows TZ set at run time; this file has its process to itself.
const zone = process.env.TZ
beforeAll(() => {
  process.env.TZ = 'America/New_York'
})
afterAll(() => {
  if (zone === undefined) delete process.env.TZ
  else process.env.TZ = zone
})

it("reads an asctime Retry-After as GMT in a machine's other zone", () => {
  expect(new Date(Date.UTC(2026, 0, 1)).getTimezoneOffset()).not.toBe(0)
  const now = Date.UTC(1994, 10, 6, 8, 49, 27)
  expect(retryAfter(new Headers({ 'retry-after': 'Sun Nov  6 08:49:37 1994' }), now)).toBe(10_000)
})
