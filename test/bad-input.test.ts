import ky from 'ky'
import { describe, expect, inject, it, vi } from 'vitest'
import { z } from 'zod'
import {
  createStreamStore,
  fromResponse,
  isHTTPError,
  isLimitError,
  isNetworkError,
  isParseError,
  isTruncatedError,
  isValidationError,
  type ParseError,
  type StandardSchemaV1,
  type StreamResponse,
  sluice,
  type ValidationError,
} from '../src/index.ts'
import { bytesOf, chunkings, concatBytes, encode } from './support/chunking.ts'
import { bodyOf, drain, gatedBody } from './support/streams.ts'

const open = (chunks: Array<string | Uint8Array>, options = {}) =>
  fromResponse(new Response(bodyOf(chunks).stream), options)

describe('a malformed NDJSON line', () => {
  // Line 3 starts at byte 3 (BOM) + 18 ("{"s":"é😀"}\r\n" is 16 bytes... computed below).
  const head = '\uFEFF{"s":"é😀"}\r\n\r\n{"n":2}\n'
  const body = `${head}{"n": oops}\n{"n":4}\n`
  const badOffset = encode(head).length
  const bytes = encode(body)

  it('is a ParseError with its 1-based line, the byte offset of its start and an excerpt, under any chunking', async () => {
    for (const [label, chunks] of chunkings(bytes)) {
      const { items, error } = await drain((await open(chunks)).ndjson())
      expect(items, label).toEqual([{ s: 'é😀' }, { n: 2 }])
      expect(isParseError(error), label).toBe(true)
      const { type, line, offset, excerpt } = error as ParseError
      expect({ type, line, offset, excerpt }, label).toEqual({
        type: 'ndjson',
        line: 4,
        offset: badOffset,
        excerpt: '{"n": oops}',
      })
    }
  })

  it('names the line and the byte offset in its message', async () => {
    const { error } = await drain((await open([bytes])).ndjson())
    expect((error as Error).message).toContain(`line 4, byte ${badOffset}`)
  })

  it("is skipped with onInvalid: 'skip', and the records after it are delivered", async () => {
    const { items, error } = await drain((await open([bytes])).ndjson(undefined, { onInvalid: 'skip' }))
    expect(error).toBeUndefined()
    expect(items).toEqual([{ s: 'é😀' }, { n: 2 }, { n: 4 }])
  })

  it('is passed to an onInvalid callback, and the stream goes on', async () => {
    const seen: unknown[] = []
    const res = await open([bytes])
    const { items } = await drain(res.ndjson(undefined, { onInvalid: (e) => seen.push(e) }))
    expect(items).toEqual([{ s: 'é😀' }, { n: 2 }, { n: 4 }])
    expect(seen).toHaveLength(1)
    expect(isParseError(seen[0]) && seen[0].line).toBe(4)
  })
})

describe('a blank NDJSON line', () => {
  it("is one of JSON's whitespace alone (space, tab, CR): skipped; any other character makes a record, a no-break space too", async () => {
    const lines = ['{"n":1}', '', ' \t\r ', '\u00a0', ' \u00a0', '\f', ' \v', '\u2028', '{"n":2}']
    const seen: unknown[] = []
    const res = await open([lines.join('\n')])
    const { items, error } = await drain(res.ndjson(undefined, { onInvalid: (e) => seen.push(e) }))
    expect(error).toBeUndefined()
    expect(items).toEqual([{ n: 1 }, { n: 2 }])
    // Every line JSON.parse refuses, whatever its first character, as a ParseError that names it; the blank ones
    // are no records, and the numbering skips them.
    expect(seen.map((e) => isParseError(e) && [e.line, e.excerpt, e.message.split(' is ')[0]])).toEqual([
      [4, '\u00a0', 'The record at index 1'],
      [5, ' \u00a0', 'The record at index 2'],
      [6, '\f', 'The record at index 3'],
      [7, ' \v', 'The record at index 4'],
      [8, '\u2028', 'The record at index 5'],
    ])
  })
})

describe('an onInvalid callback that fails', () => {
  const Row = z.object({ id: z.number() })
  const asyncRow: StandardSchemaV1<unknown, { id: number }> = {
    '~standard': { version: 1, vendor: 'test', validate: async (value) => Row['~standard'].validate(value) },
  }
  // Each bad item in each consumer: not JSON, or not the schema's (checked synchronously, or not).
  const cases = [
    [
      'ndjson(), a line that is not JSON',
      (res: StreamResponse, onInvalid: () => void) => res.ndjson(undefined, { onInvalid }),
      '{"id":1}\nnot json\n{"id":3}\n',
    ],
    [
      'ndjson(schema), a record the schema refuses',
      (res: StreamResponse, onInvalid: () => void) => res.ndjson(Row, { onInvalid }),
      '{"id":1}\n{"id":"x"}\n{"id":3}\n',
    ],
    [
      'ndjson(async schema), a record the schema refuses',
      (res: StreamResponse, onInvalid: () => void) => res.ndjson(asyncRow, { onInvalid }),
      '{"id":1}\n{"id":"x"}\n{"id":3}\n',
    ],
    [
      'events({ json }), data that is not JSON',
      (res: StreamResponse, onInvalid: () => void) => res.events({ json: true, onInvalid }),
      'data: {"id":1}\n\ndata: not json\n\ndata: {"id":3}\n\n',
    ],
    [
      'events({ schema }), data the schema refuses',
      (res: StreamResponse, onInvalid: () => void) => res.events({ schema: Row, onInvalid }),
      'data: {"id":1}\n\ndata: {"id":"x"}\n\ndata: {"id":3}\n\n',
    ],
  ] as const

  it('fails the stream with its error, thrown or as a rejected Promise alike: the items before kept, the body released', async () => {
    for (const [name, read, text] of cases) {
      for (const how of ['thrown', 'rejected'] as const) {
        const label = `${name}, ${how}`
        const failure = new Error('the callback failed')
        const body = gatedBody()
        body.push(text)
        const res = await fromResponse(new Response(body.stream))
        const { items, error } = await drain(
          read(res, () => {
            if (how === 'thrown') throw failure
            return Promise.reject(failure) as never
          }) as AsyncIterable<unknown>,
        )
        expect(error, label).toBe(failure)
        expect(items, label).toHaveLength(1)
        expect(res.progress.state, label).toBe('error')
        await vi.waitFor(() => expect(body.cancels(), label).toBe(1))
      }
    }
  })

  it('that returns a Promise is awaited before the next item is delivered', async () => {
    const log: unknown[] = []
    const res = await open(['{"id":1}\nnot json\n{"id":3}\n'])
    const onInvalid = () =>
      new Promise<void>((resolve) =>
        setTimeout(() => {
          log.push('told')
          resolve()
        }),
      )
    for await (const item of res.ndjson<{ id: number }>(undefined, { onInvalid })) log.push(item.id)
    expect(log).toEqual([1, 'told', 3])
  })
})

describe('a record that fails the schema', () => {
  const Row = z.object({ id: z.number() })
  const body = '{"id":1}\n{"id":"two"}\n{"id":3}\n'

  it('is a ValidationError with the 0-based index and the issues, not a transport error', async () => {
    const { items, error } = await drain((await open([body])).ndjson(Row))
    expect(items).toEqual([{ id: 1 }])
    expect(isValidationError(error)).toBe(true)
    expect(isNetworkError(error) || isTruncatedError(error) || isParseError(error)).toBe(false)
    const { index, issues } = error as ValidationError
    expect(index).toBe(1)
    expect(issues[0]?.path).toEqual(['id'])
  })

  it('is reported to onInvalid with its index, counting skipped records', async () => {
    const seen: number[] = []
    const res = await open(['not json\n', body])
    const { items } = await drain(
      res.ndjson(Row, { onInvalid: (e) => seen.push(isValidationError(e) ? e.index : -1) }),
    )
    expect(items).toEqual([{ id: 1 }, { id: 3 }])
    expect(seen).toEqual([-1, 2])
  })

  it("skips only invalid items: a schema that throws fails the stream, even with onInvalid: 'skip'", async () => {
    const bug = new TypeError('the schema has a bug')
    const Broken: StandardSchemaV1<unknown, { id: number }> = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: (value) => {
          if ((value as { id: number }).id === 2) throw bug
          return { value: value as { id: number } }
        },
      },
    }
    for (const async of [false, true]) {
      const schema: StandardSchemaV1<unknown, { id: number }> = async
        ? {
            '~standard': {
              ...Broken['~standard'],
              validate: async (value) => Broken['~standard'].validate(value),
            },
          }
        : Broken
      const res = await open(['{"id":1}\n{"id":2}\n{"id":3}\n'])
      const { items, error } = await drain(res.ndjson(schema, { onInvalid: 'skip' }))
      expect(items).toEqual([{ id: 1 }])
      expect(error).toBe(bug)
      const sse = await open(['data: {"id":1}\n\ndata: {"id":2}\n\ndata: {"id":3}\n\n'])
      const events = await drain(sse.events({ schema, onInvalid: () => {} }))
      expect(events.items.map((e) => e.data)).toEqual([{ id: 1 }])
      expect(events.error).toBe(bug)
    }
  })

  it('in events() data is a ValidationError too', async () => {
    const res = await open(['data: {"id":1}\n\ndata: {"id":"x"}\n\n'])
    const { items, error } = await drain(res.events({ schema: Row }))
    expect(items.map((e) => e.data)).toEqual([{ id: 1 }])
    expect(isValidationError(error) && error.index).toBe(1)
  })

  it('in events({ json: true }) data that is not JSON is a ParseError of type sse', async () => {
    const res = await open(['data: {"id":1}\n\ndata: {oops\n\n'])
    const { items, error } = await drain(res.events({ json: true }))
    expect(items).toHaveLength(1)
    expect(isParseError(error) && error.type).toBe('sse')
  })

  it('in events({ json: true }), the ParseError gives the line that ended the event and the offset where its block starts, under any chunking and line endings', async () => {
    // Lines: 1 comment (CRLF), 2 id, 3 data, 4 blank (CR CR: a lone CR ends a line in SSE), 5 blank, 6 "data: é",
    // 7 "data: {oops" (LF), 8 blank. The bad event ends at line 8; its block starts at line 6.
    const head = ': hello\r\nid: 1\ndata: {"id":1}\r\r\r'
    const text = `${head}data: é\ndata: {oops\n\ndata: 2\n\n`
    const bytes = encode(text)
    for (const [label, chunks] of chunkings(bytes)) {
      const { items, error } = await drain((await open(chunks)).events({ json: true }))
      expect(
        items.map((e) => e.data),
        label,
      ).toEqual([{ id: 1 }])
      const { type, line, offset, excerpt } = error as ParseError
      expect({ type, line, offset, excerpt }, label).toEqual({
        type: 'sse',
        line: 8,
        offset: encode(head).length,
        excerpt: 'é\n{oops',
      })
      expect((error as Error).message, label).toContain(`line 8, byte ${encode(head).length}`)
    }
  })
})

describe('invalid UTF-8', () => {
  const bytes = concatBytes([
    encode('fine\nstill é fine\nbad '),
    Uint8Array.of(0xc3, 0x28),
    encode(' here\n'),
  ])
  const badAt = encode('fine\nstill é fine\nbad ').length

  it('with text({ fatal: true }) is a ParseError of type utf8 at the bad byte and its line, under any chunking', async () => {
    for (const [label, chunks] of chunkings(bytes)) {
      const { items, error } = await drain((await open(chunks)).text({ fatal: true }))
      expect(
        isParseError(error) && { type: error.type, offset: error.offset, line: error.line },
        label,
      ).toEqual({
        type: 'utf8',
        offset: badAt,
        line: 3,
      })
      expect(items.join(''), label).toBe(new TextDecoder().decode(bytes.subarray(0, badAt)))
    }
  })

  it('with lines({ fatal: true }) is a ParseError of type utf8 after the good lines, under any chunking', async () => {
    for (const [label, chunks] of chunkings(bytes)) {
      const { items, error } = await drain((await open(chunks)).lines({ fatal: true }))
      expect(items, label).toEqual(['fine', 'still é fine'])
      expect(
        isParseError(error) && { type: error.type, offset: error.offset, line: error.line },
        label,
      ).toEqual({
        type: 'utf8',
        offset: badAt,
        line: 3,
      })
    }
  })

  it('cut short at the end of the body is a ParseError at the line it is on', async () => {
    const cut = concatBytes([encode('a\r\nb\nc'), Uint8Array.of(0xe2, 0x82)])
    for (const [label, chunks] of chunkings(cut)) {
      const { items, error } = await drain((await open(chunks)).text({ fatal: true }))
      expect(items.join(''), label).toBe('a\r\nb\nc')
      expect(isParseError(error) && { line: error.line, offset: error.offset }, label).toEqual({
        line: 3,
        offset: 6,
      })
    }
  })

  it('with fatal, the text before a bad byte has its BOM stripped, the BOM split or not, in its chunk or not', async () => {
    const bytes = bytesOf([0xef, 0xbb, 0xbf], 'ok\nA', [0xff], '\n')
    for (const [label, chunks] of chunkings(bytes)) {
      const text = await drain((await open([...chunks])).text({ fatal: true }))
      expect(text.items.join(''), label).toBe('ok\nA')
      expect(isParseError(text.error) && text.error.offset, label).toBe(7)
      const lines = await drain((await open([...chunks])).lines({ fatal: true }))
      expect(lines.items, label).toEqual(['ok'])
    }
  })

  it('with fatal, a stray continuation byte after a character split across chunks is the bad byte', async () => {
    // "€" (E2 82 AC) and "😀" (F0 9F 98 80), each followed by a stray 80: the character is text, the 80 is bad.
    for (const [character, bytes] of [
      ['€', bytesOf('ok\n', [0xe2, 0x82, 0xac, 0x80], 'AA\n')],
      ['😀', bytesOf('ok\n', [0xf0, 0x9f, 0x98, 0x80, 0x80], 'AA\n')],
    ] as const) {
      const badAt = 3 + encode(character).length
      for (const [label, chunks] of chunkings(bytes)) {
        const text = await drain((await open(chunks)).text({ fatal: true }))
        expect(text.items.join(''), label).toBe(`ok\n${character}`)
        expect(
          isParseError(text.error) && { offset: text.error.offset, line: text.error.line },
          label,
        ).toEqual({
          offset: badAt,
          line: 2,
        })
        const lines = await drain((await open(chunks)).lines({ fatal: true }))
        expect(lines.items, label).toEqual(['ok'])
        expect(isParseError(lines.error) && lines.error.offset, label).toBe(badAt)
      }
    }
  })

  it('without fatal becomes U+FFFD', async () => {
    const res = await open([bytes])
    expect(await res.collect.text()).toContain('bad \uFFFD( here')
  })
})

describe('limits', () => {
  it('an endless line is a LimitError maxLineBytes, read no further than the limit', async () => {
    const max = 4096
    const chunk = 'x'.repeat(256)
    const body = bodyOf(Array.from({ length: 1000 }, () => chunk))
    const res = await fromResponse(new Response(body.stream), { maxLineBytes: max })
    const { error } = await drain(res.lines())
    expect(isLimitError(error) && error.limit).toBe('maxLineBytes')
    // Memory stays bounded: it stopped within a couple of chunks after the limit, and cancelled the body.
    expect(body.pulls()).toBeLessThanOrEqual(max / chunk.length + 3)
    expect(body.cancels()).toBe(1)
    expect(res.progress.state).toBe('error')
  })

  it('an endless NDJSON record is a LimitError maxLineBytes', async () => {
    const res = await open(['{"a":"', ...Array.from({ length: 100 }, () => 'y'.repeat(100))], {
      maxLineBytes: 1000,
    })
    const { error } = await drain(res.ndjson())
    expect(isLimitError(error) && error.limit).toBe('maxLineBytes')
  })

  it('an oversized SSE event is a LimitError maxEventBytes, after the events before it', async () => {
    const res = await open(
      ['data: small\n\n', ...Array.from({ length: 100 }, () => `data: ${'z'.repeat(100)}\n`)],
      {
        maxEventBytes: 1000,
      },
    )
    const { items, error } = await drain(res.events())
    expect(items.map((e) => e.data)).toEqual(['small'])
    expect(isLimitError(error) && error.limit).toBe('maxEventBytes')
  })

  it('delivers the lines, records and events before an over-limit one of the same chunk, whatever the chunking', async () => {
    const long = 'x'.repeat(2000)
    const cases: {
      read: (res: StreamResponse) => AsyncIterable<unknown>
      body: string
      want: unknown[]
      where: string
    }[] = [
      { read: (res) => res.lines(), body: `a\r\nb\n${long}\nc\n`, want: ['a', 'b'], where: 'Line 3 exceeds' },
      {
        read: (res) => res.ndjson(),
        body: `{"n":1}\n{"n":2}\n"${long}"\n{"n":3}\n`,
        want: [{ n: 1 }, { n: 2 }],
        where: 'Line 3 exceeds',
      },
      {
        read: async function* (res) {
          for await (const event of res.events()) yield event.data
        },
        body: `data: a\n\ndata: b\n\ndata: ${long}\n\ndata: c\n\n`,
        want: ['a', 'b'],
        where: 'The event starting at byte 18',
      },
    ]
    for (const { read, body, want, where } of cases) {
      for (const parts of [[body], body.match(/[\s\S]{1,7}/g) ?? []]) {
        const res = await open(parts, { maxLineBytes: 1000, maxEventBytes: 1000 })
        const { items, error } = await drain(read(res))
        expect(items).toEqual(want)
        expect(isLimitError(error) && error.message).toContain(where)
      }
    }
  })

  it('throws a limit error found in a chunk once its items are out, without reading on from a silent body', async () => {
    const long = 'x'.repeat(2000)
    const cases: Array<[(res: StreamResponse) => AsyncIterable<unknown>, string, unknown[]]> = [
      [(res) => res.lines(), `a\n${long}\n`, ['a']],
      [(res) => res.ndjson(), `{"n":1}\n"${long}"\n`, [{ n: 1 }]],
      [
        (res) => res.events(),
        `data: a\n\ndata: ${long}\n\n`,
        [{ id: undefined, event: 'message', data: 'a', retry: undefined }],
      ],
    ]
    for (const [read, text, want] of cases) {
      let pulls = 0
      // One chunk, then silence: the error must not wait for a read that never ends.
      const stream = new ReadableStream<Uint8Array>(
        {
          pull(controller) {
            if (pulls++ === 0) controller.enqueue(encode(text))
            else return new Promise<void>(() => {})
          },
        },
        { highWaterMark: 0 },
      )
      const res = await fromResponse(new Response(stream), { maxLineBytes: 1000, maxEventBytes: 1000 })
      const { items, error } = await drain(read(res))
      expect(items).toEqual(want)
      expect(isLimitError(error) && error.max).toBe(1000)
      expect(res.progress.state).toBe('error')
    }
  })

  it('a body larger than maxBytes is a LimitError maxBytes', async () => {
    const body = bodyOf(Array.from({ length: 100 }, () => 'b'.repeat(100)))
    const res = await fromResponse(new Response(body.stream), { maxBytes: 1000 })
    const { error } = await drain(res.bytes())
    expect(isLimitError(error) && { limit: error.limit, max: error.max }).toEqual({
      limit: 'maxBytes',
      max: 1000,
    })
    expect(body.pulls()).toBeLessThanOrEqual(12)
    expect(body.cancels()).toBe(1)
  })

  it('maxBytes bounds collect.bytes() too', async () => {
    const res = await open(
      Array.from({ length: 100 }, () => 'b'.repeat(100)),
      { maxBytes: 1000 },
    )
    await expect(res.collect.bytes()).rejects.toMatchObject({ name: 'LimitError', limit: 'maxBytes' })
  })

  it('rejects a limit that is not a positive number with a RangeError', async () => {
    await expect(open(['x'], { maxLineBytes: 0 })).rejects.toThrow(RangeError)
  })
})

describe('status and misuse', () => {
  it('a non-2xx status from a real server is an HTTPError with the status and an excerpt', async () => {
    const error = await sluice(`${inject('serverUrl')}/status?code=503&body=busy`, { retry: 0 }).catch(
      (e: unknown) => e,
    )
    expect(isHTTPError(error) && { status: error.status, excerpt: error.excerpt }).toEqual({
      status: 503,
      excerpt: 'busy',
    })
  })

  it('an error body that keeps streaming: the HTTPError comes with what arrived, and the connection is closed', async () => {
    const base = inject('serverUrl')
    const id = `error-body-${Math.random()}`
    // ky alone would read the body for its `timeout` (a minute here) and show none of it.
    const error = await sluice(`${base}/hang?id=${id}&status=500`, { retry: 0, timeout: 60_000 }).catch(
      (e: unknown) => e,
    )
    expect(isHTTPError(error) && error.status).toBe(500)
    expect(isHTTPError(error) && error.excerpt).toMatch(/^\{"n":0\}\n\{"n":1\}\n/)
    expect(isHTTPError(error) && error.response.url).toBe(`${base}/hang?id=${id}&status=500`)
    await expect
      .poll(async () => (await (await fetch(`${base}/state?id=${id}`)).json()) as { closed: boolean })
      .toMatchObject({ closed: true })
  })

  it('an error body read for its excerpt does not count against the headers timeout', async () => {
    const id = `error-body-timeout-${Math.random()}`
    // The headers come at once; the body keeps streaming past the 300 ms ky allows for headers.
    const error = await sluice(`${inject('serverUrl')}/hang?id=${id}&status=500`, {
      retry: 0,
      timeout: 300,
    }).catch((e: unknown) => e)
    expect(isHTTPError(error) && error.status).toBe(500)
  })

  it('an instance with throwHttpErrors: false streams a non-2xx body whole, as any other', async () => {
    const big = new Uint8Array(3 * 1024 * 1024).fill(0x61)
    const res = await sluice('https://fn.example/big-404', {
      ky: ky.create({ throwHttpErrors: false, retry: 0 }),
      fetch: async () =>
        new Response(bodyOf([big.subarray(0, 1 << 20), big.subarray(1 << 20)]).stream, { status: 404 }),
    })
    expect(res.status).toBe(404)
    expect((await res.collect.bytes()).length).toBe(big.length)
  })

  it.each([
    ['false', false],
    ['a function that says false for the status', (status: number) => status >= 500],
  ])(
    'an instance with throwHttpErrors %s hands back a slow error body unread, to stream for as long as it takes',
    async (_, throwHttpErrors) => {
      vi.useFakeTimers()
      try {
        // Four parts 600 ms apart: longer than the second an error body sluice turns into an HTTPError is read for.
        const parts = ['{"n":0}\n', '{"n":1}\n', '{"n":2}\n', '{"n":3}\n']
        let pulls = 0
        const body = new ReadableStream<Uint8Array>(
          {
            async pull(controller) {
              const part = parts[pulls++]
              if (part === undefined) return controller.close()
              await new Promise((resolve) => setTimeout(resolve, 600))
              controller.enqueue(encode(part))
            },
          },
          { highWaterMark: 0 },
        )
        const res = await sluice('https://fn.example/slow-404', {
          ky: ky.create({ throwHttpErrors, retry: 0 }),
          fetch: async () => new Response(body, { status: 404 }),
        })
        expect(res.status).toBe(404)
        // Nothing reads the body, nor times it, before a consumer does.
        await vi.advanceTimersByTimeAsync(5000)
        expect(pulls).toBe(0)
        const records = Array.fromAsync(res.ndjson())
        for (let k = 0; k <= parts.length; k++) await vi.advanceTimersByTimeAsync(600)
        expect(await records).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }, { n: 3 }])
        expect(res.progress.state).toBe('done')
      } finally {
        vi.useRealTimers()
      }
    },
  )

  it('a JSON error body that ends in time reaches ky whole: beforeError hooks see it parsed', async () => {
    let seen: unknown
    const error = await sluice(
      `${inject('serverUrl')}/status?code=422&type=application/json&body=${encodeURIComponent('{"why":"bad"}')}`,
      {
        retry: 0,
        hooks: {
          beforeError: [
            ({ error }) => {
              seen = (error as { data?: unknown }).data
              return error
            },
          ],
        },
      },
    ).catch((e: unknown) => e)
    expect(isHTTPError(error) && error.excerpt).toBe('{"why":"bad"}')
    expect(seen).toEqual({ why: 'bad' })
  })

  it('the excerpt of an error body with an end marker leaves the marker out', async () => {
    const marked = new Response('{"error":"not found"}\n{"$sluice":"end","bytes":22}\n', {
      status: 404,
      headers: { 'x-sluice-end': 'marker', 'content-type': 'application/x-ndjson' },
    })
    const fromFetch = await sluice('https://fn.example/missing', {
      retry: 0,
      fetch: async () => marked.clone(),
    }).catch((e: unknown) => e)
    expect(isHTTPError(fromFetch) && fromFetch.excerpt).toBe('{"error":"not found"}')
    const wrapped = await fromResponse(marked).catch((e: unknown) => e)
    expect(isHTTPError(wrapped) && wrapped.excerpt).toBe('{"error":"not found"}')
  })

  it('the excerpt of an error body decodes it in the charset its content-type declares, as ky decodes error.data', async () => {
    // "Accès refusé" in ISO-8859-1 (é, è: one byte each, which UTF-8 would show as U+FFFD).
    const latin1 = Uint8Array.from('Accès refusé', (c) => c.charCodeAt(0))
    const page = (): Response =>
      new Response(latin1, { status: 403, headers: { 'content-type': 'text/plain; charset=ISO-8859-1' } })
    let data: unknown
    const fromFetch = await sluice('https://fn.example/denied', {
      retry: 0,
      fetch: async () => page(),
      hooks: {
        beforeError: [
          ({ error }) => {
            data = (error as { data?: unknown }).data
            return error
          },
        ],
      },
    }).catch((e: unknown) => e)
    expect(data).toBe('Accès refusé')
    expect(isHTTPError(fromFetch) && fromFetch.excerpt).toBe('Accès refusé')
    const wrapped = await fromResponse(page()).catch((e: unknown) => e)
    expect(isHTTPError(wrapped) && wrapped.excerpt).toBe('Accès refusé')
    // A charset TextDecoder does not know is read as UTF-8, as before.
    const unknown = new Response('déjà', {
      status: 500,
      headers: { 'content-type': 'text/plain; charset=x-nope' },
    })
    expect(await fromResponse(unknown).catch((e: unknown) => isHTTPError(e) && e.excerpt)).toBe('déjà')
  })

  it('the excerpt in a multi-byte charset keeps its 1 KiB bound, and leaves out a character the bound cuts', async () => {
    // "あ" is two bytes in Shift_JIS (82 A0): after one ASCII byte, the 1024th byte is the first half of one.
    const bytes = new Uint8Array(1 + 2 * 600)
    bytes[0] = 0x78
    for (let k = 1; k < bytes.length; k += 2) bytes.set([0x82, 0xa0], k)
    const page = (): Response =>
      new Response(bytes, { status: 500, headers: { 'content-type': 'text/html;charset="shift_jis"' } })
    const expected = `x${'あ'.repeat(511)}`
    const fromFetch = await sluice('https://fn.example/busy', { retry: 0, fetch: async () => page() }).catch(
      (e: unknown) => e,
    )
    expect(isHTTPError(fromFetch) && fromFetch.excerpt).toBe(expected)
    const wrapped = await fromResponse(page()).catch((e: unknown) => e)
    expect(isHTTPError(wrapped) && wrapped.excerpt).toBe(expected)
  })

  it('a second consumer is a TypeError that says to use tee()', async () => {
    const res = await open(['a\n'])
    res.lines()
    expect(() => res.ndjson()).toThrow(TypeError)
    expect(() => res.text()).toThrow(/tee\(\)/)
    await expect(res.body.getReader().read()).rejects.toThrow(/lines\(\)/)
  })

  it('a schema that is not a Standard Schema is a TypeError at the call, and the body is still unread', async () => {
    const res = await open(['{"n":1}\n'])
    const notASchema = { parse: (value: unknown) => value } as never
    expect(() => res.ndjson(notASchema)).toThrow(
      /^ndjson\(\): schema must be a Standard Schema .*got an object without ~standard\.$/,
    )
    expect(() => res.events({ schema: 42 as never })).toThrow(/^events\(\): schema must be .*got 42\.$/)
    expect(() => res.json(null as never)).toThrow(/^json\(\): schema must be .*got null\.$/)
    await expect(res.collect.json(notASchema)).rejects.toThrow(/^collect\.json\(\): schema must be/)
    expect(await Array.fromAsync(res.ndjson(z.object({ n: z.number() })))).toEqual([{ n: 1 }])
  })

  it('options that are not an object are a TypeError at the call, not read key by key, and the body is still unread', async () => {
    const res = await open(['{"n":1}\n'])
    const calls: Array<[string, (options: never) => unknown]> = [
      ['bytes()', (options) => res.bytes(options)],
      ['text()', (options) => res.text(options)],
      ['lines()', (options) => res.lines(options)],
      ['ndjson()', (options) => res.ndjson(undefined, options)],
      ['events()', (options) => res.events(options)],
      ['json()', (options) => res.json(undefined, options)],
      ['tee()', (options) => res.tee(options)],
    ]
    for (const [where, call] of calls) {
      for (const [options, got] of [
        ['x', '"x"'],
        [5, '5'],
        [null, 'null'],
        [[], 'an array'],
        [new URLSearchParams('fatal=true'), 'an object (URLSearchParams)'],
      ] as const) {
        expect(() => call(options as never), `${where} ${got}`).toThrow(
          new TypeError(`${where}: its options must be an object, got ${got}.`),
        )
      }
    }
    await expect(res.collect.text('x' as never)).rejects.toThrow(
      new TypeError('collect.text(): its options must be an object, got "x".'),
    )
    expect(await Array.fromAsync(res.ndjson())).toEqual([{ n: 1 }])
  })

  it('a chunkSize that is not a positive integer is a RangeError at the call, and the body is still unread', async () => {
    const res = await open(['abcdef'])
    for (const chunkSize of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => res.bytes({ chunkSize }), String(chunkSize)).toThrow(
        new RangeError(`bytes(): chunkSize must be a positive integer, got ${chunkSize}.`),
      )
    }
    // A string is quoted, so that it does not read as the number it looks like.
    expect(() => res.bytes({ chunkSize: '4' as never })).toThrow(
      new RangeError('bytes(): chunkSize must be a positive integer, got "4".'),
    )
    const pieces = await Array.fromAsync(res.bytes({ chunkSize: 4 }))
    expect(pieces.map((piece) => new TextDecoder().decode(piece))).toEqual(['abcd', 'ef'])
  })

  it('a chunkSize far beyond the body costs only the body: 2 ** 40 gives it whole, as one chunk', async () => {
    const res = await open(['ab', 'cd', 'ef'])
    const pieces = await Array.fromAsync(res.bytes({ chunkSize: 2 ** 40 }))
    expect(pieces.map((piece) => new TextDecoder().decode(piece))).toEqual(['abcdef'])
    // The store checks it at creation without allocating it either.
    const store = createStreamStore(() => open(['ab', 'cd']), { as: 'bytes', chunkSize: 2 ** 40 })
    store.subscribe(() => {})
    await vi.waitFor(() => expect(store.getSnapshot().status).toBe('done'))
    expect(store.getSnapshot().items.map((piece) => new TextDecoder().decode(piece))).toEqual(['abcd'])
  })

  it('res.body is one stream however often it is read, and names itself to a later consumer', async () => {
    const res = await open(['ab', 'cd'])
    const body = res.body
    expect(res.body).toBe(body)
    const reader = body.getReader()
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('ab')
    expect(() => res.text()).toThrow(/already being read by body/)
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('cd')
    expect((await reader.read()).done).toBe(true)
  })

  it('looking at res.body, as at Response.body, leaves the body to another consumer until it is read', async () => {
    const res = await open(['a\n', 'b\n'])
    const before = res.progress.state
    expect(res.body).not.toBeNull()
    expect(res.progress.state).toBe(before)
    expect(await Array.fromAsync(res.lines())).toEqual(['a', 'b'])
    await expect(res.body.getReader().read()).rejects.toThrow(
      new TypeError(
        "body cannot read this response's body: lines() already read it to its end; a body has one consumer. Call `res.tee()` before the first consumer to read it twice.",
      ),
    )
  })

  it.each([
    ['still reads it', ['{"n":1}\n', '{"n":2}\n'], 1, 'it is already being read by ndjson()'],
    ['read it to its end', ['{"n":1}\n'], 2, 'ndjson() already read it to its end'],
    ['failed', ['{"n":1}\n', '{"n":\n'], 2, 'ndjson() read it until it failed'],
    ['was stopped by break', ['{"n":1}\n', '{"n":2}\n'], -1, 'ndjson() read it until it was cancelled'],
  ])(
    'a second consumer after the first %s says so, and where the body came from',
    async (_, chunks, reads, how) => {
      const url = `${inject('serverUrl')}/text?body=${encodeURIComponent(chunks.join(''))}`
      const res = await sluice(url)
      const records = res.ndjson()[Symbol.asyncIterator]()
      if (reads < 0) {
        await records.next()
        await records.return?.()
      } else for (let n = 0; n < reads; n++) await records.next().catch(() => undefined)
      expect(() => res.text()).toThrow(
        new TypeError(
          `text() cannot read the body of ${url}: ${how}; a body has one consumer. Call \`res.tee()\` before the first consumer to read it twice.`,
        ),
      )
    },
  )

  it('a consumer after tee() says to read the branches', async () => {
    const res = await open(['a\n'])
    res.tee()
    expect(() => res.lines()).toThrow(
      new TypeError(
        "lines() cannot read this response's body: it was split with res.tee(): read its branches instead; a body has one consumer. Call `res.tee()` before the first consumer to read it twice.",
      ),
    )
  })

  it('cancelling res.body before reading it cancels the response, and a consumer after it names res.body.cancel()', async () => {
    const res = await open(['a\n'])
    await res.body.cancel('not needed')
    expect(res.progress.state).toBe('cancelled')
    expect(() => res.lines()).toThrow(
      new TypeError(
        "lines() cannot read this response's body: res.body.cancel() cancelled it before any consumer read it, and a cancelled body cannot be read. Request it again to read it.",
      ),
    )
  })

  it('a consumer after cancel() or detach() says the body was cancelled or dropped, by which call, and what to do, not to tee() it', async () => {
    const cancelled = await open(['a\n'])
    await cancelled.cancel()
    expect(() => cancelled.lines()).toThrow(
      new TypeError(
        "lines() cannot read this response's body: res.cancel() cancelled it before any consumer read it, and a cancelled body cannot be read. Request it again to read it.",
      ),
    )
    const detached = await open(['a\n'])
    detached.detach()
    await expect(detached.collect.text()).rejects.toThrow(
      /^collect\.text\(\) cannot read this response's body: res\.detach\(\) dropped its connection before any consumer read it\. Continue it with `sluice\(url, \{ resumeFrom: res\.checkpoint\(\) \}\)`\.$/,
    )
  })

  it('after res.cancel(), every consumer names itself and the URL of the body it cannot read', async () => {
    const url = `${inject('serverUrl')}/text?body=a%0A`
    const claims: Array<[string, (res: StreamResponse) => unknown]> = [
      ['text()', (res) => res.text()],
      ['bytes()', (res) => res.bytes()],
      ['ndjson()', (res) => res.ndjson()],
      ['events()', (res) => res.events()],
      ['json()', (res) => res.json()],
      ['tee()', (res) => res.tee()],
      ['collect.text()', (res) => res.collect.text()],
      ['collect.bytes()', (res) => res.collect.bytes()],
      ['collect.json()', (res) => res.collect.json()],
      ['body', (res) => res.body.getReader().read()],
    ]
    for (const [by, claim] of claims) {
      const res = await sluice(url)
      await res.cancel()
      const error = await (async () => claim(res))().then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error).toEqual(
        new TypeError(
          `${by} cannot read the body of ${url}: res.cancel() cancelled it before any consumer read it, and a cancelled body cannot be read. Request it again to read it.`,
        ),
      )
    }
  })

  it('collect.text(), .bytes() and .json() reject, never throw, when the body is already taken', async () => {
    const res = await open(['a'])
    await res.collect.text()
    let thrown: unknown
    const settled: Promise<unknown>[] = []
    try {
      settled.push(res.collect.text(), res.collect.bytes(), res.collect.json())
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeUndefined()
    for (const result of await Promise.allSettled(settled)) {
      expect(result.status === 'rejected' && String(result.reason)).toMatch(
        /collect\.text\(\) already read it to its end/,
      )
    }
  })

  it('iterating one consumer twice throws', async () => {
    const res = await open(['a\nb\n'])
    const lines = res.lines()
    const first = await drain(lines)
    expect(first.items).toEqual(['a', 'b'])
    expect(() => lines[Symbol.asyncIterator]()).toThrow(TypeError)
  })
})
