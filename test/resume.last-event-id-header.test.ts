/**
 * A `Last-Event-ID` travels in a header, whose value `fetch` builds from Latin-1 characters only. EventSource
 * (WHATWG HTML §9.2) sends the id's UTF-8 bytes there, one byte per header character; so does sluice, so that a
 * server written for EventSource gets the same id back, and a stream whose ids are words of any script resumes.
 * The server is an injected `fetch`.
 */
import { describe, expect, it } from 'vitest'
import { type ServerSentEvent, sluice } from '../src/index.ts'
import { FAST } from './support/scripted.ts'
import { eventData, responseOf } from './support/streams.ts'

const URL_ = 'https://fn.example/tokens'
const SSE = { 'content-type': 'text/event-stream' }

/** A server whose first answer is one event with `id`, then a drop; later answers are the event after it. */
function server(id: string) {
  const asked: (string | null)[] = []
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const request = new Request(input, init)
    asked.push(request.headers.get('last-event-id'))
    if (asked.length === 1) {
      return responseOf([`id: ${id}\ndata: a\n\n`], { headers: SSE, error: new TypeError('terminated') })
    }
    return responseOf(['id: 2\ndata: b\n\n'], { headers: SSE })
  }
  return { fetch, asked }
}

/** The bytes a header value carries: one per character (a ByteString), as `Headers` gives them. */
const bytesOf = (value: string | null): number[] => Array.from(value ?? '', (c) => c.charCodeAt(0))
const utf8 = (id: string): number[] => [...new TextEncoder().encode(id)]

describe('an SSE id with characters beyond ASCII', () => {
  it('is sent back as its UTF-8 bytes, as EventSource sends it, and the stream goes on', async () => {
    for (const id of ['é', '日本', 'a😀']) {
      const { fetch, asked } = server(id)
      const res = await sluice(URL_, { fetch, resume: { attempts: 3, backoff: FAST } })
      expect(await eventData(res.events())).toEqual({ data: ['a', 'b'], error: undefined })
      expect(asked[0]).toBeNull()
      expect(bytesOf(asked[1]!)).toEqual(utf8(id))
    }
  })

  it('is sent so from a checkpoint too, which keeps the id itself', async () => {
    const { fetch, asked } = server('日本')
    const first = await sluice(URL_, { fetch, resume: false })
    expect((await eventData(first.events())).data).toEqual(['a'])
    const checkpoint = first.checkpoint()
    expect(checkpoint.lastEventId).toBe('日本')
    const res = await sluice(URL_, { fetch, resumeFrom: checkpoint })
    expect(await eventData(res.events())).toEqual({ data: ['b'], error: undefined })
    expect(bytesOf(asked[1]!)).toEqual(utf8('日本'))
  })

  it("is read from the UTF-8 bytes of the request's own Last-Event-ID, and one not UTF-8 as it is", async () => {
    for (const [sent, id] of [
      [String.fromCharCode(...utf8('日本')), '日本'],
      ['é', 'é'],
    ]) {
      const asked: (string | null)[] = []
      const fetch: typeof globalThis.fetch = async (input, init) => {
        asked.push(new Request(input, init).headers.get('last-event-id'))
        return asked.length === 1
          ? responseOf(['data: 6\n\ndata: cut'], { headers: SSE, error: new TypeError('terminated') })
          : responseOf(['id: 7\ndata: 7\n\n'], { headers: SSE })
      }
      const res = await sluice(URL_, {
        fetch,
        headers: { 'Last-Event-ID': sent! },
        resume: { attempts: 3, backoff: FAST },
      })
      const events: ServerSentEvent[] = []
      for await (const event of res.events()) events.push(event)
      expect(events.map((event) => event.id)).toEqual([id, '7'])
      // Asked again as EventSource would ask with that id.
      expect(bytesOf(asked[1]!)).toEqual(utf8(id!))
    }
  })
})

describe('a Last-Event-ID the request carries itself (an id saved from an earlier stream)', () => {
  /** A POST sent with `Last-Event-ID: 5`; the first answer drops before any event, the second has one. */
  function saved() {
    const asked: (string | null)[] = []
    const fetch: typeof globalThis.fetch = async (input, init) => {
      asked.push(new Request(input, init).headers.get('last-event-id'))
      return asked.length === 1
        ? responseOf([': hb\n\ndata: cut'], { headers: SSE, error: new TypeError('terminated') })
        : responseOf(['data: 6\n\nid: 7\ndata: 7\n\n'], { headers: SSE })
    }
    return { fetch, asked }
  }

  it('is the id in force until the stream sends one: a drop before then asks with it again, a POST too', async () => {
    const { fetch, asked } = saved()
    const res = await sluice(URL_, {
      fetch,
      method: 'POST',
      headers: { 'Last-Event-ID': '5' },
      resume: { attempts: 3, backoff: FAST },
    })
    const events: ServerSentEvent[] = []
    for await (const event of res.events()) events.push(event)
    expect(events.map(({ id, data }) => ({ id, data }))).toEqual([
      { id: '5', data: '6' },
      { id: '7', data: '7' },
    ])
    expect(asked).toEqual(['5', '5'])
  })

  it('is what a checkpoint taken before the first event carries', async () => {
    const { fetch } = saved()
    const res = await sluice(URL_, {
      fetch,
      method: 'POST',
      headers: { 'Last-Event-ID': '5' },
      resume: false,
    })
    res.events()
    expect(res.checkpoint()).toMatchObject({ strategy: 'last-event-id', lastEventId: '5' })
  })
})

describe('a checkpoint without an id, and a request that carries its own Last-Event-ID', () => {
  /** An SSE body served by Range, whose answers drop after `cuts` (absolute offsets, one per answer in order). */
  const BODY = 'data: 6\n\ndata: 7\n\nid: 8\ndata: 8\n\n'
  function ranged(cuts: number[]) {
    const asked: { id: string | null; range: string | null }[] = []
    const fetch: typeof globalThis.fetch = async (input, init) => {
      const { headers } = new Request(input, init)
      const range = headers.get('range')
      asked.push({ id: headers.get('last-event-id'), range })
      const start = range === null ? 0 : Number(/\d+/.exec(range)![0])
      const cut = cuts[asked.length - 1]
      const init2 = {
        headers: {
          ...SSE,
          'accept-ranges': 'bytes',
          ...(range !== null && { 'content-range': `bytes ${start}-${BODY.length - 1}/${BODY.length}` }),
        },
        status: range === null ? 200 : 206,
      }
      return cut === undefined
        ? responseOf([BODY.slice(start)], init2)
        : responseOf([BODY.slice(start, cut)], { ...init2, error: new TypeError('terminated') })
    }
    return { fetch, asked }
  }

  it("keeps the request's id in force after resumeFrom: events before the stream's first id carry it", async () => {
    // Taken without the request's id in it, as sluice did before it kept that id: by Range, after the first event.
    const { fetch, asked } = ranged([12, 21])
    const first = await sluice(URL_, { fetch, resume: false })
    expect((await eventData(first.events())).data).toEqual(['6'])
    const checkpoint = first.checkpoint()
    expect(checkpoint).toMatchObject({ strategy: 'range', offset: 9 })
    expect(checkpoint.lastEventId).toBeUndefined()

    const res = await sluice(URL_, {
      fetch,
      headers: { 'Last-Event-ID': '5' },
      resumeFrom: checkpoint,
      resume: { attempts: 3, backoff: FAST },
    })
    const seen: ServerSentEvent[] = []
    for await (const event of res.events()) {
      seen.push(event)
      if (seen.length === 1) expect(res.checkpoint().lastEventId).toBe('5')
    }
    expect(seen.map(({ id, data }) => ({ id, data }))).toEqual([
      { id: '5', data: '7' },
      { id: '8', data: '8' },
    ])
    expect(asked.map(({ range }) => range)).toEqual([null, 'bytes=9-', 'bytes=21-'])
  })
})
