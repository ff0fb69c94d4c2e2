import { vi } from 'vitest'

/**
 * Runs `test` with what sluice throws in a microtask of its own, as uncaught (a store subscriber's or a progress
 * listener's failure that is not the stream's), caught into `thrown` rather than failing the test run.
 */
export async function withUncaught(test: (thrown: unknown[]) => Promise<void>): Promise<void> {
  const thrown: unknown[] = []
  const queue = globalThis.queueMicrotask.bind(globalThis)
  const spy = vi.spyOn(globalThis, 'queueMicrotask').mockImplementation((task) =>
    queue(() => {
      try {
        task()
      } catch (error) {
        thrown.push(error)
      }
    }),
  )
  try {
    await test(thrown)
  } finally {
    spy.mockRestore()
  }
}
