import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  END_MARKER_HEADER,
  endMarkerLine,
  fromResponse,
  isTruncatedError,
  type StreamResponse,
} from '../src/index.ts'
import { chunkings, concatBytes, cutAt, encode, referenceLines, trickyText } from './support/chunking.ts'
import { bodyOf, collect } from './support/streams.ts'

async function outcome(run: Promise<unknown>): Promise<unknown> {
  try {
    await run
  } catch (error) {
    return error
  }
  return 'clean end'
}

const respond = (chunks: Array<string | Uint8Array>, headers: Record<string, string> = {}) =>
  new Response(bodyOf(chunks).stream, { headers })

const everyConsumer: Record<string, (res: StreamResponse) => Promise<unknown>> = {
  'bytes()': (res) => collect(res.bytes()),
  'bytes({ chunkSize })': (res) => collect(res.bytes({ chunkSize: 3 })),
  'text()': (res) => collect(res.text()),
  'lines()': (res) => collect(res.lines()),
  'ndjson()': (res) => collect(res.ndjson()),
  'events()': (res) => collect(res.events()),
  'collect.bytes()': (res) => res.collect.bytes(),
}

describe('a body shorter than its declared length is a TruncatedError, never a clean end', () => {
  const body = ['{"n":1}\n', '{"n":2}\n']
  const declared = 100
  const sources: Record<string, [Record<string, string>, { total?: number }]> = {
    'Content-Length': [{ 'content-length': String(declared) }, {}],
    'x-amzn-remapped-content-length': [{ 'x-amzn-remapped-content-length': String(declared) }, {}],
    'options.total': [{}, { total: declared }],
  }
  for (const [source, [headers, options]] of Object.entries(sources)) {
    for (const [name, consume] of Object.entries(everyConsumer)) {
      if (name === 'events()') continue
      it(`with ${source}, through ${name}`, async () => {
        const res = await fromResponse(respond(body, headers), options)
        const error = await outcome(consume(res))
        expect(isTruncatedError(error)).toBe(true)
        if (!isTruncatedError(error)) return
        expect({ received: error.received, expected: error.expected }).toEqual({
          received: 16,
          expected: declared,
        })
        expect(res.progress.state).toBe('error')
      })
    }
  }

  it('a body of exactly the declared length ends cleanly with percent 100', async () => {
    const res = await fromResponse(respond(['abc', 'de'], { 'x-amzn-remapped-content-length': '5' }))
    expect(await res.collect.text()).toBe('abcde')
    expect(res.progress).toMatchObject({ loaded: 5, total: 5, percent: 100, state: 'done' })
  })

  it('ignores Content-Length of a gzip-encoded body: the decoded length never matches it', async () => {
    const res = await fromResponse(
      respond(['decoded text'], { 'content-encoding': 'gzip', 'content-length': '5' }),
    )
    expect(await res.collect.text()).toBe('decoded text')
    expect(res.progress.total).toBeUndefined()
    expect(res.progress.percent).toBeUndefined()
  })
})

describe('a body longer than its declared length is a TruncatedError, not resumed', () => {
  // 24 bytes where 16 are declared: the third record's chunk crosses the declared end.
  const body = ['{"n":1}\n', '{"n":2}\n', '{"n":3}\n']
  const declared = 16
  const sources: Record<string, [Record<string, string>, { total?: number }]> = {
    'Content-Length': [{ 'content-length': String(declared) }, {}],
    'x-amzn-remapped-content-length': [{ 'x-amzn-remapped-content-length': String(declared) }, {}],
    'options.total': [{}, { total: declared }],
  }
  for (const [source, [headers, options]] of Object.entries(sources)) {
    it(`with ${source}: what came before the crossing chunk is delivered, then the error names the source`, async () => {
      let requests = 0
      const res = await fromResponse(respond(body, { 'accept-ranges': 'bytes', ...headers }), {
        ...options,
        resume: { strategy: 'range', attempts: 3 },
        request: () => {
          requests++
          return Promise.resolve(respond(body, headers))
        },
      })
      const seen: unknown[] = []
      const error = await outcome(
        (async () => {
          for await (const record of res.ndjson()) seen.push(record)
        })(),
      )
      expect(seen).toEqual([{ n: 1 }, { n: 2 }])
      expect(isTruncatedError(error)).toBe(true)
      if (!isTruncatedError(error)) return
      expect({ received: error.received, expected: error.expected }).toEqual({ received: 24, expected: 16 })
      expect(error.message).toContain(
        `ran past its declared length: 24 bytes arrived where ${source === 'options.total' ? 'the `total` option' : source} declared 16`,
      )
      expect(requests).toBe(0)
      expect(res.progress).toMatchObject({ loaded: 16, total: 16, state: 'error' })
    })
  }

  for (const [name, consume] of Object.entries(everyConsumer)) {
    it(`through ${name}`, async () => {
      const res = await fromResponse(respond(body, { 'x-amzn-remapped-content-length': String(declared) }))
      const error = await outcome(consume(res))
      expect(isTruncatedError(error) && error.received > error.expected!).toBe(true)
      expect(res.progress.state).toBe('error')
    })
  }

  it('through the full read path (an idle timeout set) too', async () => {
    const res = await fromResponse(respond(body, { 'x-amzn-remapped-content-length': '16' }), {
      idleTimeout: 5_000,
    })
    const error = await outcome(collect(res.lines()))
    expect(isTruncatedError(error) && error.received === 24).toBe(true)
  })

  it('an end marker proves the end: the length it is served past is not a limit', async () => {
    const text = '{"n":1}\n'
    const res = await fromResponse(
      respond([text, endMarkerLine(encode(text).length)], {
        [END_MARKER_HEADER]: 'marker',
        'x-amzn-remapped-content-length': String(encode(text).length),
      }),
    )
    expect(await collect(res.ndjson())).toEqual([{ n: 1 }])
  })
})

describe('the end marker', () => {
  const marked = { [END_MARKER_HEADER]: 'marker' }
  const withMarker = (body: string): Uint8Array =>
    concatBytes([encode(body), encode(endMarkerLine(encode(body).length))])

  it('is stripped from every consumer under any chunking', async () => {
    const body = '{"a":"é"}\n{"b":"😀"}\n'
    const bytes = withMarker(body)
    for (const [label, chunks] of chunkings(bytes)) {
      const open = () => fromResponse(new Response(bodyOf(chunks).stream, { headers: marked }))
      expect(concatBytes(await collect((await open()).bytes())), label).toEqual(encode(body))
      expect(concatBytes(await collect((await open()).bytes({ chunkSize: 4 }))), label).toEqual(encode(body))
      expect((await collect((await open()).text())).join(''), label).toBe(body)
      expect(await collect((await open()).lines()), label).toEqual(referenceLines(body))
      expect(await collect((await open()).ndjson()), label).toEqual([{ a: 'é' }, { b: '😀' }])
    }
  })

  it('is stripped when its count has 7 digits or more and it arrives with the last bytes of the body', async () => {
    for (const size of [1_000_000, 12_345_678]) {
      const body = 'x'.repeat(size)
      const bytes = withMarker(body)
      const chunks = cutAt(bytes, [size - 10])
      const res = await fromResponse(new Response(bodyOf(chunks).stream, { headers: marked }))
      const got = concatBytes(await collect(res.bytes()))
      expect(got.length, String(size)).toBe(size)
      expect(res.progress.state).toBe('done')
    }
  })

  it('is stripped from an SSE stream', async () => {
    const body = 'data: a\n\ndata: b\n\n'
    const res = await fromResponse(new Response(bodyOf([withMarker(body)]).stream, { headers: marked }))
    expect((await collect(res.events())).map((e) => e.data)).toEqual(['a', 'b'])
  })

  it('is stripped for random bodies and random chunkings, and progress counts only the body', async () => {
    await fc.assert(
      fc.asyncProperty(trickyText, fc.array(fc.nat({ max: 1000 }), { maxLength: 10 }), async (text, raw) => {
        const bytes = withMarker(text)
        const chunks = cutAt(
          bytes,
          raw.map((c) => c % (bytes.length + 1)),
        )
        const res = await fromResponse(new Response(bodyOf(chunks).stream, { headers: marked }))
        expect(concatBytes(await collect(res.bytes()))).toEqual(encode(text))
        expect(res.progress.loaded).toBe(encode(text).length)
      }),
      { numRuns: 100 },
    )
  })

  it('missing from a body whose server announced it is a TruncatedError', async () => {
    for (const consume of Object.values(everyConsumer)) {
      // A body every consumer can read: delivered as it arrives, the cut is only seen at the end.
      const res = await fromResponse(respond(['{"n":1}\n', '{"n":2}\n'], marked))
      expect(isTruncatedError(await outcome(consume(res)))).toBe(true)
    }
  })

  it('with a wrong byte count is a TruncatedError', async () => {
    const body = '{"n":1}\n{"n":2}\n'
    for (const n of [0, 8, encode(body).length + 1]) {
      const res = await fromResponse(respond([body, endMarkerLine(n)], marked))
      expect(isTruncatedError(await outcome(res.collect.text())), `bytes ${n}`).toBe(true)
    }
  })

  it('cut in the middle is a TruncatedError', async () => {
    const bytes = withMarker('{"n":1}\n')
    const res = await fromResponse(respond([bytes.subarray(0, bytes.length - 5)], marked))
    expect(isTruncatedError(await outcome(res.collect.bytes()))).toBe(true)
  })

  it('is not stripped when the server did not announce it', async () => {
    const bytes = withMarker('x\n')
    const res = await fromResponse(respond([bytes]))
    expect(await res.collect.bytes()).toEqual(bytes)
  })

  it('works together with a declared length that counts the marker line', async () => {
    const body = '{"n":1}\n'
    const bytes = withMarker(body)
    const res = await fromResponse(
      respond([bytes], { ...marked, 'x-amzn-remapped-content-length': String(bytes.length) }),
    )
    expect(await collect(res.ndjson())).toEqual([{ n: 1 }])
    expect(res.progress).toMatchObject({ state: 'done', percent: 100 })
  })
})

describe('the end marker does not delay the stream', () => {
  it('delivers each record as soon as it arrives, holding back only what could start the marker', async () => {
    const first = '{"n":1}\n'
    const { stream, pulls } = bodyOf([first, '{"n":2}\n', endMarkerLine(16)])
    const res = await fromResponse(new Response(stream, { headers: { [END_MARKER_HEADER]: 'marker' } }))
    const iterator = res.ndjson()[Symbol.asyncIterator]()
    expect((await iterator.next()).value).toEqual({ n: 1 })
    // The first record came out of the first chunk alone: nothing was held back waiting for more bytes.
    expect(pulls()).toBe(1)
    expect((await iterator.next()).value).toEqual({ n: 2 })
    expect((await iterator.next()).done).toBe(true)
  })
  it('bytes(): a chunk held whole as the possible start of the marker yields no empty chunk', async () => {
    const marker = endMarkerLine(4)
    const { stream } = bodyOf(['abc\n', marker.slice(0, 6), marker.slice(6)])
    const res = await fromResponse(new Response(stream, { headers: { [END_MARKER_HEADER]: 'marker' } }))
    expect((await collect(res.bytes())).map((chunk) => new TextDecoder().decode(chunk))).toEqual(['abc\n'])
  })

  // A line shaped like the marker that cannot be it (no count, or bytes after its newline) is not held either.
  for (const [what, first] of [
    ['a count-less marker line ending the chunk', '{"$sluice":"end","bytes":}\n'],
    ['a marker line with bytes after it in the chunk', '{"$sluice":"end","bytes":0}\n{"n":1}\n'],
  ] as const) {
    it(`delivers ${what} as soon as it arrives`, async () => {
      const body = `${first}{"n":2}\n`
      const { stream, pulls } = bodyOf([first, '{"n":2}\n', endMarkerLine(encode(body).length)])
      const res = await fromResponse(new Response(stream, { headers: { [END_MARKER_HEADER]: 'marker' } }))
      const iterator = res.lines()[Symbol.asyncIterator]()
      expect((await iterator.next()).value).toBe(first.slice(0, first.indexOf('\n')))
      expect(pulls()).toBe(1)
      expect(await collect({ [Symbol.asyncIterator]: () => iterator })).toEqual(referenceLines(body).slice(1))
    })
  }
})
