import { LineDecoder } from '../decoders/lines.ts'
import { DECODE_SLICE_BYTES } from '../decoders/utf8.ts'
import { clauseOf } from '../errors/network-error.ts'
import { excerptOf, ParseError } from '../errors/parse-error.ts'
import { printableCause } from '../errors/printable.ts'
import { type StandardSchemaV1, validate } from '../schema.ts'
import { batchIterator, type Outcome, SKIP } from './batch-iterator.ts'
import { type ConsumeContext, originOf } from './context.ts'
import { LinePosition } from './line-position.ts'
import { type OnInvalid, skipInvalid, skipInvalidItem } from './on-invalid.ts'

/** Options of `res.ndjson()`. */
export interface NdjsonOptions {
  /** What to do with a line that is not JSON or fails the schema. Default `'throw'`. */
  onInvalid?: OnInvalid | undefined
}

/**
 * One parsed value per non-blank line, validated when a schema is given. Items are numbered from 0 across the
 * whole stream (skipped ones included), so a `ValidationError`'s `index` points at the record in the body.
 */
export function consumeNdjson<T>(
  context: ConsumeContext,
  schema: StandardSchemaV1<unknown, T> | undefined,
  options: NdjsonOptions = {},
): AsyncIterator<T, void, undefined> & AsyncIterable<T> {
  const { onInvalid } = options
  const { source, progress } = context
  const origin = originOf(source)
  const decoder = new LineDecoder({ maxLineBytes: context.limits.maxLineBytes, origin })
  // A schema shapes the records a cursor sees: two branches continue by one cursor only with the same one.
  // A record not consumed yet is known before without a schema: its JSON (a blank line, or one not JSON, is none).
  const position = new LinePosition(
    source,
    decoder,
    schema ?? 'ndjson',
    schema === undefined
      ? (line) => {
          try {
            return { value: JSON.parse(line) }
          } catch {}
        }
      : undefined,
    // At an end nothing proves: a final line without its line feed that is not JSON is a record cut there (one that
    // parses is taken for whole: many servers omit the last line feed). Bytes not decoded yet (`rest`, a tee()
    // branch's queue) are not judged: nothing is said.
    (rest) => {
      if (rest?.some((bytes) => bytes.length)) return
      const line = decoder.partialLine()
      if (!/[^ \t\r]/.test(line)) return
      try {
        JSON.parse(line)
      } catch {
        return `the record starting at byte ${origin().offset + decoder.partialOffset()} (line ${decoder.lineNumber(position.lines.length)}), ${JSON.stringify(excerptOf(line))}, which is not whole JSON`
      }
    },
  )
  // Records are numbered across the whole body: a stream that continues from a checkpoint counts on from it.
  let index = origin().records
  /** A record is consumed: delivered, or skipped on purpose. */
  const consumedRecord = (): void => {
    position.consumed()
    position.records++
  }
  const deliver = (value: T): T => {
    consumedRecord()
    progress.item()
    position.last = value
    position.delivered = true
    return value
  }
  const invalid = skipInvalidItem(onInvalid, consumedRecord, source)
  return batchIterator<string, T>(context, {
    slice: DECODE_SLICE_BYTES,
    // A line over maxLineBytes: the records before it are delivered first.
    failure: () => decoder.failure,
    feed(chunk) {
      const lines = chunk === undefined ? decoder.end() : decoder.push(chunk)
      position.batch(lines)
      return lines
    },
    take(line, j): Outcome<T> | Promise<Outcome<T>> {
      // The position moves only once the line is consumed: a checkpoint taken after a record failed, or while
      // its validation is pending, lands before it.
      // Blank: nothing but JSON's whitespace (space, tab, CR; RFC 8259), which JSON.parse would skip. Any other
      // character, a no-break space too, makes a record: a line of it is not valid JSON.
      if (line.length === 0 || (line.charCodeAt(0) <= 32 && !/[^ \t\r]/.test(line))) {
        position.consumed()
        return SKIP
      }
      const at = index++
      let value: unknown
      try {
        value = JSON.parse(line)
      } catch (cause) {
        const where = {
          line: decoder.lineNumber(j),
          offset: decoder.lineStart(j),
          excerpt: excerptOf(line),
        }
        return skipInvalid(
          onInvalid,
          new ParseError(
            'ndjson',
            `The record at index ${at} is not valid JSON (${clauseOf(cause)})`,
            where,
            {
              cause: printableCause(cause as Error),
            },
          ),
          source,
          consumedRecord,
        )
      }
      if (schema === undefined) return deliver(value as T)
      let result: T | Promise<T>
      try {
        result = validate(schema, value, at)
      } catch (error) {
        return invalid(error)
      }
      return result instanceof Promise ? result.then(deliver, invalid) : deliver(result)
    },
  })
}
