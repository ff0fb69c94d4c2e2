/**
 * SSE ids beyond ASCII over real HTTP: sluice sends a Last-Event-ID as the id's UTF-8 bytes, as EventSource does
 * (WHATWG HTML §9.2), and sluice/lambda reads them so — under the sluice/dev emulator, whose node:http gives each
 * byte of a header as one character. A proxy between them cuts the answers and shows the bytes on the wire.
 */
import { describe, expect, it } from 'vitest'
import { sluice } from '../../src/index.ts'
import {
  type ResumableSource,
  type SluiceResponse,
  type SseMessage,
  sluiceHandler,
} from '../../src/lambda/index.ts'
import { awslambda as runtime } from '../../src/runtime/index.ts'
import { startCuttingProxy } from '../support/cutting-proxy.ts'
import { startEmulator } from '../support/emulator.ts'
import { FAST } from '../support/scripted.ts'

const events = [
  { id: 'é', data: 'a' },
  { id: '日本', data: 'b' },
  { id: '3', data: 'c' },
]
const utf8 = (text: string): number[] => [...new TextEncoder().encode(text)]
const size = (event: { id: string; data: string }) => utf8(`id: ${event.id}\ndata: ${event.data}\n\n`).length

describe('a stream whose SSE ids are beyond ASCII, resumed from sluice/lambda', () => {
  it('resumes after each: the Last-Event-ID on the wire is the UTF-8 of the id, and the helper finds it', async () => {
    // The events replayed from a plain iterable, and from a function told the id.
    const told: (string | undefined)[] = []
    const sources: ResumableSource<SseMessage>[] = [
      events,
      (id: string | undefined) => {
        told.push(id)
        return events.slice(events.findIndex((event) => event.id === id) + 1)
      },
    ]
    for (const source of sources) {
      const respond = (): SluiceResponse => ({ sse: source, heartbeatMs: 0 })
      const emulator = await startEmulator(sluiceHandler(respond, { awslambda: runtime }))
      const proxy = await startCuttingProxy(emulator.url)
      // The first two answers are cut after their first event.
      proxy.reset(({ index }) => (index < 2 ? { at: size(events[index]!), fault: 'drop' } : undefined))
      const res = await sluice(proxy.url, { resume: { attempts: 3, backoff: FAST } })
      const seen: { id: string | undefined; data: string }[] = []
      for await (const { id, data } of res.events()) seen.push({ id, data })
      expect(seen).toEqual(events)
      // The proxy reads each byte of a header as one character.
      const sent = proxy.exchanges.map((e) => e.requestHeaders['last-event-id'])
      expect(sent.map((value) => value && Array.from(value, (c) => c.charCodeAt(0)))).toEqual([
        undefined,
        utf8('é'),
        utf8('日本'),
      ])
      expect(proxy.exchanges.map((e) => e.status)).toEqual([200, 200, 200])
    }
    expect(told).toEqual([undefined, 'é', '日本'])
  })
})
