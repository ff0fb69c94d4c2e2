import type { ChunkSource } from './body-source.ts'
import { halt, STOPPED, untilStopped } from './consumers/context.ts'
import type { Replaced } from './consumers/text.ts'
import { bytesBefore, utf8Length } from './decoders/utf8.ts'
import { clauseOf } from './errors/network-error.ts'
import { excerptOf, ParseError } from './errors/parse-error.ts'
import { printableCause } from './errors/printable.ts'
import { type StandardSchemaV1, validate } from './schema.ts'

/**
 * Parses the whole text of the body as one JSON document, validates it when a schema is given: a stop of `source`
 * while an asynchronous schema validates rejects, with an `AbortError` or the user's abort reason, as
 * `json().final` does.
 */
export async function collectJson<S extends StandardSchemaV1 | undefined>(
  text: Promise<string>,
  replaced: readonly Replaced[],
  schema: S | undefined,
  source: ChunkSource,
): Promise<S extends StandardSchemaV1 ? StandardSchemaV1.InferOutput<S> : unknown> {
  const body = await text
  let value: unknown
  try {
    // The text keeps the body's BOM, so that the offset of an error counts its bytes; JSON.parse refuses one.
    value = JSON.parse(body.charCodeAt(0) === 0xfeff ? body.slice(1) : body)
  } catch (cause) {
    throw await locate(body, replaced, cause)
  }
  if (schema === undefined) return value as never
  const result = validate(schema, value)
  const checked = result instanceof Promise ? await untilStopped(result, source) : result
  if (checked !== STOPPED) return checked as never
  halt(source)
  throw new DOMException('collect.json() was stopped while the schema validated the document.', 'AbortError')
}

/**
 * The `ParseError` for a body `JSON.parse` refused, at the line and byte where the problem is: engines word
 * their messages differently (some give no position), so the partial parser reads the body once more. `replaced`:
 * the texts of the body with a U+FFFD (see `iterateText`).
 */
async function locate(body: string, replaced: readonly Replaced[], cause: unknown): Promise<ParseError> {
  try {
    const { createPartialJsonParser } = await import('./decoders/partial-json.ts')
    // No limit of its own: JSON.parse took the body whole, however deep, and a LimitError would hide the place.
    const parser = createPartialJsonParser({
      maxBytes: Number.POSITIVE_INFINITY,
      maxDepth: Number.POSITIVE_INFINITY,
      // The text's UTF-8 length, but a U+FFFD counts the bytes of the body it replaced.
      toByteOffset: (offset) => {
        let bytes = utf8Length(body, 0, offset)
        for (const [char, text, from] of replaced) {
          const i = Math.min(offset - char, text.length)
          if (i > 0) bytes += bytesBefore(from, i) - utf8Length(text, 0, i)
        }
        return bytes
      },
    })
    parser.push(body)
    parser.end()
  } catch (error) {
    if (error instanceof ParseError) return error
  }
  // The two parsers disagree, or the parser could not load: the position stays unknown, so the place named is the
  // document's, as an NDJSON record names its line's, and the message does not say the problem is there.
  return new ParseError(
    'json',
    `The body is not valid JSON (${clauseOf(cause)}), somewhere in the document that starts`,
    { line: 1, offset: 0, excerpt: excerptOf(body) },
    // JSON.parse's message quotes the body: its control characters are shown escaped, as in the message.
    { cause: printableCause(cause as Error) },
  )
}
