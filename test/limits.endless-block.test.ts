/**
 * Bounded memory against a server that never ends a block: keep-alive comments and `id:`, `event:` and `retry:`
 * lines without a blank line between them cost no more than the limits (see decoders-sse.test.ts), and the events
 * after them come out whole, with their fields, placed in the whole body: a checkpoint after one, the line and
 * byte of one whose data is not JSON, and the byte of one over maxEventBytes.
 */
import { describe, expect, it } from 'vitest'
import { fromResponse, isLimitError, isParseError } from '../src/index.ts'
import { encode } from './support/chunking.ts'
import { bodyOf } from './support/streams.ts'

const HEADERS = { 'content-type': 'text/event-stream', 'accept-ranges': 'bytes' }

/** 20 000 lines of keep-alive comments and fields, one per chunk, without a blank line; and their bytes. */
const LINES = Array.from({ length: 20_000 }, (_, i) => [': keep-alive\n', 'id: 7\n', 'retry: 1500\n'][i % 3]!)
const BYTES = encode(LINES.join('')).length

describe('events() after many lines of a block that never ends', () => {
  it('delivers each event with the id and retry time of the lines before it, placed in the whole body', async () => {
    const first = 'data: {"n":0}\n\n'
    const second = 'data: {"n":1}\n\n'
    const parts = [first, ...LINES, second, ...LINES, 'data: {\n\n']
    const res = await fromResponse(new Response(bodyOf(parts).stream, { headers: HEADERS }), {
      url: 'https://fn.example/stream',
      maxEventBytes: 256,
    })
    const seen: unknown[] = []
    let error: unknown
    try {
      for await (const event of res.events({ json: true })) {
        const { offset, lastEventId } = res.checkpoint()
        seen.push({ event, offset, lastEventId })
      }
    } catch (e) {
      error = e
    }
    expect(seen).toEqual([
      {
        event: { id: undefined, event: 'message', data: { n: 0 }, retry: undefined },
        offset: 15,
        lastEventId: undefined,
      },
      {
        event: { id: '7', event: 'message', data: { n: 1 }, retry: 1500 },
        offset: 30 + BYTES,
        lastEventId: '7',
      },
    ])
    // The block of the event that is not JSON starts after the second event; its blank line ends the body.
    expect(isParseError(error) && { line: error.line, offset: error.offset }).toEqual({
      line: 2 + 20_000 + 2 + 20_000 + 2,
      offset: 30 + BYTES,
    })
  })

  it('reports an event over maxEventBytes where its block starts, before the lines', async () => {
    const parts = ['data: a\n\n', ...LINES, `data: ${'x'.repeat(300)}\n\n`]
    const res = await fromResponse(new Response(bodyOf(parts).stream, { headers: HEADERS }), {
      maxEventBytes: 256,
    })
    const seen: string[] = []
    let error: unknown
    try {
      for await (const event of res.events({ json: false })) seen.push(event.data)
    } catch (e) {
      error = e
    }
    expect(seen).toEqual(['a'])
    expect(isLimitError(error) && { limit: error.limit, offset: error.offset }).toEqual({
      limit: 'maxEventBytes',
      offset: 9,
    })
  })
})
