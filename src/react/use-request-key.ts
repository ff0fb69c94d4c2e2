import { useRef } from 'react'
import { requestKey } from './request-key.ts'

/**
 * `requestKey()` of this render, serialised again only when an input changed: a `json` of several MB, or a long
 * `body`, would otherwise cost its whole size on every render. An input is unchanged when it is the same value,
 * or, down to the values inside `json` (`sluice: { json: { messages } }`, written inline), a plain object or
 * array of the same values. An object changed in place is then not seen, as React's own dependencies do not see
 * it: pass a new one.
 */
export function useRequestKey(
  as: string,
  request: Parameters<typeof requestKey>[1],
  sluiceOptions: object | undefined,
  key: string | undefined,
): string {
  // The last inputs and their key. A pure function of them: a render React discards may leave its key here, and
  // it is still right.
  const last = useRef<[inputs: unknown[], key: string] | undefined>(undefined)
  const inputs = [as, request, sluiceOptions, key]
  if (last.current === undefined || !same(last.current[0], inputs, 3)) {
    last.current = [inputs, requestKey(as, request, sluiceOptions, key)]
  }
  return last.current[1]
}

/**
 * Whether `a` and `b` make the same key: the same value, two functions, or plain objects or arrays of such values
 * `depth` levels down.
 */
function same(a: unknown, b: unknown, depth: number): boolean {
  // Functions (`fetch`, `onProgress`, a request function), new on every render when written inline, are no part of
  // the key.
  if (a === b || (typeof a === 'function' && typeof b === 'function')) return true
  // A class instance (a Date, a typed array, one with a toJSON) is the same only as itself: its own keys may be
  // none of what it sends. So is an object without a prototype; being conservative only costs a serialisation.
  const kind = (a as { constructor?: unknown } | null | undefined)?.constructor
  if (
    depth === 0 ||
    (kind !== Object && kind !== Array) ||
    kind !== (b as { constructor?: unknown } | null | undefined)?.constructor
  )
    return false
  const x = a as Record<string, unknown>
  const y = b as Record<string, unknown>
  const names = Object.keys(x)
  // An array's length too: trailing holes are no keys, but they are sent.
  return (
    x.length === y.length &&
    names.length === Object.keys(y).length &&
    names.every((name) => Object.hasOwn(y, name) && same(x[name], y[name], depth - 1))
  )
}
