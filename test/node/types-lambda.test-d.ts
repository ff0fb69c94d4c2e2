import { describe, expectTypeOf, it } from 'vitest'
import {
  type AnyResponseStream,
  type BytesOptions,
  type NdjsonOptions,
  type PaddingOptions,
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
})
