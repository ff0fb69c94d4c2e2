export type { ChunkSource } from './core/body-source.ts'
export { createClient, fromResponse, type SluiceClient, sluice } from './core/client.ts'
export { Consumer, JsonConsumer } from './core/consumer.ts'
export type { BytesOptions } from './core/consumers/bytes.ts'
export type { Limits } from './core/consumers/context.ts'
export type { EventsOptions } from './core/consumers/events.ts'
export type { JsonOptions } from './core/consumers/json.ts'
export type { LinesOptions } from './core/consumers/lines.ts'
export type { NdjsonOptions } from './core/consumers/ndjson.ts'
export type { OnInvalid } from './core/consumers/on-invalid.ts'
export type { TextOptions } from './core/consumers/text.ts'
// The parser itself is `sluice/partial-json`: json() loads it on first use, so the core does not carry it.
export type { DeepPartial, JsonPathSegment } from './core/decoders/partial-json-types.ts'
export type { ServerSentEvent } from './core/decoders/sse.ts'
export { END_MARKER_HEADER, endMarkerLine } from './core/end-marker.ts'
export {
  type AnySluiceError,
  type ErrorContext,
  HTTPError,
  isHTTPError,
  isLimitError,
  isNetworkError,
  isParseError,
  isResumeError,
  isSluiceError,
  isTimeoutError,
  isTruncatedError,
  isValidationError,
  LimitError,
  type LimitName,
  NetworkError,
  ParseError,
  type ParseErrorType,
  ResumeError,
  type ResumeReason,
  SluiceError,
  type SluiceErrorCode,
  TimeoutError,
  type TimeoutPhase,
  TruncatedError,
  ValidationError,
} from './core/errors/index.ts'
export type { FromResponseOptions, ReRequest, SluiceOptions } from './core/options.ts'
export type { Progress, ProgressListener, ProgressState } from './core/progress.ts'
export type { Checkpoint } from './core/resume/checkpoint.ts'
export type { CursorRequest, ResumeOption, ResumeOptions, ResumeStrategy } from './core/resume/options.ts'
export type { Infer, StandardSchemaV1 } from './core/schema.ts'
export { createStreamStore } from './core/store.ts'
export type {
  BytesStoreOptions,
  EventsStoreOptions,
  ExactStoreOptions,
  JsonStoreOptions,
  LinesStoreOptions,
  NdjsonStoreOptions,
  StreamData,
  StreamFinal,
  StreamItem,
  StreamMode,
  StreamRequest,
  StreamResponseInfo,
  StreamSnapshot,
  StreamStatus,
  StreamStore,
  StreamStoreOptions,
  TextStoreOptions,
} from './core/store-types.ts'
export { type Collect, StreamResponse, type TeeOptions } from './core/stream-response.ts'
