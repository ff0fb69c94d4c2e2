import { createServer } from 'node:net'
import type { TestProject } from 'vitest/node'
import { startTestServer } from './test-server.ts'

// One loopback server for every project (node, edge, chromium): the browser cannot open sockets itself, so
// the tests that need a real HTTP peer reach this one through `inject('serverUrl')`.
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startTestServer()
  project.provide('serverUrl', server.url)
  project.provide('refusingUrl', await refusingUrl())
  project.provide('fcSeed', fastCheckSeed())
  return () => server.close()
}

/**
 * The seed every fast-check property starts from: `FC_SEED` when set (`.ci/run` sets it from the commit, so that
 * CI on one commit always tries the same cases), else none, and fast-check draws a new one per property.
 */
function fastCheckSeed(): number | null {
  const given = process.env.FC_SEED
  if (given === undefined || given === '') return null
  const seed = Number(given)
  if (!Number.isSafeInteger(seed)) throw new Error(`FC_SEED must be an integer, got ${JSON.stringify(given)}`)
  return seed | 0
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
    fcSeed: number | null
  }
}
