import { type } from 'arktype'
import * as v from 'valibot'
import { describe, expectTypeOf, it } from 'vitest'
import {
  type Consumer,
  createStreamStore,
  type DeepPartial,
  type JsonConsumer,
  type ServerSentEvent,
  type StreamResponse,
} from '../src/index.ts'
import { useStream } from '../src/react/index.ts'

// Items take the output type of a valibot or an arktype schema through the Standard Schema interface alone, as
// they do a zod schema's: the row arrives with `amount` as a string, and the schema makes it a number.

declare const res: StreamResponse
interface Row {
  id: number
  amount: number
}
interface WireRow {
  id: number
  amount: string
}

describe('a valibot schema', () => {
  const Schema = v.object({ id: v.number(), amount: v.pipe(v.string(), v.decimal(), v.transform(Number)) })

  it('types ndjson() items and events() data with its output', () => {
    expectTypeOf(res.ndjson(Schema)).toEqualTypeOf<Consumer<Row>>()
    expectTypeOf(res.ndjson(Schema, { onInvalid: 'skip' })).toEqualTypeOf<Consumer<Row>>()
    expectTypeOf(res.events({ json: true, schema: Schema })).toEqualTypeOf<Consumer<ServerSentEvent<Row>>>()
    expectTypeOf(res.events({ schema: Schema, until: '[DONE]' })).toEqualTypeOf<
      Consumer<ServerSentEvent<Row>>
    >()
  })

  it('types collect.json() and json().final with its output, json() snapshots with its input', () => {
    expectTypeOf(res.collect.json(Schema)).toEqualTypeOf<Promise<Row>>()
    expectTypeOf(res.json(Schema)).toEqualTypeOf<JsonConsumer<DeepPartial<WireRow>, Row>>()
  })

  it('types the store and the hook the same way', () => {
    expectTypeOf(createStreamStore(res, { as: 'ndjson', schema: Schema }).getSnapshot().items).toEqualTypeOf<
      readonly Row[]
    >()
    const doc = createStreamStore(res, { as: 'json', schema: Schema }).getSnapshot()
    expectTypeOf(doc.data).toEqualTypeOf<DeepPartial<WireRow> | undefined>()
    expectTypeOf(doc.final).toEqualTypeOf<Row | undefined>()
    expectTypeOf(useStream('/rows', { as: 'ndjson', schema: Schema }).items).toEqualTypeOf<readonly Row[]>()
  })
})

describe('an asynchronous valibot schema', () => {
  const Schema = v.pipeAsync(
    v.object({ id: v.number(), amount: v.pipe(v.string(), v.transform(Number)) }),
    v.checkAsync(async (row) => row.id > 0, 'Invalid id'),
  )

  it('types ndjson() items and events() data with its output', () => {
    expectTypeOf(res.ndjson(Schema)).toEqualTypeOf<Consumer<Row>>()
    expectTypeOf(res.ndjson(Schema, { onInvalid: 'skip' })).toEqualTypeOf<Consumer<Row>>()
    expectTypeOf(res.events({ json: true, schema: Schema })).toEqualTypeOf<Consumer<ServerSentEvent<Row>>>()
    expectTypeOf(res.events({ schema: Schema, until: '[DONE]' })).toEqualTypeOf<
      Consumer<ServerSentEvent<Row>>
    >()
  })

  it('types collect.json() and json().final with its output, json() snapshots with its input', () => {
    expectTypeOf(res.collect.json(Schema)).toEqualTypeOf<Promise<Row>>()
    expectTypeOf(res.json(Schema)).toEqualTypeOf<JsonConsumer<DeepPartial<WireRow>, Row>>()
  })

  it('types the store and the hook the same way', () => {
    expectTypeOf(createStreamStore(res, { as: 'ndjson', schema: Schema }).getSnapshot().items).toEqualTypeOf<
      readonly Row[]
    >()
    const doc = createStreamStore(res, { as: 'json', schema: Schema }).getSnapshot()
    expectTypeOf(doc.data).toEqualTypeOf<DeepPartial<WireRow> | undefined>()
    expectTypeOf(doc.final).toEqualTypeOf<Row | undefined>()
    expectTypeOf(useStream('/rows', { as: 'ndjson', schema: Schema }).items).toEqualTypeOf<readonly Row[]>()
  })
})

describe('an arktype schema', () => {
  const Schema = type({ id: 'number', amount: 'string.numeric.parse' })

  it('types ndjson() items and events() data with its output', () => {
    expectTypeOf(res.ndjson(Schema)).toEqualTypeOf<Consumer<Row>>()
    expectTypeOf(res.ndjson(Schema, { onInvalid: 'skip' })).toEqualTypeOf<Consumer<Row>>()
    expectTypeOf(res.events({ json: true, schema: Schema })).toEqualTypeOf<Consumer<ServerSentEvent<Row>>>()
    expectTypeOf(res.events({ schema: Schema, until: '[DONE]' })).toEqualTypeOf<
      Consumer<ServerSentEvent<Row>>
    >()
  })

  it('types collect.json() and json().final with its output, json() snapshots with its input', () => {
    expectTypeOf(res.collect.json(Schema)).toEqualTypeOf<Promise<Row>>()
    expectTypeOf(res.json(Schema)).toEqualTypeOf<JsonConsumer<DeepPartial<WireRow>, Row>>()
  })

  it('types the store and the hook the same way', () => {
    expectTypeOf(createStreamStore(res, { as: 'ndjson', schema: Schema }).getSnapshot().items).toEqualTypeOf<
      readonly Row[]
    >()
    const doc = createStreamStore(res, { as: 'json', schema: Schema }).getSnapshot()
    expectTypeOf(doc.data).toEqualTypeOf<DeepPartial<WireRow> | undefined>()
    expectTypeOf(doc.final).toEqualTypeOf<Row | undefined>()
    expectTypeOf(useStream('/rows', { as: 'ndjson', schema: Schema }).items).toEqualTypeOf<readonly Row[]>()
  })
})
