export type {
  AnyLambdaHandler,
  Awslambda,
  FunctionInfo,
  FunctionUrlEvent,
  FunctionUrlRequestContext,
  FunctionUrlResult,
  Invocation,
  InvocationOutcome,
  LambdaContext,
  Limits,
  ResponseMetadata,
  ResponseStream,
  Shaping,
  StreamingHandler,
} from '../runtime/index.ts'
export { DEFAULT_LIMITS, LAMBDA_SHAPING } from '../runtime/index.ts'
export { loadHandler } from './load-handler.ts'
export { type DevServer, type ServeOptions, serve } from './serve.ts'
