import type { ChunkSource } from '../body-source.ts'
import type { ParseError } from '../errors/parse-error.ts'
import { ValidationError } from '../errors/validation-error.ts'
import { must } from '../options.ts'
import { SKIP } from './batch-iterator.ts'
import { inBody } from './context.ts'

/**
 * What to do with an item that does not parse or does not match the schema: `'throw'` (default) ends the
 * stream with the error, `'skip'` drops the item, a function is told about it and the item is dropped.
 */
export type OnInvalid = 'throw' | 'skip' | ((error: ParseError | ValidationError) => void)

/** Throws a `TypeError` naming `where` for an `onInvalid` that is none of its values (a typo would skip items). */
export function checkOnInvalid(onInvalid: unknown, where: string): void {
  must(
    onInvalid === undefined ||
      onInvalid === 'throw' ||
      onInvalid === 'skip' ||
      typeof onInvalid === 'function',
    `${where}: onInvalid`,
    "'throw', 'skip' or a function",
    onInvalid,
    TypeError,
  )
}

/**
 * Whether to skip the bad item (`true`), after telling the callback (the error naming the request and response
 * of `source`, as a thrown one does); rethrows for `'throw'`.
 */
export function skipInvalid(
  onInvalid: OnInvalid | undefined,
  error: ParseError | ValidationError,
  source: ChunkSource,
): true {
  if (onInvalid === undefined || onInvalid === 'throw') throw error
  if (typeof onInvalid === 'function') onInvalid(inBody(error, source))
  return true
}

/**
 * For a failed validation: `SKIP` when `onInvalid` says to skip, after `skipped()` (the item counts as consumed);
 * a `ValidationError` for `'throw'`, or any other error, is rethrown.
 */
export function skipInvalidItem(
  onInvalid: OnInvalid | undefined,
  skipped: () => void,
  source: ChunkSource,
): (error: unknown) => typeof SKIP {
  return (error) => {
    if (!(error instanceof ValidationError)) throw error
    skipInvalid(onInvalid, error, source)
    skipped()
    return SKIP
  }
}
