import { describe, expectTypeOf, it } from 'vitest'
import { type AnyResponseStream, streamBytes, streamNdjson, streamSse } from '../../src/lambda/index.ts'

describe('sluice/lambda names the stream type its helpers take', () => {
  it('types the first parameter of each helper as AnyResponseStream', () => {
    expectTypeOf(streamNdjson).parameter(0).toEqualTypeOf<AnyResponseStream>()
    expectTypeOf(streamSse).parameter(0).toEqualTypeOf<AnyResponseStream>()
    expectTypeOf(streamBytes).parameter(0).toEqualTypeOf<AnyResponseStream>()
  })
})
