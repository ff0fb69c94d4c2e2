import { LineDecoder } from '../decoders/lines.ts'
import { excerptOf, ParseError } from '../errors/parse-error.ts'
import { ValidationError } from '../errors/validation-error.ts'
import { type StandardSchemaV1, validate } from '../schema.ts'
import { type ConsumeContext, halt, settle } from './context.ts'
import { LinePosition } from './line-position.ts'
import { type OnInvalid, skipInvalid } from './on-invalid.ts'

/** Options of `res.ndjson()`. */
export interface NdjsonOptions {
  /** What to do with a line that is not JSON or fails the schema. Default `'throw'`. */
  onInvalid?: OnInvalid
}

/**
 * One parsed value per non-blank line, validated when a schema is given. Items are numbered from 0 across the
 * whole stream (skipped ones included), so a `ValidationError`'s `index` points at the record in the body.
 */
export async function* consumeNdjson<T>(
  context: ConsumeContext,
  schema: StandardSchemaV1<unknown, T> | undefined,
  options: NdjsonOptions = {},
): AsyncGenerator<T, void, undefined> {
  const decoder = new LineDecoder({ maxLineBytes: context.limits.maxLineBytes })
  const { source, progress } = context
  const position = new LinePosition(source, decoder)
  const { onInvalid } = options
  let index = 0
  let outcome: 'done' | 'error' | 'cancelled' = 'cancelled'
  try {
    for (;;) {
      const chunk = await source.read()
      if (chunk === undefined && source.cancelled === true) return
      const lines = chunk === undefined ? decoder.end() : decoder.push(chunk)
      position.batch(lines.length)
      for (let j = 0; j < lines.length; j++) {
        // cancel() or detach() in the loop body: the rest of the batch is not delivered.
        if (source.cancelled === true) return halt(source)
        position.at = j
        const line = lines[j]!
        if (line.length === 0 || (line.charCodeAt(0) <= 32 && line.trim() === '')) continue
        let value: unknown
        try {
          value = JSON.parse(line)
        } catch (cause) {
          const reason = cause instanceof Error ? cause.message : String(cause)
          const position = {
            line: decoder.lineNumber(j),
            offset: decoder.lineOffset(j),
            excerpt: excerptOf(line),
          }
          skipInvalid(
            onInvalid,
            new ParseError('ndjson', `Record ${index} is not valid JSON (${reason})`, position, { cause }),
          )
          index++
          continue
        }
        if (schema !== undefined) {
          try {
            const result = validate(schema, value, index)
            value = result instanceof Promise ? await result : result
          } catch (error) {
            if (!(error instanceof ValidationError)) throw error
            skipInvalid(onInvalid, error)
            index++
            continue
          }
        }
        index++
        progress.item()
        position.last = value
        position.delivered = true
        yield value as T
      }
      if (chunk === undefined) break
    }
    outcome = 'done'
  } catch (error) {
    outcome = 'error'
    throw error
  } finally {
    await settle(context, outcome)
  }
}
