/**
 * A Node script that is done with a sluice stream — read to its end, broken out of, cancelled, failed with an
 * error it caught, or left unread — must exit on its own: no idle, total, backoff, throttle or store timer, and no
 * socket, may be left to hold it. Each scenario of test/fixtures/exit-scenarios.mjs arms every such timer for ten
 * minutes, runs against the loopback server below, and prints `done <name>`; the child process must then end with
 * code 0 without `process.exit()`. A leak shows as a child still running when the (generous) kill timeout comes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertFreshDist } from '../support/dist.ts'
import { runProcess } from '../support/run-process.ts'
import { serveOnLoopback, type TestServer } from '../support/test-server.ts'

const script = fileURLToPath(new URL('../fixtures/exit-scenarios.mjs', import.meta.url))
const ROWS = '{"i":0}\n{"i":1}\n{"i":2}\n'
/** Far less than the ten minutes a leaked timer would hold the child, far more than a slow machine needs. */
const KILL_AFTER_MS = 25_000

/** Requests per `id`, so that a scenario's reconnects get the answers meant for them. */
const requests = new Map<string, number>()
let server: TestServer

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1')
  const id = url.searchParams.get('id') ?? ''
  if (url.pathname === '/seen') {
    res.end(JSON.stringify(requests.get(id) ?? 0))
    return
  }
  const n = (requests.get(id) ?? 0) + 1
  requests.set(id, n)
  switch (url.pathname) {
    case '/rows':
      res.writeHead(200, { 'content-type': 'application/x-ndjson', 'content-length': String(ROWS.length) })
      res.end(ROWS)
      return
    case '/drip':
      // Two chunks apart: a throttled store has a later batch waiting when the body ends.
      res.writeHead(200, { 'content-type': 'application/x-ndjson' }).write(ROWS.slice(0, 8))
      setTimeout(() => res.end(ROWS.slice(8)), 20)
      return
    case '/bad':
      res.writeHead(200, { 'content-type': 'application/x-ndjson' }).end('{"i":0}\nnot json\n')
      return
    case '/json':
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write('{"a":[1,')
      setTimeout(() => res.end('2]}'), 20)
      return
    case '/stall':
      // One byte, then silence: only the client ends it.
      res.writeHead(200, { 'content-type': 'text/plain' }).write('a')
      return
    case '/drop': {
      if (n === 1) {
        res.writeHead(200, {
          'content-type': 'application/x-ndjson',
          'content-length': String(ROWS.length),
          'accept-ranges': 'bytes',
        })
        res.write(ROWS.slice(0, 10))
        // The first row lands, then the connection fails.
        setTimeout(() => res.destroy(), 30)
        return
      }
      // The reconnect: held without headers, or refused for ten minutes, or answered with the rest.
      if (url.searchParams.has('hold')) return
      if (url.searchParams.has('busy')) {
        res.writeHead(503, { 'retry-after': '600', 'content-type': 'text/plain' }).end('busy')
        return
      }
      const from = Number(/bytes=(\d+)-/.exec(req.headers.range ?? '')?.[1] ?? 0)
      res.writeHead(206, { 'content-range': `bytes ${from}-${ROWS.length - 1}/${ROWS.length}` })
      res.end(ROWS.slice(from))
      return
    }
    default:
      res.writeHead(404, { 'content-type': 'text/plain' }).end('no such report')
  }
}

beforeAll(async () => {
  assertFreshDist()
  server = await serveOnLoopback(handle)
})
afterAll(() => server.close())

describe('a Node script done with sluice exits on its own', () => {
  it.each([
    [
      'after reading to the end, breaking out, cancelling, or catching an error',
      [
        'end',
        'break',
        'cancel',
        'unread-cancel',
        'parse-error',
        'http-error',
        'idle-timeout',
        'total-timeout',
        'json-throttle',
        'tee',
        'from-response',
      ],
    ],
    [
      'after a reconnect, and after cancel() while a reconnect waits or is in flight',
      ['resume-end', 'cancel-in-backoff', 'cancel-in-flight', 'abort-in-flight'],
    ],
    ['after a stream store ends, is cancelled, or is retried', ['store-end', 'store-cancel', 'store-retry']],
    ['with a response it neither reads nor cancels, whose body has all arrived', ['abandoned']],
  ])('%s', async (_, scenarios) => {
    const run = await runProcess(process.execPath, [script, server.url, ...scenarios], {
      timeoutMs: KILL_AFTER_MS,
    })
    expect(run.stderr).toBe('')
    expect(run.stdout.trim().split('\n')).toEqual(scenarios.map((name) => `done ${name}`))
    // Killed at the timeout, it would end with a signal and no code.
    expect({ code: run.code, signal: run.signal }).toEqual({ code: 0, signal: null })
  })
})
