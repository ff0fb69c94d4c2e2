/**
 * A third-party NDJSON server on 127.0.0.1 (chunked, no length, no end marker) whose response ends cleanly in the
 * middle of a record — as a proxy or a function's timeout cuts it: ndjson() resumes by cursor and gets the record
 * whole, or, with nothing to resume with, fails with a TruncatedError after the complete records. A last record
 * without its line feed still ends the stream cleanly.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isTruncatedError, sluice } from '../../src/index.ts'

const RECORDS = [
  { k: 0, name: 'zero' },
  { k: 1, name: 'one, with more text' },
  { k: 2, name: 'two' },
]
const LINES = RECORDS.map((r) => `${JSON.stringify(r)}\n`)
/** The first answer ends inside the second record, after `{"k":1,"na`. */
const CUT = LINES[0]!.length + 10

let requests: Array<string | null> = []
const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const url = new URL(req.url ?? '/', 'http://localhost')
  const after = url.searchParams.get('after')
  requests.push(after)
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' })
  const text = LINES.slice(Number(after ?? -1) + 1).join('')
  if (after !== null) {
    res.end(text)
    return
  }
  // The whole body, its last line feed left out, as many servers write it.
  if (url.pathname === '/whole') {
    res.end(text.slice(0, -1))
    return
  }
  // Two writes, then a clean end (the chunked terminator) inside the second record.
  res.write(text.slice(0, 5))
  setImmediate(() => res.end(text.slice(5, CUT)))
})
let base = ''

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

describe('a real server that ends its response inside a record', () => {
  it('is resumed by cursor: each record once, the cut one whole', async () => {
    requests = []
    const cursor = (last: unknown) => ({ searchParams: { after: String((last as { k: number }).k) } })
    const res = await sluice(`${base}/cut`, {
      resume: { strategy: 'cursor', cursor, backoff: { initial: 1, max: 1, jitter: 0 } },
    })
    expect(await Array.fromAsync(res.ndjson())).toEqual(RECORDS)
    expect(requests).toEqual([null, '0'])
  })

  it('fails with a TruncatedError that says where, after the complete records, when resume is off', async () => {
    requests = []
    const res = await sluice(`${base}/cut`, { resume: false })
    const seen: unknown[] = []
    const error = await (async () => {
      for await (const record of res.ndjson()) seen.push(record)
    })().catch((e: unknown) => e)
    expect(seen).toEqual([RECORDS[0]])
    expect(isTruncatedError(error)).toBe(true)
    expect((error as Error).message).toContain(
      `ended after ${CUT} bytes inside the record starting at byte ${LINES[0]!.length} (line 2), "{\\"k\\":1,\\"na"`,
    )
    expect(requests).toEqual([null])
  })

  it('ends done when the response ends after a last record without its line feed', async () => {
    const res = await sluice(`${base}/whole`, { resume: false })
    expect(await Array.fromAsync(res.ndjson())).toEqual(RECORDS)
  })
})
