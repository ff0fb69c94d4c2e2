/**
 * A server's `Retry-After` is honoured however long it is: past the longest delay a timer can hold (about 24.8
 * days), a plain timer would fire at once — a retry storm where the server asked for quiet.
 */
import { afterEach, expect, it, vi } from 'vitest'
import { sleep } from '../src/core/resume/options.ts'

afterEach(() => {
  vi.useRealTimers()
})

const DAY = 24 * 3600 * 1000

it('waits a delay longer than a timer can hold, in steps, instead of at once', async () => {
  vi.useFakeTimers()
  let done = false
  void sleep(30 * DAY, undefined).then(() => {
    done = true
  })
  await vi.advanceTimersByTimeAsync(1_000)
  expect(done).toBe(false)
  await vi.advanceTimersByTimeAsync(25 * DAY)
  expect(done).toBe(false)
  await vi.advanceTimersByTimeAsync(5 * DAY)
  expect(done).toBe(true)
})

it('stops a long wait when the signal aborts, with its reason', async () => {
  vi.useFakeTimers()
  const controller = new AbortController()
  const waiting = sleep(30 * DAY, controller.signal)
  await vi.advanceTimersByTimeAsync(26 * DAY)
  const reason = new Error('stopped')
  controller.abort(reason)
  await expect(waiting).rejects.toBe(reason)
  expect(vi.getTimerCount()).toBe(0)
})

it('rejects at once with the reason of a signal that aborted before the wait', async () => {
  vi.useFakeTimers()
  const reason = new Error('stopped before')
  const waiting = sleep(60_000, AbortSignal.abort(reason)).then(
    () => 'waited',
    (e: unknown) => e,
  )
  await vi.advanceTimersByTimeAsync(60_000)
  expect(await waiting).toBe(reason)
  expect(vi.getTimerCount()).toBe(0)
})
