import { excerptOf, ParseError } from './errors/parse-error.ts'
import { type StandardSchemaV1, validate } from './schema.ts'

/** Reads all text, parses one JSON document, validates it when a schema is given. */
export async function collectJson<S extends StandardSchemaV1 | undefined>(
  text: AsyncIterable<string>,
  schema: S | undefined,
): Promise<S extends StandardSchemaV1 ? StandardSchemaV1.InferOutput<S> : unknown> {
  let body = ''
  for await (const part of text) body += part
  let value: unknown
  try {
    value = JSON.parse(body)
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause)
    throw new ParseError(
      'json',
      `The body is not valid JSON (${reason})`,
      { line: 1, offset: 0, excerpt: excerptOf(body) },
      { cause },
    )
  }
  if (schema === undefined) return value as never
  return (await validate(schema, value, 0)) as never
}
