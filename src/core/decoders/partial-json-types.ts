/**
 * The shape of a partial snapshot of a `T` document, deeply `readonly`: object properties optional and partial,
 * arrays of partial items, primitives as they are. Read-only because snapshots share their unchanged subtrees with
 * the next ones (and with the final value): a mutation would show up in them.
 *
 * A snapshot is a view of an unfinished document, so it is never claimed to satisfy a schema: a string may be a
 * prefix of its final value (an enum-like `'pending' | 'done'` field can read `'pen'` for a moment), an array
 * may miss its last items, an object its last properties. So a string is typed `string`, whatever literal type `T`
 * gives it. Array items are never `undefined`: an item appears once something of it is known.
 *
 * @example
 * type Report = { title: string; rows: { id: number; name: string }[] }
 * const partial: DeepPartial<Report> = { title: 'Oct', rows: [{ id: 1 }, { name: 'Al' }] }
 */
export type DeepPartial<T> = T extends string
  ? string // a prefix of the final value: a literal type ('pending' | 'done') would claim 'pen' is one of them
  : T extends number | boolean | bigint | symbol | null | undefined
    ? T
    : T extends readonly (infer Item)[]
      ? readonly DeepPartial<Item>[]
      : T extends object
        ? { readonly [Key in keyof T]?: DeepPartial<T[Key]> }
        : T

/** One step of a path into a JSON value: a property name in an object, an index in an array. */
export type JsonPathSegment = string | number

/**
 * Options of {@link createPartialJsonParser}; every limit bounds memory against a hostile or broken server.
 *
 * @example
 * const parser = createPartialJsonParser({ maxDepth: 64, maxBytes: 8 * 1024 * 1024 })
 */
export interface PartialJsonOptions {
  /**
   * The deepest nesting of arrays and objects accepted; deeper input fails with a `LimitError` (`'maxDepth'`).
   * @default 512
   */
  maxDepth?: number | undefined
  /**
   * The largest document accepted, counted in UTF-16 characters of decoded text (BOM and whitespace
   * included); more fails with a `LimitError` (`'maxBytes'`), once the text within the limit is parsed.
   * @default 67108864 (64 MiB)
   */
  maxBytes?: number | undefined
  /**
   * Maps a character offset in the document to the offset reported by a `ParseError` or `LimitError`. The parser only sees
   * decoded text, so by default its offsets count UTF-16 characters; a consumer that knows the bytes behind
   * the text passes a mapping here so that errors report byte offsets in the body. It must return an integer, 0 or
   * more (`createPartialJsonParser` checks): anything else, or an error it throws, fails the parser in place of the
   * error it was placing. Whether the offset lies within the body is the mapping's to know.
   * @default the identity (offsets are character offsets)
   */
  toByteOffset?: ((charOffset: number) => number) | undefined
}

/**
 * An incremental JSON parser that keeps an immutable, structurally shared snapshot of the partial document.
 *
 * @example
 * const parser = createPartialJsonParser<{ title: string }>()
 * parser.push('{"title": "Octo')
 * parser.snapshot // { title: 'Octo' }
 * parser.push('ber"}')
 * parser.end() // { title: 'October' }
 */
export interface PartialJsonParser<T = unknown> {
  /**
   * Feeds the next piece of decoded text; any split is fine, down to one character per call.
   *
   * Returns whether the snapshot changed (reading it would give a different value). Completion alone — a
   * closing quote or bracket — changes {@link PartialJsonParser.openPath} but not the snapshot.
   * Throws `ParseError` on invalid JSON and `LimitError` past a limit; the parser then stays failed.
   */
  push(text: string): boolean
  /** Declares the input complete: returns the final value (equal to `JSON.parse` of the text) or throws a `ParseError`. */
  end(): T
  /**
   * The current partial value, or `undefined` before a value is visible. Built lazily on read after a change;
   * unchanged subtrees keep their identity from one snapshot to the next, and no snapshot is ever mutated.
   */
  readonly snapshot: DeepPartial<T> | undefined
  /** Whether the value at `path` exists and is finished (closing quote or bracket seen, number delimited). */
  isComplete(path: readonly JsonPathSegment[]): boolean
  /**
   * The path of the innermost unfinished value in the snapshot, or `undefined` when the snapshot holds none.
   * Only the values on this path (the root, then each prefix) are unfinished; every other value in the
   * snapshot is complete — the cheap form of "the set of completed paths" for a UI.
   */
  readonly openPath: readonly JsonPathSegment[] | undefined
  /** Whether the top-level value is complete (only whitespace may follow). */
  readonly done: boolean
  /** How many characters of text have been consumed. */
  readonly offset: number
}
