/**
 * A LimitError says where in the body the limit was exceeded as data — `line` (1-based) and `offset` (bytes),
 * counted as a ParseError's are — the same under any chunking, and from the start of the body in a stream
 * continued from a checkpoint. (Events over maxEventBytes: limits.event-position.test.ts.)
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type Checkpoint,
  fromResponse,
  isLimitError,
  type LimitError,
  type StreamResponse,
  sluice,
} from '../src/index.ts'
import { createPartialJsonParser } from '../src/partial-json.ts'
import { bytesOf, chunkings, cutAt, encode, RUNS } from './support/chunking.ts'
import { decodeLines } from './support/line-decoding.ts'
import { base64, scripted } from './support/scripted.ts'
import { bodyOf, drain } from './support/streams.ts'

/** What a LimitError says of where it happened; `false` for anything else. */
const placeOf = (error: unknown) =>
  isLimitError(error) && { limit: error.limit, line: error.line, offset: error.offset }

const LONG = 'x'.repeat(50)

describe('a line over maxLineBytes is reported where it starts', () => {
  const cases: Array<[string, string, number, number]> = [
    // body, where the long line starts: line, byte
    ['the first line', `${LONG}\nok\n`, 1, 0],
    ['after LF, CRLF, a blank line and multi-byte text', `a\r\né😀\n\n${LONG}\nz\n`, 4, 11],
    ['the last line, unterminated', `a\nb\n${LONG}`, 3, 4],
    ['after a BOM, which counts its 3 bytes', `\uFEFFa\n${LONG}\n`, 2, 5],
    ['after a lone CR, which ends no line', `a\rb\n${LONG}`, 2, 4],
    ['of 2-byte characters, fewer than the limit', `x\n${'é'.repeat(15)}\ny\n`, 2, 2],
  ]
  for (const [name, body, line, offset] of cases) {
    it(`${name}: line ${line}, byte ${offset}, whatever the chunking`, () => {
      for (const [label, chunks] of chunkings(encode(body))) {
        expect(placeOf(decodeLines(chunks, 20).error), label).toEqual({ limit: 'maxLineBytes', line, offset })
      }
    })
  }

  it('its message names the line by its number, the first one too ("Line 1", not "a line starting at line 1")', async () => {
    for (const [body, line] of [
      [`${LONG}\nok\n`, 1],
      [`ok\n${LONG}\n`, 2],
    ] as const) {
      const res = await fromResponse(new Response(body), { maxLineBytes: 20 })
      const { items, error } = await drain(res.lines())
      expect(items).toEqual(line === 1 ? [] : ['ok'])
      expect(isLimitError(error) && error.message).toBe(
        `Line ${line} exceeds maxLineBytes (20 bytes); raise the \`maxLineBytes\` option if this is expected.`,
      )
    }
  })

  it('any lines before it, in any chunking: the line and byte where it starts in the whole body', () => {
    const piece = fc.constantFrom('a', 'é', '中', '😀', '\n', '\r\n', '\r', ' ')
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 8 }), (parts, cuts) => {
        const before = `${parts.join('')}\n`
        const bytes = encode(`${before}${LONG}\nz\n`)
        const chunks = cutAt(
          bytes,
          cuts.map((c) => c % (bytes.length + 1)),
        )
        expect(placeOf(decodeLines(chunks, 30).error)).toEqual({
          limit: 'maxLineBytes',
          line: before.split('\n').length,
          offset: encode(before).length,
        })
      }),
      RUNS,
    )
  })

  it('through lines() and ndjson(), after the lines before it', async () => {
    const body = encode(`{"a":1}\r\n\n"é😀"\n${LONG}\n{"a":2}\n`)
    for (const [label, chunks] of chunkings(body)) {
      for (const read of [(r: StreamResponse) => r.lines(), (r: StreamResponse) => r.ndjson()]) {
        const res = await fromResponse(new Response(bodyOf(chunks).stream), { maxLineBytes: 20 })
        const { error } = await drain<unknown>(read(res))
        expect(placeOf(error), label).toEqual({ limit: 'maxLineBytes', line: 4, offset: 19 })
      }
    }
  })
})

describe('maxLineBytes counts the bytes of the body, not the U+FFFD that replaced invalid ones', () => {
  it('through lines() and ndjson(): a record of 20 bytes passes maxLineBytes 20, one of 21 fails where it starts', async () => {
    const body = (n: number) => bytesOf('{"a":1}\r\n"', new Array<number>(n).fill(0xff), '"\n{"a":2}\n')
    for (const [n, want] of [
      [18, undefined],
      [19, { limit: 'maxLineBytes', line: 2, offset: 9 }],
    ] as const) {
      for (const [label, chunks] of chunkings(body(n))) {
        const lines = await fromResponse(new Response(bodyOf(chunks).stream), { maxLineBytes: 20 })
        const records = await fromResponse(new Response(bodyOf(chunks).stream), { maxLineBytes: 20 })
        for (const { items, error } of [
          await drain<unknown>(lines.lines()),
          await drain<unknown>(records.ndjson()),
        ]) {
          expect(items.length, label).toBe(want === undefined ? 3 : 1)
          expect(placeOf(error), label).toEqual(want ?? false)
        }
        if (want === undefined)
          expect(
            (await drain<unknown>((await fromResponse(new Response(bodyOf(chunks).stream))).ndjson()))
              .items[1],
          ).toBe('\uFFFD'.repeat(n))
      }
    }
  })
})

describe('a JSON document nested deeper than maxDepth is reported at the bracket one level too deep', () => {
  // The fourth bracket opens at character 13 (😀 is two UTF-16 units), byte 16, on line 2.
  const text = '{"é😀":\r\n [[ [0]]]}'
  const at = text.indexOf('[0')

  it('json(): the byte offset and line, as its ParseError gives them, whatever the chunking', async () => {
    expect({ at, byte: encode(text.slice(0, at)).length }).toEqual({ at: 13, byte: 16 })
    for (const [label, chunks] of chunkings(encode(text))) {
      const res = await fromResponse(new Response(bodyOf(chunks).stream))
      const error = await res.json(undefined, { maxDepth: 3 }).final.catch((e: unknown) => e)
      expect(placeOf(error), label).toEqual({ limit: 'maxDepth', line: 2, offset: 16 })
      // The message gives the same place as the field.
      expect((error as LimitError).message, label).toMatch(/^Nesting at byte 16 exceeds maxDepth/)
    }
  })

  it('createPartialJsonParser(): a character offset, or what toByteOffset maps it to', () => {
    const plain = createPartialJsonParser({ maxDepth: 3 })
    const error = thrown(() => plain.push(text))
    expect(placeOf(error)).toEqual({ limit: 'maxDepth', line: 2, offset: 13 })
    expect((error as LimitError).message).toMatch(/^Nesting at character 13 exceeds maxDepth/)
    const mapped = createPartialJsonParser({ maxDepth: 3, toByteOffset: (c) => 1000 + c })
    expect(placeOf(thrown(() => mapped.push(text)))).toEqual({ limit: 'maxDepth', line: 2, offset: 1013 })
  })
})

describe('a JSON document over the parser’s maxBytes', () => {
  it('is cut at maxBytes characters, whichever push crosses it (mapped by toByteOffset)', () => {
    for (const pieces of [['[1,2,3]'], ['[1,', '2,3]'], ['[1,2', ',3]']]) {
      const plain = createPartialJsonParser({ maxBytes: 5 })
      const mapped = createPartialJsonParser({ maxBytes: 5, toByteOffset: (c) => 2 * c })
      for (const [parser, offset] of [
        [plain, 5],
        [mapped, 10],
      ] as const) {
        const error = thrown(() => {
          for (const piece of pieces) parser.push(piece)
        })
        expect(placeOf(error), pieces.join('|')).toEqual({ limit: 'maxBytes', line: undefined, offset })
      }
    }
  })
})

describe('after resumeFrom, a LimitError counts from the start of the body', () => {
  it('lines(): the line over maxLineBytes has the same line and byte offset as in an undisturbed read', async () => {
    const lines = Array.from({ length: 40 }, (_, i) =>
      i === 30 ? 'x'.repeat(300) : `{"i":${i},"s":"ligne ${'€'.repeat(i % 3)}😀"}`,
    )
    const body = encode(`${lines.join('\r\n')}\r\n`)
    const want = {
      limit: 'maxLineBytes',
      line: 31,
      offset: encode(`${lines.slice(0, 30).join('\r\n')}\r\n`).length,
    }
    const s = await scripted({ kind: 'range', body: base64(body), etag: ['"v1"'], chunk: 37, pace: 1 })
    const options = { maxLineBytes: 200 }
    expect(placeOf((await drain((await sluice(s.url, options)).lines())).error)).toEqual(want)

    const first = await sluice(s.url, options)
    let saved: Checkpoint | undefined
    let n = 0
    for await (const _ of first.lines()) {
      if (++n === 12) {
        saved = JSON.parse(JSON.stringify(first.checkpoint())) as Checkpoint
        break
      }
    }
    expect(saved).toMatchObject({ strategy: 'range', lines: 12 })
    const resumed = await sluice(s.url, { ...options, resumeFrom: saved! })
    expect(placeOf((await drain(resumed.lines())).error)).toEqual(want)
  })
})

function thrown(run: () => unknown): unknown {
  try {
    run()
  } catch (error) {
    return error
  }
  throw new Error('expected a throw')
}
