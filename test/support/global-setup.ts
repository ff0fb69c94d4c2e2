import { createServer } from 'node:net'
import type { TestProject } from 'vitest/node'
import { startTestServer } from './test-server.ts'

// One loopback server for every project (node, edge, chromium): the browser cannot open sockets itself, so
// the tests that need a real HTTP peer reach this one through `inject('serverUrl')`.
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startTestServer()
  project.provide('serverUrl', server.url)
  project.provide('refusingUrl', await refusingUrl())
  return () => server.close()
}

/** A URL on 127.0.0.1 where nothing listens (a port just closed): connecting to it is refused. */
async function refusingUrl(): Promise<string> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as { port: number }
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  return `http://127.0.0.1:${port}/nothing-listens-here`
}

declare module 'vitest' {
  export interface ProvidedContext {
    serverUrl: string
    refusingUrl: string
  }
}
