/**
 * What a resuming client gets from a helper asked for a position its plain iterable cannot start from: a 409 that
 * says why, which it does not ask again (each attempt would be another invocation), and a ResumeError that quotes
 * it. Over real HTTP: the sluice/dev emulator behind a proxy that cuts the first answer.
 */
import { describe, expect, it } from 'vitest'
import { isResumeError, sluice } from '../../src/index.ts'
import { type SluiceResponse, sluiceHandler } from '../../src/lambda/index.ts'
import { awslambda as runtime } from '../../src/runtime/index.ts'
import { type Cut, startCuttingProxy } from '../support/cutting-proxy.ts'
import { startEmulator } from '../support/emulator.ts'
import { FAST } from '../support/scripted.ts'
import { drain } from '../support/streams.ts'

const rows = [{ id: 0 }, { id: 1 }, { id: 2 }]

describe('a resuming client and a request a plain iterable cannot serve', () => {
  const RESUME = { attempts: 5, backoff: FAST } as const

  /** The emulator serving `respond`, behind a proxy that cuts its answers at `cuts` (one per answer in order). */
  async function serving(respond: () => SluiceResponse, cuts: Cut[]) {
    const emulator = await startEmulator(sluiceHandler(respond, { awslambda: runtime }))
    const proxy = await startCuttingProxy(emulator.url)
    proxy.reset((exchange) => cuts[exchange.index])
    return proxy
  }

  it('fails at the first refusal with a ResumeError that quotes it: NDJSON resumed by cursor', async () => {
    const proxy = await serving(() => ({ ndjson: rows }), [{ at: 9, fault: 'drop' }])
    const res = await sluice(proxy.url, {
      resume: {
        ...RESUME,
        strategy: 'cursor',
        cursor: (row) => ({ searchParams: { cursor: String((row as { id: number }).id) } }),
      },
    })
    const { items, error } = await drain(res.ndjson())
    expect(items).toEqual([{ id: 0 }])
    expect(isResumeError(error) && error.reason).toBe('not-resumable')
    expect((error as Error).message).toContain(
      'The server answered the resume request with status 409; the stream cannot be continued; the server said: "sluice/lambda: streamNdjson cannot continue after a cursor: its source is a plain iterable',
    )
    // One reconnect, not one per attempt: each would have been another invocation.
    expect(proxy.exchanges.map((e) => [e.target, e.status])).toEqual([
      ['/', 200],
      ['/?cursor=0', 409],
    ])
  })

  it('fails at the first refusal with a ResumeError that quotes it: SSE whose replay lacks the Last-Event-ID', async () => {
    let invocation = 0
    // Each invocation names its events anew: the id the client has is in no later replay.
    const proxy = await serving(() => {
      const n = invocation++
      return { sse: ['a', 'b'].map((data, i) => ({ id: `${n}-${i}`, data })), heartbeatMs: 0 }
    }, [{ at: 'id: 0-0\ndata: a\n\n'.length, fault: 'drop' }])
    const res = await sluice(proxy.url, { resume: RESUME })
    const { items, error } = await drain(res.events())
    expect(items.map((e) => e.data)).toEqual(['a'])
    expect(isResumeError(error) && error.reason).toBe('not-resumable')
    expect((error as Error).message).toContain(
      'status 409; the stream cannot be continued; the server said: "sluice/lambda: streamSse cannot continue after the Last-Event-ID: no event of its source (a plain iterable) has that id',
    )
    expect(proxy.exchanges.map((e) => [e.requestHeaders['last-event-id'], e.status])).toEqual([
      [undefined, 200],
      ['0-0', 409],
    ])
  })

  it('sends the refusal as an error event after heartbeats sent the 200 during a slow replay: the client stops on it', async () => {
    let invocation = 0
    const proxy = await serving(() => {
      const n = invocation++
      async function* events(): AsyncGenerator<{ id: string; data: string }> {
        // A slow replay: the heartbeat (1 ms) goes out, with the 200, before the replay can find the id missing.
        if (n > 0) await new Promise((resolve) => setTimeout(resolve, 50))
        for (const [i, data] of ['a', 'b'].entries()) yield { id: `${n}-${i}`, data }
      }
      return { sse: events(), heartbeatMs: 1, onRefusal: false }
    }, [{ at: 'id: 0-0\ndata: a\n\n'.length, fault: 'drop' }])
    const res = await sluice(proxy.url, { resume: RESUME })
    const items: { event: string; data: string }[] = []
    for await (const { event, data } of res.events()) {
      items.push({ event, data })
      if (event === 'error') break
    }
    expect(items[0]).toEqual({ event: 'message', data: 'a' })
    expect(items[1]?.event).toBe('error')
    expect(JSON.parse(items[1]!.data)).toEqual({
      status: 409,
      message: expect.stringContaining(
        'sluice/lambda: streamSse cannot continue after the Last-Event-ID: no event of its source (a plain iterable) has that id',
      ),
    })
    expect(proxy.exchanges.map((e) => [e.requestHeaders['last-event-id'], e.status])).toEqual([
      [undefined, 200],
      ['0-0', 200],
    ])
  })

  it('answers a HEAD with a Last-Event-ID no event of a source in memory has with the 409 head its GET gets', async () => {
    const events = [
      { id: '1', data: 'a' },
      { id: '2', data: 'b' },
    ]
    const respond = (): SluiceResponse => ({ sse: events, heartbeatMs: 0, onRefusal: false })
    const emulator = await startEmulator(sluiceHandler(respond, { awslambda: runtime }))
    const ask = (method: string) => fetch(emulator.url, { method, headers: { 'last-event-id': '9' } })
    const get = await ask('GET')
    const head = await ask('HEAD')
    expect([get.status, head.status]).toEqual([409, 409])
    for (const name of ['content-type', 'content-length', 'x-content-type-options', 'x-sluice-end']) {
      expect(head.headers.get(name), name).toBe(get.headers.get(name))
    }
    expect(await get.text()).toMatch(
      /^sluice\/lambda: streamSse cannot continue after the Last-Event-ID: .*"9"\.\n$/,
    )
    expect(await head.text()).toBe('')
  })
})
