import { describeValue } from '../runtime/describe-value.ts'

/**
 * What is wrong with `value` as the answer to a request, for a message (`undefined` when it is a Response whose
 * body is still unread): not a Response at all (duck-typed: a Response of another realm or of undici is one), or
 * one whose body was already read or locked.
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
  return undefined
}
