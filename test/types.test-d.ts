import { describe, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import {
  type Consumer,
  fromResponse,
  isHTTPError,
  isLimitError,
  isParseError,
  isSluiceError,
  isTruncatedError,
  isValidationError,
  type LimitName,
  type ParseErrorType,
  type ServerSentEvent,
  type StreamResponse,
  type ValidationError,
} from '../src/index.ts'

declare const res: StreamResponse
const Row = z.object({ id: z.number(), name: z.string().optional() })
const Delta = z.object({ text: z.string() }).transform((d) => d.text.length)
interface Row {
  id: number
}

describe('consumer item types', () => {
  it('ndjson(schema) yields the schema output type', () => {
    expectTypeOf(res.ndjson(Row)).toEqualTypeOf<Consumer<{ id: number; name?: string | undefined }>>()
    expectTypeOf(res.ndjson(Delta)).toEqualTypeOf<Consumer<number>>()
  })

  it('ndjson() yields unknown, and ndjson<Row>() yields Row', () => {
    expectTypeOf(res.ndjson()).toEqualTypeOf<Consumer<unknown>>()
    expectTypeOf(res.ndjson<Row>()).toEqualTypeOf<Consumer<Row>>()
    expectTypeOf(res.ndjson(undefined, { onInvalid: 'skip' })).toEqualTypeOf<Consumer<unknown>>()
  })

  it('events({ schema }) types data with the schema output', () => {
    expectTypeOf(res.events({ schema: Delta })).toEqualTypeOf<Consumer<ServerSentEvent<number>>>()
    expectTypeOf(res.events({ schema: Row, until: '[DONE]' })).toEqualTypeOf<
      Consumer<ServerSentEvent<{ id: number; name?: string | undefined }>>
    >()
  })

  it('events({ json: true }) types data as unknown, events() as string', () => {
    expectTypeOf(res.events({ json: true })).toEqualTypeOf<Consumer<ServerSentEvent<unknown>>>()
    expectTypeOf(res.events()).toEqualTypeOf<Consumer<ServerSentEvent<string>>>()
    expectTypeOf<ServerSentEvent['id']>().toEqualTypeOf<string | undefined>()
  })

  it('bytes, text and lines yield Uint8Array and string', () => {
    expectTypeOf(res.bytes({ chunkSize: 4 })).toEqualTypeOf<Consumer<Uint8Array>>()
    expectTypeOf(res.text({ fatal: true })).toEqualTypeOf<Consumer<string>>()
    expectTypeOf(res.lines()).toEqualTypeOf<Consumer<string>>()
    expectTypeOf(res.lines().toReadableStream()).toEqualTypeOf<ReadableStream<string>>()
    expectTypeOf(res.body).toEqualTypeOf<ReadableStream<Uint8Array>>()
  })

  it('a for await over a consumer gets the item type', async () => {
    for await (const row of res.ndjson(Row)) expectTypeOf(row.id).toEqualTypeOf<number>()
  })
})

describe('collect helpers', () => {
  it('collect.json(schema) is typed by the schema, collect.json() is unknown', () => {
    expectTypeOf(res.collect.json(Row)).toEqualTypeOf<Promise<{ id: number; name?: string | undefined }>>()
    expectTypeOf(res.collect.json()).toEqualTypeOf<Promise<unknown>>()
    expectTypeOf(res.collect.text()).toEqualTypeOf<Promise<string>>()
    expectTypeOf(res.collect.bytes()).toEqualTypeOf<Promise<Uint8Array>>()
  })

  it('fromResponse resolves to a StreamResponse, tee() to two', () => {
    expectTypeOf(fromResponse(new Response())).toEqualTypeOf<Promise<StreamResponse>>()
    expectTypeOf(res.tee()).toEqualTypeOf<[StreamResponse, StreamResponse]>()
  })
})

describe('error guards narrow', () => {
  it('narrows unknown to each error class and its fields', () => {
    const error: unknown = undefined
    if (isParseError(error)) {
      expectTypeOf(error.line).toEqualTypeOf<number>()
      expectTypeOf(error.offset).toEqualTypeOf<number>()
      expectTypeOf(error.type).toEqualTypeOf<ParseErrorType>()
    }
    if (isValidationError(error)) {
      expectTypeOf(error).toEqualTypeOf<ValidationError>()
      expectTypeOf(error.index).toEqualTypeOf<number>()
      expectTypeOf(error.issues[0]!.message).toEqualTypeOf<string>()
    }
    if (isLimitError(error)) expectTypeOf(error.limit).toEqualTypeOf<LimitName>()
    if (isHTTPError(error)) {
      expectTypeOf(error.status).toEqualTypeOf<number>()
      expectTypeOf(error.response).toEqualTypeOf<Response>()
    }
    if (isTruncatedError(error)) expectTypeOf(error.expected).toEqualTypeOf<number | undefined>()
    if (isSluiceError(error))
      expectTypeOf(error.code).toEqualTypeOf<import('../src/index.ts').SluiceErrorCode>()
  })

  it('onInvalid callbacks receive a ParseError or a ValidationError', () => {
    res.ndjson(Row, {
      onInvalid: (error) => {
        expectTypeOf(error.name).toEqualTypeOf<'ParseError' | 'ValidationError'>()
      },
    })
  })
})
