import type { Awslambda } from './types.ts'

export type { SseEvent } from '../runtime/sse-event.ts'
export { type BytesOptions, type BytesSource, streamBytes } from './bytes.ts'
export { type SluiceHandlerOptions, type SluiceResponse, sluiceHandler } from './handler.ts'
export { END_MARKER_HEADER, endMarkerLine } from './marker.ts'
export { type NdjsonOptions, streamNdjson } from './ndjson.ts'
export type { CursorOptions, LengthOptions, ResponseOptions, ResumableSource, Source } from './options.ts'
export type { PaddingOptions } from './padding.ts'
export type { RefusalReport } from './refusal.ts'
export type { RequestLike } from './request.ts'
export { formatSseEvent, type SseMessage, type SseOptions, streamSse } from './sse.ts'
export type {
  AnyResponseStream,
  Awslambda,
  Context,
  HttpResponseMetadata,
  LambdaFunctionUrlEvent,
  ResponseStream,
  StreamingHandler,
} from './types.ts'

// Here, in the entry itself, so that only `sluice/lambda` declares the global: `sluice/dev` shares these types,
// and importing it must not claim a global that exists only while its emulator runs a handler module.
declare global {
  /** Installed by the Node.js Lambda runtime (and by `sluice/dev` and `sluice/mock`); absent elsewhere. */
  var awslambda: Awslambda
}
