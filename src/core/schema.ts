import { describeValue } from '../runtime/describe-value.ts'
import { ValidationError } from './errors/validation-error.ts'

/**
 * The Standard Schema interface (https://standardschema.dev), copied as its authors recommend so that sluice
 * needs no runtime dependency to accept zod, valibot, arktype or any other compliant schema.
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': StandardSchemaV1.Props<Input, Output>
}

export declare namespace StandardSchemaV1 {
  export interface Props<Input = unknown, Output = Input> {
    readonly version: 1
    readonly vendor: string
    readonly validate: (value: unknown) => Result<Output> | Promise<Result<Output>>
    readonly types?: Types<Input, Output> | undefined
  }
  export type Result<Output> = SuccessResult<Output> | FailureResult
  export interface SuccessResult<Output> {
    readonly value: Output
    readonly issues?: undefined
  }
  export interface FailureResult {
    readonly issues: ReadonlyArray<Issue>
  }
  export interface Issue {
    readonly message: string
    readonly path?: ReadonlyArray<PropertyKey | PathSegment> | undefined
  }
  export interface PathSegment {
    readonly key: PropertyKey
  }
  export interface Types<Input = unknown, Output = Input> {
    readonly input: Input
    readonly output: Output
  }
  export type InferInput<Schema extends StandardSchemaV1> = NonNullable<Schema['~standard']['types']>['input']
  export type InferOutput<Schema extends StandardSchemaV1> = NonNullable<
    Schema['~standard']['types']
  >['output']
}

/** The output type of a schema, or `Fallback` when no schema is given. */
export type Infer<S, Fallback = unknown> = S extends StandardSchemaV1
  ? StandardSchemaV1.InferOutput<S>
  : Fallback

/**
 * Validates `value` with `schema`; returns the schema's output, or throws a {@link ValidationError} for item
 * `index`, or for the whole document (`json()`, `collect.json()`; its `index` is 0) when `index` is absent.
 * Synchronous schemas (zod, valibot) stay synchronous: no promise is created on the hot path.
 */
export function validate<T>(
  schema: StandardSchemaV1<unknown, T>,
  value: unknown,
  index?: number,
): T | Promise<T> {
  const result = schema['~standard'].validate(value)
  if (result instanceof Promise) return result.then((settled) => unwrap(settled, value, index))
  return unwrap(result, value, index)
}

function unwrap<T>(result: StandardSchemaV1.Result<T>, value: unknown, index: number | undefined): T {
  if (result.issues) {
    const error = new ValidationError(result.issues, index ?? 0, value)
    // One document is no item among others.
    if (index === undefined) error.message = error.message.replace('The item at index 0', 'The document')
    throw error
  }
  return result.value
}

/** Whether `value` looks like a Standard Schema. */
function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { '~standard'?: { validate?: unknown } })['~standard']?.validate === 'function'
  )
}

/**
 * Throws a `TypeError` naming `where` when `schema` is given but is not a Standard Schema, so that a wrong
 * argument fails at the call, before the body is claimed, rather than as an unreadable error on the first item.
 */
export function checkSchema(schema: unknown, where: string): void {
  if (schema === undefined || isStandardSchema(schema)) return
  const got =
    typeof schema === 'object' && schema !== null && !Array.isArray(schema)
      ? 'an object without ~standard'
      : describeValue(schema)
  throw new TypeError(
    `${where}: schema must be a Standard Schema (zod 4, valibot, arktype…: an object with ~standard.validate), got ${got}.`,
  )
}
