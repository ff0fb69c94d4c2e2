/**
 * json() stopped before its first read, against a real server on 127.0.0.1 that sends the start of a document
 * and stays open: the server must see its connection close, and `final` reject, as for every other consumer.
 * Its async generator, returned or cancelled before it ran, had neither: the socket stayed open until
 * `res.cancel()`. (The states and `final` on every runtime are test/consumer.stopped-unread.test.ts's.)
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type JsonConsumer, sluice } from '../../src/index.ts'
import { within } from '../support/within.ts'

const closed = new Map<string, PromiseWithResolvers<void>>()
const held = new Set<ServerResponse>()
const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const seen = closed.get(req.url ?? '')
  if (seen === undefined) {
    res.writeHead(404).end()
    return
  }
  held.add(res)
  res.on('close', () => {
    held.delete(res)
    seen.resolve()
  })
  res.writeHead(200, { 'content-type': 'application/json' })
  res.write('{"rows":[1,')
})
let base = ''
let count = 0

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterEach(() => {
  // A connection left open (the bug) is let go, so that the next test starts clean.
  for (const res of held) res.destroy()
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

const stops: [string, (doc: JsonConsumer<unknown, unknown>) => Promise<unknown>][] = [
  ['return()', (doc) => doc[Symbol.asyncIterator]().return?.() ?? Promise.resolve()],
  ['toReadableStream().cancel()', (doc) => doc.toReadableStream().cancel()],
]

describe('json() stopped before its first read, on a real connection', () => {
  it.each(stops)('%s closes the socket and rejects final', async (_, stop) => {
    const path = `/doc${count++}`
    const seen = Promise.withResolvers<void>()
    closed.set(path, seen)
    const res = await sluice(`${base}${path}`)
    const doc = res.json()
    await stop(doc)
    expect(res.progress.state).toBe('cancelled')
    expect(await within(seen.promise, 5_000)).toBe(true)
    const failure = doc.final.then(
      () => undefined,
      (error: unknown) => error,
    )
    expect(await within(failure, 5_000)).toBe(true)
    expect(String(await failure)).toMatch(/not read to its end/)
  })
  it('on both tee() branches closes the socket and rejects both finals', async () => {
    const path = `/doc${count++}`
    const seen = Promise.withResolvers<void>()
    closed.set(path, seen)
    const res = await sluice(`${base}${path}`)
    const [a, b] = res.tee()
    const docs = [a.json(), b.json()]
    await stops[1]![1](docs[0]!)
    await stops[0]![1](docs[1]!)
    expect(res.progress.state).toBe('cancelled')
    expect(await within(seen.promise, 5_000)).toBe(true)
    for (const doc of docs) {
      const failure = doc.final.then(
        () => undefined,
        (error: unknown) => error,
      )
      expect(await within(failure, 5_000)).toBe(true)
      expect(String(await failure)).toMatch(/not read to its end/)
    }
  })
})
