import type { Awslambda } from '../lambda/types.ts'
import { awslambda as portable } from '../runtime/index.ts'

// The cast below states what the runtime does on Node: response-stream.ts builds every stream from node:stream's
// Writable, found through process.getBuiltinModule.

/**
 * The `awslambda` global of the Lambda Node.js runtime, as `sluice/dev` and `sluice/mock` implement it, typed with
 * Node's streams: the `responseStream` it hands a handler is a `stream.Writable` with `setContentType`, so
 * `pipeline(source, responseStream)` type-checks in a handler written inline in a Node test.
 *
 * It is the same object as `sluice/mock`'s `awslambda`, whose types stay free of Node's so that it loads in
 * browsers. Handlers marked by either run on `serve()` and on `sluice/mock`'s `functionUrl()` alike.
 *
 * @example
 * const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
 *   await pipeline(Readable.from(['{"n":1}\n']), responseStream)
 * })
 * const server = await serve(handler, { port: 0 })
 */
export const awslambda: Awslambda = portable as unknown as Awslambda
