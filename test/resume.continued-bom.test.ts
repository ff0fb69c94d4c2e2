/**
 * A BOM is the body's only at its first bytes. A stream that continues a body from a checkpoint starts further
 * on, where EF BB BF is a U+FEFF of the text: it stays, as in the undisturbed read — in a line, and in an SSE
 * field name (WHATWG strips one BOM, at the stream's start), whether the checkpoint fell between two chunks or
 * inside a batch of events half read.
 */
import { describe, expect, it } from 'vitest'
import { type Checkpoint, type StreamResponse, sluice } from '../src/index.ts'
import { mockStream } from '../src/mock/stream.ts'
import { encode } from './support/chunking.ts'
import { fetchWith } from './support/streams.ts'

const URL = 'http://fn.test/bom'

/** A server that answers Range over `chunks` joined, cut the same way on every answer. */
function server(chunks: string[], type: string): typeof fetch {
  return fetchWith((request) =>
    mockStream(chunks.map(encode), { request, range: true, headers: { 'content-type': type } }),
  )
}

/** The items of a read that stops after `k` of them with a checkpoint, and of a new client resuming from it. */
async function splitAt<T>(
  fetch: typeof globalThis.fetch,
  read: (res: StreamResponse) => AsyncIterable<T>,
  k: number,
): Promise<{ whole: T[]; first: T[]; rest: T[] }> {
  const whole = await Array.fromAsync(read(await sluice(URL, { fetch })))
  const res = await sluice(URL, { fetch })
  const first: T[] = []
  let saved = ''
  for await (const item of read(res)) {
    first.push(item)
    if (first.length === k) {
      saved = JSON.stringify(res.checkpoint())
      break
    }
  }
  const rest = await Array.fromAsync(
    read(await sluice(URL, { fetch, resumeFrom: JSON.parse(saved) as Checkpoint })),
  )
  return { whole, first, rest }
}

const data = (res: StreamResponse) =>
  (async function* () {
    for await (const event of res.events()) yield event.data
  })()

describe('a U+FEFF where a continued stream starts is text, not a BOM', () => {
  it('events(): a block whose first field name starts with U+FEFF stays unknown after a checkpoint between chunks', async () => {
    const fetch = server(['data: a\n\n', '\uFEFFdata: b\n\ndata: c\n\n'], 'text/event-stream')
    const { whole, first, rest } = await splitAt(fetch, data, 1)
    expect(whole).toEqual(['a', 'c'])
    expect([...first, ...rest]).toEqual(whole)
  })

  it('events(): the same when the checkpoint falls inside a batch of events half read', async () => {
    const fetch = server(['data: a\n\n', '\uFEFFdata: b\n\ndata: c\n\ndata: d\n\n'], 'text/event-stream')
    const { whole, first, rest } = await splitAt(fetch, data, 2)
    expect(whole).toEqual(['a', 'c', 'd'])
    expect([...first, ...rest]).toEqual(whole)
  })

  it('events(): the body’s own BOM is still stripped, and a stream restarted from its start strips it again', async () => {
    const fetch = server(['\uFEFFdata: a\n\n', 'data: b\n\n'], 'text/event-stream')
    const { whole, first, rest } = await splitAt(fetch, data, 1)
    expect(whole).toEqual(['a', 'b'])
    expect([...first, ...rest]).toEqual(whole)
  })

  it('events(): of two BOMs that start the body, only the first is stripped, and a checkpoint inside the first batch lands after the events read', async () => {
    // The second U+FEFF starts a field name: the first block is unknown, and does not count as an event.
    const fetch = server(['\uFEFF\uFEFFdata: q\n\ndata: a\n\ndata: b\n\n'], 'text/event-stream')
    const { whole, first, rest } = await splitAt(fetch, data, 1)
    expect(whole).toEqual(['a', 'b'])
    expect([...first, ...rest]).toEqual(whole)
  })

  it('lines(): a line that starts with U+FEFF keeps it after a checkpoint', async () => {
    const fetch = server(['\uFEFFone\n', '\uFEFFtwo\nthree\n'], 'text/plain')
    const { whole, first, rest } = await splitAt(fetch, (res) => res.lines(), 1)
    expect(whole).toEqual(['one', '\uFEFFtwo', 'three'])
    expect([...first, ...rest]).toEqual(whole)
  })
})
