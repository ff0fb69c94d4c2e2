/**
 * sluice's own servers give ids to some SSE events only, and answer `Last-Event-ID` with every event after the one
 * that carried it: sluice/lambda's `streamSse` (plain strings between `{ id }` checkpoints) behind `functionUrl`,
 * and sluice/mock's `streamHandler` with `lastEventId: true`. The client skips the events it had passed since the id,
 * so each reaches the consumer once, whatever byte the connection dropped at.
 */
import { setupServer } from 'msw/node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sluice } from '../../src/index.ts'
import { streamSse } from '../../src/lambda/index.ts'
import { awslambda, functionUrl } from '../../src/mock/index.ts'
import { streamHandler } from '../../src/mock/stream-handler.ts'
import { FAST } from '../support/scripted.ts'

const TOKENS = ['The', ' quick', ' brown', ' fox', ' jumps', ' over']

// Tokens as plain strings, with an id-only checkpoint after every third.
const chat = awslambda.streamifyResponse(async (event, responseStream) => {
  await streamSse(
    responseStream,
    async function* (lastId: string | undefined) {
      for (let i = lastId === undefined ? 0 : Number(lastId); i < TOKENS.length; i++) {
        yield TOKENS[i]!
        if ((i + 1) % 3 === 0) yield { id: String(i + 1) }
      }
    },
    { request: event, awslambda, heartbeatMs: 0 },
  )
})

const EVENTS = [{ id: '1', data: 'a' }, { data: 'b' }, { data: 'c' }, { id: '2', data: 'd' }, { data: 'e' }]

const server = setupServer(
  functionUrl('https://fn.test', chat),
  streamHandler('GET', 'https://mock.test/sse', EVENTS, { format: 'sse', lastEventId: true }),
)
beforeAll(() => server.listen())
afterAll(() => server.close())

/** A `fetch` whose first answer's body fails after `cut` bytes, as a dropped connection does; its whole length. */
function cutting(cut: number) {
  let calls = 0
  let length = 0
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const res = await globalThis.fetch(input, init)
    if (++calls > 1) return res
    const all = new Uint8Array(await res.arrayBuffer())
    length = all.length
    let sent = false
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent) controller.error(new TypeError('terminated'))
        else controller.enqueue(all.subarray(0, cut))
        sent = true
      },
    })
    return new Response(body, res)
  }) as typeof globalThis.fetch
  return { fetch, length: () => length }
}

async function tokensOf(url: string, cut: number) {
  const { fetch, length } = cutting(cut)
  const res = await sluice(url, { fetch, resume: { attempts: 3, backoff: FAST } })
  const data: string[] = []
  let error: unknown
  try {
    for await (const event of res.events()) data.push(event.data)
  } catch (caught) {
    error = caught
  }
  return { data, length: length(), error }
}

describe('servers that give ids to some events only', () => {
  it('streamSse behind functionUrl: every token once, whatever byte the connection drops at', async () => {
    const { length } = await tokensOf('https://fn.test/chat', Number.MAX_SAFE_INTEGER)
    // Before its first id (after three tokens) no id is in force: a drop after a token there cannot be resumed.
    const first = 3 * 'data: \n\n'.length + 'The quick brown'.length + 'id: 3\n\n'.length
    for (let cut = 1; cut < length; cut++) {
      const { data, error } = await tokensOf('https://fn.test/chat', cut)
      if (error !== undefined && cut < first) expect(TOKENS.join('').startsWith(data.join(''))).toBe(true)
      else expect([cut, data.join(''), error]).toEqual([cut, TOKENS.join(''), undefined])
    }
  })

  it('streamHandler with lastEventId: every event once, whatever byte the connection drops at', async () => {
    const { length } = await tokensOf('https://mock.test/sse', Number.MAX_SAFE_INTEGER)
    for (let cut = 1; cut < length; cut++) {
      const { data, error } = await tokensOf('https://mock.test/sse', cut)
      expect([cut, data.join(''), error]).toEqual([cut, 'abcde', undefined])
    }
  })
})
