/**
 * The delay before reconnect n: min(max, initial × factor^(n-1)), then ± jitter of it; defaults 250 ms, 10 s,
 * ×2 and ±20 %.
 */
import { describe, expect, it } from 'vitest'
import { backoffDelay, resolveResume } from '../src/core/resume/options.ts'

const middle = () => 0.5

describe('backoffDelay', () => {
  it('by default: 250 ms before the first reconnect, doubling, at most 10 s', () => {
    const resume = resolveResume('auto')!
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelay(resume, n, middle))).toEqual([
      250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000,
    ])
  })

  it('jitter moves the delay by at most its share either way: ±20 % by default', () => {
    const resume = resolveResume({})!
    expect(backoffDelay(resume, 1, () => 0)).toBe(200)
    expect(backoffDelay(resume, 1, () => 1)).toBe(300)
    expect(backoffDelay(resume, 7, () => 0)).toBe(8000)
    expect(backoffDelay(resume, 7, () => 1)).toBe(12_000)
  })

  it('follows the given initial, factor, max and jitter', () => {
    const resume = resolveResume({ backoff: { initial: 100, factor: 3, max: 2000, jitter: 0.5 } })!
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(resume, n, middle))).toEqual([100, 300, 900, 2000, 2000])
    expect(backoffDelay(resume, 2, () => 0)).toBe(150)
    expect(backoffDelay(resume, 2, () => 1)).toBe(450)
  })
})

describe('backoffDelay on a stream that reconnects thousands of times', () => {
  it('without an initial delay waits 0 ms, never NaN, also past the 1024th reconnect (factor^n is Infinity)', () => {
    const resume = resolveResume({ attempts: 10_000, backoff: { initial: 0, jitter: 0 } })!
    expect([1, 2, 1024, 1025, 5000].map((n) => backoffDelay(resume, n, middle))).toEqual([0, 0, 0, 0, 0])
  })

  it('with an initial delay stays at max past the 1024th reconnect', () => {
    const resume = resolveResume({ attempts: 10_000 })!
    expect([1025, 5000].map((n) => backoffDelay(resume, n, middle))).toEqual([10_000, 10_000])
  })
})
