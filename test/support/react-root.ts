/**
 * A React root in a container of its own, for the browser tests of `sluice/react`: renders inside `act()`, and
 * lets time pass inside `act()` until a condition holds, so that stream notifications and the renders they cause
 * run where React expects them. Errors React would report (an uncaught render error, "Too many re-renders",
 * a recoverable hydration error) are collected in `errors` rather than lost.
 */
import { act, type ReactNode } from 'react'
import { createRoot, type Root } from 'react-dom/client'

// React's act() flushes the renders that stream updates schedule; the tests step time inside it.
;(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true

export interface TestRoot {
  readonly container: HTMLDivElement
  readonly errors: unknown[]
  readonly mounted: boolean
  render(node: ReactNode): Promise<void>
  unmount(): Promise<void>
  /** Lets time pass inside act(), in steps of `ms`, until `check` holds; throws after 400 steps. */
  until(check: () => boolean, what: string, ms?: number): Promise<void>
  /** Unmounts what is mounted and removes the container. */
  dispose(): Promise<void>
}

export function testRoot(): TestRoot {
  const container = document.createElement('div')
  document.body.append(container)
  const errors: unknown[] = []
  const report = (error: unknown): void => {
    errors.push(error)
  }
  let root: Root = createRoot(container, { onUncaughtError: report, onRecoverableError: report })
  let mounted = false
  const view: TestRoot = {
    container,
    errors,
    get mounted() {
      return mounted
    },
    async render(node) {
      mounted = true
      await act(async () => root.render(node))
    },
    async unmount() {
      if (!mounted) return
      mounted = false
      await act(async () => root.unmount())
      // An unmounted root cannot render again: the next render gets a fresh one, in the same container.
      root = createRoot(container, { onUncaughtError: report, onRecoverableError: report })
    },
    async until(check, what, ms = 5) {
      for (let step = 0; step < 400; step++) {
        if (check()) return
        await act(() => new Promise<void>((resolve) => setTimeout(resolve, ms)))
      }
      throw new Error(`Timed out waiting until ${what}; the page shows: ${container.textContent}`)
    },
    async dispose() {
      await view.unmount()
      container.remove()
    },
  }
  return view
}
