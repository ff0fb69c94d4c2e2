/**
 * `value` when it is an `Error` (from any realm: a frame's or a VM's errors are not `instanceof` this one's),
 * otherwise an `Error` whose message is `String(value)` and whose `cause` is the value itself.
 */
export function asError(value: unknown): Error {
  if (value instanceof Error) return value
  if (Object.prototype.toString.call(value) === '[object Error]') return value as Error
  return new Error(String(value), { cause: value })
}
