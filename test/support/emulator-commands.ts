/**
 * Browser commands (run in Node, called from a page through `commands` of `vitest/browser`) that start the emulator
 * on a loopback port of its own, another origin than the page's, and tell what its function was asked: the page
 * cannot open a server itself.
 */
import type { BrowserCommand } from 'vitest/node'
import { sluiceCors } from '../../src/dev/cors.ts'
import { type DevServer, serve } from '../../src/dev/index.ts'
import { sluiceHandler } from '../../src/lambda/index.ts'
import { installAwslambdaGlobal } from '../../src/runtime/index.ts'

/** The body the ranged emulator serves: 3000 numbered lines. */
export const RANGED_LINES = 3000
const text = Array.from({ length: RANGED_LINES }, (_, i) => `line ${i}\n`).join('')
const bytes = new TextEncoder().encode(text)

/** What the function saw of one request. */
export interface AskedRange {
  range: string | null
  ifRange: string | null
}

const servers = new Map<string, { server: DevServer; asked: AskedRange[]; release: () => void }>()

/**
 * Starts the emulator on a handler that serves {@link RANGED_LINES} lines by Range under an ETag, and cuts its first
 * answer (a request without Range) after a third of them, as a dropped connection, once `releaseDrop` says so (the
 * page has read some: Chromium may drop bytes that arrive with the failure); with `origin`, under
 * `sluice dev --cors <origin>`'s CORS, else without any. Resolves with its URL.
 */
const startRangedEmulator: BrowserCommand<[origin: string | null]> = async (_context, origin) => {
  const asked: AskedRange[] = []
  const { promise: released, resolve: release } = Promise.withResolvers<void>()
  const uninstall = installAwslambdaGlobal()
  try {
    const handler = sluiceHandler(async (event) => {
      const range = event.headers.range ?? null
      asked.push({ range, ifRange: event.headers['if-range'] ?? null })
      return {
        bytes: chunks(range === null ? released : undefined),
        length: bytes.length,
        etag: '"lines-v1"',
      }
    })
    const server = await serve(handler, {
      log: false,
      ...(origin === null ? {} : { cors: sluiceCors([origin]) }),
    })
    servers.set(server.url, { server, asked, release })
    return server.url
  } finally {
    uninstall()
  }
}

/** The whole body in 1 KiB chunks; with `cut`, a third of it, then a failure once it resolves (the connection is cut). */
async function* chunks(cut: Promise<void> | undefined): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += 1024) {
    if (cut !== undefined && at >= bytes.length / 3) {
      await cut
      throw new Error('a scripted drop')
    }
    yield bytes.subarray(at, at + 1024)
    await new Promise((resolve) => setTimeout(resolve, 0))
  }
}

/** What the function of the emulator at `url` was asked, request by request (preflights never reach it). */
const rangedEmulatorAsked: BrowserCommand<[url: string]> = (_context, url) => servers.get(url)?.asked ?? []

/** Lets the first answer of the emulator at `url` be cut. */
const releaseDrop: BrowserCommand<[url: string]> = (_context, url) => servers.get(url)?.release()

/** Closes every emulator started, aborting what still runs. */
const closeEmulators: BrowserCommand<[]> = async () => {
  const all = [...servers.values()]
  servers.clear()
  for (const { release } of all) release()
  await Promise.all(all.map(({ server }) => server.close({ running: 'abort' })))
}

export const emulatorCommands = { startRangedEmulator, rangedEmulatorAsked, releaseDrop, closeEmulators }

declare module 'vitest/browser' {
  interface BrowserCommands {
    startRangedEmulator: (origin: string | null) => Promise<string>
    rangedEmulatorAsked: (url: string) => Promise<AskedRange[]>
    releaseDrop: (url: string) => Promise<void>
    closeEmulators: () => Promise<void>
  }
}
