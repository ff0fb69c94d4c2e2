/**
 * Checkpoints at any item, over any chunking and any line-ending style: a checkpoint taken in the loop body after
 * k items, resumed with Range by a new client, gives exactly the items an undisturbed read gives after the first
 * k — including when a chunk ends between a `\r` and its `\n`, or a blank line comes alone in its chunk.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type Checkpoint, type StreamResponse, sluice } from '../src/index.ts'
import { mockStream } from '../src/mock/stream.ts'
import { cutAt, encode } from './support/chunking.ts'
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

/** A server that answers Range over the same bytes, cut into chunks at `cuts` on every answer. */
function server(bytes: Uint8Array, cuts: number[], type: string): typeof fetch {
  return fetchWith((request) =>
    mockStream(cutAt(bytes, cuts), { request, range: true, headers: { 'content-type': type } }),
  )
}

type Read = (res: StreamResponse) => AsyncIterable<unknown>

const consumers: [string, fc.Arbitrary<string>, string, Read][] = [
  ['events()', sseBody, 'text/event-stream', (res) => res.events()],
  ['lines()', linesBody, 'text/plain', (res) => res.lines()],
]

describe('checkpoint at any item, any chunking, any line ending', () => {
  for (const [name, body, type, read] of consumers) {
    it(`${name}: the first k items plus a resume from the checkpoint make exactly the whole`, async () => {
      await fc.assert(
        fc.asyncProperty(
          body,
          fc.array(fc.nat({ max: 300 }), { maxLength: 12 }),
          fc.nat(),
          async (source, cuts, pick) => {
            const bytes = encode(source)
            const fetch = server(bytes, cuts, type)
            const whole = await Array.fromAsync(read(await sluice('http://fn.test/s', { fetch })))
            fc.pre(whole.length > 0)
            const k = 1 + (pick % whole.length)
            const first: unknown[] = []
            let saved = ''
            const res = await sluice('http://fn.test/s', { fetch })
            for await (const item of read(res)) {
              first.push(item)
              if (first.length === k) {
                saved = JSON.stringify(res.checkpoint())
                break
              }
            }
            const rest = await sluice('http://fn.test/s', {
              fetch,
              resumeFrom: JSON.parse(saved) as Checkpoint,
            })
            const second = await Array.fromAsync(read(rest))
            expect([...first, ...second]).toEqual(whole)
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
