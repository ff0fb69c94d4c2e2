import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import { z } from 'zod'
import { fromResponse, type StandardSchemaV1, type StreamResponse, sluice } from '../src/index.ts'
import { SSE_CASES } from './fixtures/sse.ts'
import { NDJSON_FIXTURES, TEXT_FIXTURES } from './fixtures/text.ts'
import {
  chunkings,
  concatBytes,
  encode,
  referenceLines,
  referenceNdjson,
  trickyText,
  withCuts,
} from './support/chunking.ts'
import { bodyOf, collect, fetchWith, gatedBody } from './support/streams.ts'

const url = 'https://fn.example/stream'
const ASYNC_RUNS = { numRuns: 60 } as const

const open = (chunks: Uint8Array[], headers: HeadersInit = {}): Promise<StreamResponse> =>
  fromResponse(new Response(bodyOf(chunks).stream, { headers }))

const request = (chunks: Uint8Array[], headers: HeadersInit = {}): Promise<StreamResponse> =>
  sluice(url, { retry: 0, fetch: fetchWith(() => new Response(bodyOf(chunks).stream, { headers })) })

const stripBom = (text: string): string => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text)

const ndjsonText = fc
  .array(
    fc.oneof(
      fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
      fc.constantFrom('', '  ', '\t'),
    ),
    { maxLength: 8 },
  )
  .chain((lines) =>
    fc
      .tuple(fc.constantFrom('\n', '\r\n'), fc.boolean())
      .map(([eol, last]) => lines.join(eol) + (last ? eol : '')),
  )

describe.each([
  ['fromResponse()', open],
  ['sluice() with an injected fetch', request],
] as const)('consumers through %s give the same output for any chunking', (_, make) => {
  it('text() decodes to the whole body', async () => {
    for (const text of Object.values(TEXT_FIXTURES)) {
      for (const [label, chunks] of chunkings(encode(text))) {
        const parts = await collect((await make(chunks)).text())
        expect(parts.join(''), label).toBe(stripBom(text))
        expect(parts.includes(''), label).toBe(false)
      }
    }
  })

  it('lines() gives the lines of the whole body', async () => {
    for (const text of Object.values(TEXT_FIXTURES)) {
      for (const [label, chunks] of chunkings(encode(text))) {
        expect(await collect((await make(chunks)).lines()), label).toEqual(referenceLines(text))
      }
    }
  })

  it('ndjson() gives one value per non-blank line', async () => {
    for (const text of Object.values(NDJSON_FIXTURES)) {
      for (const [label, chunks] of chunkings(encode(text))) {
        expect(await collect((await make(chunks)).ndjson()), label).toEqual(referenceNdjson(text))
      }
    }
  })

  it('events() gives the events of the whole body', async () => {
    for (const { body, events } of Object.values(SSE_CASES)) {
      // Its length proves the end, so an event the body ends inside was the server's last, cut short: dropped, as
      // the WHATWG rules say (with nothing to prove the end it is a cut: events.cut-event.test.ts).
      const length = { 'content-length': String(encode(body).length) }
      for (const [label, chunks] of chunkings(encode(body))) {
        expect(await collect((await make(chunks, length)).events()), label).toEqual(events)
      }
    }
  })

  it('bytes({ chunkSize }) gives fixed-size chunks of the same bytes', async () => {
    const bytes = encode(TEXT_FIXTURES['two-, three- and four-byte characters']!)
    for (const size of [1, 3, 7, 64]) {
      for (const [label, chunks] of chunkings(bytes)) {
        const out = (await collect((await make(chunks)).bytes({ chunkSize: size }))).map((c) => c.slice())
        expect(concatBytes(out), label).toEqual(bytes)
        expect(
          out.slice(0, -1).every((c) => c.length === size),
          label,
        ).toBe(true)
      }
    }
  })

  it('text() and lines() match the whole string for random chunkings of random text', async () => {
    await fc.assert(
      fc.asyncProperty(withCuts(trickyText), async ({ text, chunks }) => {
        expect((await collect((await make(chunks)).text())).join('')).toBe(stripBom(text))
        expect(await collect((await make(chunks)).lines())).toEqual(referenceLines(text))
      }),
      ASYNC_RUNS,
    )
  })

  it('ndjson() matches JSON.parse of each non-blank line for random chunkings of random records', async () => {
    await fc.assert(
      fc.asyncProperty(withCuts(ndjsonText), async ({ text, chunks }) => {
        expect(await collect((await make(chunks)).ndjson())).toEqual(referenceNdjson(text))
      }),
      ASYNC_RUNS,
    )
  })

  it('bytes() passes every byte through unchanged for random chunkings', async () => {
    await fc.assert(
      fc.asyncProperty(
        withCuts(trickyText),
        fc.integer({ min: 1, max: 16 }),
        async ({ text, chunks }, size) => {
          const whole = (await collect((await make(chunks)).bytes())).map((c) => c.slice())
          expect(concatBytes(whole)).toEqual(encode(text))
          const sized = (await collect((await make(chunks)).bytes({ chunkSize: size }))).map((c) => c.slice())
          expect(concatBytes(sized)).toEqual(encode(text))
        },
      ),
      ASYNC_RUNS,
    )
  })
})

describe('bytes() is zero-copy', () => {
  it('yields the very chunks the body gave, through sluice() and fromResponse()', async () => {
    const chunks = [encode('{"a":1}\n'), encode('{"b":'), encode('2}\n')]
    const viaClient = await collect(
      (
        await sluice('https://fn.example/zero-copy', {
          fetch: fetchWith(() => new Response(bodyOf(chunks).stream)),
        })
      ).bytes(),
    )
    const viaResponse = await collect((await fromResponse(new Response(bodyOf(chunks).stream))).bytes())
    for (const out of [viaClient, viaResponse]) {
      expect(out).toHaveLength(chunks.length)
      for (const [i, chunk] of out.entries()) expect(chunk).toBe(chunks[i])
    }
  })
})

describe('events() options', () => {
  const sse = (...events: string[]): Uint8Array[] => events.map((data) => encode(`data: ${data}\n\n`))

  it('parses data as JSON with { json: true }', async () => {
    const res = await open(sse('{"a":1}', '[2]'))
    const events = await collect(res.events({ json: true }))
    expect(events.map((e) => e.data)).toEqual([{ a: 1 }, [2]])
    expect(events[0]).toMatchObject({ event: 'message', id: undefined })
  })

  it('parses and validates data with a schema', async () => {
    const res = await open(sse('{"text":"he"}', '{"text":"llo"}'))
    const events = await collect(
      res.events({ schema: z.object({ text: z.string() }).transform((d) => d.text) }),
    )
    expect(events.map((e) => e.data)).toEqual(['he', 'llo'])
  })

  it("ends cleanly at until: '[DONE]': the event is not delivered, the body is cancelled, progress is done", async () => {
    const body = bodyOf([...sse('{"n":1}', '{"n":2}', '[DONE]', '{"n":3}'), encode('data: never read\n\n')])
    const res = await fromResponse(new Response(body.stream))
    const events = await collect(res.events({ json: true, until: '[DONE]' }))
    expect(events.map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }])
    expect(body.cancelled()).toBeDefined()
    expect(res.progress.state).toBe('done')
    expect(res.progress.items).toBe(2)
  })

  it("until: '[DONE]' ends only at data that is exactly '[DONE]'", async () => {
    const res = await open(sse('[DONE] soon', '[DONE]x', ' [DONE]', '[DONE]', 'never'))
    const events = await collect(res.events({ until: '[DONE]' }))
    expect(events.map((e) => e.data)).toEqual(['[DONE] soon', '[DONE]x', ' [DONE]'])
  })

  it('an until predicate that throws fails the stream with its error: the events before it kept, the body released', async () => {
    const body = bodyOf(sse('a', 'b', 'c'))
    const res = await fromResponse(new Response(body.stream))
    const failure = new Error('the predicate failed')
    const seen: string[] = []
    const error = await (async () => {
      for await (const event of res.events({
        until: (e) => {
          if (e.data === 'b') throw failure
          return false
        },
      }))
        seen.push(event.data)
    })().catch((e: unknown) => e)
    expect(error).toBe(failure)
    expect(seen).toEqual(['a'])
    expect(res.progress.state).toBe('error')
    expect(body.cancels()).toBe(1)
  })

  it('an async until predicate fails the stream with a TypeError, rather than ending it cleanly at its first event', async () => {
    const body = bodyOf(sse('a', 'b', '[DONE]'))
    const res = await fromResponse(new Response(body.stream))
    const until = async (e: { data: string }) => {
      if (e.data === 'a') throw new Error('rejected, and handled')
      return e.data === '[DONE]'
    }
    const seen: string[] = []
    const error = await (async () => {
      for await (const event of res.events({ until: until as never })) seen.push(event.data)
    })().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TypeError)
    expect((error as Error).message).toBe(
      'events(): `until` returned a Promise, which would end the stream at its first event; it must answer synchronously, true at the terminal event.',
    )
    expect(seen).toEqual([])
    expect(res.progress.state).toBe('error')
    expect(body.cancels()).toBe(1)
  })

  it('an until predicate that stops the response while judging (cancel, detach) gets no more events: the one it judged is neither delivered nor consumed', async () => {
    for (const stop of ['cancel', 'detach'] as const) {
      const body = gatedBody()
      body.push('id: 1\ndata: a\n\nid: 2\ndata: b\n\nid: 3\ndata: c\n\n')
      const res = await fromResponse(
        new Response(body.stream, { headers: { 'content-type': 'text/event-stream' } }),
        { url },
      )
      const seen: string[] = []
      const error = await (async () => {
        for await (const event of res.events({
          until: (e) => {
            if (e.data === 'b') {
              if (stop === 'cancel') void res.cancel()
              else res.detach()
            }
            return false
          },
        }))
          seen.push(event.data)
      })().catch((e: unknown) => e)
      expect(error, stop).toBeUndefined()
      expect(seen, stop).toEqual(['a'])
      expect(res.progress).toMatchObject({ state: 'cancelled', items: 1 })
      // A resume from here continues with the event judged, which was not delivered.
      expect(res.checkpoint().lastEventId, stop).toBe('1')
      await vi.waitFor(() => expect(body.cancels(), stop).toBe(1))
    }
  })

  it('ends cleanly at an until predicate', async () => {
    const res = await open([encode('event: delta\ndata: a\n\nevent: end\ndata: x\n\ndata: b\n\n')])
    const events = await collect(res.events({ until: (e) => e.event === 'end' }))
    expect(events.map((e) => e.data)).toEqual(['a'])
  })
})

describe('collect helpers', () => {
  it('collect.text() joins every chunking to the whole text', async () => {
    const text = TEXT_FIXTURES['an emoji sequence with joiners']!
    for (const [label, chunks] of chunkings(encode(text))) {
      expect(await (await open(chunks)).collect.text(), label).toBe(text)
    }
  })

  it('collect.bytes() returns the whole body', async () => {
    const bytes = encode('abc😀def')
    for (const [label, chunks] of chunkings(bytes)) {
      expect(await (await open(chunks)).collect.bytes(), label).toEqual(bytes)
    }
  })

  it('collect.json(schema) parses and validates one document', async () => {
    const res = await open([encode('{"rows":'), encode('[1,2]}')])
    expect(await res.collect.json(z.object({ rows: z.array(z.number()) }))).toEqual({ rows: [1, 2] })
  })

  // What a stop leaves read is a part of the body, which must not pass for the whole of it.
  it.each([
    ['collect.text()', (res: StreamResponse) => res.collect.text()],
    ['collect.bytes()', (res: StreamResponse) => res.collect.bytes()],
    ['collect.json()', (res: StreamResponse) => res.collect.json()],
  ] as const)(
    '%s stopped by cancel() or detach() before the end rejects with an AbortError, not a part',
    async (by, read) => {
      for (const stop of ['cancel', 'detach'] as const) {
        const body = gatedBody()
        const res = await fromResponse(new Response(body.stream))
        const whole = read(res)
        body.push('{"rows":[1,2')
        await vi.waitFor(() => expect(res.progress.loaded).toBe(12))
        if (stop === 'cancel') await res.cancel()
        else res.detach()
        await expect(whole, stop).rejects.toMatchObject({
          name: 'AbortError',
          message: `${by} was stopped before the end of the body.`,
        })
      }
    },
  )
})

describe('calls to next() made before the previous one settled', () => {
  // A caller may ask for several items at once (a pipeline that prefetches, Promise.all over next()); each call
  // gets the next item in order, whatever batch or read it comes from, and none is lost or repeated.
  const records = Array.from({ length: 12 }, (_, n) => ({ n }))
  const body = encode(records.map((r) => `${JSON.stringify(r)}\n`).join(''))
  const slowSchema: StandardSchemaV1<unknown, { n: number }> = {
    '~standard': {
      version: 1,
      vendor: 'test',
      validate: async (value) => {
        await new Promise((resolve) => setTimeout(resolve, (value as { n: number }).n % 3))
        return { value: value as { n: number } }
      },
    },
  }
  const askAll = async <T>(iterator: AsyncIterator<T>, count: number): Promise<IteratorResult<T>[]> =>
    Promise.all(Array.from({ length: count }, () => iterator.next()))

  const sse = encode(records.map((r) => `data: ${JSON.stringify(r)}\n\n`).join(''))
  const text = (bytes: unknown): string => new TextDecoder().decode(bytes as Uint8Array)
  const lines = records.map((r) => JSON.stringify(r))
  // Each case: the body, how to consume it, how to read an item, and the items expected.
  const cases: [
    string,
    Uint8Array,
    (res: StreamResponse) => AsyncIterable<unknown>,
    (item: unknown) => unknown,
    unknown[],
  ][] = [
    ['lines()', body, (res) => res.lines(), (line) => line, lines],
    ['ndjson()', body, (res) => res.ndjson(), (value) => value, records],
    [
      'ndjson() with an asynchronous schema',
      body,
      (res) => res.ndjson(slowSchema),
      (value) => value,
      records,
    ],
    [
      'events()',
      sse,
      (res) => res.events({ json: true }),
      (event) => (event as { data: unknown }).data,
      records,
    ],
    [
      'bytes({ chunkSize: 5 })',
      body,
      (res) => res.bytes({ chunkSize: 5 }),
      text,
      Array.from({ length: Math.ceil(body.length / 5) }, (_, i) => text(body.subarray(i * 5, (i + 1) * 5))),
    ],
  ]

  it.each(cases)('%s hands out every item once, in order', async (_, whole, consume, read, expected) => {
    for (const size of [1, 7, 40, whole.length]) {
      const chunks = Array.from({ length: Math.ceil(whole.length / size) }, (_, i) =>
        whole.subarray(i * size, (i + 1) * size),
      )
      const iterator = consume(await open(chunks))[Symbol.asyncIterator]()
      const steps = await askAll(iterator, expected.length + 2)
      const items = steps.slice(0, -2).map((step) => (step.done ? 'done' : read(step.value)))
      expect(items, `chunks of ${size}`).toEqual(expected)
      expect(
        steps.slice(-2).map((step) => step.done),
        `chunks of ${size}`,
      ).toEqual([true, true])
    }
  })
})

describe('an asynchronous schema whose validation never settles', () => {
  // The second item's validation hangs (a remote check that never answers): stopping the stream still ends the
  // pending next() at once, the first item stays delivered, and the connection goes.
  const hanging = () => {
    let entered!: () => void
    const inside = new Promise<void>((resolve) => {
      entered = resolve
    })
    const schema: StandardSchemaV1<unknown, { i: number }> = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: (value) => {
          if ((value as { i: number }).i === 0) return { value: value as { i: number } }
          entered()
          return new Promise<never>(() => {})
        },
      },
    }
    return { schema, inside }
  }
  const consumers = {
    'ndjson(schema)': [
      '{"i":0}\n{"i":1}\n',
      (res: StreamResponse, schema: StandardSchemaV1) => res.ndjson(schema),
    ],
    'events({ schema })': [
      'data: {"i":0}\n\ndata: {"i":1}\n\n',
      (res: StreamResponse, schema: StandardSchemaV1) => res.events({ schema }),
    ],
  } as const
  const stops = [
    'res.cancel()',
    "the iterator's return()",
    "the user's abort",
    'a tee() branch cancelled',
  ] as const

  /** What a pending step came to, once it settles. */
  const outcomeOf = (step: Promise<unknown>) => {
    const outcome: { settled?: { step: unknown } | { error: unknown } } = {}
    step.then(
      (value) => {
        outcome.settled = { step: value }
      },
      (error: unknown) => {
        outcome.settled = { error }
      },
    )
    return outcome
  }

  for (const [name, [text, consume]] of Object.entries(consumers)) {
    it.each(stops)(`${name}: %s ends the pending next()`, async (stop) => {
      const body = gatedBody()
      const controller = new AbortController()
      const res = await fromResponse(new Response(body.stream), { signal: controller.signal })
      const [read, other] = stop === 'a tee() branch cancelled' ? res.tee() : [res, undefined]
      const { schema, inside } = hanging()
      const iterator = consume(read!, schema)[Symbol.asyncIterator]()
      body.push(text)
      const first = (await iterator.next()) as IteratorResult<{ data?: unknown }>
      expect(first.done).toBe(false)
      const second = outcomeOf(iterator.next())
      await inside
      const reason = new Error('user left')
      if (stop === 'res.cancel()') await res.cancel()
      else if (stop === "the iterator's return()") await iterator.return!()
      else if (stop === "the user's abort") controller.abort(reason)
      // The branch alone: the other still reads the body.
      else await read!.cancel()
      await vi.waitFor(() =>
        expect(second.settled).toEqual(
          stop === "the user's abort" ? { error: reason } : { step: { done: true, value: undefined } },
        ),
      )
      await other?.cancel()
      expect(read!.progress.state).toBe('cancelled')
      await vi.waitFor(() => expect(body.cancels()).toBe(1))
    })
  }

  // The other branch reads the body to its end meanwhile: past it, the branch's wait still hears the app's abort.
  const openers = {
    'sluice()': (text: string, signal: AbortSignal) =>
      sluice(url, { signal, fetch: fetchWith(() => new Response(text)) }),
    'fromResponse()': (text: string, signal: AbortSignal) => fromResponse(new Response(text), { signal }),
  }
  for (const [name, [text, consume]] of Object.entries(consumers)) {
    it.each(Object.entries(openers))(
      `${name}: the user's abort ends the pending next() of a tee() branch once the other read the body through %s`,
      async (_, open) => {
        const controller = new AbortController()
        const [read, other] = (await open(text, controller.signal)).tee()
        const { schema, inside } = hanging()
        const iterator = consume(read, schema)[Symbol.asyncIterator]()
        expect((await iterator.next()).done).toBe(false)
        const second = outcomeOf(iterator.next())
        expect(await other.collect.text()).toBe(text)
        await inside
        const reason = new Error('user left')
        controller.abort(reason)
        await vi.waitFor(() => expect(second.settled).toEqual({ error: reason }))
      },
    )
  }
})

describe('Standard Schemas of any shape', () => {
  /** A Standard Schema whose `validate` says `result` of every value. */
  const schemaOf = (result: StandardSchemaV1.Result<unknown>): StandardSchemaV1 => ({
    '~standard': { version: 1, vendor: 'test', validate: () => result },
  })

  it('a result with an empty issues array is a failure, as the spec says: issues present means invalid', async () => {
    const res = await fromResponse(new Response('{"n":1}\n'))
    const error = await Array.fromAsync(res.ndjson(schemaOf({ issues: [] }))).catch((e: unknown) => e)
    expect(error).toMatchObject({
      name: 'ValidationError',
      index: 0,
      value: { n: 1 },
      message: 'The item at index 0 does not match the schema: no details.',
    })
  })

  it('a schema that is a function with ~standard (as arktype makes them) is accepted', async () => {
    const schema = Object.assign(() => undefined, {
      '~standard': { version: 1, vendor: 'test', validate: (value: unknown) => ({ value: [value] }) },
    }) as unknown as StandardSchemaV1<unknown, unknown[]>
    const res = await fromResponse(new Response('{"n":1}\n{"n":2}\n'))
    expect(await Array.fromAsync(res.ndjson(schema))).toEqual([[{ n: 1 }], [{ n: 2 }]])
  })
})

describe('toReadableStream()', () => {
  it('cancelled before its first read, it leaves the consumer used: iterating it afterwards is refused', async () => {
    const res = await fromResponse(new Response('{"n":1}\n'))
    const rows = res.ndjson()
    await rows.toReadableStream().cancel('not needed')
    expect(() => rows[Symbol.asyncIterator]()).toThrow(
      new TypeError(
        'This consumer was already iterated; a response body can be read once. Use `res.tee()` to read it twice.',
      ),
    )
    expect(res.progress.state).toBe('cancelled')
  })

  it('res.body cancelled after another consumer claimed the body leaves that consumer reading', async () => {
    const res = await fromResponse(new Response('a\nb\n'))
    const body = res.body
    const lines = res.lines()
    await body.cancel('not this one')
    expect(await Array.fromAsync(lines)).toEqual(['a', 'b'])
    expect(res.progress.state).toBe('done')
  })
})
