/**
 * Client side of the loopback server's scripted streams (`/script`, `/s/:id`, `/log`): register a body with
 * faults per attempt, get its URL and, afterwards, what each request asked for. Works in every project.
 */
import { inject } from 'vitest'
import type { LogEntry, Script } from './test-server.ts'

export type { AttemptScript, LogEntry, Script } from './test-server.ts'

let counter = 0

/**
 * Registers `script` on the loopback server; `url` serves it, `log()` tells what happened, `release()` lets a
 * `drop` with `release: true` happen.
 */
export async function scripted(
  script: Script,
): Promise<{ url: string; log: () => Promise<LogEntry[]>; release: () => Promise<void> }> {
  const server = inject('serverUrl')
  const id = `s${Date.now().toString(36)}-${counter++}-${Math.random().toString(36).slice(2, 8)}`
  const answer = await fetch(`${server}/script?id=${id}`, { method: 'POST', body: JSON.stringify(script) })
  if (answer.status !== 204) throw new Error(`registering a script failed: ${answer.status}`)
  return {
    url: `${server}/s/${id}`,
    log: async () => (await (await fetch(`${server}/log?id=${id}`)).json()) as LogEntry[],
    release: async () => {
      await fetch(`${server}/release?id=${id}`, { method: 'POST' })
    },
  }
}

/** Base64 of bytes, for `Script.body`. */
export function base64(bytes: Uint8Array): string {
  let binary = ''
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]!)
  return btoa(binary)
}

/**
 * Whether the loopback server's Content-Length counts here as the length of the body read. Not in a page: the
 * server is another origin, and CORS hides whether such a body is compressed (Content-Encoding is not safelisted),
 * so sluice takes no total or end from it (see declared-length.ts).
 */
export const LENGTH_SEEN: boolean = typeof document === 'undefined'

/** The total progress reports for a body whose Content-Length the loopback server sends: none in a page. */
export const totalSeen = (length: number): number | undefined => (LENGTH_SEEN ? length : undefined)

/** Small, jitter-free backoff: reconnects are immediate, and tests assert order, never time. */
export const FAST = { initial: 1, max: 5, jitter: 0 } as const
