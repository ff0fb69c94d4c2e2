import { describe, expectTypeOf, it } from 'vitest'
import {
  type AnyResponseStream,
  type BytesOptions,
  type NdjsonOptions,
  type PaddingOptions,
  type RequestLike,
  type SluiceHandlerOptions,
  type SseEvent,
  type SseOptions,
  streamBytes,
  streamNdjson,
  streamSse,
} from '../../src/lambda/index.ts'

describe('sluice/lambda names the stream type its helpers take', () => {
  it('types the first parameter of each helper as AnyResponseStream', () => {
    expectTypeOf(streamNdjson).parameter(0).toEqualTypeOf<AnyResponseStream>()
    expectTypeOf(streamSse).parameter(0).toEqualTypeOf<AnyResponseStream>()
    expectTypeOf(streamBytes).parameter(0).toEqualTypeOf<AnyResponseStream>()
  })
})

/** The keys of `T` that refuse an explicit `undefined` under `exactOptionalPropertyTypes`: none, for options. */
type RefusingUndefined<T> = { [K in keyof T]-?: undefined extends Required<T>[K] ? never : K }[keyof T]

describe('sluice/lambda takes an explicit undefined as absent (exactOptionalPropertyTypes), as it does at runtime', () => {
  it('in every option of the helpers, of padding and of sluiceHandler, and in every field of an event', () => {
    expectTypeOf<RefusingUndefined<NdjsonOptions>>().toBeNever()
    expectTypeOf<RefusingUndefined<SseOptions>>().toBeNever()
    expectTypeOf<RefusingUndefined<BytesOptions>>().toBeNever()
    expectTypeOf<RefusingUndefined<PaddingOptions>>().toBeNever()
    expectTypeOf<RefusingUndefined<SluiceHandlerOptions>>().toBeNever()
    expectTypeOf<RefusingUndefined<SseEvent>>().toBeNever()
  })

  it('so that options forwarded from configuration type-check as they are', () => {
    const config: { status?: number | undefined; etag?: string | undefined; idleMs?: number | undefined } = {}
    const stream = {} as AnyResponseStream
    void streamNdjson(stream, [], {
      statusCode: config.status,
      etag: config.etag,
      padding: { idleMs: config.idleMs },
    })
    void streamSse(stream, [{ id: config.etag, data: 'a' }], { heartbeatMs: config.idleMs, retry: undefined })
  })

  it('in every field of RequestLike but its headers, so that a request forwarded field by field type-checks', () => {
    expectTypeOf<RefusingUndefined<RequestLike>>().toEqualTypeOf<'headers'>()
    const query: { raw?: string | undefined; cursor?: string | undefined } = {}
    const stream = {} as AnyResponseStream
    void streamNdjson(stream, [], {
      request: { headers: {}, rawQueryString: query.raw, queryStringParameters: { cursor: query.cursor } },
    })
    void streamSse(stream, [], {
      request: { headers: {}, rawQueryString: undefined, requestContext: undefined },
    })
  })

  it('and an event typed as @types/aws-lambda types it, whose header and query values may be undefined', () => {
    // The shape of @types/aws-lambda's LambdaFunctionURLEvent, as far as the helpers read it.
    const event = {} as {
      headers: { [name: string]: string | undefined }
      queryStringParameters?: { [name: string]: string | undefined } | undefined
      rawQueryString: string
      requestContext: { http: { method: string; path: string } }
    }
    expectTypeOf(event).toExtend<RequestLike>()
    void streamBytes({} as AnyResponseStream, 'x', { request: event })
  })
})
