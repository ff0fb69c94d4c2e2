/**
 * Where the line, record and event consumers tell the resume engine they stand: a checkpoint (or a reconnect)
 * lands right after the last unit consumed — delivered, or skipped on purpose — never after a unit that failed,
 * one still being validated, or one over a limit, and an SSE checkpoint carries the id in force on the last
 * event delivered, never that of a later event the parser has already seen.
 */
import { describe, expect, it } from 'vitest'
import {
  type Checkpoint,
  fromResponse as fromResponseOf,
  isLimitError,
  isParseError,
  isResumeError,
  isValidationError,
  type StandardSchemaV1,
  type StreamResponse,
  sluice,
} from '../src/index.ts'
import { encode } from './support/chunking.ts'
import { base64, FAST, scripted } from './support/scripted.ts'
import { drain } from './support/streams.ts'

/** fromResponse() with a URL, which a checkpoint names. */
const fromResponse: typeof fromResponseOf = (response, options) =>
  fromResponseOf(response, { url: 'https://fn.example/stream', ...options })

const RANGES = { 'accept-ranges': 'bytes' }

/** A body whose chunks the test writes when it wants, so that a checkpoint can be taken while a read waits. */
function gated(headers: Record<string, string> = RANGES): {
  response: Response
  write: (text: string) => void
  close: () => void
} {
  let controller!: ReadableStreamDefaultController<Uint8Array>
  const stream = new ReadableStream<Uint8Array>({
    start: (c) => {
      controller = c
    },
  })
  return {
    response: new Response(stream, { headers }),
    write: (text) => controller.enqueue(encode(text)),
    close: () => controller.close(),
  }
}

/** A body of exactly these chunks. */
function chunked(parts: string[], headers: Record<string, string> = RANGES): Response {
  const stream = new ReadableStream<Uint8Array>({
    start: (controller) => {
      for (const part of parts) controller.enqueue(encode(part))
      controller.close()
    },
  })
  return new Response(stream, { headers })
}

/** The whole body in one chunk: every unit comes in one batch. */
const oneChunk = (text: string, headers: Record<string, string> = RANGES): Response =>
  chunked([text], headers)

/** What a checkpoint says about the position. */
function where(res: StreamResponse): {
  strategy: Checkpoint['strategy']
  offset: number
  lastEventId: string | undefined
} {
  const { strategy, offset, lastEventId } = res.checkpoint()
  return { strategy, offset, lastEventId }
}

/** A schema over `{ n }` records: `n` at least `min`; `hold(n)` makes that record's validation wait for `release`. */
function schemaOf(min: number, hold?: number) {
  let release!: () => void
  let started!: () => void
  const validating = new Promise<void>((resolve) => {
    started = resolve
  })
  const released = new Promise<void>((resolve) => {
    release = resolve
  })
  const check = (value: unknown): StandardSchemaV1.Result<{ n: number }> => {
    const n = (value as { n: number }).n
    return n >= min ? { value: { n } } : { issues: [{ message: `n < ${min}` }] }
  }
  const schema: StandardSchemaV1<unknown, { n: number }> = {
    '~standard': {
      version: 1,
      vendor: 'test',
      validate: (value) => {
        if ((value as { n: number }).n !== hold) return check(value)
        started()
        return released.then(() => check(value))
      },
    },
  }
  return { schema, validating, release }
}

// The first two records take 8 bytes each: the third, which fails a schema of n >= 0, starts at byte 16.
const RECORDS = [0, 1, -2, 3].map((n) => `{"n":${n}}\n`).join('')

// Events with a one-digit n >= 0 take 21 bytes each ("id: k\ndata: {"n":k}\n\n"): event k (from 1) ends at byte 21 * k.
const sseOf = (ns: number[]): string => ns.map((n) => `id: ${n}\ndata: {"n":${n}}\n\n`).join('')

describe('events(): the id a checkpoint carries is the one in force on the last event delivered', () => {
  // The first event has no id; the ids of the others are parsed in the same batch before it is delivered.
  const BODY = 'data: hello\n\nid: 1\ndata: one\n\nid: 2\ndata: two\n\nid: 3\ndata: three\n\n'

  it('after an event without an id, the checkpoint carries no id of a later event of its batch', async () => {
    const res = await fromResponse(oneChunk(BODY))
    const seen: Array<ReturnType<typeof where>> = []
    for await (const _ of res.events()) {
      seen.push(where(res))
      if (seen.length === 2) break
    }
    expect(seen).toEqual([
      { strategy: 'range', offset: 13, lastEventId: undefined },
      { strategy: 'last-event-id', offset: 30, lastEventId: '1' },
    ])
  })

  it('without Accept-Ranges, a checkpoint after an event without an id is refused rather than claim Last-Event-ID', async () => {
    const res = await fromResponse(oneChunk(BODY, {}))
    const events = res.events()[Symbol.asyncIterator]()
    expect((await events.next()).value).toMatchObject({ id: undefined, data: 'hello' })
    let error: unknown
    try {
      res.checkpoint()
    } catch (e) {
      error = e
    }
    expect(isResumeError(error) && error.reason).toBe('unsupported')
    await events.return?.()
  })

  it('a checkpoint after an event without an id, continued by a new client, completes the stream exactly', async () => {
    const s = await scripted({
      kind: 'range',
      body: base64(encode(BODY)),
      etag: ['"v1"'],
      type: 'text/event-stream',
    })
    const first = await sluice(s.url)
    const got: string[] = []
    let saved = ''
    for await (const event of first.events()) {
      got.push(event.data)
      saved = JSON.stringify(first.checkpoint())
      break
    }
    const res = await sluice(s.url, { resumeFrom: JSON.parse(saved) as Checkpoint })
    for await (const event of res.events()) got.push(event.data)
    expect(got).toEqual(['hello', 'one', 'two', 'three'])
    const requests = (await s.log()).filter((e) => e.event === 'request')
    expect(requests.map((r) => [r.range, r.lastEventId])).toEqual([
      [null, null],
      ['bytes=13-', null],
    ])
  })

  it('once every event of its batch is delivered, the checkpoint lands after an id-only block that follows, with its id', async () => {
    const body = gated()
    const res = await fromResponse(body.response)
    const events = res.events()[Symbol.asyncIterator]()
    body.write('data: a\n\nid: 7\n\n')
    expect((await events.next()).value).toMatchObject({ id: undefined, data: 'a' })
    expect(where(res)).toEqual({ strategy: 'last-event-id', offset: 16, lastEventId: '7' })
    body.write('data: b\n\n')
    body.close()
    expect((await events.next()).value).toMatchObject({ id: '7', data: 'b' })
    expect(where(res)).toEqual({ strategy: 'last-event-id', offset: 25, lastEventId: '7' })
    await events.return?.()
  })

  it('before the first event is delivered (its validation pending), a checkpoint carries no id and offset 0', async () => {
    const { schema, validating, release } = schemaOf(0, 1)
    const res = await fromResponse(oneChunk(sseOf([1, 2])))
    const events = res.events({ schema })[Symbol.asyncIterator]()
    const first = events.next()
    await validating
    expect(where(res)).toEqual({ strategy: 'range', offset: 0, lastEventId: undefined })
    release()
    expect((await first).value).toMatchObject({ id: '1', data: { n: 1 } })
    expect(where(res)).toEqual({ strategy: 'last-event-id', offset: 21, lastEventId: '1' })
    await events.return?.()
  })
})

describe('text(): a checkpoint lands on a character boundary', () => {
  it('before the bytes of a character that the chunk cut short, which the next text starts with', async () => {
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(Uint8Array.of(0x61, 0x62, 0xe2, 0x82))
        controller.enqueue(Uint8Array.of(0xac, 0x63))
        controller.close()
      },
    })
    const res = await fromResponse(new Response(stream, { headers: RANGES }))
    const texts = res.text()[Symbol.asyncIterator]()
    expect((await texts.next()).value).toBe('ab')
    expect(where(res)).toEqual({ strategy: 'range', offset: 2, lastEventId: undefined })
    expect((await texts.next()).value).toBe('€c')
    expect(where(res).offset).toBe(6)
    await texts.return?.()
  })
})

describe('a checkpoint after a record or event that failed lands before it', () => {
  it('ndjson(): after a record fails its schema, the checkpoint follows the last record delivered, and a fixed schema resumes with it', async () => {
    const s = await scripted({ kind: 'range', body: base64(encode(RECORDS)), etag: ['"v1"'] })
    const first = await sluice(s.url)
    const { items, error } = await drain(first.ndjson(schemaOf(0).schema))
    expect(isValidationError(error)).toBe(true)
    const checkpoint = first.checkpoint()
    expect(checkpoint).toMatchObject({ strategy: 'range', offset: 16, loaded: 16, items: 2 })
    const res = await sluice(s.url, { resumeFrom: checkpoint })
    const rest = await Array.fromAsync(res.ndjson(schemaOf(-10).schema))
    expect([...items, ...rest]).toEqual([{ n: 0 }, { n: 1 }, { n: -2 }, { n: 3 }])
  })

  it('ndjson(): after a line that is not JSON, the checkpoint lands before that line', async () => {
    const res = await fromResponse(oneChunk('{"n":0}\n\n{"n":1}\n{"n": oops}\n{"n":3}\n'))
    const { items, error } = await drain(res.ndjson())
    expect(items).toEqual([{ n: 0 }, { n: 1 }])
    expect(isParseError(error)).toBe(true)
    expect(where(res)).toMatchObject({ offset: 17 })
  })

  it('ndjson(): while the first record of a later chunk is being validated, the checkpoint lands before that chunk', async () => {
    const { schema, validating, release } = schemaOf(0, 1)
    const body = gated()
    const res = await fromResponse(body.response)
    const records = res.ndjson(schema)[Symbol.asyncIterator]()
    body.write('{"n":0}\n')
    expect((await records.next()).value).toEqual({ n: 0 })
    body.write('{"n":1}\n{"n":2}\n')
    const second = records.next()
    await validating
    // Not after the chunk's lines: none of them was delivered.
    expect(where(res).offset).toBe(8)
    release()
    expect((await second).value).toEqual({ n: 1 })
    expect(where(res).offset).toBe(16)
    await records.return?.()
  })

  it('ndjson(): while a record is being validated asynchronously, and after it fails, the checkpoint lands before it', async () => {
    const { schema, validating, release } = schemaOf(0, -2)
    const res = await fromResponse(oneChunk(RECORDS))
    const records = res.ndjson(schema)[Symbol.asyncIterator]()
    expect([(await records.next()).value, (await records.next()).value]).toEqual([{ n: 0 }, { n: 1 }])
    const third = records.next().then(
      () => undefined,
      (e: unknown) => e,
    )
    await validating
    expect(where(res).offset).toBe(16)
    release()
    expect(isValidationError(await third)).toBe(true)
    expect(where(res).offset).toBe(16)
  })

  it('events({ json: true }): after an event whose data is not JSON, the checkpoint follows the last event delivered, with its id', async () => {
    const res = await fromResponse(
      oneChunk('id: 1\ndata: {"n":1}\n\nid: 2\ndata: oops\n\nid: 3\ndata: {"n":3}\n\n'),
    )
    const { items, error } = await drain(res.events({ json: true }))
    expect(items.map((e) => e.data)).toEqual([{ n: 1 }])
    expect(isParseError(error)).toBe(true)
    expect(where(res)).toEqual({ strategy: 'last-event-id', offset: 21, lastEventId: '1' })
  })

  it('events({ schema }): after an event fails its schema, the checkpoint follows the last event delivered, with its id', async () => {
    const res = await fromResponse(oneChunk(sseOf([1, -2, 3])))
    const { items, error } = await drain(res.events({ schema: schemaOf(0).schema }))
    expect(items.map((e) => e.data)).toEqual([{ n: 1 }])
    expect(isValidationError(error)).toBe(true)
    expect(where(res)).toEqual({ strategy: 'last-event-id', offset: 21, lastEventId: '1' })
  })

  it('events({ schema }): while an event is being validated asynchronously, the checkpoint lands before it, with the id before it', async () => {
    const { schema, validating, release } = schemaOf(0, 2)
    const res = await fromResponse(oneChunk(sseOf([1, 2, 3])))
    const events = res.events({ schema })[Symbol.asyncIterator]()
    expect((await events.next()).value).toMatchObject({ id: '1' })
    const second = events.next()
    await validating
    expect(where(res)).toEqual({ strategy: 'last-event-id', offset: 21, lastEventId: '1' })
    release()
    expect((await second).value).toMatchObject({ id: '2' })
    expect(where(res)).toEqual({ strategy: 'last-event-id', offset: 42, lastEventId: '2' })
    await events.return?.()
  })

  const LONG = 'x'.repeat(64)
  const limits: Array<[string, string, (res: StreamResponse) => AsyncIterable<unknown>, number]> = [
    ['lines()', `aa\nbb\n${LONG}\ncc\n`, (res) => res.lines(), 6],
    ['ndjson()', `{"n":0}\n{"n":1}\n"${LONG}"\n{"n":3}\n`, (res) => res.ndjson(), 16],
    ['events()', `id: 1\ndata: a\n\nid: 2\ndata: ${LONG}\n\nid: 3\ndata: c\n\n`, (res) => res.events(), 15],
  ]
  for (const [name, body, read, offset] of limits) {
    it(`${name}: after a unit over its size limit, the checkpoint lands before that unit`, async () => {
      for (const chunks of [[body], [body.slice(0, offset), body.slice(offset)]]) {
        const res = await fromResponse(chunked(chunks), {
          maxLineBytes: 32,
          maxEventBytes: 32,
        })
        const { error } = await drain(read(res))
        expect(isLimitError(error), `${chunks.length} chunks`).toBe(true)
        expect(where(res).offset, `${chunks.length} chunks`).toBe(offset)
      }
    })
  }
})

describe('a final line over its limit', () => {
  it('lines(): found only at the end of the body, the checkpoint still lands before it', async () => {
    // 'é' is 2 bytes: 20 of them pass a 50-byte limit, 30 do not; only the end of the body measures them all.
    const res = await fromResponse(chunked([`aa\nbb\n${'é'.repeat(20)}`, 'é'.repeat(10)]), {
      maxLineBytes: 50,
    })
    const { items, error } = await drain(res.lines())
    expect(items).toEqual(['aa', 'bb'])
    expect(isLimitError(error) && error.message).toContain('Line 3 exceeds')
    expect(where(res).offset).toBe(6)
  })
})

describe('a unit skipped on purpose, or the terminal event, counts as consumed', () => {
  it('ndjson(): blank lines and records skipped by onInvalid are behind a checkpoint taken while the next read waits', async () => {
    const body = gated()
    const res = await fromResponse(body.response)
    const invalid: unknown[] = []
    const records = res
      .ndjson(schemaOf(0).schema, { onInvalid: (error) => invalid.push(error) })
      [Symbol.asyncIterator]()
    body.write('{"n":0}\n\n{"n":-1}\nnot json\n')
    expect((await records.next()).value).toEqual({ n: 0 })
    const next = records.next()
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(invalid).toHaveLength(2)
    expect(where(res).offset).toBe(27)
    body.write('{"n":3}\n')
    body.close()
    expect((await next).value).toEqual({ n: 3 })
    expect(where(res).offset).toBe(35)
  })

  it('events({ until }): after the terminal event ends the stream, the checkpoint lands past it, with its id', async () => {
    const res = await fromResponse(oneChunk('id: 1\ndata: a\n\nid: 2\ndata: [DONE]\n\nid: 3\ndata: late\n\n'))
    const events = await Array.fromAsync(res.events({ until: '[DONE]' }))
    expect(events.map((e) => e.data)).toEqual(['a'])
    expect(where(res)).toEqual({ strategy: 'last-event-id', offset: 35, lastEventId: '2' })
  })

  it("events({ onInvalid: 'skip' }): a reconnect after a skipped event asks for the events after it", async () => {
    const events = [
      { id: 'e0', data: '{"n":0}' },
      { id: 'e1', data: 'oops' },
      { id: 'e2', data: '{"n":2}' },
    ]
    // The connection drops inside the event after the skipped one: the reconnect must not ask for it again.
    const drop =
      encode(
        events
          .slice(0, 2)
          .map((e) => `id: ${e.id}\ndata: ${e.data}\n\n`)
          .join(''),
      ).length + 5
    const s = await scripted({ kind: 'sse', events, attempts: [{ drop }] })
    const res = await sluice(s.url, { resume: { backoff: FAST } })
    const got = await Array.fromAsync(res.events({ json: true, onInvalid: 'skip' }))
    expect(got.map((e) => e.id)).toEqual(['e0', 'e2'])
    const requests = (await s.log()).filter((e) => e.event === 'request')
    expect(requests.map((r) => r.lastEventId)).toEqual([null, 'e1'])
  })
})
