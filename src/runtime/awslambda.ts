import { HttpResponseStream } from './http-response-stream.ts'
import { streamifyResponse } from './streamify.ts'
import type { Awslambda } from './types.ts'

/**
 * An implementation of the `awslambda` global of the Lambda Node.js runtime, as a plain object.
 *
 * Nothing installs it on `globalThis` by itself: `sluice/dev` does so while it runs handler modules, and tests can
 * call `awslambda.streamifyResponse` on it directly, or install it explicitly with `installAwslambdaGlobal()`.
 *
 * @example
 * const handler = awslambda.streamifyResponse(async (event, responseStream) => {
 *   responseStream = awslambda.HttpResponseStream.from(responseStream, { statusCode: 200 })
 *   responseStream.write('ok') // the Lambda runtime sends the prelude from write(), not from end(chunk)
 *   responseStream.end()
 * })
 */
export const awslambda: Awslambda = { streamifyResponse, HttpResponseStream }
