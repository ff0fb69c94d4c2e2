export { type BytesOptions, type BytesSource, streamBytes } from './bytes.ts'
export { type SluiceHandlerOptions, type SluiceResponse, sluiceHandler } from './handler.ts'
export { END_MARKER_HEADER, endMarkerLine } from './marker.ts'
export { type NdjsonOptions, streamNdjson } from './ndjson.ts'
export type { CursorOptions, LengthOptions, ResponseOptions, ResumableSource, Source } from './options.ts'
export type { RequestLike } from './request.ts'
export { formatSseEvent, type SseEvent, type SseMessage, type SseOptions, streamSse } from './sse.ts'
export type {
  Awslambda,
  Context,
  HttpResponseMetadata,
  LambdaFunctionUrlEvent,
  ResponseStream,
  StreamingHandler,
} from './types.ts'
