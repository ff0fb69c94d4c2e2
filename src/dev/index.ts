export type { Awslambda, ResponseStream, StreamingHandler } from '../lambda/types.ts'
export type {
  AnyLambdaHandler,
  FunctionInfo,
  FunctionUrlEvent,
  FunctionUrlRequestContext,
  FunctionUrlResult,
  Invocation,
  InvocationOutcome,
  LambdaContext,
  Limits,
  ResponseMetadata,
  Shaping,
} from '../runtime/index.ts'
export { DEFAULT_LIMITS, LAMBDA_SHAPING } from '../runtime/index.ts'
export { awslambda } from './awslambda.ts'
export { type Cors, sluiceCors } from './cors.ts'
export { loadHandler } from './load-handler.ts'
export { type DevServer, type DevServerCloseOptions, type ServeOptions, serve } from './serve.ts'
