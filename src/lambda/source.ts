import type { ResumableSource, Source } from './options.ts'

/** Calls a resumable source with its position, or takes a plain iterable as it is. */
export function openSource<T>(source: ResumableSource<T>, position: () => string | undefined): Source<T> {
  return typeof source === 'function' ? source(position()) : source
}
