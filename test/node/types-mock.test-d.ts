import { describe, expectTypeOf, it } from 'vitest'
import type * as dev from '../../src/dev/index.ts'
import type { SseEvent } from '../../src/lambda/index.ts'
import {
  type AnyLambdaHandler,
  type Awslambda,
  awslambda,
  type FunctionUrlOptions,
  type FunctionUrlResult,
  functionUrl,
  type Limits,
  type MockEvent,
  type ResponseMetadata,
  type Shaping,
} from '../../src/mock/index.ts'

describe('sluice/mock names every type its signatures use, so that browser tests need not import sluice/dev', () => {
  it('types awslambda as Awslambda', () => {
    expectTypeOf(awslambda).toEqualTypeOf<Awslambda>()
  })

  it('types the handler of functionUrl as AnyLambdaHandler', () => {
    expectTypeOf(functionUrl).parameter(1).toEqualTypeOf<AnyLambdaHandler | Promise<AnyLambdaHandler>>()
  })

  it('types the limits and shaping of FunctionUrlOptions as Limits and Shaping', () => {
    expectTypeOf<FunctionUrlOptions['limits']>().toEqualTypeOf<Limits | undefined>()
    expectTypeOf<FunctionUrlOptions['shaping']>().toEqualTypeOf<'lambda' | Shaping | false | undefined>()
  })

  // sluice/dev's Awslambda has the same name but Node's stream types, which sluice/mock's must stay free of.
  it('gives AnyLambdaHandler, Limits and Shaping the names and types that sluice/dev gives them', () => {
    expectTypeOf<dev.AnyLambdaHandler>().toEqualTypeOf<AnyLambdaHandler>()
    expectTypeOf<dev.Limits>().toEqualTypeOf<Limits>()
    expectTypeOf<dev.Shaping>().toEqualTypeOf<Shaping>()
  })
})

describe('sluice/mock takes an explicit undefined as absent (exactOptionalPropertyTypes), as it does at runtime', () => {
  it('in every limit, as in every option', () => {
    const config: { timeoutMs?: number | undefined } = {}
    void functionUrl('https://fn.example/', () => {}, {
      limits: { timeoutMs: config.timeoutMs, maxRequestBytes: undefined },
    })
    const limits: Limits = { maxResponseBytes: undefined, maxBufferedResponseBytes: undefined }
    void limits
  })

  it('in the metadata a handler gives HttpResponseStream.from and the result a buffered handler returns', () => {
    // Both are sent as JSON, which leaves out a field set to undefined; @types/aws-lambda types them so too.
    expectTypeOf<RefusingUndefined<ResponseMetadata>>().toBeNever()
    expectTypeOf<RefusingUndefined<FunctionUrlResult>>().toBeNever()
    const config: { status?: number | undefined; cookies?: string[] | undefined } = {}
    const stream = {} as Parameters<Awslambda['HttpResponseStream']['from']>[0]
    awslambda.HttpResponseStream.from(stream, { statusCode: config.status, cookies: config.cookies })
  })
})

/** The keys of `T` that refuse an explicit `undefined` under `exactOptionalPropertyTypes`. */
type RefusingUndefined<T> = { [K in keyof T]-?: undefined extends Required<T>[K] ? never : K }[keyof T]

describe('sluice/mock types an SSE event part as sluice/lambda types the event', () => {
  it('is the SseEvent of streamSse, whose data is optional: an id-only part is an event', () => {
    expectTypeOf<MockEvent>().toEqualTypeOf<SseEvent>()
    expectTypeOf({ id: '1' }).toExtend<MockEvent>()
    expectTypeOf({ comment: 'hi' }).toExtend<MockEvent>()
  })
})
