import { describeValue } from '../runtime/describe-value.ts'

/**
 * `new Headers(init)`; for `init` it refuses, a TypeError that names the `option` and the header at fault
 * (the runtime's words name neither, and Chromium's not even the value), with the runtime's error as `cause`.
 */
export function headersOf(init: unknown, option = '`headers`'): Headers {
  try {
    return new Headers(init as HeadersInit | undefined)
  } catch (cause) {
    const bad = (Array.isArray(init) ? init : Object.entries(init ?? {})).find((pair) => {
      try {
        return !new Headers([pair])
      } catch {
        return true
      }
    })
    throw new TypeError(
      `${option} must be ${
        bad
          ? `valid header names and values, got ${describeValue(bad[0])}: ${describeValue(bad[1])}`
          : `a Headers object, a record or name/value pairs, got ${describeValue(init)}`
      }.`,
      { cause },
    )
  }
}
