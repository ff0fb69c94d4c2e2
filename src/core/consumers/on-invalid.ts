import type { ParseError } from '../errors/parse-error.ts'
import { ValidationError } from '../errors/validation-error.ts'
import { SKIP } from './batch-iterator.ts'

/**
 * What to do with an item that does not parse or does not match the schema: `'throw'` (default) ends the
 * stream with the error, `'skip'` drops the item, a function is told about it and the item is dropped.
 */
export type OnInvalid = 'throw' | 'skip' | ((error: ParseError | ValidationError) => void)

/** Whether to skip the bad item (`true`), after telling the callback; rethrows for `'throw'`. */
export function skipInvalid(onInvalid: OnInvalid | undefined, error: ParseError | ValidationError): true {
  if (onInvalid === undefined || onInvalid === 'throw') throw error
  if (typeof onInvalid === 'function') onInvalid(error)
  return true
}

/**
 * For a failed validation: `SKIP` when `onInvalid` says to skip, after `skipped()` (the item counts as consumed);
 * a `ValidationError` for `'throw'`, or any other error, is rethrown.
 */
export function skipInvalidItem(
  onInvalid: OnInvalid | undefined,
  skipped: () => void,
): (error: unknown) => typeof SKIP {
  return (error) => {
    if (!(error instanceof ValidationError)) throw error
    skipInvalid(onInvalid, error)
    skipped()
    return SKIP
  }
}
