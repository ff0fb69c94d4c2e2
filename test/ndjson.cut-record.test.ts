/**
 * A body that ends cleanly inside an NDJSON record — a final line without its line feed that is not JSON — was cut
 * there when nothing proves its end (no declared length, no end marker): ndjson() then resumes and gets the record
 * whole from the continuation, or fails with a TruncatedError that says where the record starts, after every
 * complete record. A final line that parses stays a record (many servers omit the last line feed), and where the
 * end is proven a bad final line stays a ParseError.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  fromResponse,
  isParseError,
  isTruncatedError,
  isValidationError,
  type NdjsonOptions,
  sluice,
} from '../src/index.ts'
import { cutAt, encode } from './support/chunking.ts'
import { cutOnceByRange } from './support/ranged-drop.ts'
import { bodyOf, drain, fetchWith, type Part } from './support/streams.ts'

const URL_ = 'http://fn.test/records'
const NDJSON = { 'content-type': 'application/x-ndjson' }
const FAST = { initial: 1, max: 1, jitter: 0 } as const

/** ndjson() of a body made of `parts`, with no way to resume. */
async function recordsOf(
  parts: Part[],
  headers: Record<string, string> = NDJSON,
  options: NdjsonOptions = {},
) {
  const res = await fromResponse(new Response(bodyOf(parts).stream, { headers }), {
    url: URL_,
    resume: false,
  })
  return drain(res.ndjson(undefined, options))
}

const Even = {
  '~standard': {
    version: 1,
    vendor: 'test',
    validate: (value: unknown) =>
      (value as { id: number }).id % 2 === 0 ? { value } : { issues: [{ message: 'odd id' }] },
  },
} as const

describe('a clean end inside a record, with nothing that proves the end', () => {
  for (const [label, tail] of [
    ['inside a string', '{"id":7,"na'],
    ['after a key', '{"id":7,'],
    ['inside a literal', 'tru'],
    ['after the opening bracket', '['],
  ] as const) {
    it(`fails with a TruncatedError after the complete records: ${label}`, async () => {
      const { items, error } = await recordsOf(['{"id":1}\n\n{"id":2}\n', tail])
      expect(items).toEqual([{ id: 1 }, { id: 2 }])
      expect(isTruncatedError(error)).toBe(true)
      expect((error as Error).message).toContain(
        `inside the record starting at byte 19 (line 4), ${JSON.stringify(tail)}`,
      )
      expect((error as Error).message).toContain(URL_)
    })
  }

  it('fails on bytes of the line held back in the middle of a character', async () => {
    const { items, error } = await recordsOf(['{"id":1}\n"a', Uint8Array.of(0xe2, 0x82)])
    expect(items).toEqual([{ id: 1 }])
    expect(isTruncatedError(error)).toBe(true)
    const after = await recordsOf(['{"id":1}\n1', Uint8Array.of(0xe2)])
    expect(after.items).toEqual([{ id: 1 }])
    expect(isTruncatedError(after.error)).toBe(true)
  })

  it('is not skipped as invalid by onInvalid', async () => {
    const skipped: unknown[] = []
    const { items, error } = await recordsOf(['{"id":1}\nnope\n{"id":7,"na'], NDJSON, {
      onInvalid: (e) => skipped.push(e),
    })
    expect(items).toEqual([{ id: 1 }])
    expect(skipped).toHaveLength(1)
    expect(isTruncatedError(error)).toBe(true)
    const skip = await recordsOf(['{"id":1}\n{"id":7,"na'], NDJSON, { onInvalid: 'skip' })
    expect(skip.items).toEqual([{ id: 1 }])
    expect(isTruncatedError(skip.error)).toBe(true)
  })

  for (const [label, tail, last] of [
    ['a final line that parses, without its line feed', '{"id":3}', [{ id: 3 }]],
    ['a number without its line feed', '42', [42]],
    ['blanks without a line feed', ' \t\r', []],
    ['a final line feed', '', []],
    ['a final CRLF', '{"id":3}\r\n', [{ id: 3 }]],
  ] as const) {
    it(`ends done: ${label}`, async () => {
      const { items, error } = await recordsOf(['{"id":1}\n', tail])
      expect(error).toBeUndefined()
      expect(items).toEqual([{ id: 1 }, ...last])
    })
  }

  it('keeps a ValidationError for a final line that parses but fails the schema (it was whole)', async () => {
    const res = await fromResponse(new Response(bodyOf(['{"id":2}\n{"id":3}']).stream, { headers: NDJSON }), {
      url: URL_,
      resume: false,
    })
    const { items, error } = await drain(res.ndjson(Even))
    expect(items).toEqual([{ id: 2 }])
    expect(isValidationError(error)).toBe(true)
  })

  it('leaves lines() of the same body as it was', async () => {
    const res = await fromResponse(new Response(bodyOf(['{"id":1}\n{"id":7,"na']).stream), { url: URL_ })
    expect(await drain(res.lines())).toEqual({ items: ['{"id":1}', '{"id":7,"na'], error: undefined })
  })
})

describe('a clean end inside a record that something proves complete', () => {
  it('fails with a ParseError when the declared length arrived (the line is the server’s)', async () => {
    const body = '{"id":1}\n{"id":7,"na'
    const { items, error } = await recordsOf([body], { ...NDJSON, 'content-length': String(body.length) })
    expect(items).toEqual([{ id: 1 }])
    expect(isParseError(error)).toBe(true)
  })

  it('skips it with onInvalid when the declared length arrived', async () => {
    const body = '{"id":1}\n{"id":7,"na'
    const headers = { ...NDJSON, 'content-length': String(body.length) }
    const { items, error } = await recordsOf([body], headers, { onInvalid: 'skip' })
    expect(error).toBeUndefined()
    expect(items).toEqual([{ id: 1 }])
  })

  it('fails with a ParseError after the end marker', async () => {
    const body = '{"id":1}\n{"id":7,"na'
    const marker = `{"$sluice":"end","bytes":${body.length}}\n`
    const { items, error } = await recordsOf([body, marker], { ...NDJSON, 'x-sluice-end': 'marker' })
    expect(items).toEqual([{ id: 1 }])
    expect(isParseError(error)).toBe(true)
  })
})

const recordsArb = fc.array(
  fc.record({ id: fc.nat(), name: fc.constantFrom('', 'x', 'é€', '😀', 'a "q"', 'tab\t') }),
  { minLength: 1, maxLength: 6 },
)

/** A cut strictly inside record `at` (after its first byte, before its line feed), and a chunking. */
const cutArb = recordsArb.chain((records) =>
  fc.record({
    records: fc.constant(records.map((r, k) => ({ ...r, k }))),
    at: fc.nat(records.length - 1),
    within: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
    crlf: fc.boolean(),
    chunks: fc.array(fc.nat(200), { maxLength: 4 }),
  }),
)

/** Where the cut falls, in bytes: inside line `at`, after its first byte and before its line end. */
function cutOffset(lines: string[], at: number, within: number, eol: string): number {
  const before = encode(
    lines
      .slice(0, at)
      .map((l) => l + eol)
      .join(''),
  ).length
  const length = encode(lines[at]!).length
  return before + 1 + Math.floor(within * (length - 1))
}

describe('any cut inside a record, any chunking', () => {
  it('resumes by Range to the same records, none twice', async () => {
    await fc.assert(
      fc.asyncProperty(cutArb, async ({ records, at, within, crlf, chunks }) => {
        const eol = crlf ? '\r\n' : '\n'
        const lines = records.map((r) => JSON.stringify(r))
        const bytes = encode(lines.map((l) => l + eol).join(''))
        const cut = cutOffset(lines, at, within, eol)
        const { fetch, calls } = cutOnceByRange(bytes, cut, NDJSON['content-type'], (part) =>
          cutAt(part, chunks),
        )
        const res = await sluice(URL_, { fetch, resume: { strategy: 'range', backoff: FAST } })
        const { items, error } = await drain(res.ndjson())
        expect(error).toBeUndefined()
        expect(items).toEqual(records)
        expect(calls()).toBe(2)
      }),
      { numRuns: 60 },
    )
  })

  it('resumes by cursor to the same records, none twice', async () => {
    await fc.assert(
      fc.asyncProperty(cutArb, async ({ records, at, within, crlf, chunks }) => {
        const eol = crlf ? '\r\n' : '\n'
        const lines = records.map((r) => JSON.stringify(r))
        const cut = cutOffset(lines, at, within, eol)
        let calls = 0
        const fetch = fetchWith((request) => {
          calls++
          const after = Number(new URL(request.url).searchParams.get('after') ?? -1)
          // Without its final line feed: the cut, not the end, is what the client must notice.
          const text = encode(
            lines
              .slice(after + 1)
              .map((l) => l + eol)
              .join(''),
          )
          const part = calls === 1 ? text.slice(0, cut) : text
          return new Response(bodyOf(cutAt(part, chunks)).stream, { headers: NDJSON })
        })
        const cursor = (last: unknown) => ({ searchParams: { after: String((last as { k: number }).k) } })
        const res = await sluice(URL_, { fetch, resume: { strategy: 'cursor', cursor, backoff: FAST } })
        const { items, error } = await drain(res.ndjson())
        expect(error).toBeUndefined()
        expect(items).toEqual(records)
        expect(calls).toBe(2)
      }),
      { numRuns: 60 },
    )
  })
})

describe('a checkpoint taken after the cut', () => {
  it('stands before the cut record, and a stream continued from it gets the record whole', async () => {
    const lines = ['{"k":0}\n', '{"k":1,"name":"b"}\n', '{"k":2}\n']
    const full = lines.join('')
    const fetch = fetchWith((request) => {
      const after = Number(new URL(request.url).searchParams.get('after') ?? -1)
      return new Response(bodyOf([lines.slice(after + 1).join('')]).stream, { headers: NDJSON })
    })
    const cursor = (last: unknown) => ({ searchParams: { after: String((last as { k: number }).k) } })
    const cut = full.indexOf('"name"')
    const res = await fromResponse(new Response(bodyOf([full.slice(0, cut)]).stream, { headers: NDJSON }), {
      url: URL_,
      resume: { strategy: 'cursor', cursor, attempts: 0 },
    })
    const { items, error } = await drain(res.ndjson())
    expect(items).toEqual([{ k: 0 }])
    expect(isTruncatedError(error), String(error)).toBe(true)
    const resumed = await sluice(URL_, { fetch, resumeFrom: res.checkpoint() })
    expect((await drain(resumed.ndjson())).items).toEqual([{ k: 1, name: 'b' }, { k: 2 }])
  })
})

describe('under tee()', () => {
  it('resumes both ndjson() branches by Range, each record once', async () => {
    const bytes = encode('{"k":0}\n{"k":1,"name":"b"}\n{"k":2}\n')
    const cut = 14
    const { fetch, calls } = cutOnceByRange(bytes, cut, NDJSON['content-type'])
    const res = await sluice(URL_, { fetch, resume: { strategy: 'range', backoff: FAST } })
    const [a, b] = res.tee()
    const [left, right] = await Promise.all([drain(a.ndjson()), drain(b.ndjson())])
    const all = [{ k: 0 }, { k: 1, name: 'b' }, { k: 2 }]
    expect(left).toEqual({ items: all, error: undefined })
    expect(right).toEqual({ items: all, error: undefined })
    expect(calls()).toBe(2)
  })

  it('fails the ndjson() branch with a TruncatedError when nothing resumes', async () => {
    const body = '{"id":1}\n{"id":7,"na'
    const res = await fromResponse(new Response(bodyOf([body]).stream, { headers: NDJSON }), {
      url: URL_,
      resume: false,
    })
    const [a, b] = res.tee()
    const [records, text] = await Promise.all([drain(a.ndjson()), drain(b.text())])
    expect(records.items).toEqual([{ id: 1 }])
    expect(isTruncatedError(records.error)).toBe(true)
    expect(isTruncatedError(text.error)).toBe(true)
    expect(text.items.join('')).toBe(body)
  })
  it('takes no record a branch behind the other holds whole for a cut: a complete body ends done', async () => {
    for (const body of ['{"id":1}\n{"id":2,"name":"b"}\n', '{"id":1}\n{"id":2,"name":"b"}']) {
      // In pieces: the text() branch reads the end while the ndjson() branch, one record in, holds the rest queued.
      const parts = [body.slice(0, 16), body.slice(16, 23), body.slice(23)]
      const res = await fromResponse(new Response(bodyOf(parts).stream, { headers: NDJSON }), {
        url: URL_,
        resume: false,
      })
      const [a, b] = res.tee()
      const records = a.ndjson()[Symbol.asyncIterator]()
      expect((await records.next()).value).toEqual({ id: 1 })
      expect((await drain(b.text())).items.join('')).toBe(body)
      const rest = await drain({ [Symbol.asyncIterator]: () => records })
      expect(rest).toEqual({ items: [{ id: 2, name: 'b' }], error: undefined })
    }
  })
})
