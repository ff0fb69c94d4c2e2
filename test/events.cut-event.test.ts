/**
 * A body that ends cleanly inside an SSE event — field lines since the last blank line, or part of one — was cut
 * there, when nothing proves its end (no declared length, no end marker): a server ends its last event. events()
 * then resumes and gets the event whole from the continuation, or fails with a TruncatedError that says where,
 * after every complete event; it never ends `done` as if the stream were over.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fromResponse, isTruncatedError, type ServerSentEvent, sluice } from '../src/index.ts'
import { SSE_CASES } from './fixtures/sse.ts'
import { chunkings, cutAt, encode } from './support/chunking.ts'
import { cutOnceByRange } from './support/ranged-drop.ts'
import { bodyOf, drain, fetchWith, type Part } from './support/streams.ts'

const URL_ = 'http://fn.test/events'
const SSE = { 'content-type': 'text/event-stream' }
const FAST = { initial: 1, max: 1, jitter: 0 } as const

/** events() of a body made of `parts`, with no way to resume. */
async function eventsOf(parts: Part[], headers: Record<string, string> = SSE, json = false) {
  const res = await fromResponse(new Response(bodyOf(parts).stream, { headers }), {
    url: URL_,
    resume: false,
  })
  return drain(res.events({ json }))
}

const data = (events: readonly ServerSentEvent<unknown>[]) => events.map((event) => event.data)

describe('a clean end inside an event, with nothing that proves the end', () => {
  for (const [label, tail] of [
    ['a data line without its line end', 'data: 2'],
    ['a complete data line without the blank line', 'data: 2\n'],
    ['an id line alone', 'id: 7\n'],
    ['an event line then part of a data line', 'event: x\r\ndata'],
    ['a data line ended by a lone CR', 'data: 2\r'],
    ['a comment, then a field line', ': keep-alive\ndata: 2\n'],
  ] as const) {
    it(`fails with a TruncatedError after the complete events: ${label}`, async () => {
      const { items, error } = await eventsOf(['data: 1\n\n', tail])
      expect(data(items)).toEqual(['1'])
      expect(isTruncatedError(error)).toBe(true)
      expect((error as Error).message).toContain(
        `inside the event starting at byte 9, ${JSON.stringify(tail)}`,
      )
      expect((error as Error).message).toContain(URL_)
    })
  }

  it('names the line where the event starts when lines are counted (json)', async () => {
    const { items, error } = await eventsOf(['data: 1\n\n: c\n\ndata: {"a"'], SSE, true)
    expect(data(items)).toEqual([1])
    expect((error as Error).message).toContain('the event starting at byte 14 (line 5), "data: {\\"a\\""')
  })

  it('fails on bytes of a line held back in the middle of a character', async () => {
    const { items, error } = await eventsOf(['data: 1\n\n', Uint8Array.of(0xe2, 0x82)])
    expect(data(items)).toEqual(['1'])
    expect(isTruncatedError(error)).toBe(true)
  })

  for (const [label, tail] of [
    ['after the blank line', ''],
    ['after comments', ': ping\n\n: pong\n'],
    ['inside a comment without its line end (a comment begins no event)', ': pi'],
    ['after a blank line ended by a lone CR', '\r'],
    ['after blank lines of CRLF', '\r\n\r\n'],
  ] as const) {
    it(`ends done: ${label}`, async () => {
      const { items, error } = await eventsOf(['data: 1\n\n', tail])
      expect(error).toBeUndefined()
      expect(data(items)).toEqual(['1'])
    })
  }

  it('ends done when a lone CR at the very end ends the blank line (a line end alone, or half a CRLF)', async () => {
    for (const parts of [
      ['data: 1\r\n\r'],
      ['data: 1\r\n', '\r'],
      ['data: 1\r', '\r'],
      ['data: 1\n', '\r'],
    ]) {
      const { items, error } = await eventsOf(parts)
      expect(error, JSON.stringify(parts)).toBeUndefined()
      expect(data(items)).toEqual(['1'])
    }
  })

  it('ends done, in every chunking, for every SSE fixture that ends after its last blank line', async () => {
    // The two that end inside an event are the cuts above.
    const cut = ['drops an unterminated final event', 'drops a final event cut inside a line']
    for (const [name, { body, events }] of Object.entries(SSE_CASES)) {
      if (cut.includes(name)) continue
      for (const [label, chunks] of chunkings(encode(body))) {
        const { items, error } = await eventsOf(chunks)
        expect(error, `${name}, ${label}`).toBeUndefined()
        expect(items, `${name}, ${label}`).toEqual(events)
      }
    }
  })

  it('ends done at the terminal event `until` names, whatever follows it', async () => {
    const res = await fromResponse(new Response(bodyOf(['data: 1\n\ndata: [DONE]\n\ndata: 3']).stream), {
      url: URL_,
      resume: false,
    })
    const { items, error } = await drain(res.events({ until: '[DONE]' }))
    expect(error).toBeUndefined()
    expect(data(items)).toEqual(['1'])
  })

  it('leaves lines() and text() of the same body as they were', async () => {
    const lines = await fromResponse(new Response(bodyOf(['data: 1\n\ndata: 2']).stream), { url: URL_ })
    expect(await drain(lines.lines())).toEqual({ items: ['data: 1', '', 'data: 2'], error: undefined })
  })
})

describe('a clean end inside an event that something proves complete', () => {
  it('ends done when the declared length arrived (the event is the server’s, cut short)', async () => {
    const body = 'data: 1\n\ndata: 2'
    const { items, error } = await eventsOf([body], { ...SSE, 'content-length': String(body.length) })
    expect(error).toBeUndefined()
    expect(data(items)).toEqual(['1'])
  })

  it('ends done after the end marker', async () => {
    const body = 'data: 1\n\ndata: 2\n'
    const marker = `{"$sluice":"end","bytes":${body.length}}\n`
    const { items, error } = await eventsOf([body, marker], { ...SSE, 'x-sluice-end': 'marker' })
    expect(error).toBeUndefined()
    expect(data(items)).toEqual(['1'])
  })
})

/** One event: its data lines, whether a comment line starts its block, and its line ends. */
interface EventSpec {
  data: string[]
  comment: boolean
  eol: string
}

/** Events `id: k`, `data: …` with a multi-line or empty data and comments between some. */
const eventsArb: fc.Arbitrary<EventSpec[]> = fc.array(
  fc.record({
    data: fc.array(fc.constantFrom('x', 'yz', '', 'é€', '😀'), { minLength: 1, maxLength: 3 }),
    comment: fc.boolean(),
    eol: fc.constantFrom('\n', '\r\n', '\r'),
  }),
  { minLength: 1, maxLength: 6 },
)

function blocksOf(events: EventSpec[]): string[] {
  return events.map(
    ({ data, comment, eol }, k) =>
      `${comment ? `: c${k}${eol}` : ''}id: ${k + 1}${eol}${data.map((d) => `data: ${d}${eol}`).join('')}${eol}`,
  )
}

const wanted = (events: EventSpec[]) => events.map(({ data }) => data.join('\n'))

/** A cut strictly inside event `at` (after its first byte, before the end of its blank line) and a chunking. */
const cutArb = eventsArb.chain((events) =>
  fc.record({
    events: fc.constant(events),
    at: fc.nat(events.length - 1),
    within: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
    chunks: fc.array(fc.nat(200), { maxLength: 4 }),
  }),
)

/** Where the cut falls: in bytes, inside the block of event `at`, but past any comment line before its fields. */
function cutOffset(blocks: string[], at: number, within: number, comment: boolean): number {
  const before = encode(blocks.slice(0, at).join('')).length
  const block = encode(blocks[at]!)
  const first = comment ? encode(blocks[at]!.replace(/^(: c\d+(\r\n|\r|\n)).*$/s, '$1')).length + 1 : 1
  // Before the last byte: the blank line's own end (a CR alone, or the LF of CRLF).
  const last = block.length - 1
  return before + first + Math.floor(within * (last - first))
}

describe('any cut inside an event, any chunking', () => {
  it('resumes by Range to the same events, none twice', async () => {
    await fc.assert(
      fc.asyncProperty(cutArb, async ({ events, at, within, chunks }) => {
        const blocks = blocksOf(events)
        const bytes = encode(blocks.join(''))
        const cut = cutOffset(blocks, at, within, events[at]!.comment)
        const { fetch, calls } = cutOnceByRange(bytes, cut, SSE['content-type'], (part) =>
          cutAt(part, chunks),
        )
        const res = await sluice(URL_, { fetch, resume: { strategy: 'range', backoff: FAST } })
        const { items, error } = await drain(res.events())
        expect(error).toBeUndefined()
        expect(data(items)).toEqual(wanted(events))
        expect(calls()).toBe(2)
      }),
      { numRuns: 60 },
    )
  })

  it('resumes by Last-Event-ID to the same events, none twice', async () => {
    await fc.assert(
      fc.asyncProperty(cutArb, async ({ events, at, within, chunks }) => {
        const blocks = blocksOf(events)
        const cut = cutOffset(blocks, at, within, events[at]!.comment)
        let calls = 0
        const fetch = fetchWith((request) => {
          calls++
          const after = Number(request.headers.get('last-event-id') ?? 0)
          const text = encode(blocks.slice(after).join(''))
          const part = calls === 1 ? text.slice(0, cut) : text
          return new Response(bodyOf(cutAt(part, chunks)).stream, { headers: SSE })
        })
        const res = await sluice(URL_, { fetch, resume: { strategy: 'last-event-id', backoff: FAST } })
        const items: ServerSentEvent[] = []
        for await (const event of res.events()) items.push(event)
        expect(data(items)).toEqual(wanted(events))
        expect(items.map((event) => event.id)).toEqual(events.map((_, k) => String(k + 1)))
        expect(calls).toBe(2)
      }),
      { numRuns: 60 },
    )
  })
})

describe('a checkpoint taken before the cut event', () => {
  it('stands before it, and a stream continued from it gets the event whole', async () => {
    const blocks = ['id: 1\ndata: a\n\n', 'id: 2\ndata: b\n\n', 'id: 3\ndata: c\n\n']
    const full = blocks.join('')
    const fetch = fetchWith((request) => {
      const after = Number(request.headers.get('last-event-id') ?? 0)
      return new Response(bodyOf([blocks.slice(after).join('')]).stream, { headers: SSE })
    })
    const res = await fromResponse(
      new Response(bodyOf([full.slice(0, full.indexOf('data: b') + 5)]).stream, { headers: SSE }),
      {
        url: URL_,
        resume: false,
      },
    )
    const seen: string[] = []
    const error = await (async () => {
      for await (const event of res.events()) seen.push(event.data)
    })().catch((e: unknown) => e)
    expect(isTruncatedError(error)).toBe(true)
    expect(seen).toEqual(['a'])
    const checkpoint = res.checkpoint()
    expect(checkpoint.lastEventId).toBe('1')
    const resumed = await sluice(URL_, { fetch, resumeFrom: checkpoint })
    expect(data((await drain(resumed.events())).items)).toEqual(['b', 'c'])
  })
})

describe('under tee()', () => {
  const blocks = ['id: 1\ndata: a\n\n', 'id: 2\ndata: b\n\n', 'id: 3\ndata: c\n\n']
  const full = blocks.join('')
  const cut = full.indexOf('data: b') + 5

  it('resumes both events() branches by Last-Event-ID, each event once', async () => {
    let calls = 0
    const fetch = fetchWith((request) => {
      calls++
      const after = Number(request.headers.get('last-event-id') ?? 0)
      const text = blocks.slice(after).join('')
      return new Response(bodyOf([calls === 1 ? text.slice(0, cut) : text]).stream, { headers: SSE })
    })
    const res = await sluice(URL_, { fetch, resume: { strategy: 'last-event-id', backoff: FAST } })
    const [a, b] = res.tee()
    const [left, right] = await Promise.all([drain(a.events()), drain(b.events())])
    expect(left).toEqual({ items: expect.any(Array), error: undefined })
    expect(data(left.items)).toEqual(['a', 'b', 'c'])
    expect(data(right.items)).toEqual(['a', 'b', 'c'])
    expect(calls).toBe(2)
  })

  it('fails the events() branch with a TruncatedError when nothing resumes', async () => {
    const res = await fromResponse(new Response(bodyOf([full.slice(0, cut)]).stream, { headers: SSE }), {
      url: URL_,
      resume: false,
    })
    const [a, b] = res.tee()
    const [events, text] = await Promise.all([drain(a.events()), drain(b.text())])
    expect(data(events.items)).toEqual(['a'])
    expect(isTruncatedError(events.error)).toBe(true)
    expect(isTruncatedError(text.error)).toBe(true)
    expect(text.items.join('')).toBe(full.slice(0, cut))
  })
})

describe('the terminal event `until` names, at an end nothing proves', () => {
  /** A response to `parts` with no way to resume. */
  const open = (parts: Part[], headers: Record<string, string> = SSE) =>
    fromResponse(new Response(bodyOf(parts).stream, { headers }), { url: URL_, resume: false })

  it('an end the declared length proves is the end, without the terminal event', async () => {
    const body = 'data: 1\n\ndata: 2\n\n'
    const res = await open([body], { ...SSE, 'content-length': String(body.length) })
    expect(await drain(res.events({ until: '[DONE]' }))).toEqual({
      items: expect.objectContaining({ length: 2 }),
      error: undefined,
    })
  })

  it('a predicate that throws on the data of an event cut short does not hide the cut', async () => {
    const res = await open(['data: {"type":"delta"}\n\n', 'data: {"ty'])
    const { items, error } = await drain(
      res.events({ until: (event) => (JSON.parse(event.data) as { type: string }).type === 'stop' }),
    )
    expect(data(items)).toEqual(['{"type":"delta"}'])
    expect(isTruncatedError(error)).toBe(true)
    expect((error as Error).message).toContain('inside the event starting at byte 24, "data: {\\"ty"')
  })

  describe('under tee(), an events() branch behind a text() branch judges the end from the bytes it holds', () => {
    for (const [label, tail, ends] of [
      ['the terminal event whole', 'data: [DONE]\n\n', true],
      ['the terminal event without its blank line', 'data: [DONE]\n', true],
      ['no terminal event', '', false],
    ] as const) {
      it(`${label}: ${ends ? 'both end done' : 'both fail with a TruncatedError'}`, async () => {
        const body = `data: 1\n\ndata: 2\n\n${tail}`
        // In one chunk, the events() branch holds every event once it delivered the first; in one chunk per
        // event, the bytes after it wait in its queue.
        for (const parts of [[body], body.split(/(?<=\n\n)/)]) {
          const [a, b] = (await open(parts)).tee()
          const events = a.events({ until: '[DONE]' })[Symbol.asyncIterator]()
          expect((await events.next()).value?.data).toBe('1')
          const text = await drain(b.text())
          const rest = await drain({ [Symbol.asyncIterator]: () => events })
          expect(text.items.join('')).toBe(body)
          expect(data(rest.items)).toEqual(['2'])
          expect([isTruncatedError(text.error), isTruncatedError(rest.error)]).toEqual([!ends, !ends])
          if (ends) expect([text.error, rest.error]).toEqual([undefined, undefined])
        }
      })
    }
  })
})
