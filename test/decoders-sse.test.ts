import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { SseDecoder, type SseState, type Trailing } from '../src/core/decoders/sse.ts'
import { isLimitError, type ServerSentEvent } from '../src/index.ts'
import { SSE_CASES } from './fixtures/sse.ts'
import { bytesOf, chunkings, cutAt, encode, INVALID_UTF8, RUNS } from './support/chunking.ts'
import { hasIdField, sseBlocks, sseWithState } from './support/sse-state.ts'

function decode(chunks: Uint8Array[], maxEventBytes = 1 << 20): ServerSentEvent[] {
  const decoder = new SseDecoder({ maxEventBytes })
  const out: ServerSentEvent[] = []
  for (const chunk of chunks) out.push(...decoder.push(chunk))
  out.push(...decoder.end())
  return out
}

describe('SseDecoder follows the WHATWG event-stream rules', () => {
  for (const [name, { body, events }] of Object.entries(SSE_CASES)) {
    it(`${name}, for every chunking`, () => {
      for (const [label, chunks] of chunkings(encode(body))) expect(decode(chunks), label).toEqual(events)
    })
  }

  it('gives the same events for random chunkings of all the cases concatenated', () => {
    // Each case ends on a blank line or is the last one, so the concatenation dispatches each case's events.
    const cases = Object.values(SSE_CASES).filter(
      (c) => c.body.endsWith('\n\n') && !c.body.startsWith('\uFEFF'),
    )
    const body = encode(cases.map((c) => c.body).join(''))
    const expected = decode([body])
    expect(expected.length).toBeGreaterThan(20)
    fc.assert(
      fc.property(fc.array(fc.nat({ max: body.length }), { maxLength: 40 }), (cuts) => {
        expect(decode(cutAt(body, cuts))).toEqual(expected)
      }),
      RUNS,
    )
  })

  it('remembers the last event id and the retry time for a reconnect', () => {
    const decoder = new SseDecoder({ maxEventBytes: 1 << 20 })
    decoder.push(encode('retry: 3000\nid: 41\ndata: a\n\nid: 42\n\n'))
    expect({ lastEventId: decoder.lastEventId, retry: decoder.retry }).toEqual({
      lastEventId: '42',
      retry: 3000,
    })
  })

  it('throws a LimitError for an event larger than maxEventBytes, even in many small chunks', () => {
    const decoder = new SseDecoder({ maxEventBytes: 1000 })
    const line = encode(`data: ${'x'.repeat(94)}\n`)
    let fed = 0
    let error: unknown
    try {
      for (; fed < 100_000 && decoder.failure === undefined; fed += line.length) decoder.push(line)
      decoder.push(line)
    } catch (e) {
      error = e
    }
    expect(isLimitError(error) && error.limit).toBe('maxEventBytes')
    expect(error).toBe(decoder.failure)
    // Found by the push that crossed the limit, the line after it at the latest: memory stays bounded.
    expect(fed).toBeLessThanOrEqual(1000 + 2 * line.length)
  })

  it('measures an event that arrives whole, in UTF-8 bytes, and returns the events before it first', () => {
    const cases = [
      { data: 'x'.repeat(1001), split: false },
      { data: '€'.repeat(334), split: true }, // 1002 bytes in 334 characters
    ]
    for (const { data, split } of cases) {
      const decoder = new SseDecoder({ maxEventBytes: 1000 })
      const body = encode(`data: a\n\ndata: ${data}\n\ndata: b\n\n`)
      const chunks = split ? Array.from(body, (byte) => Uint8Array.of(byte)) : [body]
      const events = chunks.flatMap((chunk) => (decoder.failure ? [] : decoder.push(chunk)))
      expect(events.map((e) => e.data)).toEqual(['a'])
      expect(decoder.failure).toMatchObject({ name: 'LimitError', limit: 'maxEventBytes' })
    }
    const exact = new SseDecoder({ maxEventBytes: 1000 })
    expect(exact.push(encode(`data: ${'€'.repeat(333)}x\n\n`))).toHaveLength(1)
    expect(exact.failure).toBeUndefined()
  })

  it('strips one BOM only, as the WHATWG rules say: a second one is part of the first field name', () => {
    const decoder = new SseDecoder({ maxEventBytes: 1000 })
    expect(decoder.push(encode('\uFEFF\uFEFFdata: a\n\ndata: b\n\n')).map((e) => e.data)).toEqual(['b'])
    const one = new SseDecoder({ maxEventBytes: 1000 })
    expect(one.push(encode('\uFEFFdata: a\n\n')).map((e) => e.data)).toEqual(['a'])
  })

  it('accepts a line of another field longer than maxEventBytes, but not twice as long, arriving in pieces', () => {
    // The parser bounds the line in progress with the data, in characters: twice the limit, and a data line's
    // `data: `. A 37-character `event:` line fits under a limit of 20; only data counts toward the limit.
    const body = encode(`event: ${'e'.repeat(30)}\ndata: x\n\n`)
    for (const size of [1, 5, 16]) {
      const decoder = new SseDecoder({ maxEventBytes: 20 })
      const events: Array<[string, string]> = []
      for (let at = 0; at < body.length; at += size) {
        for (const e of decoder.push(body.subarray(at, at + size))) events.push([e.event, e.data])
      }
      events.push(...decoder.end().map((e): [string, string] => [e.event, e.data]))
      expect(decoder.failure, `pieces of ${size}`).toBeUndefined()
      expect(events, `pieces of ${size}`).toEqual([['e'.repeat(30), 'x']])
    }
  })

  it('throws a LimitError for one endless data line', () => {
    const decoder = new SseDecoder({ maxEventBytes: 1000 })
    decoder.push(encode('data: '))
    const chunk = encode('y'.repeat(100))
    let fed = 0
    expect(() => {
      for (; fed < 100_000; fed += chunk.length) decoder.push(chunk)
    }).toThrow(expect.objectContaining({ name: 'LimitError', limit: 'maxEventBytes' }))
    expect(fed).toBeLessThanOrEqual(1000 + chunk.length)
  })
})

/** Feeds `chunks` to a decoder that counts lines until it fails: the data of the events before, and the error. */
function decodeUntilFailure(
  chunks: Uint8Array[],
  maxEventBytes: number,
): { data: string[]; error: unknown; fed?: number } {
  const decoder = new SseDecoder({ maxEventBytes, countLines: true })
  const data: string[] = []
  let fed = 0
  try {
    for (const chunk of [...chunks, undefined]) {
      fed += chunk?.length ?? 0
      for (const event of chunk === undefined ? decoder.end() : decoder.push(chunk)) data.push(event.data)
      if (decoder.failure !== undefined) throw decoder.failure
    }
  } catch (error) {
    return { data, error, fed }
  }
  return { data, error: undefined }
}

/** Where a LimitError says it happened; `false` for anything else. */
const placeOf = (error: unknown) =>
  isLimitError(error) && { limit: error.limit, line: error.line, offset: error.offset }

const startsWith = (bytes: Uint8Array, text: string): boolean =>
  bytes.length >= text.length && Array.from(text).every((c, i) => bytes[i] === c.charCodeAt(0))

/**
 * What maxEventBytes measures, from the bytes of the body (which need not be UTF-8): for each event, dispatched
 * or still in progress when the body ends, the bytes of its data (the values of its data lines, a line in
 * progress included, and one for each line feed that joins them), where its block starts, and its line.
 */
function eventSizes(bytes: Uint8Array): Array<{ size: number; offset: number; line: number }> {
  const out: Array<{ size: number; offset: number; line: number }> = []
  // The first block starts at the start of the body, a BOM included (as an error in its data says).
  let block = { offset: 0, line: 1 }
  let i = startsWith(bytes, '\xEF\xBB\xBF') ? 3 : 0
  let line = 1
  let size = 0
  let dataLines = 0
  for (;;) {
    let end = i
    while (end < bytes.length && bytes[end] !== 10 && bytes[end] !== 13) end++
    const content = bytes.subarray(i, end)
    const value = startsWith(content, 'data: ') ? 6 : startsWith(content, 'data:') ? 5 : -1
    if (end === bytes.length) {
      if (value !== -1) size += (dataLines++ > 0 ? 1 : 0) + content.length - value
      if (dataLines > 0) out.push({ size, ...block })
      return out
    }
    if (content.length === 0) {
      if (dataLines > 0) out.push({ size, ...block })
      size = 0
      dataLines = 0
    } else if (value !== -1 || (content.length === 4 && startsWith(content, 'data'))) {
      size += (dataLines++ > 0 ? 1 : 0) + content.length - Math.max(value, 4)
    }
    i = end + (bytes[end] === 13 && bytes[end + 1] === 10 ? 2 : 1)
    line++
    if (content.length === 0) block = { offset: i, line }
  }
}

describe('SseDecoder measures maxEventBytes in bytes of the body, where invalid UTF-8 became U+FFFD (3 bytes each)', () => {
  const MAX = 30
  const ff = (n: number) => new Array<number>(n).fill(0xff)

  it('data of maxEventBytes invalid bytes passes and one more fails at its block, whatever the chunking', () => {
    for (const eol of ['\n', '\r\n', '\r']) {
      const body = (n: number) =>
        bytesOf(`data: a${eol}${eol}: c${eol}data: `, ff(n), `${eol}${eol}data: b${eol}${eol}`)
      for (const [label, chunks] of chunkings(body(MAX))) {
        expect(decodeUntilFailure(chunks, MAX), label).toEqual({
          data: ['a', '\uFFFD'.repeat(MAX), 'b'],
          error: undefined,
        })
      }
      const start = encode(`data: a${eol}${eol}`).length
      for (const [label, chunks] of chunkings(body(MAX + 1))) {
        const { data, error } = decodeUntilFailure(chunks, MAX)
        expect(data, label).toEqual(['a'])
        expect(placeOf(error), label).toEqual({ limit: 'maxEventBytes', line: 3, offset: start })
      }
    }
  })

  it('counts one byte for each line feed that joins data lines, and each invalid sequence at its size', () => {
    // 3 + 3 + 4 bytes of data lines and two line feeds: 12 bytes, but 27 of text (8 U+FFFD, an `x`, two LFs).
    const body = (extra: number[]) =>
      bytesOf(
        'data:',
        [0xe2, 0x82],
        'x\r\ndata: ',
        [0xed, 0xa0, 0x80],
        '\ndata:',
        [0xf4, 0x90, 0x80, 0x80],
        extra,
        '\n\n',
      )
    for (const [extra, fails] of [
      [[], false],
      [[0xc3], true],
    ] as const) {
      for (const [label, chunks] of chunkings(body([...extra]))) {
        const { data, error } = decodeUntilFailure(chunks, 12)
        if (fails) expect(placeOf(error), label).toEqual({ limit: 'maxEventBytes', line: 1, offset: 0 })
        else expect(error, label).toBeUndefined()
        expect(data.length, label).toBe(fails ? 0 : 1)
      }
    }
  })

  it('counts a bare `data` line (no colon) as an empty data line: the line feed that joins it takes a byte', () => {
    // "éééé", an invalid byte and "a" take 10 bytes (6 characters, 13 bytes of text); a bare `data` line adds a
    // line feed and nothing else: 11 bytes of data, one over the limit, which only the body's bytes tell.
    const body = (bare: string) => bytesOf('data: a\n\ndata: éééé', [0xff], `a\n${bare}\n\ndata: b\n\n`)
    for (const [label, chunks] of chunkings(body('data'))) {
      const { data, error } = decodeUntilFailure(chunks, 10)
      expect(data, label).toEqual(['a'])
      expect(placeOf(error), label).toEqual({ limit: 'maxEventBytes', line: 3, offset: 9 })
    }
    // An unknown field in its place adds nothing: 10 bytes pass.
    for (const [label, chunks] of chunkings(body('dat'))) {
      expect(decodeUntilFailure(chunks, 10), label).toEqual({
        data: ['a', 'éééé\uFFFDa', 'b'],
        error: undefined,
      })
    }
  })

  it('an event the body ends in is measured, its data line in progress included', () => {
    for (const [n, fails] of [
      [MAX, false],
      [MAX + 1, true],
    ] as const) {
      for (const [label, chunks] of chunkings(bytesOf('data: a\n\ndata: ', ff(n)))) {
        const { data, error } = decodeUntilFailure(chunks, MAX)
        expect(data, label).toEqual(['a'])
        expect(placeOf(error), label).toEqual(fails && { limit: 'maxEventBytes', line: 3, offset: 9 })
      }
    }
  })

  it('measures a block that starts with bytes the chunk before held back, as soon as it may pass the limit', () => {
    // The block after the comment starts with the first bytes of a 4-byte sequence, which the next chunk cuts
    // short; that chunk takes the bytes since the first event past the limit, and the one after, the block.
    const chunks = (ys: number) => [
      encode('data: a\n\n'),
      bytesOf(`: ${'c'.repeat(20)}\n\n`, [0xf0, 0x9f]),
      encode('x\ndata: yy'),
      bytesOf('y'.repeat(ys)),
      encode('\n\n'),
    ]
    const pushed = (ys: number) => {
      const decoder = new SseDecoder({ maxEventBytes: MAX, countLines: true })
      const data = chunks(ys).map((chunk) =>
        decoder.failure ? undefined : decoder.push(chunk).map((e) => e.data),
      )
      return { data, error: placeOf(decoder.failure) }
    }
    // Data of exactly maxEventBytes, then one byte more: found by the chunk that takes the data line in progress
    // past the limit, not by the blank line after it.
    expect(pushed(MAX - 2)).toEqual({ data: [['a'], [], [], [], ['y'.repeat(MAX)]], error: false })
    expect(pushed(MAX - 1)).toEqual({
      data: [['a'], [], [], [], undefined],
      error: { limit: 'maxEventBytes', line: 5, offset: 33 },
    })
  })

  it('fails iff the data of an event takes more bytes of the body than maxEventBytes, at its block, for any bytes and chunking', () => {
    // Lines of data (any text, invalid UTF-8 included), short lines of other fields and lines of anything (which
    // the parser ignores, unless they make a field), with every line ending.
    const value = fc
      .array(
        fc.oneof(
          fc.constantFrom('a', ' ', 'é', '😀', ':', 'data').map(encode),
          fc.constantFrom(...INVALID_UTF8).map((b) => Uint8Array.from(b)),
        ),
        { maxLength: 8 },
      )
      .map((parts) => bytesOf(...parts.map((p) => Array.from(p))))
    const line = fc.oneof(
      {
        weight: 3,
        arbitrary: fc
          .tuple(fc.constantFrom('data:', 'data: '), value)
          .map(([f, v]) => bytesOf(f, Array.from(v))),
      },
      {
        weight: 1,
        arbitrary: fc.constantFrom('', '', 'data', 'id: 1', ': c', 'event: e', 'retry: 5').map(encode),
      },
      { weight: 1, arbitrary: value },
    )
    const body = fc
      .tuple(
        fc.boolean(),
        fc.array(fc.tuple(line, fc.constantFrom('\n', '\r\n', '\r')), { maxLength: 12 }),
        fc.option(line),
      )
      .map(([bom, lines, last]) =>
        bytesOf(
          bom ? '\uFEFF' : '',
          ...lines.flatMap(([l, eol]) => [Array.from(l), eol]),
          Array.from(last ?? []),
        ),
      )
    fc.assert(
      fc.property(
        body,
        fc.array(fc.nat({ max: 1000 }), { maxLength: 12 }),
        fc.integer({ min: 2, max: 24 }),
        (bytes, cuts, max) => {
          const sizes = eventSizes(bytes)
          const over = sizes.findIndex((event) => event.size > max)
          const all = decode([bytes]).map((event) => event.data)
          const chunks = cutAt(
            bytes,
            cuts.map((c) => c % (bytes.length + 1)),
          )
          const { data, error, fed } = decodeUntilFailure(chunks, max)
          if (over === -1) expect({ data, error }).toEqual({ data: all, error: undefined })
          else {
            expect(data).toEqual(all.slice(0, over))
            const { offset, line } = sizes[over]!
            expect(placeOf(error)).toEqual({ limit: 'maxEventBytes', line, offset })
            // Bounded memory: found by the chunk that takes the data past the limit, whatever follows (or by the
            // next, after a piece of a character that decodes to nothing yet).
            let past = 0
            while (!eventSizes(bytes.subarray(0, past)).some((event) => event.size > max)) past++
            const utf8 = new TextDecoder('utf-8', { ignoreBOM: true })
            let end = 0
            for (const chunk of chunks) {
              if (end >= past) break
              end += chunk.length
              if (utf8.decode(chunk, { stream: true }) === '') past = Math.max(past, end + 1)
            }
            expect(fed).toBe(end)
          }
        },
      ),
      { numRuns: 400 },
    )
  })
})

describe('SseDecoder keeps no more than the block in progress between events', () => {
  it('holds a few KiB over 10 000 comment blocks, then places the next events, their errors and checkpoints as before', () => {
    const origin = { offset: 500, lines: 40 }
    for (const eol of ['\n', '\r\n', '\r']) {
      const decoder = new SseDecoder({ maxEventBytes: 100, countLines: true, origin: () => origin })
      const first = encode(`data: a${eol}${eol}`)
      expect(decoder.push(first).map((e) => e.data)).toEqual(['a'])
      // Each comment in two chunks, the second the last byte of its blank line (a CRLF cut in two).
      const comment = encode(`: ${'x'.repeat(1000)}${eol}${eol}`)
      const comments = (n: number) => {
        let most = 0
        for (let i = 0; i < n; i++) {
          expect(decoder.push(comment.subarray(0, -1))).toEqual([])
          most = Math.max(most, decoder.retained)
          expect(decoder.push(comment.subarray(-1))).toEqual([])
          most = Math.max(most, decoder.retained)
        }
        return most
      }
      expect(comments(10_000), eol).toBeLessThan(4 * 1024)
      // Blocks without an event do not move the checkpoint: one could set the last event ID or the retry time. A
      // checkpoint stands before a blank line that is a CR ending a chunk (the first half of a CRLF, maybe).
      const cr = eol === '\r' ? 1 : 0
      expect(decoder.committed).toBe(first.length - cr)
      expect(decoder.linesThrough()).toBe(2 - cr)
      // An event after them (whose data is not JSON, say) is placed in the whole body.
      const bad = encode(`data: {${eol}${eol}`)
      const at = first.length + 10_000 * comment.length
      expect(decoder.push(bad).map((e) => e.data)).toEqual(['{'])
      expect(decoder.blockStart(1)).toBe(origin.offset + at)
      expect(decoder.lineOf(1)).toBe(origin.lines + 2 + 20_000 + 2)
      expect([decoder.committedAfter(0), decoder.linesThrough(0)]).toEqual([first.length - cr, 2 - cr])
      expect([decoder.committed, decoder.linesThrough()]).toEqual([at + bad.length - cr, 20_004 - cr])
      // And so is an event over maxEventBytes after more of them.
      comments(100)
      const over = `data: ${'y'.repeat(101)}${eol}${eol}`
      expect(decoder.push(encode(`: z${eol}${eol}${over}`))).toEqual([])
      const start = at + bad.length + 100 * comment.length + encode(`: z${eol}${eol}`).length
      expect(placeOf(decoder.failure), eol).toEqual({
        limit: 'maxEventBytes',
        offset: origin.offset + start,
        line: origin.lines + 20_004 + 200 + 2 + 1,
      })
      expect([decoder.committedAfter(0), decoder.linesThrough(0)]).toEqual([
        at + bad.length - cr,
        20_004 - cr,
      ])
    }
  })
})

describe('SseDecoder keeps no more than the block in progress between events, whatever blank line ends a block', () => {
  it('holds a few bytes over 10 000 comment blocks ended by LF then CR', () => {
    const decoder = new SseDecoder({ maxEventBytes: 1 << 20 })
    expect(decoder.push(encode(': ping'))).toEqual([])
    // Each chunk ends one comment with LF, a blank line with CR, and starts the next comment.
    const comment = encode('\n\r: ping')
    let most = 0
    for (let i = 0; i < 10_000; i++) {
      expect(decoder.push(comment)).toEqual([])
      most = Math.max(most, decoder.retained)
    }
    expect(most).toBeLessThan(1024)
  })
})

describe('SseDecoder keeps a bounded text of a block that never ends', () => {
  const sum = (chunks: Uint8Array[]) => chunks.reduce((n, c) => n + c.length, 0)

  it('holds a few KiB over 20 000 comment, id, event and retry lines without a blank line, then places the event that ends the block as before', () => {
    const origin = { offset: 500, lines: 40 }
    for (const eol of ['\n', '\r\n', '\r']) {
      const decoder = new SseDecoder({ maxEventBytes: 1024, countLines: true, origin: () => origin })
      const first = encode(`data: a${eol}${eol}`)
      expect(decoder.push(first).map((e) => e.data)).toEqual(['a'])
      // A block that starts with data, then keep-alive comments and the fields of its event, one line per chunk
      // (a line that CR ends cut from the LF after it).
      const lines = [': keep-alive', 'id: 7', 'event: tick', 'retry: 1500'].map((line) =>
        encode(`${line}${eol}`),
      )
      const chunks = [encode(`data: x${eol}`)]
      for (let i = 0; i < 20_000; i++) chunks.push(lines[i % lines.length]!)
      let most = 0
      let events = 0
      for (const chunk of chunks) {
        events += decoder.push(chunk).length
        most = Math.max(most, decoder.retained)
      }
      expect([events, most < 4 * 1024], eol).toEqual([0, true])
      // Data (not JSON) ends the block: its event has all of its data and fields, and is placed where its block
      // starts, its lines and its end counted in the whole body.
      const last = encode(`data: {${eol}${eol}`)
      expect(decoder.push(last)).toEqual([{ id: '7', event: 'tick', data: 'x\n{', retry: 1500 }])
      const end = first.length + sum(chunks) + last.length
      expect(decoder.blockStart(1), eol).toBe(origin.offset + first.length)
      expect(decoder.lineOf(1), eol).toBe(origin.lines + 2 + 1 + 20_000 + 2)
      expect([decoder.committedAfter(1), decoder.linesThrough(1)], eol).toEqual([end, 20_005])
      // Before a blank line that is a CR ending the chunk, as a CRLF cut in two may be (see above).
      expect([decoder.committed, decoder.committedState], eol).toEqual([
        end - (eol === '\r' ? 1 : 0),
        { lastEventId: '7', retry: 1500, since: 0 },
      ])
    }
  })

  it('holds a few KiB over a comment line that never ends, and over one that starts the body', () => {
    for (const start of ['data: a\n\n', '']) {
      const decoder = new SseDecoder({ maxEventBytes: 1024, countLines: true })
      decoder.push(encode(`${start}: `))
      const piece = encode('data: '.repeat(16))
      let most = 0
      let events = 0
      for (let i = 0; i < 10_000; i++) {
        events += decoder.push(piece).length
        most = Math.max(most, decoder.retained)
      }
      expect([events, most < 4 * 1024]).toEqual([0, true])
      // Its text is a comment's, whatever it holds: the data after it is the event's.
      expect(decoder.push(encode('\ndata: b\n\n')).map((e) => e.data)).toEqual(['b'])
      expect(decoder.lineOf(1)).toBe(start === '' ? 3 : 5)
      expect(decoder.blockStart(1)).toBe(start.length)
    }
  })

  it('keeps a U+FEFF that starts a line after the body’s first part of its field name', () => {
    // The body's first line is a comment, and the line in progress starts with U+FEFF: an unknown field, not data.
    const decoder = new SseDecoder({ maxEventBytes: 8, countLines: true })
    expect(decoder.push(encode(`: ${'c'.repeat(20)}\n\uFEFFdat`))).toEqual([])
    expect(decoder.push(encode('a: q\n\ndata: {\n\n')).map((e) => e.data)).toEqual(['{'])
    expect([decoder.lineOf(1), decoder.blockStart(1)]).toEqual([5, 35])
  })
})

describe('SseDecoder tells the last event id and retry time in force at its boundaries', () => {
  it('counts blocks after the last event, but not a retry line of the block in progress', () => {
    const decoder = new SseDecoder({ maxEventBytes: 1 << 20 })
    const done = 'data: x\n\nretry: 5\n\nid: 9\n\n'
    decoder.push(encode(`${done}retry: 7\nretry:${'1'.repeat(40)}\r\ndata: par`))
    expect(decoder.committed).toBe(done.length)
    expect(decoder.committedState).toEqual({ lastEventId: '9', retry: 5, since: 0 })
    // The reconnection delay is the newest value: lines take effect as they are read.
    expect(decoder.retry).toBe(Number('1'.repeat(40)))
  })

  it('starts from the state it is given, and a reset adopts another', () => {
    const decoder = new SseDecoder({ maxEventBytes: 1 << 20, state: { lastEventId: '4', retry: 100 } })
    expect(decoder.push(encode('data: a\n\n'))).toEqual([
      { id: '4', event: 'message', data: 'a', retry: 100 },
    ])
    decoder.reset({ lastEventId: undefined, retry: 7 })
    expect(decoder.push(encode('data: b\n\n'))).toEqual([
      { id: undefined, event: 'message', data: 'b', retry: 7 },
    ])
  })

  it('a retry line after the last event is not in force at the boundary; one in force before stays, whatever follows', () => {
    const cases: Array<[string, number | undefined]> = [
      // The retry line after the boundary took effect (the reconnection delay), but not at the boundary.
      ['data: x\n\nretry: 5000\n', undefined],
      // A retry line not yet ended has not been taken by the parser at all.
      ['retry: 100\ndata: x\n\nretry: 5000', 100],
      // `retry:` inside another field is not a retry line.
      ['retry: 100\ndata: x\n\ndata: retry: 5\n', 100],
    ]
    for (const [text, retry] of cases) {
      const decoder = new SseDecoder({ maxEventBytes: 1 << 20 })
      expect(
        decoder.push(encode(text)).map((e) => e.data),
        text,
      ).toEqual(['x'])
      expect(decoder.committedState, text).toEqual({ lastEventId: undefined, retry, since: 1 })
    }
  })

  it('a retry line after the boundary is not in force there, also after a CR alone ends the line before it', () => {
    for (const eol of ['\n', '\r', '\r\n']) {
      const text = ['retry: 100', 'data: x', '', ': c', 'retry: 5000', ''].join(eol)
      const decoder = new SseDecoder({ maxEventBytes: 1 << 20 })
      expect(decoder.push(encode(text)).map((e) => [e.data, e.retry])).toEqual([['x', 100]])
      expect(decoder.committedState, JSON.stringify(eol)).toEqual({
        lastEventId: undefined,
        retry: 100,
        since: 1,
      })
      expect(decoder.retry).toBe(5000)
    }
  })

  it('discards a line the body ends in without a terminator: a retry there takes no effect', () => {
    const decoder = new SseDecoder({ maxEventBytes: 1 << 20 })
    const text = 'retry: 100\ndata: a\n\nid: 5\ndata: b\n\nretry: 500'
    expect(decoder.push(encode(text)).map((e) => e.data)).toEqual(['a', 'b'])
    expect(decoder.end()).toEqual([])
    expect([decoder.retry, decoder.lastEventId]).toEqual([100, '5'])
  })

  it('goes on counting lines across a reset', () => {
    const decoder = new SseDecoder({ maxEventBytes: 1 << 20, countLines: true })
    expect(decoder.push(encode('data: a\n\n')).map((e) => e.data)).toEqual(['a'])
    decoder.reset()
    expect(decoder.push(encode('data: {\n\n')).map((e) => e.data)).toEqual(['{'])
    expect([decoder.lineOf(1), decoder.linesThrough()]).toEqual([4, 4])
  })

  it('a stream continued from `committed` with `committedState` gives the rest of the events, for any body and chunking', () => {
    fc.assert(
      fc.property(sseWithState, fc.array(fc.nat(), { maxLength: 8 }), (text, cuts) => {
        const body = encode(text)
        const whole = decode([body])
        const decoder = new SseDecoder({ maxEventBytes: 1 << 20 })
        let seen = 0
        for (const chunk of cutAt(
          body,
          cuts.map((c) => c % (body.length + 1)),
        )) {
          const events = decoder.push(chunk)
          seen += events.length
          if (events.length === 0) continue
          for (const [at, state] of [
            [decoder.committed, decoder.committedState],
            [decoder.previousCommitted, decoder.previousState],
          ] as const) {
            const rest = new SseDecoder({
              maxEventBytes: 1 << 20,
              origin: () => ({ offset: at, lines: 0 }),
              state,
            })
            const before = at === decoder.committed ? seen : seen - events.length
            expect([...whole.slice(0, before), ...rest.push(body.subarray(at)), ...rest.end()]).toEqual(whole)
          }
        }
      }),
      RUNS,
    )
  })
})

describe('SseDecoder skips the events a Last-Event-ID answer replays', () => {
  it('continued from any boundary by the blocks after the id in force, skipping `since` of them, gives the rest of the events once, and says where the boundary lies in that answer', () => {
    fc.assert(
      fc.property(sseBlocks(), fc.array(fc.nat(), { maxLength: 8 }), (blocks, cuts) => {
        const body = encode(blocks.join(''))
        const whole = decode([body])
        const counter = new SseDecoder({ maxEventBytes: 1 << 20 })
        counter.push(body)
        counter.end()
        // Where each block starts in the body.
        const starts = blocks.map((_, i) => encode(blocks.slice(0, i).join('')).length)
        const decoder = new SseDecoder({ maxEventBytes: 1 << 20 })
        let seen = 0
        for (const chunk of cutAt(
          body,
          cuts.map((c) => c % (body.length + 1)),
        )) {
          const events = decoder.push(chunk)
          seen += events.length
          if (events.length === 0) continue
          // The boundaries a consumer may stand on: the batch's end, its start, and after each of its events.
          // With what lies between the last event (or id) and it, as events() gives it: after the batch's end, blocks
          // that dispatch nothing or the blank line it stands before; right after an event before the last, nothing.
          // (Not known before the batch's start; after its last event, events() stands at its end.)
          const places: Array<[number, SseState, number, Trailing | undefined]> = [
            [decoder.committed, decoder.committedState, seen, decoder.trailing],
            [decoder.previousCommitted, decoder.previousState, seen - events.length, undefined],
            ...events.map((event, k): [number, SseState, number, Trailing | undefined] => [
              decoder.committedAfter(k + 1),
              { lastEventId: event.id, retry: event.retry, since: decoder.sinceAfter(k) },
              seen - events.length + k + 1,
              k + 1 < events.length ? '' : undefined,
            ]),
          ]
          for (const [at, state, before, trailing] of places) {
            if (state.lastEventId === undefined) continue
            // The server replays the blocks after the last one with an id field that began before the boundary.
            const last = starts.findLastIndex((start, i) => start < at && hasIdField(blocks[i]!))
            const replay = encode(blocks.slice(last + 1).join(''))
            const rest = new SseDecoder({ maxEventBytes: 1 << 20, state, skip: state.since, trailing })
            const after = cutAt(
              replay,
              cuts.map((c) => c % (replay.length + 1)),
            ).flatMap((piece) => rest.push(piece))
            // The replay ends where the boundary lies in it (past the blank line it stands before: see `trailing`,
            // as far as it counted); not where the blocks split a CRLF, the LF starting the replay, inside the line end
            // the parser read. A blank line the boundary stands before that ends the block with the id in force is
            // none of the replay, which starts after it: whether it was a CR or a CRLF, the answer cannot tell. (Nor
            // can an answer that ends with that CR: the LF a CRLF guess counted is then never counted.)
            const blank = typeof trailing === 'number' ? -trailing : 0
            if (trailing !== undefined && !(blocks[last]!.endsWith('\r') && replay[0] === 10))
              expect(rest.replayed ?? replay.length).toBe(
                blank && !state.since
                  ? 0
                  : Math.min(at + blank - (body.length - replay.length), replay.length),
              )
            expect([...whole.slice(0, before), ...after, ...rest.end()]).toEqual(whole)
            // And it counts on as the whole stream does: the events it skipped count again.
            expect(rest.since).toBe(counter.since)
          }
        }
      }),
      RUNS,
    )
  })

  it('stops skipping at a block with an id field: the server’s own position', () => {
    const decoder = new SseDecoder({
      maxEventBytes: 1 << 20,
      state: { lastEventId: '1', retry: undefined, since: 2 },
      skip: 2,
    })
    expect(decoder.push(encode('data: b\n\nid: 2\n\ndata: d\n\n')).map((e) => [e.id, e.data])).toEqual([
      ['2', 'd'],
    ])
    expect(decoder.committedState).toEqual({ lastEventId: '2', retry: undefined, since: 1 })
  })

  it('says what lies between the last event (or id) and its boundary: the blocks that dispatch nothing, or the blank line it stands before', () => {
    const decoder = new SseDecoder({ maxEventBytes: 1 << 20 })
    decoder.push(encode('id: 1\ndata: a\n\n: ping\n\nretry: 5\n\nevent: x\n\n'))
    expect(decoder.trailing).toBe(': ping\n\nretry: 5\n\nevent: x\n\n')
    // A chunk without an event leaves the boundary, and so what lies before it.
    decoder.push(encode(':\n\n'))
    expect(decoder.trailing).toBe(': ping\n\nretry: 5\n\nevent: x\n\n')
    // An id-only block is where a Last-Event-ID answer resumes: what follows it.
    decoder.push(encode('data: b\n\nid: 2\n\n:\n\n'))
    expect(decoder.trailing).toBe(':\n\n')
    decoder.push(encode('data: c\n\n'))
    expect(decoder.trailing).toBe('')
    // The boundary stands before a CR that ends the text, which a Range continuation reads again: minus the blank line.
    decoder.push(encode('data: d\r\n\r'))
    expect([decoder.trailing, decoder.committed]).toEqual([-2, decoder.fed - 1])
    decoder.push(encode('\ndata: e\r\r'))
    expect(decoder.trailing).toBe(-1)
  })

  it('takes the blocks that dispatch nothing after the events it skips for part of the replay when the answer sends them again as they were, and only then', () => {
    const state = { lastEventId: '1', retry: undefined, since: 1 }
    const options = { maxEventBytes: 1 << 20, state, skip: 1, trailing: ': ping\n\n' }
    const exact = new SseDecoder(options)
    expect(exact.push(encode('data: b\n\n: pi'))).toEqual([])
    expect(exact.replayed).toBeUndefined()
    expect(exact.push(encode('ng\n\ndata: c\n\n')).map((e) => e.data)).toEqual(['c'])
    expect(exact.replayed).toBe(17)
    // A server whose heartbeats are its own (sluice/lambda's) does not send it again: the replay ends after b.
    const other = new SseDecoder(options)
    expect(other.push(encode('data: b\n\n:\n\ndata: c\n\n')).map((e) => e.data)).toEqual(['c'])
    expect(other.replayed).toBe(9)
    // The blank line of b cut between its CR and LF: the LF is part of the replay, if it comes.
    const split = new SseDecoder({ ...options, trailing: '' })
    split.push(encode('data: b\r\n\r'))
    expect(split.replayed).toBeUndefined()
    split.push(encode('\ndata: c\r\n\r\n'))
    expect(split.replayed).toBe(11)
  })

  it('ends the replay as far into the last blank line as the boundary counted of it (`trailing` -1 or -2), whatever it turns out to be', () => {
    // The stream was cut after `data: b\r\r`: the client counted the CR, guessing it ended the blank line as the
    // line before it; the answer's blank line is a CRLF, and its LF was never counted. In one chunk, or in two.
    const state = { lastEventId: '1', retry: undefined, since: 1 }
    const options = { maxEventBytes: 1 << 20, state, skip: 1, trailing: -1 }
    const whole = new SseDecoder(options)
    expect(whole.push(encode('data: b\r\r\ndata: c\n\n')).map((e) => e.data)).toEqual(['c'])
    expect(whole.replayed).toBe(9)
    const split = new SseDecoder(options)
    expect(split.trailing).toBe(1)
    expect(split.push(encode('data: b\r\r'))).toEqual([])
    expect(split.replayed).toBe(9)
    // Before an event of its own, what lies before its boundary is that blank line, counted (a restart keeps it).
    expect(split.trailing).toBe(1)
    expect(split.push(encode('\ndata: c\n\n')).map((e) => e.data)).toEqual(['c'])
    expect([split.replayed, split.trailing]).toEqual([9, ''])
    // Guessed a CRLF (-2, the line before ended so), it counted the LF too: the replay takes it; and where the blank
    // line is a CR alone, the byte after it, which stands for the LF counted.
    const crlf = new SseDecoder({ ...options, trailing: -2 })
    expect(crlf.push(encode('data: b\r\n\r\ndata: c\n\n')).map((e) => e.data)).toEqual(['c'])
    expect([crlf.replayed, crlf.replayedBlank]).toEqual([11, 2])
    const cr = new SseDecoder({ ...options, trailing: -2 })
    expect(cr.push(encode('data: b\r\n\rdata: c\n\n')).map((e) => e.data)).toEqual(['c'])
    expect(cr.replayed).toBe(11)
    const late = new SseDecoder({ ...options, trailing: -2 })
    expect(late.push(encode('data: b\r\n\r'))).toEqual([])
    expect(late.replayed).toBeUndefined()
    expect(late.push(encode('data: c\n\n')).map((e) => e.data)).toEqual(['c'])
    expect(late.replayed).toBe(11)
    // A block with an id ending the skip first: the server's own position, and the blank lines before it whole.
    const moved = new SseDecoder({ ...options, skip: 2, state: { ...state, since: 2 } })
    expect(moved.push(encode('data: b\r\r\nid: 2\r\n\r\ndata: c\n\n')).map((e) => e.data)).toEqual(['c'])
    expect([moved.replayed, moved.replayedBlank]).toEqual([10, 0])
  })
})

describe('SseDecoder places a block that began in an earlier chunk, after invalid UTF-8', () => {
  const block = (...parts: Array<string | readonly number[]>) => bytesOf(...parts)
  const blocks = [
    block('data: 1\n\n'),
    block(':', [0xff], '\n\n'),
    block(':', [0xe2, 0x82], '\n\n'),
    block(':', [0xf0, 0x9f], '\n', [0xff, 0xff], '\n\n'),
    block('data:', [0xff], '\n\n'),
    block('data: é\r\n\r\n'),
    block('id: x\n\n'),
    block('\n'),
  ]
  it('gives the byte where the block of an event that is not JSON starts, for any blocks before it and any chunking', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...blocks), { maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (before, cuts) => {
          const start = before.reduce((n, b) => n + b.length, 0)
          const body = bytesOf(...before.map((b) => Array.from(b)), 'data: {oops\n\n')
          const decoder = new SseDecoder({ maxEventBytes: 1 << 20, countLines: true })
          const chunks = cutAt(
            body,
            cuts.map((c) => c % (body.length + 1)),
          )
          let found: number | undefined
          for (const events of [...chunks.map((c) => decoder.push(c)), decoder.end()]) {
            const j = events.findIndex((e) => e.data === '{oops')
            if (j !== -1) found = decoder.blockStart(j + 1)
          }
          expect(found).toBe(start)
        },
      ),
      RUNS,
    )
  })
})
