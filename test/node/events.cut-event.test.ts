/**
 * A third-party SSE server on 127.0.0.1 (chunked, no length, no end marker) whose response ends cleanly in the
 * middle of an event — as a proxy or a function's timeout cuts it: events() resumes by Last-Event-ID and gets the
 * event whole, or, with nothing to resume with, fails with a TruncatedError after the complete events.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isTruncatedError, sluice } from '../../src/index.ts'

const BLOCKS = [
  'id: 1\ndata: one\n\n',
  'id: 2\nevent: tick\ndata: two\ndata: lines\n\n',
  'id: 3\ndata: three\n\n',
]
/** The first answer ends inside the second event, after its `data: two` line. */
const CUT = BLOCKS[0]!.length + BLOCKS[1]!.indexOf('data: lines')

let requests: Array<string | undefined> = []
const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const id = req.headers['last-event-id']
  requests.push(typeof id === 'string' ? id : undefined)
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' })
  const text = BLOCKS.slice(Number(id ?? 0)).join('')
  if (id !== undefined || req.url === '/whole') {
    res.end(text)
    return
  }
  // Two writes, then a clean end (the chunked terminator) inside the second event.
  res.write(text.slice(0, 10))
  setImmediate(() => res.end(text.slice(10, CUT)))
})
let base = ''

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

describe('a real server that ends its response inside an event', () => {
  it('is resumed by Last-Event-ID: each event once, the cut one whole', async () => {
    requests = []
    const res = await sluice(`${base}/cut`, {
      resume: { strategy: 'last-event-id', backoff: { initial: 1, max: 1, jitter: 0 } },
    })
    const events = await Array.fromAsync(res.events())
    expect(events.map((e) => [e.id, e.event, e.data])).toEqual([
      ['1', 'message', 'one'],
      ['2', 'tick', 'two\nlines'],
      ['3', 'message', 'three'],
    ])
    expect(requests).toEqual([undefined, '1'])
  })

  it('fails with a TruncatedError that says where, after the complete events, when resume is off', async () => {
    requests = []
    const res = await sluice(`${base}/cut`, { resume: false })
    const seen: string[] = []
    const error = await (async () => {
      for await (const event of res.events()) seen.push(event.data)
    })().catch((e: unknown) => e)
    expect(seen).toEqual(['one'])
    expect(isTruncatedError(error)).toBe(true)
    expect((error as Error).message).toContain(
      `ended after ${CUT} bytes inside the event starting at byte ${BLOCKS[0]!.length}, "id: 2\\nevent: tick\\ndata: two\\n"`,
    )
    expect(requests).toEqual([undefined])
  })

  it('ends done when the response ends after its last blank line', async () => {
    const res = await sluice(`${base}/whole`, { resume: false })
    expect((await Array.fromAsync(res.events())).map((e) => e.data)).toEqual(['one', 'two\nlines', 'three'])
  })
})
