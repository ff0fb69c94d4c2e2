/**
 * A reconnect that a real server on 127.0.0.1 received but holds without headers (a cold start, a stuck function):
 * ending the stream then — `res.cancel()`, the user's abort, the total timeout — must end that request too, and
 * the server must see its connection close, not keep a socket (and an invocation) open for nothing. (Cancelling
 * during the first response, and during a backoff, are test/cancel.test.ts's.)
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { isTimeoutError, type StreamResponse, sluice } from '../../src/index.ts'
import { FAST } from '../support/scripted.ts'
import { serveOnLoopback, type TestServer } from '../support/test-server.ts'
import { within } from '../support/within.ts'

const ROWS = '{"i":0}\n{"i":1}\n{"i":2}\n'

/** What the server saw of one stream: its reconnect arriving, and that reconnect's connection closing. */
interface Seen {
  reconnected: PromiseWithResolvers<void>
  closed: PromiseWithResolvers<void>
}

const streams = new Map<string, Seen>()
const held = new Set<ServerResponse>()
let server: TestServer

beforeAll(async () => {
  server = await serveOnLoopback(async (req: IncomingMessage, res: ServerResponse) => {
    const seen = streams.get(req.url ?? '')
    if (seen === undefined) {
      res.writeHead(404).end()
      return
    }
    if (req.headers.range === undefined) {
      res.writeHead(200, { 'accept-ranges': 'bytes', 'content-length': String(ROWS.length) })
      res.write(ROWS.slice(0, 10))
      // The first row lands, then the connection fails.
      setTimeout(() => res.destroy(), 20)
      return
    }
    // The reconnect: received, never answered.
    held.add(res)
    res.on('close', () => {
      held.delete(res)
      seen.closed.resolve()
    })
    seen.reconnected.resolve()
  })
})
afterEach(() => {
  // A reconnect left held (the bug) is let go, so that the next test starts clean.
  for (const res of held) res.destroy()
})
afterAll(() => server.close())

let count = 0

/** A fresh stream on the server, and what the server sees of it. */
function stream(): { url: string; seen: Seen } {
  const path = `/s${count++}`
  const seen = { reconnected: Promise.withResolvers<void>(), closed: Promise.withResolvers<void>() }
  streams.set(path, seen)
  return { url: `${server.url}${path}`, seen }
}

/** Reads every row; the rows delivered, and the error the iteration ended with, if any. */
async function drain(res: StreamResponse): Promise<{ rows: unknown[]; error: unknown }> {
  const rows: unknown[] = []
  try {
    for await (const row of res.ndjson()) rows.push(row)
    return { rows, error: undefined }
  } catch (error) {
    return { rows, error }
  }
}

describe('ending the stream while a reconnect waits for its headers', () => {
  it('res.cancel() ends the iteration quietly and closes the reconnect on the server', async () => {
    const { url, seen } = stream()
    const res = await sluice(url, { resume: { backoff: FAST } })
    void seen.reconnected.promise.then(() => res.cancel())
    const { rows, error } = await drain(res)
    expect(error).toBeUndefined()
    expect(rows).toEqual([{ i: 0 }])
    expect(res.progress.state).toBe('cancelled')
    expect(await within(seen.closed.promise, 5_000)).toBe(true)
  })

  it("the user's abort rejects with its reason and closes the reconnect on the server", async () => {
    const { url, seen } = stream()
    const controller = new AbortController()
    const res = await sluice(url, { signal: controller.signal, resume: { backoff: FAST } })
    const reason = new Error('the user left')
    void seen.reconnected.promise.then(() => controller.abort(reason))
    const { rows, error } = await drain(res)
    expect(error).toBe(reason)
    expect(rows).toEqual([{ i: 0 }])
    expect(res.progress.state).toBe('cancelled')
    expect(await within(seen.closed.promise, 5_000)).toBe(true)
  })

  it("the total timeout rejects with a TimeoutError (phase 'total') and closes the reconnect on the server", async () => {
    const { url, seen } = stream()
    // Long enough for the first row and the reconnect on a slow machine; it fires while the reconnect is held.
    const res = await sluice(url, { totalTimeout: 1_500, resume: { backoff: FAST } })
    const { rows, error } = await drain(res)
    expect(isTimeoutError(error) && error.phase).toBe('total')
    expect(rows).toEqual([{ i: 0 }])
    expect(await within(seen.reconnected.promise, 0)).toBe(true)
    expect(await within(seen.closed.promise, 5_000)).toBe(true)
  })
})
