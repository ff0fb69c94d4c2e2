import { describeValue } from '../runtime/describe-value.ts'

/**
 * What is wrong with `value` as the answer to a request, for a message (`undefined` when it is a Response whose
 * body is still unread): not a Response at all (duck-typed: a Response of another realm or of undici is one), one
 * whose body was already read or locked, or one whose body cannot be read (opaque).
 */
export function unusableAnswer(value: unknown): string | undefined {
  const response = value as Partial<Response> | null | undefined
  if (
    typeof response !== 'object' ||
    response === null ||
    typeof response.status !== 'number' ||
    typeof response.headers?.get !== 'function'
  ) {
    return describeValue(value)
  }
  if (response.bodyUsed === true || response.body?.locked === true)
    return 'a Response whose body was already read'
  // A browser hides the status and body of a no-cors request's answer (type "opaque") and of a redirect not
  // followed ("opaqueredirect"): streamed, it would read as an empty body, complete.
  if (/^opaque/.test(response.type as string))
    return `a Response of type "${response.type}" (no-cors, or redirect: 'manual'), whose body cannot be read`
  return undefined
}
