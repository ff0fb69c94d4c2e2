/**
 * Checkpoints at any item, over any chunking and any line-ending style: a checkpoint taken in the loop body after
 * k items, resumed with Range by a new client, gives exactly the items an undisturbed read gives after the first
 * k — including when a chunk ends between a `\r` and its `\n`, or a blank line comes alone in its chunk.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type Checkpoint, type ResumeOptions, type StreamResponse, sluice } from '../src/index.ts'
import { mockStream } from '../src/mock/stream.ts'
import { concatBytes, cutAt, encode, INVALID_UTF8, trickyBytes } from './support/chunking.ts'
import { sseWithState } from './support/sse-state.ts'
import { fetchWith } from './support/streams.ts'

const RUNS = { numRuns: 60 }

const text = fc
  .array(fc.constantFrom('a', ' ', 'é', '中', '😀', ':', '"', '{', '}'), { minLength: 1, maxLength: 8 })
  .map((chars) => chars.join(''))
const eol = fc.constantFrom('\n', '\r\n', '\r')

/** SSE blocks with any of the three line endings, mixed, and an occasional comment or extra blank line. */
const sseBody = fc
  .array(
    fc.record({
      data: fc.array(text, { minLength: 1, maxLength: 2 }),
      eols: fc.array(eol, { minLength: 4, maxLength: 4 }),
      comment: fc.boolean(),
      extraBlank: fc.boolean(),
    }),
    { minLength: 1, maxLength: 8 },
  )
  .map((blocks) =>
    blocks
      .map(({ data, eols, comment, extraBlank }) => {
        const [a, b, c, d] = eols as [string, string, string, string]
        const lines = data.map((line, i) => `data: ${line}${i === 0 ? a : b}`).join('')
        return `${comment ? `: note${c}` : ''}${lines}${d}${extraBlank ? c : ''}`
      })
      .join(''),
  )

/** NDJSON-like lines with LF or CRLF (the two endings lines() knows), blank lines included. */
const linesBody = fc
  .array(fc.record({ line: fc.oneof(text, fc.constant('')), eol: fc.constantFrom('\n', '\r\n') }), {
    minLength: 1,
    maxLength: 10,
  })
  .map((lines) => lines.map(({ line, eol }) => `${line}${eol}`).join(''))

/** Text with invalid UTF-8 in it: a replaced sequence is 3 bytes of text for 1 to 3 of body. */
function withInvalid(valid: fc.Arbitrary<string>): fc.Arbitrary<Uint8Array> {
  const bad = fc.constantFrom(...INVALID_UTF8).map((b) => Uint8Array.from(b))
  return fc.array(fc.oneof(valid.map(encode), bad), { minLength: 1, maxLength: 4 }).map(concatBytes)
}
const invalidText = withInvalid(text)

const invalidLines = fc
  .array(fc.tuple(invalidText, fc.constantFrom('\n', '\r\n')), { minLength: 1, maxLength: 8 })
  .map((lines) => concatBytes(lines.flatMap(([line, end]) => [line, encode(end)])))

/** Records whose strings hold invalid UTF-8 (no quote in them: each stays one JSON string). */
const invalidRecords = fc
  .array(fc.tuple(withInvalid(text.map((t) => t.replaceAll('"', "'"))), fc.constantFrom('\n', '\r\n')), {
    minLength: 1,
    maxLength: 8,
  })
  .map((rows) =>
    concatBytes(rows.flatMap(([s, end], i) => [encode(`{"i":${i},"s":"`), s, encode(`"}${end}`)])),
  )

const invalidEvents = fc
  .array(fc.tuple(invalidText, eol), { minLength: 1, maxLength: 8 })
  .map((events) => concatBytes(events.flatMap(([data, end]) => [encode('data: '), data, encode(end + end)])))

/** A server that answers Range over the same bytes, cut into chunks at `cuts` on every answer. */
function server(bytes: Uint8Array, cuts: number[], type: string): typeof fetch {
  return fetchWith((request) =>
    mockStream(cutAt(bytes, cuts), { request, range: true, headers: { 'content-type': type } }),
  )
}

type Read = (res: StreamResponse) => AsyncIterable<unknown>

const consumers: [string, fc.Arbitrary<string | Uint8Array>, string, Read, ResumeOptions?][] = [
  ['events()', sseBody, 'text/event-stream', (res) => res.events()],
  // Resumed by Range, the continued stream starts with the id and retry time in force at the checkpoint.
  [
    'events() with id and retry blocks',
    sseWithState,
    'text/event-stream',
    (res) => res.events(),
    { strategy: 'range' },
  ],
  ['lines()', linesBody, 'text/plain', (res) => res.lines()],
  ['events() over invalid UTF-8', invalidEvents, 'text/event-stream', (res) => res.events()],
  ['lines() over invalid UTF-8', invalidLines, 'text/plain', (res) => res.lines()],
  ['ndjson() over invalid UTF-8', invalidRecords, 'application/x-ndjson', (res) => res.ndjson()],
  [
    'text() over invalid UTF-8',
    trickyBytes({ minLength: 1, maxLength: 30 }),
    'text/plain',
    (res) => res.text(),
  ],
]

describe('checkpoint at any item, any chunking, any line ending', () => {
  for (const [name, body, type, read, resume] of consumers) {
    it(`${name}: the first k items plus a resume from the checkpoint make exactly the whole`, async () => {
      await fc.assert(
        fc.asyncProperty(
          body,
          fc.array(fc.nat({ max: 300 }), { maxLength: 12 }),
          fc.nat(),
          async (source, cuts, pick) => {
            const bytes = typeof source === 'string' ? encode(source) : source
            const fetch = server(bytes, cuts, type)
            const whole = await Array.fromAsync(read(await sluice('http://fn.test/s', { fetch, resume })))
            fc.pre(whole.length > 0)
            const k = 1 + (pick % whole.length)
            const first: unknown[] = []
            let saved = ''
            const res = await sluice('http://fn.test/s', { fetch, resume })
            for await (const item of read(res)) {
              first.push(item)
              if (first.length === k) {
                saved = JSON.stringify(res.checkpoint())
                break
              }
            }
            const rest = await sluice('http://fn.test/s', {
              fetch,
              resume,
              resumeFrom: JSON.parse(saved) as Checkpoint,
            })
            const second = await Array.fromAsync(read(rest))
            // Text comes in pieces as the chunks fall: only what they make together is the same.
            const join = (items: unknown[]): unknown => (name.startsWith('text()') ? items.join('') : items)
            expect(join([...first, ...second])).toEqual(join(whole))
            expect(rest.progress).toMatchObject({ loaded: bytes.length, state: 'done' })
          },
        ),
        RUNS,
      )
    })
  }
})

describe('a checkpoint taken after the last item', () => {
  it('resumes into the 416 that proves the body complete: no item, no error, loaded = length', async () => {
    const bytes = encode('data: a\n\ndata: b\n\n')
    const statuses: number[] = []
    const fetch = fetchWith((request) => {
      const response = mockStream([bytes], {
        request,
        range: true,
        headers: { 'content-type': 'text/event-stream' },
      })
      statuses.push(response.status)
      return response
    })
    const res = await sluice('http://fn.test/s', { fetch })
    const events = await Array.fromAsync(res.events())
    expect(events.map((e) => e.data)).toEqual(['a', 'b'])
    const rest = await sluice('http://fn.test/s', { fetch, resumeFrom: res.checkpoint() })
    expect(await Array.fromAsync(rest.events())).toEqual([])
    expect(statuses).toEqual([200, 416])
    expect(rest.progress).toMatchObject({
      loaded: bytes.length,
      total: bytes.length,
      percent: 100,
      items: 2,
      state: 'done',
    })
  })
})
