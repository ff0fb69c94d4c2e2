/**
 * A `Last-Event-ID` travels in a header, which `fetch` builds from Latin-1 characters only: an SSE id with a
 * character above U+00FF cannot be sent back. The resume says so, naming the id and the header, before any fetch
 * — rather than a TypeError from `Headers` about a ByteString. The server is an injected `fetch`.
 */
import { describe, expect, it } from 'vitest'
import { isResumeError, type ServerSentEvent, sluice } from '../src/index.ts'
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

const refusal = (id: string) =>
  `The SSE event id ${JSON.stringify(id)} cannot be sent back in a Last-Event-ID header, which carries only Latin-1 characters, so the stream cannot be continued after it; have the server send ASCII ids.`

describe('an SSE id that a Last-Event-ID header cannot carry', () => {
  it('ends a resume at once with a ResumeError that names the id and the header, asking nothing again', async () => {
    for (const id of ['中', 'a😀']) {
      const { fetch, asked } = server(id)
      const res = await sluice(URL_, { fetch, resume: { attempts: 3, backoff: FAST } })
      const { data, error } = await eventData(res.events())
      expect(data).toEqual(['a'])
      expect(isResumeError(error) && error.reason).toBe('not-resumable')
      expect((error as Error).message).toBe(refusal(id))
      expect(asked).toEqual([null])
    }
  })

  it('still sends a Latin-1 id back, as fetch can', async () => {
    const { fetch, asked } = server('é')
    const res = await sluice(URL_, { fetch, resume: { attempts: 3, backoff: FAST } })
    expect(await eventData(res.events())).toEqual({ data: ['a', 'b'], error: undefined })
    expect(asked).toEqual([null, 'é'])
  })

  it('refuses a checkpoint with such an id the same way, before any request', async () => {
    const { fetch, asked } = server('中')
    const first = await sluice(URL_, { fetch, resume: false })
    expect((await eventData(first.events())).data).toEqual(['a'])
    const checkpoint = first.checkpoint()
    expect(checkpoint.lastEventId).toBe('中')
    const error = await sluice(URL_, { fetch, resumeFrom: checkpoint }).catch((e: unknown) => e)
    expect(isResumeError(error) && error.reason).toBe('not-resumable')
    expect((error as Error).message).toBe(refusal('中'))
    expect(asked).toEqual([null])
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
