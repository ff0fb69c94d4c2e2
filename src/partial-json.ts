/**
 * `sluice/partial-json`: the incremental JSON parser behind `res.json()`, on its own — feed it text as it
 * arrives and read an immutable partial snapshot after every push. Its own entry, so that the core stays small:
 * `res.json()` loads it on first use.
 *
 * @module
 */
import { createPartialJsonParser as parserOf } from './core/decoders/partial-json.ts'
import type { PartialJsonOptions, PartialJsonParser } from './core/decoders/partial-json-types.ts'

export type {
  DeepPartial,
  JsonPathSegment,
  PartialJsonOptions,
  PartialJsonParser,
} from './core/decoders/partial-json.ts'

/**
 * Creates an incremental parser for one JSON document that exposes an immutable partial snapshot as text
 * arrives, in time linear in the document size.
 *
 * Strings grow in place (escapes and surrogate pairs are never shown half-decoded); numbers and `true`,
 * `false`, `null` appear once complete; a property appears once its key is complete and its value has begun.
 * Snapshots are built lazily on read and share every unchanged subtree with the previous one, so a UI can skip
 * re-rendering them; each read copies the containers along the path to the value still being parsed (one flat
 * array of n items costs O(n) per read — throttle reads for such documents). Offsets in errors (a `ParseError`'s,
 * a `LimitError`'s) count UTF-16 characters unless `toByteOffset` maps them to bytes. Defaults: `maxDepth` 512,
 * `maxBytes` 64 MiB; a limit it cannot take is a `TypeError` (the wrong type) or a `RangeError` (out of range), a
 * `toByteOffset` that is no function a `TypeError`.
 *
 * @example
 * const parser = createPartialJsonParser<{ rows: { id: number }[] }>()
 * for await (const text of textChunks) if (parser.push(text)) render(parser.snapshot)
 * const report = parser.end() // deep-equals JSON.parse of the whole text
 */
export function createPartialJsonParser<T = unknown>(options: PartialJsonOptions = {}): PartialJsonParser<T> {
  // Checked here, not in the parser: json() checks its own options, and the core's bundle does not carry this.
  // A string is quoted, so that "8" and 8 differ; this entry does without the core's describeValue (0.3 kB).
  for (const [name, value, what] of [
    ['maxDepth', options.maxDepth, 'a positive integer'],
    ['maxBytes', options.maxBytes, 'a positive number of characters'],
  ] as const) {
    const ok = typeof value === 'number' && value > 0 && (name === 'maxBytes' || Number.isSafeInteger(value))
    if (value !== undefined && !ok)
      throw new (typeof value === 'number' ? RangeError : TypeError)(
        `createPartialJsonParser(): ${name} must be ${what}, got ${shown(value)}.`,
      )
  }
  const map = options.toByteOffset
  if (map !== undefined && typeof map !== 'function')
    throw new TypeError(`createPartialJsonParser(): toByteOffset must be a function, got ${shown(map)}.`)
  return parserOf<T>({
    ...options,
    // An offset no byte offset (NaN, -1, 7.5) would place the error nowhere: the mapping's bug is the failure.
    toByteOffset:
      map &&
      ((at) => {
        const offset = map(at)
        if (Number.isSafeInteger(offset) && offset >= 0) return offset
        throw new TypeError(
          `createPartialJsonParser(): toByteOffset(${at}) must return a byte offset (an integer, 0 or more), got ${shown(offset)}.`,
        )
      }),
  })
}

/** `value` for a message: a string quoted, so that "8" and 8 differ. */
function shown(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value)
}
