/**
 * Whether `value` is a promise (any thenable) where a synchronous answer was required. Its rejection is handled
 * here, as nobody will await it: the caller throws an error that says the callback must answer synchronously.
 */
export function refusedPromise(value: unknown): boolean {
  if (typeof (value as PromiseLike<unknown> | null)?.then !== 'function') return false
  Promise.resolve(value).catch(() => {})
  return true
}
