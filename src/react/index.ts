export { type UseStreamOptions, type UseStreamRequest, useStream } from './use-stream.ts'
export { type UseStreamResult, useStreamStore } from './use-stream-store.ts'
