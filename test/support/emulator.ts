import { fileURLToPath } from 'node:url'
import { afterEach } from 'vitest'
import { type DevServer, type ServeOptions, serve } from '../../src/dev/index.ts'
import type { AnyLambdaHandler } from '../../src/runtime/index.ts'

/** The absolute path of a file in test/fixtures. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url))
}

const running: DevServer[] = []

afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()))
})

/** Starts the emulator on a free loopback port, quiet, and closes it after the test. */
export async function startEmulator(
  handler: string | URL | AnyLambdaHandler,
  options: ServeOptions = {},
): Promise<DevServer> {
  const server = await serve(handler, { log: false, ...options })
  running.push(server)
  return server
}

/** Reads a body chunk by chunk until it ends or fails; resolves with the bytes read and the failure, if any. */
export async function drain(response: Response): Promise<{ bytes: number; error: unknown }> {
  const reader = response.body!.getReader()
  let bytes = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return { bytes, error: undefined }
      bytes += value.length
    }
  } catch (error) {
    return { bytes, error }
  }
}
