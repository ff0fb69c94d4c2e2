import type { AnyLambdaHandler, StreamingHandler } from './types.ts'

/**
 * The marker the Lambda Node.js runtime puts on a handler returned by `awslambda.streamifyResponse`; a
 * `Symbol.for` key, so handlers marked by the real runtime, by `sluice/lambda` or by this module all agree.
 */
export const HANDLER_STREAMING: unique symbol = Symbol.for('aws.lambda.runtime.handler.streaming')

/** Where the runtime keeps the `highWaterMark` option of `streamifyResponse`. */
export const HANDLER_HIGH_WATER_MARK: unique symbol = Symbol.for(
  'aws.lambda.runtime.handler.streaming.highWaterMark',
)

/**
 * Marks a handler as a response-streaming handler, as `awslambda.streamifyResponse` does; returns the same function.
 *
 * @example
 * export const handler = streamifyResponse(async (event, responseStream) => { responseStream.end('ok') })
 */
export function streamifyResponse<H extends StreamingHandler>(
  handler: H,
  options?: { highWaterMark?: number },
): H {
  Object.defineProperty(handler, HANDLER_STREAMING, { value: 'response', configurable: true })
  if (options?.highWaterMark !== undefined) {
    Object.defineProperty(handler, HANDLER_HIGH_WATER_MARK, {
      value: options.highWaterMark,
      configurable: true,
    })
  }
  return handler
}

/**
 * Whether a handler was marked by `streamifyResponse` (any copy of it, the real runtime's included).
 *
 * @example
 * isStreamingHandler(awslambda.streamifyResponse(async () => {})) // true
 */
export function isStreamingHandler(handler: AnyLambdaHandler): boolean {
  return (handler as unknown as Record<symbol, unknown>)[HANDLER_STREAMING] === 'response'
}

/**
 * The `highWaterMark` a handler asked for through `streamifyResponse`, if any.
 *
 * @example
 * highWaterMarkOf(streamifyResponse(fn, { highWaterMark: 1024 })) // 1024
 */
export function highWaterMarkOf(handler: AnyLambdaHandler): number | undefined {
  const value = (handler as unknown as Record<symbol, unknown>)[HANDLER_HIGH_WATER_MARK]
  return typeof value === 'number' ? value : undefined
}
