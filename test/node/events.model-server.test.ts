/**
 * Model APIs over real HTTP: a node:http server on 127.0.0.1 that streams as OpenAI's chat completions and
 * Anthropic's messages do, one write per event. The loop gets every event once and ends where the stream's terminal
 * event says; `[DONE]`, a `break` and an abort each free the connection, which the server sees close, even while it
 * keeps it open.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { sluice } from '../../src/index.ts'

const Chunk = z.object({
  choices: z.array(z.object({ delta: z.object({ content: z.string().optional() }) })),
})
const Delta = z.object({ type: z.string(), delta: z.object({ text: z.string() }).optional() })

const chunk = (content: string) =>
  `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`
const delta = (text: string) =>
  `event: content_block_delta\ndata: ${JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } })}\n\n`

/** Each request's socket, closed or not: the server's view of the connection. */
const closed = new Map<string, Promise<void>>()

async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url!, 'http://127.0.0.1')
  const id = url.searchParams.get('id') ?? ''
  closed.set(id, new Promise((resolve) => res.on('close', () => resolve())))
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
  const write = (text: string) => new Promise<void>((resolve) => res.write(text, () => resolve()))
  if (url.pathname === '/v1/chat/completions') {
    for (const word of ['Hel', 'lo', '!']) await write(chunk(word))
    // `[DONE]`, then the connection stays open (a proxy that holds it, say): the client has what it needs.
    await write(url.searchParams.get('done') ?? 'data: [DONE]\n\n')
    if (url.searchParams.has('end')) res.end()
    return
  }
  // /v1/messages: deltas until the client goes away.
  await write('event: message_start\ndata: {"type":"message_start","message":{"id":"msg_01"}}\n\n')
  for (let n = 0; !res.destroyed && n < 100_000; n++) await write(delta(`t${n} `))
}

/** Resolves once the server saw the socket of request `id` close; a test that never sees it times out. */
function socketClosed(id: string): Promise<void> {
  const close = closed.get(id)
  if (close === undefined) throw new Error(`The server got no request ${id}.`)
  return close
}

let server: Server
let base: string

beforeAll(async () => {
  server = createServer((req, res) => void route(req, res))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

const request = { method: 'POST', json: { model: 'm', stream: true } } as const

describe('OpenAI chat completions over HTTP', () => {
  it('ends at [DONE] and frees the connection the server keeps open', async () => {
    const res = await sluice(`${base}/v1/chat/completions?id=held`, request)
    const text: string[] = []
    for await (const { data } of res.events({ schema: Chunk, until: '[DONE]' }))
      text.push(data.choices[0]?.delta.content ?? '')
    expect(text.join('')).toBe('Hello!')
    expect(res.progress.state).toBe('done')
    await socketClosed('held')
  })

  it('ends done when the server ends right after [DONE] without the blank line', async () => {
    const res = await sluice(
      `${base}/v1/chat/completions?id=short&end&done=${encodeURIComponent('data: [DONE]\n')}`,
      request,
    )
    const events = await Array.fromAsync(res.events({ schema: Chunk, until: '[DONE]' }))
    expect(events).toHaveLength(3)
    expect(res.progress.state).toBe('done')
  })
})

describe('Anthropic messages over HTTP', () => {
  it('a break out of the loop frees the connection of a server that is still streaming', async () => {
    const res = await sluice(`${base}/v1/messages?id=break`, request)
    const names: string[] = []
    for await (const { event, data } of res.events({ schema: Delta })) {
      names.push(`${event}:${data.delta?.text ?? ''}`)
      if (names.length === 4) break
    }
    expect(names).toEqual([
      'message_start:',
      'content_block_delta:t0 ',
      'content_block_delta:t1 ',
      'content_block_delta:t2 ',
    ])
    await socketClosed('break')
    expect(res.progress.state).toBe('cancelled')
  })

  it('an aborted signal rejects the loop with its reason and frees the connection', async () => {
    const controller = new AbortController()
    const res = await sluice(`${base}/v1/messages?id=abort`, { ...request, signal: controller.signal })
    const reason = new Error('the user pressed Stop')
    let n = 0
    const error = await (async () => {
      for await (const _ of res.events({ schema: Delta })) if (++n === 10) controller.abort(reason)
    })().catch((e: unknown) => e)
    expect(error).toBe(reason)
    expect(n).toBe(10)
    await socketClosed('abort')
  })
})
