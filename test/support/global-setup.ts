import type { TestProject } from 'vitest/node'
import { startTestServer } from './test-server.ts'

// One loopback server for every project (node, edge, chromium): the browser cannot open sockets itself, so
// the tests that need a real HTTP peer reach this one through `inject('serverUrl')`.
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startTestServer()
  project.provide('serverUrl', server.url)
  return () => server.close()
}

declare module 'vitest' {
  export interface ProvidedContext {
    serverUrl: string
  }
}
