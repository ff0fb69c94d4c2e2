// sluice/mock — the test kit. streamHandler (and functionUrl) import msw; mockStream does not.

export {
  type AnyLambdaHandler,
  type Awslambda,
  awslambda,
  type FunctionUrlEvent,
  type FunctionUrlOptions,
  type FunctionUrlResult,
  functionUrl,
  type Invocation,
  type InvocationOutcome,
  installAwslambdaGlobal,
  type LambdaContext,
  type Limits,
  type ResponseMetadata,
  type ResponseStream,
  type Shaping,
  type StreamingHandler,
} from './function-url.ts'
export { mockStream } from './mock-stream.ts'
export type { MockFaults, MockStreamOptions } from './options.ts'
export type { MockEvent, MockFormat, MockStreamParts } from './parts.ts'
export {
  type StreamHandlerMethod,
  type StreamHandlerOptions,
  type StreamSource,
  type StreamSourceInfo,
  streamHandler,
} from './stream-handler.ts'
