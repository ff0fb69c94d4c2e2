/**
 * A checkpoint taken once events({ until }) ended at the stream's terminal event stands past that event, whether
 * or not its blank line came; and a stream continued from it, which has nothing more to send (an empty answer to
 * its Last-Event-ID, or to its Range), ends `done` without a terminal event of its own: the one it would need was
 * consumed before the checkpoint. So does one continued from a checkpoint at the proven end (a declared length).
 */
import { describe, expect, it } from 'vitest'
import { type Checkpoint, fromResponse, sluice } from '../src/index.ts'
import { mockStream } from '../src/mock/mock-stream.ts'
import { encode } from './support/chunking.ts'
import { FAST } from './support/scripted.ts'
import { bodyOf, drain, fetchWith } from './support/streams.ts'

const URL_ = 'https://api.test/v1/stream'
const SSE = { 'content-type': 'text/event-stream' }
const EVENTS = 'id: 1\ndata: a\n\nid: 2\ndata: b\n\n'

/** A checkpoint taken after events({ until: '[DONE]' }) read `body` to its end. */
async function endedAt(body: string) {
  const res = await fromResponse(new Response(bodyOf([body]).stream, { headers: SSE }), { url: URL_ })
  const { items, error } = await drain(res.events({ until: '[DONE]' }))
  expect(error).toBeUndefined()
  expect(items.map((event) => event.data)).toEqual(['a', 'b'])
  expect(res.progress.state).toBe('done')
  return JSON.parse(JSON.stringify(res.checkpoint())) as Checkpoint
}

describe('a checkpoint after the terminal event', () => {
  for (const [label, done] of [
    ['its blank line', 'data: [DONE]\n\n'],
    ['its line end, without the blank line', 'data: [DONE]\n'],
    ['a CRLF, without the blank line', 'data: [DONE]\r\n'],
    ['no line end at all', 'data: [DONE]'],
    ['its own id, without the blank line', 'id: 3\ndata: [DONE]\n'],
  ] as const) {
    it(`stands past it, at the body's end, after ${label}`, async () => {
      const body = `${EVENTS}${done}`
      const checkpoint = await endedAt(body)
      expect(checkpoint.offset).toBe(encode(body).length)
      expect(checkpoint.lastEventId).toBe(done.startsWith('id: 3') ? '3' : '2')
      expect(checkpoint.ended).toBe(true)
    })
  }

  it('counts the lines of the terminal event, as far as the body goes, with or without its blank line', async () => {
    for (const done of ['data: [DONE]\n\n', 'data: [DONE]\n', 'data: [DONE]']) {
      const body = `id: 1\ndata: 1\n\n${done}`
      const res = await fromResponse(new Response(bodyOf([body]).stream, { headers: SSE }), { url: URL_ })
      const { items } = await drain(res.events({ json: true, until: '[DONE]' }))
      expect(items.map((event) => event.data)).toEqual([1])
      expect(res.checkpoint()).toMatchObject({
        offset: encode(body).length,
        lines: body.split('\n').length - 1,
      })
    }
  })

  it('is not taken before it: a stream continued from there still needs the terminal event', async () => {
    const res = await fromResponse(
      new Response(bodyOf([EVENTS, 'data: [DONE]\n\n']).stream, { headers: SSE }),
      {
        url: URL_,
      },
    )
    const stream = res.events({ until: '[DONE]' })[Symbol.asyncIterator]()
    await stream.next()
    await stream.next()
    const checkpoint = res.checkpoint()
    expect(checkpoint.ended).toBeUndefined()
    await stream.return?.()
    const fetch = fetchWith(() => new Response(bodyOf([]).stream, { headers: SSE }))
    const again = await sluice(URL_, { fetch, resumeFrom: checkpoint, resume: false })
    const { items, error } = await drain(again.events({ until: '[DONE]' }))
    expect(items).toEqual([])
    expect((error as Error).message).toContain('before the terminal event `until` names (data "[DONE]")')
  })
})

describe('a stream continued from a checkpoint after the terminal event', () => {
  for (const done of ['id: 3\ndata: [DONE]\n\n', 'id: 3\ndata: [DONE]']) {
    const label = done.endsWith('\n') ? 'with' : 'without'
    it(`ends done, with no event, when nothing follows its Last-Event-ID (${label} the blank line)`, async () => {
      const checkpoint = await endedAt(`${EVENTS}${done}`)
      expect(checkpoint).toMatchObject({ strategy: 'last-event-id', lastEventId: '3' })
      const sent: Array<string | null> = []
      const fetch = fetchWith((request) => {
        sent.push(request.headers.get('last-event-id'))
        return new Response(bodyOf([]).stream, { headers: SSE })
      })
      const res = await sluice(URL_, {
        fetch,
        resumeFrom: checkpoint,
        resume: { attempts: 2, backoff: FAST },
      })
      const { items, error } = await drain(res.events({ until: '[DONE]' }))
      expect(error).toBeUndefined()
      expect(items).toEqual([])
      expect(res.progress.state).toBe('done')
      expect(sent).toEqual(['3'])
      // Taken again (its offset in the answer that continued), a checkpoint still stands past the terminal event.
      expect(res.checkpoint()).toMatchObject({ ended: true, lastEventId: '3' })
    })
  }

  it('ends done after a checkpoint at the proven end too (Content-Length), without the terminal event', async () => {
    const body = 'id: 1\ndata: a\n\nid: 2\ndata: b\n\n'
    const headers = { ...SSE, 'content-length': String(encode(body).length) }
    const first = await fromResponse(new Response(bodyOf([body]).stream, { headers }), { url: URL_ })
    expect((await drain(first.events({ until: '[DONE]' }))).error).toBeUndefined()
    const checkpoint = first.checkpoint()
    expect(checkpoint).toMatchObject({ lastEventId: '2', ended: true })
    // The continuation's answer proves nothing (no length, no marker), and has no terminal event.
    const fetch = fetchWith(() => new Response(bodyOf([]).stream, { headers: SSE }))
    const res = await sluice(URL_, { fetch, resumeFrom: checkpoint, resume: false })
    const { items, error } = await drain(res.events({ until: '[DONE]' }))
    expect(error).toBeUndefined()
    expect(items).toEqual([])
    expect(res.progress.state).toBe('done')
  })

  it('ends done when a Range server with no declared length answers past the end with an empty 206', async () => {
    const body = 'data: a\n\ndata: b\n\ndata: [DONE]\n\n'
    const parts = async function* () {
      yield body
    }
    const first = await sluice(URL_, {
      fetch: fetchWith((request) => mockStream(parts(), { request, range: true, headers: SSE })),
    })
    const { error } = await drain(first.events({ until: '[DONE]' }))
    expect(error).toBeUndefined()
    const checkpoint = first.checkpoint()
    expect(checkpoint).toMatchObject({ strategy: 'range', offset: encode(body).length })
    const ranges: Array<string | null> = []
    const res = await sluice(URL_, {
      resumeFrom: checkpoint,
      resume: { attempts: 2, backoff: FAST },
      fetch: fetchWith((request) => {
        ranges.push(request.headers.get('range'))
        return mockStream(parts(), { request, range: true, headers: SSE })
      }),
    })
    const { items, error: again } = await drain(res.events({ until: '[DONE]' }))
    expect(again).toBeUndefined()
    expect(items).toEqual([])
    expect(res.progress.state).toBe('done')
    expect(ranges).toEqual([`bytes=${encode(body).length}-`])
  })
})

describe('under tee()', () => {
  it('a branch checkpoint after the terminal event without its blank line stands past it, the branch behind too', async () => {
    const body = `${EVENTS}id: 3\ndata: [DONE]`
    const res = await fromResponse(
      new Response(bodyOf([EVENTS, 'id: 3\ndata: [DONE]']).stream, { headers: SSE }),
      {
        url: URL_,
      },
    )
    const [a, b] = res.tee()
    // The first branch reads the whole body; the second, behind it, then reads the bytes it holds.
    const first = await drain(a.events({ until: '[DONE]' }))
    const second = await drain(b.events({ until: '[DONE]' }))
    for (const [branch, { items, error }] of [
      [a, first],
      [b, second],
    ] as const) {
      expect(error).toBeUndefined()
      expect(items.map((event) => event.data)).toEqual(['a', 'b'])
      expect(branch.checkpoint()).toMatchObject({
        offset: encode(body).length,
        lastEventId: '3',
        ended: true,
      })
    }
  })
})
