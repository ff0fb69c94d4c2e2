import type { ChunkSource } from '../body-source.ts'
import type { ParseError } from '../errors/parse-error.ts'
import { ValidationError } from '../errors/validation-error.ts'
import { must } from '../options.ts'
import { SKIP } from './batch-iterator.ts'
import { inBody } from './context.ts'

/**
 * What to do with an item that does not parse or does not match the schema: `'throw'` (default) ends the
 * stream with the error, `'skip'` drops the item, a function is told about it and the item is dropped (once
 * the Promise it returns, if any, resolves: a throw or a rejection ends the stream with its error).
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
 * `SKIP` for the bad item, after `skipped()` (the item counts as consumed) and telling the callback (the error
 * naming the request and response of `source`, as a thrown one does), once the Promise it returns settles, as an
 * asynchronous schema's is awaited; rethrows for `'throw'`.
 */
export function skipInvalid(
  onInvalid: OnInvalid | undefined,
  error: ParseError | ValidationError,
  source: ChunkSource,
  skipped: () => void,
): typeof SKIP | Promise<typeof SKIP> {
  if (onInvalid === undefined || onInvalid === 'throw') throw error
  const told = (typeof onInvalid === 'function' ? onInvalid(inBody(error, source)) : undefined) as
    | PromiseLike<void>
    | undefined
  const skip = (): typeof SKIP => {
    skipped()
    return SKIP
  }
  return typeof told?.then === 'function' ? Promise.resolve(told).then(skip) : skip()
}

/**
 * For a failed validation: `SKIP` when `onInvalid` says to skip, after `skipped()` (the item counts as consumed);
 * a `ValidationError` for `'throw'`, or any other error, is rethrown.
 */
export function skipInvalidItem(
  onInvalid: OnInvalid | undefined,
  skipped: () => void,
  source: ChunkSource,
): (error: unknown) => typeof SKIP | Promise<typeof SKIP> {
  return (error) => {
    if (!(error instanceof ValidationError)) throw error
    return skipInvalid(onInvalid, error, source, skipped)
  }
}
