// The function-URL semantics shared by `sluice/mock` (in-process) and `sluice/dev` (over HTTP). Internal: the
// public entries re-export what users need from here.
export { awslambda } from './awslambda.ts'
export { base64ToBytes, bytesToBase64 } from './base64.ts'
export { toBytes } from './bytes.ts'
export { checkOptions, checkRules, type OptionRule } from './check-options.ts'
export { buildContext, type FunctionInfo } from './context.ts'
export { describeValue } from './describe-value.ts'
export { buildEvent, type EventInput, formatRequestTime, isTextContentType } from './event.ts'
export {
  discardUnread,
  type FunctionUrlResponse,
  framingHeader,
  isChunked,
  responseHeaders,
  type ServiceErrorType,
  serviceError,
} from './function-url-response.ts'
export { installAwslambdaGlobal } from './global.ts'
export { HttpResponseStream } from './http-response-stream.ts'
export { type Invocation, type InvocationOutcome, type InvokeOptions, invoke } from './invoke.ts'
export {
  DEFAULT_LIMITS,
  type Limits,
  MAX_TIMEOUT_MS,
  type ResolvedLimits,
  resolveLimits,
} from './limits.ts'
export {
  createPreludeDecoder,
  type DecodedPrelude,
  encodePrelude,
  MAX_PRELUDE_BYTES,
  PRELUDE_CONTENT_TYPE,
  type PreludeDecoder,
  type PreludeStep,
  responseProblem,
} from './prelude.ts'
export { readRequest } from './read-request.ts'
export { requestEvent } from './request-payload.ts'
export {
  createShaper,
  LAMBDA_SHAPING,
  resolveShaping,
  type ShapedPiece,
  type Shaper,
  type Shaping,
} from './shaping.ts'
export {
  HANDLER_HIGH_WATER_MARK,
  HANDLER_STREAMING,
  highWaterMarkOf,
  isStreamingHandler,
  streamifyResponse,
} from './streamify.ts'
export type {
  AnyLambdaHandler,
  Awslambda,
  FunctionUrlEvent,
  FunctionUrlRequestContext,
  FunctionUrlResult,
  LambdaContext,
  ResponseMetadata,
  ResponseStream,
  StreamCallback,
  StreamingHandler,
} from './types.ts'
