// `sluice/mock/stream`: mockStream without msw. The `sluice/mock` index also exports the msw handlers, whose
// static `import 'msw'` fails to load where msw is not installed.
export { mockStream } from './mock-stream.ts'
export type { MockFaults, MockStreamOptions } from './options.ts'
export type { MockEvent, MockFormat, MockStreamParts } from './parts.ts'
