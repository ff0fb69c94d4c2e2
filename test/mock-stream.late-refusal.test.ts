/**
 * `mockStream` over async parts answers a `Last-Event-ID` at once, with its `200`, and pulls the parts only as the
 * body is read: when none of them has that id, the `409` can no longer go out. It goes in-band, as sluice/lambda's
 * `streamSse` sends it once a heartbeat has sent the `200`: an `event: error` whose data is the status and why,
 * then a cut. A client written against the mock sees what it would see against the helper. The server is an
 * injected `fetch` that answers with `mockStream`, as an msw resolver would.
 */
import { describe, expect, it } from 'vitest'
import { sluice } from '../src/index.ts'
import { mockStream } from '../src/mock/mock-stream.ts'
import { FAST } from './support/scripted.ts'

const URL_ = 'https://fn.example/tokens'
const FIRST = 'id: 0-0\ndata: a\n\n'

/**
 * A server whose events get new ids on each request (`n-0`, `n-1`, as a source that numbers its events anew),
 * async parts as a generator gives them; its first answer is cut after its first event.
 */
function renumbering() {
  const asked: (string | null)[] = []
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const request = new Request(input, init)
    const n = asked.push(request.headers.get('last-event-id')) - 1
    async function* events(): AsyncGenerator<{ id: string; data: string }> {
      for (const [i, data] of ['a', 'b'].entries()) yield { id: `${n}-${i}`, data }
    }
    return mockStream(events(), {
      format: 'sse',
      lastEventId: true,
      request,
      ...(n === 0 ? { dropAfterBytes: FIRST.length } : {}),
    })
  }
  return { fetch, asked }
}

describe('mockStream refusing a Last-Event-ID after its 200', () => {
  it('sends the 409 as an error event before the cut, on which a resuming client can stop', async () => {
    const { fetch, asked } = renumbering()
    const res = await sluice(URL_, { fetch, resume: { attempts: 5, backoff: FAST } })
    const items: { event: string; data: string }[] = []
    for await (const { event, data } of res.events()) {
      items.push({ event, data })
      if (event === 'error') break
    }
    expect(items[0]).toEqual({ event: 'message', data: 'a' })
    expect(items[1]?.event).toBe('error')
    expect(JSON.parse(items[1]!.data)).toEqual({
      status: 409,
      message:
        'mockStream cannot continue after the Last-Event-ID: no event of its parts has that id; replay the same events with the same ids. The request carried Last-Event-ID "0-0".',
    })
    expect(asked).toEqual([null, '0-0'])
  })
})
