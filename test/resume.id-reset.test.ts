/**
 * An empty `id:` ends the last event ID in force (WHATWG "dispatch the event"): a stream that sent ids may have
 * none to continue after. A drop there cannot be resumed by Last-Event-ID (starting over would repeat what was
 * delivered), and the error must say why in terms that hold for this stream — not that it sends no ids, nor
 * that nothing delivered carried one, when events with ids were delivered. The server is an injected `fetch`.
 */
import { describe, expect, it } from 'vitest'
import { isResumeError, sluice } from '../src/index.ts'
import { FAST } from './support/scripted.ts'
import { eventData, responseOf } from './support/streams.ts'

const URL_ = 'https://fn.example/tokens'
const SSE = { 'content-type': 'text/event-stream' }
/** An event with an id, then one after an empty `id:`, then a drop. */
const CUT = 'id: 1\ndata: a\n\nid:\ndata: b\n\n'
const REASON = 'no SSE event id is in force, and no `resume.cursor` was given'

function server() {
  const asked: (string | null)[] = []
  const fetch: typeof globalThis.fetch = async (input, init) => {
    asked.push(new Request(input, init).headers.get('last-event-id'))
    return asked.length === 1
      ? responseOf([CUT], { headers: SSE, error: new TypeError('terminated') })
      : responseOf(['data: a\n\n'], { headers: SSE })
  }
  return { fetch, asked }
}

describe('a drop after an empty id: reset the last event id', () => {
  it("is not resumed under 'auto', and the error names the reset rather than a stream without ids", async () => {
    const { fetch, asked } = server()
    const res = await sluice(URL_, { fetch, resume: { attempts: 3, backoff: FAST } })
    const { data, error } = await eventData(res.events())
    expect(data).toEqual(['a', 'b'])
    expect((error as Error).name).toBe('NetworkError')
    expect((error as Error).message).toContain(
      `it cannot be resumed: the server announces no \`Accept-Ranges: bytes\`, ${REASON}`,
    )
    expect(asked).toEqual([null])
  })

  it('is refused under last-event-id, the error saying that no id is in force, not that none was delivered', async () => {
    const { fetch, asked } = server()
    const res = await sluice(URL_, {
      fetch,
      resume: { strategy: 'last-event-id', attempts: 3, backoff: FAST },
    })
    const { data, error } = await eventData(res.events())
    expect(data).toEqual(['a', 'b'])
    expect((error as Error).message).toContain(
      'cannot be resumed: no SSE event id is in force (none came, or an empty `id:` reset it), so Last-Event-ID cannot say where to continue',
    )
    expect((error as Error).message).not.toContain('nothing delivered carries an event id')
    expect(asked).toEqual([null])
  })

  it('makes checkpoint() throw with the same reason', async () => {
    const { fetch } = server()
    const res = await sluice(URL_, { fetch, resume: false })
    await eventData(res.events())
    const error = (() => {
      try {
        res.checkpoint()
      } catch (caught) {
        return caught
      }
    })()
    expect(isResumeError(error) && error.reason).toBe('unsupported')
    expect((error as Error).message).toContain(REASON)
  })
})
