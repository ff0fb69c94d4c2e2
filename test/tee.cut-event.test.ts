/**
 * Under tee(), a body whose end nothing proves and that ends inside an SSE event is a cut for an events() branch
 * whatever the other branch's pace: a text() or bytes() branch that read the body to its end while the events()
 * branch still held bytes it had not decoded does not make the end a clean one. Both branches then resume (the
 * event comes whole, each byte once), or both fail, the events() branch after its complete events.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fromResponse, isResumeError, isTruncatedError, type StreamResponse, sluice } from '../src/index.ts'
import { bytesOf, cutAt, encode } from './support/chunking.ts'
import { cutOnceByRange } from './support/ranged-drop.ts'
import { bodyOf, drain, fetchWith, type Part } from './support/streams.ts'

const URL_ = 'http://fn.test/events'
const SSE = { 'content-type': 'text/event-stream' }
const FAST = { initial: 1, max: 1, jitter: 0 } as const

interface Outcome {
  events: { items: unknown[]; error: unknown }
  fast: { value: string | undefined; error: unknown }
}

/**
 * The events() branch takes `take` events (it decodes no further than the chunks they need), then the other branch
 * reads the whole body as text() or bytes() (queueing the rest for the events() branch), then the events() branch
 * reads on.
 */
async function behind(
  res: StreamResponse,
  take: number,
  other: 'text' | 'bytes',
  json = false,
): Promise<Outcome> {
  const [a, b] = res.tee()
  const events = a.events({ json })[Symbol.asyncIterator]()
  const items: unknown[] = []
  const next = async () => {
    const { done, value } = await events.next()
    if (!done) items.push(value.data)
    return !done
  }
  let error: unknown
  let fast: Outcome['fast'] = { value: undefined, error: undefined }
  try {
    for (let k = 0; k < take && (await next()); k++);
    const read =
      other === 'text' ? b.collect.text() : b.collect.bytes().then((bytes) => new TextDecoder().decode(bytes))
    fast = await read.then(
      (value) => ({ value, error: undefined }),
      (caught: unknown) => ({ value: undefined, error: caught }),
    )
    while (await next());
  } catch (caught) {
    error = caught
  }
  return { events: { items, error }, fast }
}

/** A response of `parts` with nothing that proves its end, and no way to resume. */
const plain = (parts: Part[]) =>
  fromResponse(new Response(bodyOf(parts).stream, { headers: SSE }), { url: URL_, resume: false })

describe('an events() branch behind a text() or bytes() branch that read to the end', () => {
  for (const other of ['text', 'bytes'] as const) {
    it(`fails with a TruncatedError after its complete events, the ${other}() branch too: the cut event queued`, async () => {
      const parts = ['id: 1\ndata: a\n\n', 'id: 2\ndata: b\n\n', 'id: 3\ndata: c']
      const { events, fast } = await behind(await plain(parts), 1, other)
      expect(events.items).toEqual(['a', 'b'])
      expect(isTruncatedError(events.error)).toBe(true)
      expect((events.error as Error).message).toContain(
        'inside the event starting at byte 30, "id: 3\\ndata: c"',
      )
      expect(isTruncatedError(fast.error)).toBe(true)
    })
  }

  it('fails when the event began in what it decoded and the bytes it holds do not end it', async () => {
    const { events, fast } = await behind(await plain(['data: a\n\nid: 2\nda', 'ta: b\n']), 1, 'text')
    expect(events.items).toEqual(['a'])
    expect((events.error as Error).message).toContain(
      'inside the event starting at byte 9, "id: 2\\ndata: b\\n"',
    )
    expect(isTruncatedError(fast.error)).toBe(true)
  })

  it('names the line where the event starts when lines are counted (json)', async () => {
    const { events } = await behind(await plain(['data: 1\n\n', ': c\r\n\r\ndata: {"a"']), 1, 'text', true)
    expect(events.items).toEqual([1])
    expect((events.error as Error).message).toContain(
      'the event starting at byte 16 (line 5), "data: {\\"a\\""',
    )
  })

  it('fails when the bytes it holds end inside a character, begun in what it decoded', async () => {
    // E2 held back by the decoder, 82 queued: a character of three bytes, cut after two.
    const { events, fast } = await behind(
      await plain([bytesOf('data: a\n\n: ', [0xe2]), Uint8Array.of(0x82)]),
      1,
      'text',
    )
    expect(events.items).toEqual(['a'])
    expect(isTruncatedError(events.error)).toBe(true)
    expect(isTruncatedError(fast.error)).toBe(true)
  })

  it('judges the bytes a tee of the branch holds, and those its source holds for it', async () => {
    const res = await plain(['id: 1\ndata: a\n\nid: 2\nda', 'ta: b\n\n', 'id: 3\ndata: c'])
    const [a, b] = res.tee()
    const [inner] = a.tee()
    const events = inner.events()[Symbol.asyncIterator]()
    expect((await events.next()).value?.data).toBe('a')
    expect(isTruncatedError(await b.collect.text().catch((error: unknown) => error))).toBe(true)
    const { items, error } = await drain({ [Symbol.asyncIterator]: () => events })
    expect(items.map((event) => event.data)).toEqual(['b'])
    expect((error as Error).message).toContain('inside the event starting at byte 30, "id: 3\\ndata: c"')
  })

  it('judges a body that starts with a BOM when it decoded none of it (attached, not read yet)', async () => {
    const bom = [0xef, 0xbb, 0xbf]
    const comment = await behind(await plain([bytesOf(bom, ': ping\n'), ': pong']), 0, 'text')
    expect(comment.events).toEqual({ items: [], error: undefined })
    expect(comment.fast.error).toBeUndefined()
    const cut = await behind(await plain([bytesOf(bom, 'data: a\n\n'), 'data: b']), 0, 'text')
    expect(cut.events.items).toEqual(['a'])
    expect((cut.events.error as Error).message).toContain('inside the event starting at byte 12, "data: b"')
  })

  for (const [label, parts] of [
    ['the bytes it holds end the event', ['data: a\n\nid: 2\nda', 'ta: b\n\n']],
    ['a comment without its line end', ['data: a\n\n', 'data: b\n\n: pi']],
    ['the blank line split across what it decoded and what it holds', ['data: a\n\ndata: b\r\n', '\r\n']],
    ['a CRLF split, then a blank line', ['data: a\n\ndata: b\r', '\n\n']],
    ['a lone CR at the very end', ['data: a\n\ndata: b\r\n', '\r']],
  ] as const) {
    it(`ends done, both branches: ${label}`, async () => {
      const { events, fast } = await behind(await plain([...parts]), 1, 'text')
      expect(events).toEqual({ items: ['a', 'b'], error: undefined })
      expect(fast).toEqual({ value: parts.join(''), error: undefined })
    })
  }
})

/**
 * A branch of a tee of the other branch is handed the last chunk a few microtasks before its consumer decodes it.
 * The text() branch reads the end `k` microtasks after that branch's read began, each `k` in turn, so that one of
 * them lands in between: what is judged must count the bytes handed and not decoded yet.
 */
async function handed(
  parts: string[],
  kind: 'events' | 'ndjson',
  k: number,
): Promise<{ items: unknown[]; error: unknown; text: string; textError: unknown }> {
  const headers = kind === 'events' ? SSE : { 'content-type': 'application/x-ndjson' }
  const res = await fromResponse(new Response(bodyOf(parts).stream, { headers }), {
    url: URL_,
    resume: false,
  })
  const [a, b] = res.tee()
  const [inner, other] = a.tee()
  await other.cancel()
  const units = (kind === 'events' ? inner.events() : inner.ndjson())[Symbol.asyncIterator]()
  const text = b.text()[Symbol.asyncIterator]()
  const chunks = [(await text.next()).value, (await text.next()).value]
  const items = [(await units.next()).value]
  const last = units.next()
  for (let j = 0; j < k; j++) await Promise.resolve()
  const end = await text.next().catch((error: unknown) => error)
  let error: unknown
  try {
    for (let step = await last; !step.done; step = await units.next()) items.push(step.value)
  } catch (caught) {
    error = caught
  }
  return {
    items: items.map((item) => (kind === 'events' ? (item as { data: string }).data : item)),
    error,
    text: chunks.join(''),
    textError: end instanceof Error ? end : undefined,
  }
}

describe('a branch of a tee of the other, handed the last chunk and not fed it yet, as the text() branch reads the end', () => {
  it('ndjson(): a whole body ends done, whenever the end is read', async () => {
    for (let k = 0; k < 32; k++) {
      const parts = ['{"k":0}\n{', '"k":1}\n']
      const outcome = await handed(parts, 'ndjson', k)
      expect(outcome, `k = ${k}`).toEqual({
        items: [{ k: 0 }, { k: 1 }],
        error: undefined,
        text: parts.join(''),
        textError: undefined,
      })
    }
  })

  it('events(): a whole body ends done, a cut one fails both branches, whenever the end is read', async () => {
    for (let k = 0; k < 32; k++) {
      const whole = await handed(['data: a\n\ndata: b', '\n\n'], 'events', k)
      expect(whole, `k = ${k}`).toMatchObject({ items: ['a', 'b'], error: undefined, textError: undefined })
      const cut = await handed(['data: a\n\n', 'data: b'], 'events', k)
      expect(cut.items, `k = ${k}`).toEqual(['a'])
      expect(isTruncatedError(cut.textError), `k = ${k}: ${String(cut.textError)}`).toBe(true)
      expect((cut.error as Error).message).toContain('inside the event starting at byte 9, "data: b"')
    }
  })
})

describe('resumed', () => {
  const blocks = ['id: 1\ndata: a\n\n', 'id: 2\ndata: b\n\n', 'id: 3\ndata: c\n\n']
  const full = blocks.join('')
  const cut = full.indexOf('data: c') + 5

  it('by Range: the events() branch gets the event whole, each branch every byte once', async () => {
    const { fetch, calls } = cutOnceByRange(encode(full), cut, SSE['content-type'], (part) =>
      cutAt(part, [15, 30]),
    )
    const res = await sluice(URL_, { fetch, resume: { strategy: 'range', backoff: FAST } })
    const { events, fast } = await behind(res, 1, 'text')
    expect(events).toEqual({ items: ['a', 'b', 'c'], error: undefined })
    expect(fast).toEqual({ value: full, error: undefined })
    expect(calls()).toBe(2)
  })

  it('by Last-Event-ID: no restart both branches can meet, so both fail rather than end done', async () => {
    let calls = 0
    const fetch = fetchWith((request) => {
      calls++
      const after = Number(request.headers.get('last-event-id') ?? 0)
      const text = encode(blocks.slice(after).join(''))
      return new Response(bodyOf(cutAt(calls === 1 ? text.slice(0, cut) : text, [15, 30])).stream, {
        headers: SSE,
      })
    })
    const res = await sluice(URL_, { fetch, resume: { strategy: 'last-event-id', backoff: FAST } })
    const { events, fast } = await behind(res, 1, 'text')
    expect(events.items).toEqual(['a', 'b'])
    expect(isResumeError(events.error)).toBe(true)
    expect(isTruncatedError((events.error as Error).cause)).toBe(true)
    expect(isResumeError(fast.error)).toBe(true)
    expect(calls).toBe(1)
  })
})

describe('any body, any chunking, any pace', () => {
  /** Events with comments, multi-line data, any line end, and a tail after the last (cut, or not). */
  const bodyArb = fc.record({
    blocks: fc.array(
      fc.record({
        data: fc.array(fc.constantFrom('x', '', 'é€', '😀'), { minLength: 1, maxLength: 2 }),
        comment: fc.boolean(),
        eol: fc.constantFrom('\n', '\r\n', '\r'),
      }),
      { minLength: 1, maxLength: 4 },
    ),
    tail: fc.constantFrom(
      '',
      'data: z',
      'data: z\n',
      'id: 9\r\n',
      ': ping',
      ': ping\n\n',
      '\r',
      'da',
      'data: é',
    ),
    tailCut: fc.nat(3),
    cuts: fc.array(fc.nat(120), { maxLength: 5 }),
    take: fc.nat(3),
    bom: fc.boolean(),
  })

  it('ends as events() alone does: done, or a TruncatedError after the same events', async () => {
    await fc.assert(
      fc.asyncProperty(bodyArb, async ({ blocks, tail, tailCut, cuts, take, bom }) => {
        const text = blocks
          .map(
            ({ data, comment, eol }) =>
              `${comment ? `: c${eol}` : ''}${data.map((d) => `data: ${d}${eol}`).join('')}${eol}`,
          )
          .join('')
        // A tail cut inside its last character too, at times.
        const whole = bytesOf(bom ? [0xef, 0xbb, 0xbf] : [], text + tail)
        const bytes = whole.subarray(0, whole.length - (tail === '' ? 0 : tailCut % 2))
        const alone = await drain(
          (
            await fromResponse(new Response(bodyOf(cutAt(bytes, cuts)).stream, { headers: SSE }), {
              url: URL_,
              resume: false,
            })
          ).events(),
        )
        const { events, fast } = await behind(
          await plain(cutAt(bytes, cuts)),
          Math.min(take, blocks.length),
          'text',
        )
        expect(events.items).toEqual(alone.items.map((event) => event.data))
        expect(isTruncatedError(events.error)).toBe(isTruncatedError(alone.error))
        expect(alone.error === undefined || isTruncatedError(alone.error)).toBe(true)
        expect(events.error === undefined).toBe(alone.error === undefined)
        expect(isTruncatedError(fast.error)).toBe(alone.error !== undefined)
        if (alone.error !== undefined)
          expect((events.error as Error).message).toBe((alone.error as Error).message)
      }),
      { numRuns: 150 },
    )
  })
})

describe('resumed by Range, any cut, any chunking, any pace', () => {
  it('gives the events() branch the events events() alone gets, the text() branch every byte once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom('data: x\n\n', 'id: 2\r\ndata: é\r\n\r\n', ': c\ndata: 😀\rdata:\r\r'), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.nat(200),
        fc.array(fc.nat(60), { maxLength: 4 }),
        fc.nat(3),
        async (blocks, where, cuts, take) => {
          const full = encode(blocks.join(''))
          const cut = where % (full.length + 1)
          const calls = [0, 0]
          const serve = (k: 0 | 1) =>
            fetchWith((request) => {
              calls[k]!++
              const from = Number(/bytes=(\d+)-/.exec(request.headers.get('range') ?? '')?.[1] ?? 0)
              const part = full.slice(from, calls[k] === 1 ? cut : full.length)
              const headers: Record<string, string> = { ...SSE, 'accept-ranges': 'bytes', etag: '"v1"' }
              if (from > 0) headers['content-range'] = `bytes ${from}-${full.length - 1}/${full.length}`
              return new Response(bodyOf(cutAt(part, cuts)).stream, { status: from > 0 ? 206 : 200, headers })
            })
          const options = { resume: { strategy: 'range', backoff: FAST } } as const
          const alone = await drain((await sluice(URL_, { fetch: serve(0), ...options })).events())
          const { events, fast } = await behind(
            await sluice(URL_, { fetch: serve(1), ...options }),
            take,
            'text',
          )
          expect(alone.error).toBeUndefined()
          expect(events).toEqual({ items: alone.items.map((event) => event.data), error: undefined })
          // Resumed where events() alone resumes (else the body ended at the cut, after a whole event): every byte once.
          expect(calls[1]).toBe(calls[0])
          expect(fast.value).toBe(new TextDecoder().decode(calls[0] === 2 ? full : full.slice(0, cut)))
        },
      ),
      { numRuns: 100 },
    )
  })
})
