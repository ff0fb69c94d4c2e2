/**
 * The event streams of model APIs as they are on the wire — OpenAI's chat completions (`data: {json}` then
 * `data: [DONE]`), OpenAI-compatible servers (CRLF, `: ping` comments), Anthropic's messages (named events,
 * `event: error`) and structured output (a JSON document in the deltas) — read with events() as README shows:
 * every event once, in order, typed by a zod 4 schema per event; an end where the stream's terminal event says, and
 * a clear error anywhere else.
 */
import { describe, expect, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import {
  fromResponse,
  isTruncatedError,
  isValidationError,
  type ServerSentEvent,
  sluice,
} from '../src/index.ts'
import { createPartialJsonParser } from '../src/partial-json.ts'
import { chunkings, encode } from './support/chunking.ts'
import { bodyOf, drain, fetchWith, type Part } from './support/streams.ts'

const URL_ = 'https://api.test/v1/chat/completions'
const SSE = { 'content-type': 'text/event-stream; charset=utf-8' }
const FAST = { initial: 1, max: 1, jitter: 0 } as const

/** A response to `parts`, with no way to resume (a POST to a model API has none). */
function answer(parts: Part[]) {
  const body = bodyOf(parts)
  return {
    body,
    res: fromResponse(new Response(body.stream, { headers: SSE }), { url: URL_, resume: false }),
  }
}

// OpenAI chat completions, as `stream: true, stream_options: { include_usage: true }` sends them.
const chunk = (delta: object, finish: string | null = null) =>
  `data: ${JSON.stringify({
    id: 'chatcmpl-AbC',
    object: 'chat.completion.chunk',
    created: 1764579600,
    model: 'gpt-4o-2024-08-06',
    system_fingerprint: 'fp_50cad350e4',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  })}\n\n`
const usage = `data: ${JSON.stringify({
  id: 'chatcmpl-AbC',
  object: 'chat.completion.chunk',
  created: 1764579600,
  model: 'gpt-4o-2024-08-06',
  choices: [],
  usage: { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 },
})}\n\n`
const OPENAI = [
  chunk({ role: 'assistant', content: '', refusal: null }),
  chunk({ content: 'Hé' }),
  ': OPENROUTER PROCESSING\n\n',
  chunk({ content: 'llo 👋' }),
  chunk({}, 'stop'),
  usage,
]

const Chunk = z.object({
  choices: z.array(
    z.object({
      delta: z.object({ content: z.string().nullish() }),
      finish_reason: z.enum(['stop', 'length', 'tool_calls', 'content_filter']).nullable(),
    }),
  ),
  usage: z.object({ total_tokens: z.number() }).nullish(),
})

const text = (events: readonly ServerSentEvent<z.infer<typeof Chunk>>[]) =>
  events.map((event) => event.data.choices[0]?.delta.content ?? '').join('')

describe('OpenAI chat completions', () => {
  it('gives every chunk once, in order, validated, and ends at [DONE] in every chunking', async () => {
    const body = encode(`${OPENAI.join('')}data: [DONE]\n\n`)
    for (const [label, chunks] of chunkings(body)) {
      const { res } = answer(chunks)
      const response = await res
      const stream = response.events({ schema: Chunk, until: '[DONE]' })
      const { items, error } = await drain(stream)
      expectTypeOf(items).toEqualTypeOf<ServerSentEvent<z.infer<typeof Chunk>>[]>()
      expect(error, label).toBeUndefined()
      expect(text(items), label).toBe('Héllo 👋')
      expect(
        items.map(({ data }) => (data.choices[0] === undefined ? 'usage' : data.choices[0].finish_reason)),
        label,
      ).toEqual([null, null, null, 'stop', 'usage'])
      expect(items.at(-1)?.data.usage?.total_tokens, label).toBe(12)
      expect(response.progress.state, label).toBe('done')
    }
  })

  for (const [label, done] of [
    ['its line end, without the blank line', 'data: [DONE]\n'],
    ['a CRLF, without the blank line', 'data: [DONE]\r\n'],
    ['no line end at all', 'data: [DONE]'],
  ] as const) {
    it(`ends done at [DONE] when the server ends right after it: ${label}, in every chunking`, async () => {
      for (const [cut, chunks] of chunkings(encode(`${chunk({ content: 'Hi' })}${done}`))) {
        const response = await answer(chunks).res
        const { items, error } = await drain(response.events({ schema: Chunk, until: '[DONE]' }))
        expect(error, cut).toBeUndefined()
        expect(text(items), cut).toBe('Hi')
        expect(response.progress.state, cut).toBe('done')
      }
    })
  }

  it('fails with a TruncatedError, after every chunk, when the body ends before [DONE] at an event boundary', async () => {
    const response = await answer([OPENAI.slice(0, 3).join('')]).res
    const { items, error } = await drain(response.events({ schema: Chunk, until: '[DONE]' }))
    expect(text(items)).toBe('Hé')
    expect(isTruncatedError(error)).toBe(true)
    expect((error as Error).message).toBe(
      `The body of ${URL_} ended after ${encode(OPENAI.slice(0, 3).join('')).length} bytes inside the stream, before the terminal event \`until\` names (data "[DONE]"); the stream was cut; pass \`request\` to fromResponse() to make it resumable.`,
    )
    expect(response.progress.state).toBe('error')
  })

  it('takes a line cut inside [DONE] for a cut, not for the end', async () => {
    const { items, error } = await drain(
      (await answer([chunk({ content: 'Hi' }), 'data: [DO']).res).events({ until: '[DONE]' }),
    )
    expect(items).toHaveLength(1)
    expect(isTruncatedError(error)).toBe(true)
    expect((error as Error).message).toContain('inside the event starting at byte')
  })

  it('resumes by Last-Event-ID from a server with ids that was cut at an event boundary, each chunk once', async () => {
    const events = OPENAI.filter((part) => part.startsWith('data:')).map((part, i) => `id: ${i + 1}\n${part}`)
    const requests: Array<string | null> = []
    const fetch = fetchWith((request) => {
      requests.push(request.headers.get('last-event-id'))
      const after = Number(request.headers.get('last-event-id') ?? 0)
      // The first connection ends cleanly after its second event: a proxy's timeout, say.
      const parts = requests.length === 1 ? events.slice(0, 2) : [...events.slice(after), 'data: [DONE]\n\n']
      return new Response(bodyOf(parts).stream, { headers: SSE })
    })
    const response = await sluice(URL_, { fetch, resume: { attempts: 2, backoff: FAST } })
    const { items, error } = await drain(response.events({ schema: Chunk, until: '[DONE]' }))
    expect(error).toBeUndefined()
    expect(text(items)).toBe('Héllo 👋')
    expect(items.map((event) => event.id)).toEqual(['1', '2', '3', '4', '5'])
    expect(requests).toEqual([null, '2'])
  })

  describe('an error sent in the stream, as `data: {"error":…}`, then the end', () => {
    const error = `data: ${JSON.stringify({
      error: {
        message: 'The server had an error while processing your request. Sorry about that!',
        type: 'server_error',
        param: null,
        code: null,
      },
    })}\n\n`
    const body = [OPENAI[0]!, OPENAI[1]!, error]

    it('is an event of its own with a schema that allows for it, which the loop can throw', async () => {
      const ApiError = z.object({ error: z.object({ message: z.string(), type: z.string() }) })
      const response = await answer(body).res
      const seen: string[] = []
      const failure = await (async () => {
        for await (const { data } of response.events({
          schema: z.union([ApiError, Chunk]),
          until: '[DONE]',
        })) {
          if ('error' in data) throw new Error(`OpenAI: ${data.error.message}`)
          seen.push(data.choices[0]?.delta.content ?? '')
        }
      })().catch((e: unknown) => e)
      expect(seen).toEqual(['', 'Hé'])
      expect((failure as Error).message).toBe(
        'OpenAI: The server had an error while processing your request. Sorry about that!',
      )
    })

    it('is a ValidationError that names its index with the chunk schema alone', async () => {
      const { items, error: failure } = await drain((await answer(body).res).events({ schema: Chunk }))
      expect(items).toHaveLength(2)
      expect(isValidationError(failure) && failure.index).toBe(2)
    })

    it('is delivered, then the end without [DONE] is a TruncatedError, when the loop goes on', async () => {
      const { items, error: failure } = await drain(
        (await answer(body).res).events({ json: true, until: '[DONE]' }),
      )
      expect(items.at(-1)?.data).toMatchObject({ error: { type: 'server_error' } })
      expect(isTruncatedError(failure)).toBe(true)
    })
  })

  it('reads an OpenAI-compatible server that ends lines with CRLF and pings with comments (sse-starlette)', async () => {
    const crlf = (part: string) => part.replaceAll('\n', '\r\n')
    const parts = [
      ': ping - 2026-12-01 09:00:00.000000+00:00\r\n\r\n',
      ...OPENAI.map(crlf),
      ': ping - 2026-12-01 09:00:15.000000+00:00\r\n\r\n',
      'data: [DONE]\r\n\r\n',
    ]
    for (const [label, chunks] of chunkings(encode(parts.join('')))) {
      const { items, error } = await drain(
        (await answer(chunks).res).events({ schema: Chunk, until: '[DONE]' }),
      )
      expect(error, label).toBeUndefined()
      expect(text(items), label).toBe('Héllo 👋')
    }
  })

  it('streams structured output: the JSON document in the deltas, parsed progressively, the whole validated', async () => {
    const Answer = z.object({ items: z.array(z.object({ name: z.string(), qty: z.number() })) })
    const json = JSON.stringify({
      items: [
        { name: 'flour', qty: 2 },
        { name: 'eggs', qty: 6 },
      ],
    })
    const deltas = json.match(/.{1,7}/g)!.map((piece) => chunk({ content: piece }))
    const response = await answer([...deltas, 'data: [DONE]\n\n']).res
    const parser = createPartialJsonParser<z.input<typeof Answer>>()
    const names: string[] = []
    for await (const { data } of response.events({ schema: Chunk, until: '[DONE]' })) {
      if (parser.push(data.choices[0]?.delta.content ?? ''))
        names.push((parser.snapshot?.items ?? []).map((item) => item?.name ?? '').join(','))
    }
    expect(Answer.parse(parser.end())).toEqual(JSON.parse(json))
    // Names grow in place, one snapshot per delta that changed the document.
    expect(names).toContain('fl')
    expect(names.at(-1)).toBe('flour,eggs')
  })
})

// Anthropic messages, as `stream: true` sends them: each event named, its `type` again in the data.
const named = (event: string, data: object) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`
const ANTHROPIC = [
  named('message_start', {
    type: 'message_start',
    message: {
      id: 'msg_01',
      type: 'message',
      role: 'assistant',
      content: [],
      model: 'claude-sonnet-4-5',
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 25, output_tokens: 1 },
    },
  }),
  named('content_block_start', {
    type: 'content_block_start',
    index: 0,
    content_block: { type: 'text', text: '' },
  }),
  'event: ping\ndata: {"type": "ping"}\n\n',
  named('content_block_delta', {
    type: 'content_block_delta',
    index: 0,
    delta: { type: 'text_delta', text: 'Bon' },
  }),
  named('content_block_delta', {
    type: 'content_block_delta',
    index: 0,
    delta: { type: 'text_delta', text: 'jour' },
  }),
  named('content_block_stop', { type: 'content_block_stop', index: 0 }),
  named('message_delta', {
    type: 'message_delta',
    delta: { stop_reason: 'end_turn', stop_sequence: null },
    usage: { output_tokens: 15 },
  }),
]
const STOP = named('message_stop', { type: 'message_stop' })

const Message = z.discriminatedUnion('type', [
  z.object({ type: z.literal('message_start'), message: z.object({ id: z.string() }) }),
  z.object({ type: z.literal('content_block_start'), index: z.number() }),
  z.object({ type: z.literal('ping') }),
  z.object({
    type: z.literal('content_block_delta'),
    index: z.number(),
    delta: z.object({ type: z.literal('text_delta'), text: z.string() }),
  }),
  z.object({ type: z.literal('content_block_stop'), index: z.number() }),
  z.object({ type: z.literal('message_delta'), delta: z.object({ stop_reason: z.string().nullable() }) }),
  z.object({ type: z.literal('message_stop') }),
  z.object({ type: z.literal('error'), error: z.object({ type: z.string(), message: z.string() }) }),
])
const untilStop = (event: ServerSentEvent) => event.event === 'message_stop'

describe('Anthropic messages', () => {
  it('gives every event once, in order, with its name, and its data typed by the schema, ending at message_stop', async () => {
    for (const [label, chunks] of chunkings(encode([...ANTHROPIC, STOP].join('')))) {
      const { items, error } = await drain(
        (await answer(chunks).res).events({ schema: Message, until: untilStop }),
      )
      expect(error, label).toBeUndefined()
      expect(items.map((event) => event.event)).toEqual([
        'message_start',
        'content_block_start',
        'ping',
        'content_block_delta',
        'content_block_delta',
        'content_block_stop',
        'message_delta',
      ])
      expect(items.every((event) => event.event === event.data.type)).toBe(true)
      const deltas = items.flatMap(({ data }) =>
        data.type === 'content_block_delta' ? [data.delta.text] : [],
      )
      expect(deltas.join(''), label).toBe('Bonjour')
    }
  })

  it('ends done when the server ends right after message_stop, without its blank line', async () => {
    const response = await answer([...ANTHROPIC, STOP.slice(0, -1)]).res
    const { items, error } = await drain(response.events({ schema: Message, until: untilStop }))
    expect(error).toBeUndefined()
    expect(items).toHaveLength(ANTHROPIC.length)
    expect(response.progress.state).toBe('done')
  })

  it('fails with a TruncatedError when the body ends before message_stop, at an event boundary', async () => {
    const { items, error } = await drain(
      (await answer(ANTHROPIC.slice(0, 4)).res).events({ schema: Message, until: untilStop }),
    )
    expect(items).toHaveLength(4)
    expect(isTruncatedError(error)).toBe(true)
    expect((error as Error).message).toContain(
      'inside the stream, before the terminal event `until` names; the stream was cut',
    )
  })

  it('gives an error mid-stream as an `error` event, which the loop can throw, the connection released', async () => {
    const overloaded = named('error', {
      type: 'error',
      error: { type: 'overloaded_error', message: 'Overloaded' },
    })
    const { body, res } = answer([
      ...ANTHROPIC.slice(0, 4),
      overloaded,
      'event: ping\ndata: {"type": "ping"}\n\n',
    ])
    const response = await res
    const failure = await (async () => {
      for await (const { event, data } of response.events({ schema: Message, until: untilStop })) {
        if (data.type === 'error')
          throw new Error(`Anthropic ${event}: ${data.error.type}: ${data.error.message}`)
      }
    })().catch((e: unknown) => e)
    expect((failure as Error).message).toBe('Anthropic error: overloaded_error: Overloaded')
    expect(body.cancels()).toBe(1)
  })
})
