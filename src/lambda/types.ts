import type { Writable } from 'node:stream'

import type {
  FunctionUrlEvent,
  LambdaContext,
  ResponseStream as PortableResponseStream,
  ResponseMetadata,
} from '../runtime/types.ts'

// One definition of the function-URL semantics lives in src/runtime (shared with sluice/mock and sluice/dev);
// this entry re-exports it under the names handler authors know, and adds the Node-specific stream types.

/**
 * The event a Lambda function URL sends to its function: the HTTP request as payload format version 2.0.
 *
 * Header names are lower-case; repeated headers are joined with commas; cookies are in `cookies`, not in
 * `headers`. `body` is base64 when `isBase64Encoded` is true.
 *
 * @example
 * const since = event.queryStringParameters?.since
 */
export type LambdaFunctionUrlEvent = FunctionUrlEvent

/**
 * The invocation context the Lambda runtime passes to a handler.
 *
 * @example
 * const hurry = context.getRemainingTimeInMillis() < 5_000
 */
export type Context = LambdaContext

/**
 * Status, headers and cookies of a streamed response, sent as the JSON prelude before the body.
 *
 * Default status 200; `headers` values are single strings (join repeats with commas); `cookies` are
 * `Set-Cookie` values.
 *
 * @example
 * const prelude: HttpResponseMetadata = { statusCode: 201, headers: { 'content-type': 'text/plain' } }
 */
export type HttpResponseMetadata = ResponseMetadata

/**
 * The stream a streaming handler writes its body to: a Node `Writable` with a settable content type.
 *
 * @example
 * responseStream.setContentType('text/plain'); responseStream.end('hello')
 */
export interface ResponseStream extends Writable {
  setContentType(contentType: string): void
}

/**
 * What the helpers write to: the Lambda runtime's stream, or the one `sluice/mock` and `sluice/dev` give a
 * handler. That one is typed without Node's types so that `sluice/mock` runs in browsers, but in Node — the only
 * place `sluice/lambda` runs — it is a real `Writable` too.
 *
 * @example
 * const write = (stream: AnyResponseStream) => streamNdjson(stream, [{ id: 1 }])
 */
export type AnyResponseStream = ResponseStream | PortableResponseStream

/**
 * A handler in `RESPONSE_STREAM` mode, as passed to `awslambda.streamifyResponse`.
 *
 * @example
 * const handler: StreamingHandler = async (event, responseStream) => { responseStream.end('hi') }
 */
export type StreamingHandler = (
  event: LambdaFunctionUrlEvent,
  responseStream: ResponseStream,
  context: Context,
) => unknown

/**
 * The `awslambda` object the Node.js Lambda runtime installs as a global.
 *
 * @example
 * export const handler = awslambda.streamifyResponse(async (event, stream) => { stream.end('ok') })
 */
export interface Awslambda {
  /** Marks a handler as streaming (the runtime then passes it a {@link ResponseStream}); returns the same function. */
  streamifyResponse<H extends StreamingHandler>(handler: H, options?: { highWaterMark?: number }): H
  HttpResponseStream: {
    /** Sets status, headers and cookies, sent as a prelude with the first body write; returns the same stream. */
    from(stream: ResponseStream, metadata: HttpResponseMetadata): ResponseStream
  }
}
