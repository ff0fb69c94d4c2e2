/**
 * `value` when it is an `Error` (from any realm: a frame's or a VM's errors are not `instanceof` this one's),
 * otherwise an `Error` whose message is `String(value)` and whose `cause` is the value itself.
 */
export function asError(value: unknown): Error {
  if (value instanceof Error) return value
  const tag = Object.prototype.toString.call(value)
  if (tag === '[object Error]') return value as Error
  // A value String() throws on (a null-prototype object, a throwing toString) is an error all the same, named by
  // its tag: a throw here would leave what reports it (a store's `error`) never reported.
  let message = tag
  try {
    message = String(value)
  } catch {}
  return new Error(message, { cause: value })
}
