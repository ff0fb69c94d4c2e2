import fc from 'fast-check'
import { describe, expect, expectTypeOf, it, vi } from 'vitest'
import { z } from 'zod'
import {
  type DeepPartial,
  fromResponse,
  isLimitError,
  isParseError,
  isValidationError,
  type StandardSchemaV1,
  sluice,
} from '../src/index.ts'
import { createPartialJsonParser } from '../src/partial-json.ts'
import { bytesOf, chunkings, cutAt, encode, INVALID_UTF8 } from './support/chunking.ts'
import { bodyOf, collect, drain, fetchWith, gatedBody, responseOf } from './support/streams.ts'

const doc = {
  title: 'Report',
  summary: 'All good — ✓',
  sections: [
    { name: 'a', rows: [1, 2] },
    { name: 'b', rows: [] },
  ],
}
const text = JSON.stringify(doc)
const Doc = z.object({
  title: z.string(),
  summary: z.string(),
  sections: z.array(z.object({ name: z.string(), rows: z.array(z.number()) })),
})

function chunks(every: number): string[] {
  const out: string[] = []
  for (let i = 0; i < text.length; i += every) out.push(text.slice(i, i + every))
  return out
}

describe('res.json()', () => {
  it('yields growing partial snapshots and resolves final to the complete, validated document', async () => {
    const res = await fromResponse(responseOf(chunks(7)))
    const consumer = res.json(Doc)
    const snapshots = await collect(consumer)
    expect(snapshots.length).toBeGreaterThan(3)
    expect(snapshots.at(-1)).toEqual(doc)
    expect(await consumer.final).toEqual(doc)
    expectTypeOf(consumer.final).resolves.toEqualTypeOf<z.infer<typeof Doc>>()
    expectTypeOf(snapshots[0]!).toEqualTypeOf<DeepPartial<z.infer<typeof Doc>>>()
  })

  it('shows strings growing before they are complete', async () => {
    const res = await fromResponse(responseOf(['{"title":"Rep', 'ort"}']))
    const consumer = res.json<{ title: string }>()
    const seen: (string | undefined)[] = []
    for await (const snapshot of consumer) seen.push(snapshot?.title)
    expect(seen).toEqual(['Rep', 'Report'])
  })

  it('keeps the identity of subtrees that did not change between snapshots', async () => {
    const res = await fromResponse(responseOf(['{"done":{"a":[1,2]},"growing":"x', 'yz"}']))
    const [first, second] = await collect(res.json<{ done: { a: number[] }; growing: string }>())
    expect(first?.done).toBe(second?.done)
    expect(first).not.toBe(second)
  })

  it('says which parts are complete', async () => {
    const res = await fromResponse(responseOf(['{"a":"done","b":"grow', 'ing"}']))
    const consumer = res.json()
    const iterator = consumer[Symbol.asyncIterator]()
    await iterator.next()
    expect(consumer.isComplete(['a'])).toBe(true)
    expect(consumer.isComplete(['b'])).toBe(false)
    // Without a path: the whole document, as the store's isComplete().
    expect(consumer.isComplete()).toBe(false)
    await iterator.next()
    expect(consumer.isComplete(['b'])).toBe(true)
    expect(consumer.isComplete()).toBe(true)
  })

  it('drives the read itself when only final is awaited', async () => {
    const res = await fromResponse(responseOf(chunks(5)))
    expect(await res.json(Doc).final).toEqual(doc)
  })

  it('rejects final with a ValidationError when the complete document fails the schema', async () => {
    const res = await fromResponse(responseOf(['{"title":1}']))
    const consumer = res.json(Doc)
    await collect(consumer).catch(() => {})
    const error = await consumer.final.catch((e: unknown) => e)
    expect(isValidationError(error)).toBe(true)
  })

  it('says the document does not match the schema, not "The item at index 0": json() reads one document (its index stays 0)', async () => {
    const Title = z.object({ title: z.string() })
    const res = await fromResponse(responseOf(['{"title":1}']))
    const consumer = res.json(Title)
    await collect(consumer).catch(() => {})
    const error = await consumer.final.catch((e: unknown) => e)
    expect(isValidationError(error) && [error.index, error.message.split(':')[0]]).toEqual([
      0,
      'The document does not match the schema',
    ])
    const whole = await (await fromResponse(responseOf(['{"title":1}']))).collect
      .json(Title)
      .catch((e: unknown) => e)
    expect(isValidationError(whole) && [whole.index, whole.message.split(':')[0]]).toEqual([
      0,
      'The document does not match the schema',
    ])
    // Records of a stream are items among others, numbered.
    const rows = await collect(
      (await fromResponse(responseOf(['{"title":"a"}\n{"title":2}\n']))).ndjson(Title),
    ).catch((e: unknown) => e)
    expect(isValidationError(rows) && rows.message.split(':')[0]).toBe(
      'The item at index 1 does not match the schema',
    )
  })

  it('throws a ParseError with the byte offset of invalid JSON', async () => {
    const res = await fromResponse(responseOf(['{"é":1', ',]']))
    const error = await collect(res.json()).catch((e: unknown) => e)
    expect(isParseError(error)).toBe(true)
    // `]` is character 7 but byte 8: `é` takes two bytes.
    if (isParseError(error)) expect(error.offset).toBe(8)
  })

  it('throttles snapshots with throttleMs but always delivers the last one', async () => {
    const res = await fromResponse(responseOf(chunks(1)))
    const snapshots = await collect(res.json(undefined, { throttleMs: 60_000 }))
    expect(snapshots.length).toBeLessThanOrEqual(2)
    expect(snapshots.at(-1)).toEqual(doc)
  })

  it('reports a bad number at its byte offset however the body is chunked', async () => {
    // The number starts at character 5 but byte 6: `é` takes two bytes.
    const body = '{"é":12345.}'
    for (const every of [1, 2, 3, 1000]) {
      const parts = Array.from({ length: Math.ceil(body.length / every) }, (_, i) =>
        body.slice(i * every, (i + 1) * every),
      )
      const error = await collect((await fromResponse(responseOf(parts))).json()).catch((e: unknown) => e)
      expect(isParseError(error) && { offset: error.offset, line: error.line }).toEqual({
        offset: 6,
        line: 1,
      })
    }
  })

  it('ends with a snapshot of a top-level number, which only the end of the body finishes', async () => {
    for (const parts of [['4', '2'], ['42']]) {
      const json = (await fromResponse(responseOf(parts))).json<number>()
      expect(await collect(json)).toEqual([42])
      expect(json.isComplete([])).toBe(true)
      expect(await json.final).toBe(42)
    }
  })

  it('hands out the same data again when a value only finished, and says so', async () => {
    const json = (await fromResponse(responseOf(['{"a":"xy', '"', '}']))).json<{ a: string }>()
    const iterator = json[Symbol.asyncIterator]()
    const first = await iterator.next()
    expect([first.value, json.isComplete(['a'])]).toEqual([{ a: 'xy' }, false])
    const second = await iterator.next()
    expect(second.value).toBe(first.value)
    expect([json.isComplete(['a']), json.isComplete([])]).toEqual([true, false])
    await iterator.next()
    expect(json.isComplete([])).toBe(true)
  })

  it('hands out the final snapshot when the last chunk only finished a value, throttled or not', async () => {
    const body = gatedBody()
    const json = (await fromResponse(new Response(body.stream))).json<{ a: string }>(undefined, {
      throttleMs: 60_000,
    })
    const iterator = json[Symbol.asyncIterator]()
    body.push('{"a":"xy')
    const first = await iterator.next()
    expect([first.value, json.openPath]).toEqual([{ a: 'xy' }, ['a']])
    // The rest changes no value, only what is finished: the same data again, now complete.
    body.push('"}')
    body.close()
    const second = await iterator.next()
    expect(second).toEqual({ done: false, value: { a: 'xy' } })
    expect([json.isComplete([]), json.openPath]).toEqual([true, undefined])
    expect(await iterator.next()).toEqual({ done: true, value: undefined })
  })

  it('answers isComplete for the snapshot handed out, not for text read past it', async () => {
    const body = gatedBody()
    const json = (await fromResponse(new Response(body.stream))).json<{ a: string; b: string }>(undefined, {
      throttleMs: 60_000,
    })
    const iterator = json[Symbol.asyncIterator]()
    body.push('{"a":"x')
    expect((await iterator.next()).value).toEqual({ a: 'x' })
    const next = iterator.next()
    // Read by the pending call, but held back by the throttle: the snapshot handed out still has `a` open.
    body.push('yz","b":"done"')
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect([json.isComplete(['a']), json.isComplete(['b']), json.openPath]).toEqual([false, false, ['a']])
    body.push('}')
    body.close()
    expect((await next).value).toEqual({ a: 'xyz', b: 'done' })
    expect([json.isComplete(['a']), json.isComplete([]), json.openPath]).toEqual([true, true, undefined])
  })

  it('hands out the snapshot the throttle held back before a failure, as an unthrottled loop sees it', async () => {
    const res = await fromResponse(
      responseOf(['{"answer":"Hel', 'lo, wor'], { error: new TypeError('network error') }),
    )
    const { items, error } = await drain(res.json(undefined, { throttleMs: 60_000 }))
    expect(error).toBeInstanceOf(Error)
    expect(items).toEqual([{ answer: 'Hel' }, { answer: 'Hello, wor' }])
  })

  it('shows no number a clean but early end cut, under a throttle or with final alone', async () => {
    // `[1,5,6` may be the start of `[1,5,67]`: the 6 is not a value yet.
    const throttled = await drain(
      (await fromResponse(responseOf(['[1,5', ',6']))).json(undefined, { throttleMs: 60_000 }),
    )
    expect(throttled.error).toBeInstanceOf(Error)
    expect(throttled.items.at(-1)).toEqual([1, 5])
    const json = (await fromResponse(responseOf(['[1,5', ',6']))).json()
    await expect(json.final).rejects.toThrow(/ended before it was complete/)
    expect(await drain(json)).toMatchObject({ items: [[1, 5]] })
  })

  it('hands out a throttled snapshot when its time comes, though no more text arrives', async () => {
    const body = gatedBody()
    const json = (await fromResponse(new Response(body.stream))).json<{ answer: string }>(undefined, {
      throttleMs: 30,
    })
    const iterator = json[Symbol.asyncIterator]()
    body.push('{"answer":"Hel')
    expect((await iterator.next()).value).toEqual({ answer: 'Hel' })
    body.push('lo, wor')
    // The server pauses here; the text already read shows up after about 30 ms.
    expect((await iterator.next()).value).toEqual({ answer: 'Hello, wor' })
    body.push('ld"}')
    body.close()
    expect((await iterator.next()).value).toEqual({ answer: 'Hello, world' })
    expect((await iterator.next()).done).toBe(true)
    expect(body.cancels()).toBe(0)
  })

  it('ends quietly and cancels the body once when cancelled during a throttled wait', async () => {
    const body = gatedBody()
    const res = await fromResponse(new Response(body.stream))
    const json = res.json(undefined, { throttleMs: 60_000 })
    const iterator = json[Symbol.asyncIterator]()
    body.push('{"a":[1,')
    await iterator.next()
    const next = iterator.next()
    body.push('2,')
    await new Promise((resolve) => setTimeout(resolve, 20))
    await res.cancel()
    expect((await next).done).toBe(true)
    expect(body.cancels()).toBe(1)
    await expect(json.final).rejects.toThrow(/not read to its end/)
  })

  it('return() while a next() waits on a silent body cancels it once and settles both with done', async () => {
    const body = gatedBody()
    const res = await fromResponse(new Response(body.stream))
    const iterator = res.json()[Symbol.asyncIterator]()
    body.push('{"a":[1,')
    await iterator.next()
    const waiting = iterator.next()
    expect(await iterator.return?.()).toEqual({ done: true, value: undefined })
    expect(await waiting).toEqual({ done: true, value: undefined })
    expect(body.cancels()).toBe(1)
    expect(res.progress.state).toBe('cancelled')
  })

  it('is a Promise whose then, catch or finally before the loop leaves the loop to read', async () => {
    const json = (await fromResponse(responseOf(chunks(9)))).json(Doc)
    expect(json.final).toBeInstanceOf(Promise)
    const saved = json.final.then((value) => value.title)
    json.final.catch(() => {})
    const snapshots = await collect(json)
    expect(snapshots.length).toBeGreaterThan(0)
    expect(snapshots.at(-1)).toEqual(doc)
    expect(await saved).toBe('Report')
  })

  it('lets a loop begun after final read everything take the last snapshot', async () => {
    const json = (await fromResponse(responseOf(chunks(9)))).json(Doc)
    expect(await json.final).toEqual(doc)
    expect(await collect(json)).toEqual([doc])
    expect(() => json[Symbol.asyncIterator]()).toThrow(/tee\(\)/)
  })

  it('gives a loop begun after final failed the snapshot before the failure, then the failure', async () => {
    const json = (await fromResponse(responseOf(['{"a":[1,', '2,]}']))).json()
    const failure = await json.final.catch((e: unknown) => e)
    expect(isParseError(failure)).toBe(true)
    const seen: unknown[] = []
    const error = await (async () => {
      for await (const snapshot of json) seen.push(snapshot)
    })().catch((e: unknown) => e)
    // As a loop from the start sees them: the 2 that the failing chunk completed before its error comes too.
    expect(seen).toEqual([{ a: [1] }, { a: [1, 2] }])
    expect(error).toBe(failure)
  })

  it('follows the client maxBytes, with no limit of its own by default', async () => {
    const limited = await fromResponse(responseOf(['{"a":"', 'x'.repeat(100), '"}']), { maxBytes: 50 })
    const error = await collect(limited.json()).catch((e: unknown) => e)
    expect(isLimitError(error) && error.limit).toBe('maxBytes')
  })
})

describe('res.collect.json()', () => {
  it('reports invalid JSON at its line and byte, with the text around it', async () => {
    const res = await fromResponse(responseOf(['{\n  "é": 1,\n  "b": [1, 2', ',, 3]\n}']))
    const error = await res.collect.json().catch((e: unknown) => e)
    expect(isParseError(error)).toBe(true)
    if (!isParseError(error)) return
    // The second comma: line 3, byte 26 (`é` takes two bytes).
    expect([error.line, error.offset]).toEqual([3, 26])
    expect(error.excerpt).toContain('2,, 3]')
    expect(error.message).toMatch(/at line 3, byte 26/)
  })

  it('counts the bytes of a BOM before invalid JSON, as json() does, and parses a document after one', async () => {
    const body = ['\uFEFF{\n  "a": 1,', '\n  "b": x\n}']
    const collected = await (await fromResponse(responseOf(body))).collect.json().catch((e: unknown) => e)
    const streamed = await (await fromResponse(responseOf(body))).json().final.catch((e: unknown) => e)
    // `x`: line 3, byte 3 (BOM) + 19.
    for (const error of [collected, streamed]) {
      expect(isParseError(error) && [error.line, error.offset]).toEqual([3, 22])
    }
    expect(await (await fromResponse(responseOf(['\uFEFF', '{"a": 1}']))).collect.json()).toEqual({ a: 1 })
  })

  it('takes one BOM, as json().final does: a second is not JSON, and both fail at its byte', async () => {
    for (const body of [['\uFEFF\uFEFF1'], ['\uFEFF', '\uFEFF1']]) {
      const collected = await (await fromResponse(responseOf(body))).collect.json().catch((e: unknown) => e)
      const streamed = await (await fromResponse(responseOf(body))).json().final.catch((e: unknown) => e)
      for (const error of [collected, streamed]) {
        expect(isParseError(error) && [error.line, error.offset]).toEqual([1, 3])
      }
    }
  })

  it('reports invalid JSON nested deeper than json() takes at its byte, not at byte 0', async () => {
    // collect.json() has no maxDepth (JSON.parse takes any depth): the error is where the text goes wrong.
    const res = await fromResponse(responseOf([`${'['.repeat(600)}1,,`]))
    const error = await res.collect.json().catch((e: unknown) => e)
    expect(isParseError(error) && [error.line, error.offset, error.message]).toEqual([
      1,
      602,
      expect.stringMatching(/^Expected a JSON value at line 1, byte 602: /),
    ])
  })
})

describe('res.collect.json() error offsets over invalid UTF-8', () => {
  /** Where `collect.json()` of `chunks` says the document fails, as `failureOf` gives it for `json()`. */
  const collectedFailureOf = async (chunks: Uint8Array[]): Promise<unknown> => {
    const error = await (await fromResponse(new Response(bodyOf(chunks).stream))).collect
      .json()
      .catch((e: unknown) => e)
    return isParseError(error) && { name: error.name, offset: error.offset, line: error.line }
  }

  it('counts the bytes a U+FFFD replaced, not its own 3, however the body is chunked', async () => {
    for (const [body, offset] of [
      // `x` is byte 6: the 0xFF before it is one byte of the body.
      [bytesOf('["', [0xff], '", x]'), 6],
      [bytesOf('["', [0xf0, 0x9f, 0x98], '", x]'), 8],
      [bytesOf('\uFEFF["', [0xe2, 0x82], 'é', [0xc0, 0xaf], '"x'), 12],
      // A genuine U+FFFD is 3 bytes of the body.
      [bytesOf('["\uFFFD', [0xff], '", x]'), 9],
      // Cut inside a sequence: the document ends after its 1 byte.
      [bytesOf('["a', [0xc3]), 4],
    ] as const) {
      for (const [label, chunks] of chunkings(body))
        expect(await collectedFailureOf(chunks), label).toEqual({ name: 'ParseError', offset, line: 1 })
    }
  })

  it('any document with invalid bytes, in any chunking: the byte json() names', async () => {
    await fc.assert(
      fc.asyncProperty(
        withInvalidBytes,
        fc.array(fc.nat({ max: 1000 }), { maxLength: 8 }),
        async (bytes, cuts) => {
          const chunks = cutAt(
            bytes,
            cuts.map((c) => c % (bytes.length + 1)),
          )
          expect(await collectedFailureOf(chunks)).toEqual(await failureOf([bytes]))
        },
      ),
      { numRuns: 150 },
    )
  })
})

describe('json(): checkpoints', () => {
  // A document has no unit boundary before its end: a checkpoint starts it over, mid-way and after `done` alike,
  // so that the process that continues from it gets the whole document (a drop within one stream goes on by Range).
  const serve = () =>
    fromResponse(
      new Response(new TextEncoder().encode(text), { headers: { 'accept-ranges': 'bytes', etag: '"v1"' } }),
      {
        url: 'https://example.test/doc',
      },
    )

  it('mid-document and after done, the checkpoint is at offset 0, and a resume from it gives the whole document', async () => {
    const res = await serve()
    const snapshots = res.json(Doc)
    let mid: ReturnType<typeof res.checkpoint> | undefined
    for await (const _ of snapshots) mid ??= res.checkpoint()
    const after = res.checkpoint()
    expect(await snapshots.final).toEqual(doc)
    expect([mid?.offset, after.offset]).toEqual([0, 0])
    let range: string | null | undefined
    const again = await sluice('https://example.test/doc', {
      resumeFrom: JSON.parse(JSON.stringify(after)) as typeof after,
      fetch: fetchWith((request) => {
        range = request.headers.get('range')
        return new Response(new TextEncoder().encode(text))
      }),
    })
    expect(await again.json(Doc).final).toEqual(doc)
    // A checkpoint from before any unit is a first request: no Range, and any version of the document answers.
    expect(range).toBeNull()
    expect(again.progress).toMatchObject({ state: 'done', loaded: new TextEncoder().encode(text).length })
  })
})

describe('collect.json(): checkpoints', () => {
  it('a checkpoint taken while it reads starts the document over, and collect.json() from it gives the whole', async () => {
    // As under json(): a document cannot be continued mid-way, so the checkpoint stands at offset 0.
    const body = gatedBody()
    const res = await fromResponse(
      new Response(body.stream, { headers: { 'accept-ranges': 'bytes', etag: '"v1"' } }),
      { url: 'https://example.test/doc' },
    )
    const collected = res.collect.json()
    body.push(text.slice(0, 10))
    await vi.waitFor(() => expect(res.progress.loaded).toBe(10))
    const mid = res.checkpoint()
    body.push(text.slice(10))
    body.close()
    expect(await collected).toEqual(doc)
    expect(mid.offset).toBe(0)
    let range: string | null | undefined
    const again = await sluice('https://example.test/doc', {
      resumeFrom: mid,
      fetch: fetchWith((request) => {
        range = request.headers.get('range')
        return new Response(new TextEncoder().encode(text))
      }),
    })
    expect(await again.collect.json()).toEqual(doc)
    expect(range).toBeNull()
  })
})

/** Where `json()` of `chunks` says the document fails, as data: the error's kind, byte offset and line. */
async function failureOf(chunks: Uint8Array[], maxDepth?: number): Promise<unknown> {
  const res = await fromResponse(new Response(bodyOf(chunks).stream))
  const error = await res.json(undefined, { maxDepth }).final.catch((e: unknown) => e)
  return (
    (isParseError(error) || isLimitError(error)) && {
      name: error.name,
      offset: error.offset,
      line: error.line,
    }
  )
}

/** The byte offset of character `at` of the text that `bytes` decode to (invalid bytes replaced), found apart. */
function byteOfCharacter(bytes: Uint8Array, at: number): number {
  // A BOM is a character of the text, as the parser counts it (it strips one).
  const decode = (part: Uint8Array) => new TextDecoder('utf-8', { ignoreBOM: true }).decode(part)
  const text = decode(bytes).slice(0, at)
  // The longest start of the bytes that decodes to the text before it: one byte more starts character `at`.
  let b = bytes.length
  while (decode(bytes.subarray(0, b)) !== text) b--
  return b
}

/** Bodies of JSON tokens, good and bad, with invalid UTF-8 inside strings and out, and a BOM or not. */
const withInvalidBytes = fc
  .tuple(
    fc.boolean(),
    fc.array(
      fc.oneof(
        {
          weight: 4,
          arbitrary: fc
            .constantFrom('{', '}', '[', ']', ',', ':', ' ', '"a"', '1', '2.5', 'é', 'x', '1.2.3')
            .map(encode),
        },
        { weight: 2, arbitrary: fc.constantFrom(...INVALID_UTF8).map((b) => bytesOf('"', b, '"')) },
        { weight: 1, arbitrary: fc.constantFrom(...INVALID_UTF8).map((b) => Uint8Array.from(b)) },
      ),
      { maxLength: 12 },
    ),
  )
  .map(([bom, parts]) => bytesOf(bom ? '\uFEFF' : '', ...parts.map((p) => Array.from(p))))

describe('json() error offsets over invalid UTF-8', () => {
  it('are byte offsets of the body when invalid bytes follow the error, however the body is chunked', async () => {
    const cases: Array<[string, Uint8Array, number | undefined, unknown]> = [
      // A U+FFFD is 3 bytes of text for 1 byte of body here: counted from the end, `x` would be at byte -3.
      [
        'after a bad key',
        bytesOf('{x "', [0xff, 0xff], '"}'),
        undefined,
        { name: 'ParseError', offset: 1, line: 1 },
      ],
      [
        'a bad character',
        bytesOf('[1, 2x, "', [0xe2, 0x82], '"]'),
        undefined,
        { name: 'ParseError', offset: 5, line: 1 },
      ],
      // A number is reported at its start, which may lie in an earlier chunk.
      ['a bad number', bytesOf('[1.2.3', [0xff], ']'), undefined, { name: 'ParseError', offset: 1, line: 1 }],
      [
        'nesting over maxDepth',
        bytesOf('["', [0xff], '", [["', [0xc0, 0xaf], '"]]]'),
        2,
        { name: 'LimitError', offset: 7, line: 1 },
      ],
      [
        'before them, as before',
        bytesOf('{"a": "', [0xff, 0xff], '", x}'),
        undefined,
        { name: 'ParseError', offset: 12, line: 1 },
      ],
    ]
    for (const [name, body, maxDepth, want] of cases) {
      for (const [label, chunks] of chunkings(body))
        expect(await failureOf(chunks, maxDepth), `${name}, ${label}`).toEqual(want)
    }
  })

  it('any document with invalid bytes, in any chunking: the offset of the character the parser names', async () => {
    await fc.assert(
      fc.asyncProperty(
        withInvalidBytes,
        fc.array(fc.nat({ max: 1000 }), { maxLength: 8 }),
        fc.integer({ min: 1, max: 3 }),
        async (bytes, cuts, maxDepth) => {
          // Where the parser fails on the whole text, in characters, and the byte that character starts at.
          let want: unknown
          try {
            const parser = createPartialJsonParser({ maxDepth })
            parser.push(new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes))
            parser.end()
          } catch (error) {
            if (isParseError(error) || isLimitError(error))
              want = { name: error.name, offset: byteOfCharacter(bytes, error.offset!), line: error.line }
          }
          const chunks = cutAt(
            bytes,
            cuts.map((c) => c % (bytes.length + 1)),
          )
          expect(await failureOf(chunks, maxDepth)).toEqual(want ?? false)
        },
      ),
      { numRuns: 150 },
    )
  })
})

/** A schema whose validation never settles; `inside` resolves once it has been entered. */
function hangingSchema(): { schema: StandardSchemaV1<unknown, unknown>; inside: Promise<void> } {
  let entered!: () => void
  const inside = new Promise<void>((resolve) => {
    entered = resolve
  })
  const schema: StandardSchemaV1<unknown, unknown> = {
    '~standard': {
      version: 1,
      vendor: 'test',
      validate: () => {
        entered()
        return new Promise<never>(() => {})
      },
    },
  }
  return { schema, inside }
}

/** What `json()` of `chunks` hands out before it fails: its last snapshot and completeness, and the error. */
async function lastBeforeFailure(chunks: Uint8Array[]): Promise<unknown> {
  const json = (await fromResponse(new Response(bodyOf(chunks).stream))).json()
  const { items, error } = await drain(json)
  return {
    last: items.at(-1),
    openPath: json.openPath,
    error: (isParseError(error) || isLimitError(error)) && [error.name, error.line, error.offset],
  }
}

describe('json(): what comes before a failure does not depend on the chunking', () => {
  it('hands out the values a chunk completed before its error, as when the error comes in a chunk of its own', async () => {
    for (const [body, last] of [
      ['[1,2,3,x]', [1, 2, 3]],
      ['[1,2,3x]', [1, 2, 3]],
      ['{"a":"bc","d":[true,null]x', { a: 'bc', d: [true, null] }],
      ['["ab\\x"]', ['ab']],
      // Completion alone: the string is finished (its path no longer open) in the last snapshot, cut anywhere.
      ['["abc"x]', ['abc']],
    ] as const) {
      const whole = await lastBeforeFailure([encode(body)])
      expect(whole, body).toMatchObject({ last })
      for (const [label, chunks] of chunkings(encode(body)))
        expect(await lastBeforeFailure(chunks), `${body}, ${label}`).toEqual(whole)
    }
  })

  it('any document with an error anywhere, in any chunking: the same last snapshot, completeness and error', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.jsonValue({ maxDepth: 3, stringUnit: 'grapheme' }),
        fc.nat(),
        fc.constantFrom('\u0001', 'x', ']', '}', ',', ':', '"', '1', '.', '-', 'é'),
        fc.array(fc.nat({ max: 1000 }), { maxLength: 8 }),
        async (value, at, bad, cuts) => {
          const valid = JSON.stringify(value, null, at % 3 === 0 ? 1 : undefined)
          const cut = at % (valid.length + 1)
          const text = valid.slice(0, cut) + bad + valid.slice(cut)
          fc.pre(!parses(text))
          const bytes = encode(text)
          const whole = await lastBeforeFailure([bytes])
          expect(whole).toMatchObject({ error: expect.any(Array) })
          const chunks = cutAt(
            bytes,
            cuts.map((c) => c % (bytes.length + 1)),
          )
          expect(await lastBeforeFailure(chunks)).toEqual(whole)
        },
      ),
      { numRuns: 150 },
    )
  })
})

function parses(text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

describe('a schema whose validation of the document never settles', () => {
  it.each(['res.cancel()', "the loop's break", "the user's abort"] as const)(
    '%s ends the loop, and final rejects (an AbortError, or the abort reason)',
    async (stop) => {
      const { schema, inside } = hangingSchema()
      const controller = new AbortController()
      const res = await fromResponse(responseOf(['{"a":', '1}']), { signal: controller.signal })
      const json = res.json(schema)
      let final: unknown
      json.final.then(
        () => {
          final = 'fulfilled'
        },
        (error: unknown) => {
          final = error
        },
      )
      const iterator = json[Symbol.asyncIterator]()
      let step = await iterator.next()
      while (!step.done && JSON.stringify(step.value) !== '{"a":1}') step = await iterator.next()
      let last: unknown
      iterator.next().then(
        (result) => {
          last = result
        },
        (error: unknown) => {
          last = error
        },
      )
      await inside
      const reason = new Error('user left')
      if (stop === 'res.cancel()') await res.cancel()
      else if (stop === "the loop's break") void iterator.return!()
      else controller.abort(reason)
      if (stop === "the user's abort") {
        await vi.waitFor(() => expect(last).toBe(reason))
        await vi.waitFor(() => expect(final).toBe(reason))
      } else {
        await vi.waitFor(() => expect(last).toEqual({ done: true, value: undefined }))
        await vi.waitFor(() => expect((final as Error | undefined)?.name).toBe('AbortError'))
      }
      expect(res.progress.state).toBe('cancelled')
    },
  )
})

it.each(['res.cancel()', "the app's abort"] as const)(
  'collect.json(schema): %s while the schema validates the document rejects it (an AbortError, or the abort reason)',
  async (stop) => {
    const { schema, inside } = hangingSchema()
    const app = new AbortController()
    const fetch = fetchWith(() => responseOf(['{"a":', '1}']))
    const res = await sluice('https://fn.test/doc', { fetch, signal: app.signal })
    const collected = res.collect.json(schema).then(
      () => 'fulfilled',
      (error: unknown) => error,
    )
    await inside
    const reason = new Error('the app shuts down')
    if (stop === 'res.cancel()') await res.cancel()
    else app.abort(reason)
    if (stop === 'res.cancel()') expect(await collected).toMatchObject({ name: 'AbortError' })
    else expect(await collected).toBe(reason)
  },
)

it("through sluice(), the app's abort while the schema validates the document after the body's end rejects final with its reason", async () => {
  // Past the body's end sluice no longer follows the app's signal, but for as long as a consumer waits on it.
  const { schema, inside } = hangingSchema()
  const app = new AbortController()
  const fetch = fetchWith(() => responseOf(['{"a":', '1}']))
  const res = await sluice('https://fn.test/doc', { fetch, signal: app.signal })
  const json = res.json(schema)
  const final = json.final.then(
    () => 'fulfilled',
    (error: unknown) => error,
  )
  void collect(json).catch(() => {})
  await inside
  const reason = new Error('the app shuts down')
  app.abort(reason)
  expect(await final).toBe(reason)
})

it('res.cancel() in the loop at the snapshot the end makes, before a never-settling validation starts, still ends the loop', async () => {
  const schema: StandardSchemaV1<unknown, unknown> = {
    '~standard': { version: 1, vendor: 'test', validate: () => new Promise<never>(() => {}) },
  }
  // A top-level number is complete only at the end of the body: its last snapshot comes after the body's end.
  const res = await fromResponse(responseOf(['12', '3']))
  const json = res.json(schema)
  let final: unknown
  json.final.catch((error: unknown) => {
    final = error
  })
  let ended = false
  void (async () => {
    for await (const snapshot of json) if (snapshot === 123) await res.cancel()
    ended = true
  })()
  await vi.waitFor(() => expect(ended).toBe(true))
  await vi.waitFor(() => expect((final as Error | undefined)?.name).toBe('AbortError'))
  expect(res.progress.state).toBe('cancelled')
})
