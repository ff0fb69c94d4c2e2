/**
 * Resume and checkpoints under `tee()`, against a real server on 127.0.0.1: a drop resumes for both branches
 * with every unit delivered once to each, whatever their relative pace, and a branch's checkpoint stands where
 * that branch's consumer does.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type Checkpoint,
  isNetworkError,
  isResumeError,
  type StandardSchemaV1,
  type StreamResponse,
  sluice,
} from '../src/index.ts'
import { concatBytes, encode } from './support/chunking.ts'
import { type Exchange, manualServer, settle } from './support/manual-server.ts'
import { cursorAfter } from './support/resume-model.ts'
import { base64, FAST, type LogEntry, type Script, scripted } from './support/scripted.ts'

const EVENTS = Array.from({ length: 30 }, (_, i) => ({ id: `e${i}`, data: `{"i":${i},"s":"é😀${i}"}` }))
const IDS = EVENTS.map((e) => e.id)
const SSE = EVENTS.map((e) => `id: ${e.id}\ndata: ${e.data}\n\n`).join('')
/** The byte offset where each event ends in the first answer. */
let total = 0
const ENDS = EVENTS.map((e) => (total += encode(`id: ${e.id}\ndata: ${e.data}\n\n`).length))
const LINES = Array.from({ length: 40 }, (_, i) => `{"i":${i},"s":"ligne ${i} ${'€'.repeat(i % 3)}"}`)
const NDJSON = encode(`${LINES.join('\n')}\n`)
const RECORDS = LINES.map((line) => JSON.parse(line) as unknown)
const PACED = { chunk: 48, pace: 1 } as const

const sse = (attempts: Script['attempts'] = []): Script => ({
  kind: 'sse',
  events: EVENTS,
  attempts,
  ...PACED,
})
const ndjson = (attempts: Script['attempts'] = []): Script => ({
  kind: 'range',
  body: base64(NDJSON),
  etag: ['"v1"'],
  attempts,
  ...PACED,
})

const tick = () => new Promise((resolve) => setTimeout(resolve, 0))
/**
 * A slow branch takes a while over each of the first items, where the drops are: the other branch runs ahead
 * by up to the tee's buffer, so that at the drop the slow one is still some items behind.
 */
const linger = (slow: boolean, n: number) =>
  slow && n < 14 ? new Promise((resolve) => setTimeout(resolve, 15)) : undefined

/** Every event id a branch delivers. */
async function ids(branch: StreamResponse, slow = false): Promise<string[]> {
  const seen: string[] = []
  for await (const event of branch.events()) {
    seen.push(event.id ?? '')
    await linger(slow, seen.length)
  }
  return seen
}

async function records(branch: StreamResponse, slow = false): Promise<unknown[]> {
  const seen: unknown[] = []
  for await (const record of branch.ndjson()) {
    seen.push(record)
    await linger(slow, seen.length)
  }
  return seen
}

async function requests(s: { log: () => Promise<LogEntry[]> }): Promise<LogEntry[]> {
  return (await s.log()).filter((e) => e.event === 'request')
}

type Pace = 'together' | 'first slow' | 'second slow' | 'second after the first'

/** Both branches read, at the given relative pace; the second after the first needs a buffer for the body. */
async function both<T>(
  res: StreamResponse,
  pace: Pace,
  read: (branch: StreamResponse, slow: boolean) => Promise<T>,
): Promise<[T, T]> {
  const [a, b] = res.tee(pace === 'second after the first' ? {} : { maxBuffer: 200 })
  if (pace === 'second after the first') {
    const first = await read(a, false)
    return [first, await read(b, false)]
  }
  return Promise.all([read(a, pace === 'first slow'), read(b, pace === 'second slow')])
}

const PACES: Pace[] = ['together', 'first slow', 'second slow', 'second after the first']

const SSE_ANSWER = { headers: { 'content-type': 'text/event-stream' } }

/** A connection failing, as fetch's body reports it. */
const DROP = new TypeError('terminated')

/**
 * A server behind an injected `fetch` that answers every request at once with an SSE body (or `answer`'s) the
 * test feeds by hand (`push`, `fail`, `close`): `request(n)` is the `n`th request (from 1), once it comes. With
 * `later`, a request after the first waits until the test answers it.
 */
function handFed(
  later = false,
  answer: ResponseInit = SSE_ANSWER,
): { fetch: typeof fetch; request(n: number): Promise<Exchange> } {
  const server = manualServer()
  const waiting = new Map<number, (exchange: Exchange) => void>()
  return {
    fetch: ((input: RequestInfo | URL, init?: RequestInit) => {
      const response = server.fetch(input, init)
      const exchange = server.exchanges.at(-1)!
      if (!later || server.exchanges.length === 1) exchange.answer(answer)
      waiting.get(server.exchanges.length)?.(exchange)
      return response
    }) as typeof fetch,
    request: (n) =>
      n <= server.exchanges.length
        ? Promise.resolve(server.exchanges[n - 1]!)
        : new Promise((resolve) => waiting.set(n, resolve)),
  }
}

/**
 * A cursor-resumed answer of `type` by hand (`handFed`), its first request waiting, and the items its cursor was
 * given. The cursor asks for what follows `after(last)`: by default the item's `i`, in its data for events.
 */
async function byHand(
  type: string,
  {
    after = (last) => cursorAfter(last).searchParams.after,
    ...options
  }: { after?: (last: unknown) => string; maxEventBytes?: number; maxLineBytes?: number } = {},
) {
  const server = handFed(true, { headers: { 'content-type': type } })
  const given: unknown[] = []
  const res = await sluice('https://example.test/rows', {
    fetch: server.fetch,
    ...options,
    resume: {
      strategy: 'cursor',
      cursor: (last) => {
        given.push(last)
        return { searchParams: { after: after(last) } }
      },
      backoff: FAST,
    },
  })
  return { server, given, res, first: await server.request(1) }
}

describe.concurrent('tee() and resume', () => {
  // Inside the first event (nothing delivered yet), inside a later event, and two drops in a row.
  const DROPS = [[{ drop: 5 }], [{ drop: 301 }], [{ drop: 301 }, { drop: 250 }]]
  for (const drops of DROPS) {
    for (const pace of PACES) {
      it(`SSE with ids, drops at ${drops.map((d) => d.drop).join(' then ')}, branches read ${pace}: each gets every event once`, async () => {
        const s = await scripted(sse(drops))
        const res = await sluice(s.url, { resume: { backoff: FAST } })
        const [left, right] = await both(res, pace, ids)
        expect(left).toEqual(IDS)
        expect(right).toEqual(IDS)
        expect(await requests(s)).toHaveLength(drops.length + 1)
        expect(res.progress).toMatchObject({ state: 'done', items: IDS.length })
      })
    }
  }

  it('any drops, any buffer, any relative pace: each branch gets every event (Last-Event-ID) or record (cursor) once', async () => {
    const cursor = (row: unknown) => ({ searchParams: { after: String((row as { i: number }).i) } })
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('sse', 'cursor'),
        fc.array(fc.integer({ min: 1, max: 900 }), { minLength: 1, maxLength: 3 }),
        fc.constantFrom(8, 64, 1 << 20),
        // Timer turns each branch yields after an item, cycling: which branch is ahead changes as they go.
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 4, maxLength: 4 }),
        async (kind, drops, maxBuffer, turns) => {
          const attempts = drops.map((drop) => ({ drop }))
          const s = await scripted(
            kind === 'sse'
              ? sse(attempts)
              : { kind: 'cursor', records: EVENTS.map((e) => e.data), attempts, ...PACED },
          )
          const res = await sluice(s.url, {
            resume: kind === 'sse' ? { backoff: FAST } : { strategy: 'cursor', cursor, backoff: FAST },
          })
          const read = async (branch: StreamResponse, k: number): Promise<unknown[]> => {
            const seen: unknown[] = []
            const items: AsyncIterable<unknown> = kind === 'sse' ? branch.events() : branch.ndjson()
            for await (const item of items) {
              seen.push(kind === 'sse' ? (item as { id: string }).id : item)
              for (let t = turns[(2 * seen.length + k) % 4]!; t > 0; t--) await tick()
            }
            return seen
          }
          const [a, b] = res.tee({ maxBuffer })
          const expected = kind === 'sse' ? IDS : EVENTS.map((e) => JSON.parse(e.data) as unknown)
          expect(await Promise.all([read(a, 0), read(b, 1)])).toEqual([expected, expected])
        },
      ),
      { numRuns: 12 },
    )
  })

  it('SSE: the reconnect sends the id of the last event the leading branch delivered', async () => {
    const drop = 301
    const s = await scripted(sse([{ drop }]))
    // What had arrived when the drop was seen: the drop's offset, unless a browser starved of CPU discarded
    // chunks it had queued but not handed to the page yet (a stream that errors drops its queue).
    let arrived: number | undefined
    const res = await sluice(s.url, {
      resume: { backoff: FAST },
      onProgress: (p) => {
        if (p.state === 'reconnecting') arrived ??= p.loaded
      },
    })
    await both(res, 'second after the first', ids)
    expect(arrived).toBeLessThanOrEqual(drop)
    // The first branch read alone up to the drop: it delivered every event that ended before it.
    const last = ENDS.filter((end) => end <= arrived!).length - 1
    expect((await requests(s)).map((r) => r.lastEventId)).toEqual([null, IDS[last] ?? null])
  })

  for (const pace of PACES) {
    it(`NDJSON over Range, branches read ${pace}: the reconnect asks for the bytes after the last received, each branch gets every record once`, async () => {
      const drop = 333
      const s = await scripted(ndjson([{ drop }]))
      const res = await sluice(s.url, { resume: { backoff: FAST } })
      const [left, right] = await both(res, pace, records)
      expect(left).toEqual(RECORDS)
      expect(right).toEqual(RECORDS)
      expect((await requests(s)).map((r) => r.range)).toEqual([null, `bytes=${drop}-`])
      expect(res.progress).toMatchObject({ state: 'done', loaded: NDJSON.length })
    })
  }

  it('SSE: a branch cancelled before the drop holds nothing back; the other resumes from its own last event', async () => {
    const s = await scripted(sse([{ drop: 301 }]))
    const res = await sluice(s.url, { resume: { backoff: FAST } })
    const [a, b] = res.tee({ maxBuffer: 200 })
    const first: string[] = []
    for await (const event of a.events()) if (first.push(event.id ?? '') === 2) break
    expect(first).toEqual(IDS.slice(0, 2))
    expect(await ids(b)).toEqual(IDS)
    const last = ENDS.filter((end) => end <= 301).length - 1
    expect((await requests(s)).map((r) => r.lastEventId)).toEqual([null, IDS[last]])
  })

  it('SSE: a branch not read yet when the first answer drops before its first event reads the whole body as bytes', async () => {
    const s = await scripted(sse([{ drop: 5 }]))
    const res = await sluice(s.url, { resume: { backoff: FAST } })
    const [a, b] = res.tee()
    expect(await ids(a)).toEqual(IDS)
    // The restart was at byte 0: the unread branch, which has no consumer to restart, starts over with it.
    expect(await b.collect.bytes()).toEqual(encode(SSE))
    expect((await requests(s)).map((r) => r.lastEventId)).toEqual([null, null])
  })

  it('SSE: the leading branch cancelled during the reconnect leaves the other its queued events, then the rest after the id sent', async () => {
    // The drop waits until the client has read the bytes before it (else a loaded Chromium may lose them).
    const s = await scripted(sse([{ drop: 301, release: true }]))
    let a!: StreamResponse
    const res = await sluice(s.url, {
      // Long enough a backoff for the cancel to land while the reconnect waits.
      resume: { backoff: { initial: 200, max: 200, jitter: 0 } },
      progressInterval: 0,
      onProgress: (p) => {
        if (p.loaded === 301 && p.attempt === 1) void s.release()
        if (p.state === 'reconnecting') queueMicrotask(() => void a.cancel())
      },
    })
    const [first, b] = res.tee({ maxBuffer: 1 << 20 })
    a = first
    // The first branch reads alone up to the drop; the second, not read yet, holds every byte before it.
    const delivered = await ids(a)
    expect(delivered.length).toBeGreaterThan(0)
    expect(delivered).toEqual(IDS.slice(0, delivered.length))
    expect(await ids(b)).toEqual(IDS)
    expect((await requests(s)).map((r) => r.lastEventId)).toEqual([null, delivered.at(-1)])
  })

  it('events() and text() over one SSE body with ids resume by Range when asked to', async () => {
    const body = encode(SSE)
    const s = await scripted({
      kind: 'range',
      body: base64(body),
      type: 'text/event-stream',
      attempts: [{ drop: 301 }],
      ...PACED,
    })
    const res = await sluice(s.url, { resume: { strategy: 'range', backoff: FAST } })
    const [a, b] = res.tee({ maxBuffer: 64 })
    const [events, text] = await Promise.all([ids(a), b.collect.text()])
    expect(events).toEqual(IDS)
    expect(text).toBe(SSE)
  })

  it.each([
    ['text()', (branch: StreamResponse) => branch.collect.text()],
    ['raw bytes', (branch: StreamResponse) => branch.collect.bytes()],
  ])(
    'events() and %s cannot restart after Last-Event-ID together: the error says so, and neither branch gets a body spliced at an event',
    async (_, read) => {
      const s = await scripted(sse([{ drop: 301 }]))
      const res = await sluice(s.url, { resume: { backoff: FAST } })
      const [a, b] = res.tee({ maxBuffer: 64 })
      const results = await Promise.allSettled([ids(a), read(b)])
      for (const result of results) {
        expect(result.status).toBe('rejected')
        const error = (result as PromiseRejectedResult).reason as Error
        expect(isResumeError(error) && error.reason).toBe('not-resumable')
        expect(error.message).toMatch(/restarts at a record boundary/)
        expect(error.message).not.toMatch(/no SSE event id is in force/)
      }
      expect(await requests(s)).toHaveLength(1)
    },
  )
})

/** Reads `k` items from `branch`, takes its checkpoint in the loop body, and stops. */
async function upTo<T>(items: AsyncIterable<T>, k: number, branch: StreamResponse) {
  const seen: T[] = []
  let saved: Checkpoint | undefined
  for await (const item of items) {
    seen.push(item)
    if (seen.length === k) {
      saved = JSON.parse(JSON.stringify(branch.checkpoint())) as Checkpoint
      break
    }
  }
  if (saved === undefined) throw new Error(`fewer than ${k} items`)
  return { seen, saved }
}

describe.concurrent("a tee() branch's checkpoint", () => {
  it('stands where its own consumer does, for each branch, and resumes to exactly the rest (Range)', async () => {
    const s = await scripted(ndjson())
    const [a, b] = (await sluice(s.url)).tee()
    // One chunk holds more than three lines: a checkpoint at the chunk's end would lose some.
    const first = await upTo(a.ndjson(), 3, a)
    const second = await upTo(b.ndjson(), 17, b)
    expect(first.saved).toMatchObject({ strategy: 'range', items: 3 })
    expect(first.saved.offset).toBe(encode(`${LINES.slice(0, 3).join('\n')}\n`).length)
    expect(second.saved.offset).toBe(encode(`${LINES.slice(0, 17).join('\n')}\n`).length)
    for (const { seen, saved } of [first, second]) {
      const rest = await Array.fromAsync((await sluice(s.url, { resumeFrom: saved })).ndjson())
      expect([...seen, ...rest]).toEqual(RECORDS)
    }
  })

  it("carries its own consumer's last event id, and resumes to exactly the rest (Last-Event-ID)", async () => {
    const s = await scripted(sse())
    const [a, b] = (await sluice(s.url)).tee()
    const ahead = ids(b)
    const { seen, saved } = await upTo(a.events(), 4, a)
    expect(await ahead).toEqual(IDS)
    expect(saved).toMatchObject({ strategy: 'last-event-id', lastEventId: 'e3', items: 4 })
    const rest = await Array.fromAsync((await sluice(s.url, { resumeFrom: saved })).events())
    expect([...seen, ...rest].map((e) => e.id)).toEqual(IDS)
  })

  it('of a branch still reading the answer before a reconnect, resumes to exactly its rest', async () => {
    const s = await scripted(sse([{ drop: 301 }]))
    const [a, b] = (await sluice(s.url, { resume: { backoff: FAST } })).tee()
    // The first branch reads on through the reconnect; the second starts in the bytes queued before it.
    expect(await ids(a)).toEqual(IDS)
    const { seen, saved } = await upTo(b.events(), 2, b)
    expect(saved).toMatchObject({ lastEventId: 'e1', items: 2 })
    const rest = await Array.fromAsync((await sluice(s.url, { resumeFrom: saved })).events())
    expect([...seen, ...rest].map((e) => e.id)).toEqual(IDS)
  })

  it('of a branch cancelled before a reconnect stands before the new answer: its own event id, offset 0', async () => {
    const s = await scripted(sse([{ drop: 301 }]))
    const [a, b] = (await sluice(s.url, { resume: { backoff: FAST } })).tee({ maxBuffer: 200 })
    const { seen, saved } = await upTo(a.events(), 2, a)
    expect(await ids(b)).toEqual(IDS)
    // Taken again after the other branch resumed past the drop: still where the cancelled branch stopped.
    expect(a.checkpoint()).toMatchObject({
      strategy: 'last-event-id',
      lastEventId: 'e1',
      items: 2,
      offset: 0,
    })
    expect(saved).toMatchObject({ lastEventId: 'e1', items: 2, offset: ENDS[1] })
    const rest = await Array.fromAsync((await sluice(s.url, { resumeFrom: a.checkpoint() })).events())
    expect([...seen, ...rest].map((e) => e.id)).toEqual(IDS)
  })

  it('is refused on the response that was split: each branch has its own', async () => {
    const s = await scripted(ndjson())
    const res = await sluice(s.url)
    const [a, b] = res.tee()
    await Promise.all([records(a), records(b)])
    expect(() => res.checkpoint()).toThrow(
      expect.objectContaining({ name: 'ResumeError', reason: 'unsupported' }),
    )
    expect(() => res.checkpoint()).toThrow(/branch\.checkpoint\(\)/)
  })
})

describe.concurrent('a cancelled branch', () => {
  const EV = Array.from({ length: 30 }, (_, k) => ({ id: `e${k}`, data: JSON.stringify({ i: k, s: 'é😀' }) }))

  it('ends its iteration when cancelled while its own read waits, and pulls no more for the other', async () => {
    const s = await scripted({ kind: 'sse', events: EV, chunk: 40, pace: 5 })
    const res = await sluice(s.url)
    const [a, b] = res.tee({ maxBuffer: 64 })
    // b is not read yet: a fills b's buffer, then waits for it to drain.
    const loop = (async () => {
      for await (const _ of a.events()) {
        // reading
      }
      return 'ended'
    })()
    await new Promise((resolve) => setTimeout(resolve, 150))
    await a.cancel()
    const outcome = await Promise.race([
      loop,
      new Promise((resolve) => setTimeout(() => resolve('still pending'), 1000)),
    ])
    expect(outcome).toBe('ended')
    await b.cancel()
  })

  it('cancelled in its loop body leaves the resume to the other branch, which gets every event once', async () => {
    // Ten events of one length L, written three per piece, and a drop in the third piece.
    const ev = Array.from({ length: 10 }, (_, k) => ({ id: `e${k}`, data: `payload-${k}` }))
    const L = encode('id: e0\ndata: payload-0\n\n').length
    const s = await scripted({
      kind: 'sse',
      events: ev,
      attempts: [{ drop: Math.floor(7.5 * L) }],
      chunk: 3 * L,
      pace: 20,
    })
    const res = await sluice(s.url, { resume: { backoff: { initial: 100, max: 100, jitter: 0 } } })
    const [a, b] = res.tee({ maxBuffer: 1 << 20 })
    const slow = (async () => {
      const seen: string[] = []
      for await (const e of b.events()) {
        seen.push(e.id ?? '')
        // b stops in the middle of its first batch for a while.
        if (seen.length === 1) await new Promise((resolve) => setTimeout(resolve, 300))
      }
      return seen
    })()
    const fast = (async () => {
      let n = 0
      // a stops at the end of its first batch, as a Stop button would; its loop then asks once more.
      for await (const _ of a.events()) if (++n === 3) await a.cancel()
      return n
    })()
    const [seen, n] = await Promise.all([slow, fast])
    expect(n).toBe(3)
    expect(seen).toEqual(ev.map((e) => e.id))
  })
})

describe.concurrent('the cursor strategy under tee()', () => {
  const RECS = Array.from({ length: 6 }, (_, i) => `{"i":${i},"s":"é"}`)
  const after = (last: unknown) => {
    const item = last as { i?: number } | string
    const i = typeof item === 'string' ? (JSON.parse(item) as { i: number }).i : item.i
    return { searchParams: { after: String(i) } }
  }

  it('continues a tee of a tee branch: every branch gets every record once', async () => {
    for (const drop of [5, 40]) {
      const s = await scripted({ kind: 'cursor', records: RECS, attempts: [{ drop }], chunk: 8, pace: 1 })
      const res = await sluice(s.url, { resume: { strategy: 'cursor', cursor: after, backoff: FAST } })
      const [outer, inner] = res.tee()
      const [i0, i1] = inner.tee()
      const out = await Promise.all([outer, i0, i1].map((branch) => Array.fromAsync(branch.ndjson())))
      const expected = RECS.map((r) => JSON.parse(r) as unknown)
      expect(out, `a drop at ${drop}`).toEqual([expected, expected, expected])
    }
  })

  // One after another: its cases share `given`.
  describe('events() beside events({ json: true })', { concurrent: false }, () => {
    const EVS = Array.from({ length: 12 }, (_, i) => `{"i":${i},"s":"é😀 ${'x'.repeat(i % 4)}"}`)
    const PARSED = EVS.map((r) => JSON.parse(r) as unknown)
    /** The cursor's argument, checked to be the parsed event whichever branch is ahead. */
    const given: unknown[] = []
    const parsedAfter = (last: unknown) => {
      given.push(last)
      const data = (last as { data: unknown }).data
      if (typeof data !== 'object' || data === null)
        throw new TypeError(`not a parsed event: ${JSON.stringify(last)}`)
      return { searchParams: { after: String((data as { i: number }).i) } }
    }
    type Events = AsyncIterable<{ data: unknown }>
    /** Every event's data a branch delivers, parsed here when the branch reads raw events. */
    async function data(events: Events, json: boolean, slow = false): Promise<unknown[]> {
      const seen: unknown[] = []
      for await (const event of events) {
        seen.push(json ? event.data : JSON.parse(event.data as string))
        await linger(slow, seen.length)
      }
      return seen
    }
    const raw = (branch: StreamResponse, slow = false) => data(branch.events(), false, slow)
    const parsed = (branch: StreamResponse, slow = false) => data(branch.events({ json: true }), true, slow)
    const afters = async (s: { log: () => Promise<LogEntry[]> }) =>
      (await requests(s)).map((r) => new URLSearchParams(r.search).get('after'))

    /**
     * Reads the first branch raw or parsed, the second the other way, at the given relative pace. Both have
     * started (their iteration begun) before the first delivers anything.
     */
    async function mixed(res: StreamResponse, pace: Pace, first: 'raw' | 'parsed'): Promise<unknown[][]> {
      const [a, b] = res.tee(pace === 'second after the first' ? {} : { maxBuffer: 200 })
      const [readA, readB] = first === 'raw' ? [raw, parsed] : [parsed, raw]
      if (pace !== 'second after the first')
        return Promise.all([readA(a, pace === 'first slow'), readB(b, pace === 'second slow')])
      const events: Events = first === 'raw' ? b.events({ json: true }) : b.events()
      const started = events[Symbol.asyncIterator]()
      const firstRead = await readA(a)
      return [firstRead, await data({ [Symbol.asyncIterator]: () => started }, first === 'raw')]
    }

    // Inside the first event (nothing delivered yet), inside a later one, and two drops in a row.
    for (const drops of [[{ drop: 5 }], [{ drop: 150 }], [{ drop: 150 }, { drop: 90 }]]) {
      for (const pace of PACES) {
        for (const first of ['raw', 'parsed'] as const) {
          it(`drops at ${drops.map((d) => d.drop).join(' then ')}, the ${first} branch first, read ${pace}: one cursor continues both, each gets every event once`, async () => {
            given.length = 0
            const s = await scripted({
              kind: 'cursor',
              format: 'sse',
              records: EVS,
              attempts: drops,
              chunk: 16,
              pace: 1,
            })
            const res = await sluice(s.url, {
              resume: { strategy: 'cursor', cursor: parsedAfter, backoff: FAST },
            })
            expect(await mixed(res, pace, first)).toEqual([PARSED, PARSED])
            // One request per drop, each after the event the cursor was given, in the parsed shape.
            const sent = await afters(s)
            expect(sent).toHaveLength(drops.length + 1)
            expect(sent[0]).toBeNull()
            expect(given.map((e) => String((e as { data: { i: number } }).data.i))).toEqual(
              sent.slice(1).filter((after) => after !== null),
            )
          })
        }
      }
    }

    it('any drops, any buffer, any relative pace: each branch gets every event once', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 3 }),
          fc.constantFrom(8, 64, 1 << 20),
          fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 4, maxLength: 4 }),
          fc.boolean(),
          async (drops, maxBuffer, turns, rawFirst) => {
            const s = await scripted({
              kind: 'cursor',
              format: 'sse',
              records: EVS,
              attempts: drops.map((drop) => ({ drop })),
              ...PACED,
            })
            const res = await sluice(s.url, {
              resume: { strategy: 'cursor', cursor: parsedAfter, backoff: FAST },
            })
            const read = async (items: AsyncIterable<{ data: unknown }>, k: number, json: boolean) => {
              const seen: unknown[] = []
              for await (const event of items) {
                seen.push(json ? event.data : JSON.parse(event.data as string))
                for (let t = turns[(2 * seen.length + k) % 4]!; t > 0; t--) await tick()
              }
              return seen
            }
            const [a, b] = res.tee({ maxBuffer })
            const out = await Promise.all([
              rawFirst ? read(a.events(), 0, false) : read(a.events({ json: true }), 0, true),
              rawFirst ? read(b.events({ json: true }), 1, true) : read(b.events(), 1, false),
            ])
            expect(out).toEqual([PARSED, PARSED])
          },
        ),
        { numRuns: 12 },
      )
    })

    it('continues a tee of a tee branch the same way', async () => {
      for (const drop of [5, 150]) {
        const s = await scripted({
          kind: 'cursor',
          format: 'sse',
          records: EVS,
          attempts: [{ drop }],
          chunk: 16,
          pace: 1,
        })
        const res = await sluice(s.url, {
          resume: { strategy: 'cursor', cursor: parsedAfter, backoff: FAST },
        })
        const [outer, inner] = res.tee()
        const [i0, i1] = inner.tee()
        const out = await Promise.all([raw(outer), parsed(i0), raw(i1)])
        expect(out, `a drop at ${drop}`).toEqual([PARSED, PARSED, PARSED])
      }
    })

    it('before the parsed branch has started, the cursor gets the raw event, as events() alone gives it', async () => {
      const s = await scripted({
        kind: 'cursor',
        format: 'sse',
        records: EVS,
        attempts: [{ drop: 150 }],
        chunk: 16,
        pace: 1,
      })
      const shapes: string[] = []
      const either = (last: unknown) => {
        const { data } = last as { data: unknown }
        shapes.push(typeof data)
        const i = (typeof data === 'string' ? (JSON.parse(data) as { i: number }) : (data as { i: number })).i
        return { searchParams: { after: String(i) } }
      }
      const res = await sluice(s.url, { resume: { strategy: 'cursor', cursor: either, backoff: FAST } })
      const [a, b] = res.tee()
      expect([await raw(a), await parsed(b)]).toEqual([PARSED, PARSED])
      expect(shapes).toEqual(['string'])
    })

    /** A cursor stream of events with one whose data is not JSON, dropped right after that event. */
    async function dropsAfterNotJson() {
      const records = [...EVS.slice(0, 3), 'not json', ...EVS.slice(3)]
      const drop = encode(
        records
          .slice(0, 4)
          .map((r) => `data: ${r}\n\n`)
          .join(''),
      ).length
      const s = await scripted({
        kind: 'cursor',
        format: 'sse',
        records,
        attempts: [{ drop }],
        chunk: 16,
        pace: 1,
      })
      const res = await sluice(s.url, { resume: { strategy: 'cursor', cursor: parsedAfter, backoff: FAST } })
      return { s, res }
    }

    it('refuses when the event to continue after has data that is not JSON: the cursor would get no parsed event', async () => {
      const { s, res } = await dropsAfterNotJson()
      const [a, b] = res.tee()
      // The raw branch reads ahead, up to the drop.
      const later = b.events({ json: true, onInvalid: 'skip' })[Symbol.asyncIterator]()
      const first = await Array.fromAsync(a.events()).catch((e: unknown) => e)
      const second = await Array.fromAsync({ [Symbol.asyncIterator]: () => later }).catch((e: unknown) => e)
      for (const error of [first, second]) {
        expect(isNetworkError(error)).toBe(true)
        expect(String(error)).toContain(
          'it cannot be resumed: this consumer delivers no items (text or bytes), or tee() branches read different kinds of item',
        )
      }
      expect(await requests(s)).toHaveLength(1)
    })

    it('refuses as well when the events({ json: true }) branch leads and skipped that event: its last delivered one is not the place', async () => {
      const { s, res } = await dropsAfterNotJson()
      const [a, b] = res.tee()
      // The parsed branch reads ahead this time, skipping the event that is not JSON, up to the drop.
      const later = b.events()[Symbol.asyncIterator]()
      const first = await Array.fromAsync(a.events({ json: true, onInvalid: 'skip' })).catch(
        (e: unknown) => e,
      )
      const second = await Array.fromAsync({ [Symbol.asyncIterator]: () => later }).catch((e: unknown) => e)
      for (const error of [first, second]) {
        expect(isNetworkError(error)).toBe(true)
        expect(String(error)).toContain('it cannot be resumed')
      }
      expect(await requests(s)).toHaveLength(1)
    })

    describe('in a tee of a tee branch, read step by step', () => {
      type Way = 'raw' | 'parsed' | 'shaped'
      /** A schema that takes every event's data as it is: events({ schema }) delivers it parsed, as its own unit. */
      const SHAPED: StandardSchemaV1 = {
        '~standard': { version: 1, vendor: 'test', validate: (value) => ({ value }) },
      }
      /** Records `from` to `to - 1` on the wire, as a cursor server sends them. */
      const wire = (from: number, to = EVS.length) =>
        EVS.slice(from, to)
          .map((r) => `data: ${r}\n\n`)
          .join('')

      /**
       * The outer branch and the inner tee's two read the ways given; each delivers `counts` of the first four
       * events (the one that delivers all four then waits for more), `cancel` (if any) stops, and the first
       * answer drops. What the cursor was given, every event's data each branch delivers, and how each ended.
       */
      async function stepped(ways: [Way, Way, Way], counts: [number, number, number], cancel?: number) {
        const given: unknown[] = []
        const cursor = (last: unknown) => {
          given.push(last)
          const { data } = last as { data: unknown }
          const { i } = (typeof data === 'string' ? JSON.parse(data) : data) as { i: number }
          return { searchParams: { after: String(i) } }
        }
        const server = handFed()
        const res = await sluice('https://example.test/records', {
          fetch: server.fetch,
          resume: { strategy: 'cursor', cursor, backoff: FAST },
        })
        const first = await server.request(1)
        const [outer, inner] = res.tee()
        const branches = [outer, ...inner.tee()]
        const iterators = branches.map((branch, k) =>
          (ways[k] === 'raw'
            ? branch.events()
            : branch.events(ways[k] === 'parsed' ? { json: true } : { schema: SHAPED }))[
            Symbol.asyncIterator
          ](),
        )
        const seen: unknown[][] = [[], [], []]
        const take = (k: number, event: { data: unknown }) =>
          seen[k]!.push(ways[k] === 'raw' ? JSON.parse(event.data as string) : event.data)
        first.push(wire(0, 4))
        for (const [k, count] of counts.entries())
          for (let n = 0; n < count; n++) take(k, (await iterators[k]!.next()).value!)
        if (cancel !== undefined) await branches[cancel]!.cancel()
        const leader = counts.indexOf(4)
        const waiting = iterators[leader]!.next()
        first.fail(DROP)
        // The rest, after the event the cursor names, if the stream is continued at all.
        void server.request(2).then((second) => {
          second.push(wire(Number(new URL(second.request.url).searchParams.get('after')) + 1))
          second.close()
        })
        const ends = await Promise.allSettled(
          iterators.map(async (events, k) => {
            if (k === cancel) return
            let r = k === leader ? await waiting : await events.next()
            for (; !r.done; r = await events.next()) take(k, r.value)
          }),
        )
        const errors = ends.map((end) => (end.status === 'rejected' ? (end.reason as Error) : undefined))
        return { given, seen, errors }
      }

      it('the outer events() branch ahead: the cursor gets its event parsed, as the inner events({ json: true }) branch delivers it', async () => {
        const { given, seen, errors } = await stepped(['raw', 'raw', 'parsed'], [4, 1, 1])
        expect(errors).toEqual([undefined, undefined, undefined])
        expect(given).toEqual([expect.objectContaining({ data: PARSED[3] })])
        expect(seen).toEqual([PARSED, PARSED, PARSED])
      })

      it("the inner tee ahead, by its events({ json: true }) branch: the cursor continues after that branch's event", async () => {
        const { given, seen, errors } = await stepped(['raw', 'raw', 'parsed'], [1, 2, 4])
        expect(errors).toEqual([undefined, undefined, undefined])
        expect(given).toEqual([expect.objectContaining({ data: PARSED[3] })])
        expect(seen).toEqual([PARSED, PARSED, PARSED])
      })

      it('the inner events({ json: true }) branch cancelled: the cursor gets the raw event, as with events() alone', async () => {
        const { given, seen, errors } = await stepped(['raw', 'raw', 'parsed'], [4, 1, 1], 2)
        expect(errors).toEqual([undefined, undefined, undefined])
        expect(given).toEqual([expect.objectContaining({ data: EVS[3] })])
        expect(seen).toEqual([PARSED, PARSED, PARSED.slice(0, 1)])
      })

      it('the inner events() branch ahead by an event it holds, beside a text() branch that pulled it and was cancelled: the cursor gets that event parsed, as the outer events({ json: true }) branch will deliver it', async () => {
        const { server, given, res, first } = await byHand('text/event-stream')
        const [outer, inner] = res.tee()
        const [i0, i1] = inner.tee()
        const io = outer.events({ json: true })[Symbol.asyncIterator]()
        const i = i0.events()[Symbol.asyncIterator]()
        const text = i1.text()[Symbol.asyncIterator]()
        // text() pulls a chunk of two events and reads on; events() is handed it and delivers the first. text() is
        // cancelled while its read waits, and the answer drops; the outer branch has read nothing.
        const firstOfText = text.next()
        first.push(wire(0, 2))
        await firstOfText
        expect((await i.next()).value?.data).toBe(EVS[0])
        const ended = text.next()
        await i1.cancel()
        first.fail(DROP)
        await settle()
        // events() delivers the event it holds, then reads on into the reconnect, which goes out after it.
        expect((await i.next()).value?.data).toBe(EVS[1])
        const next = i.next()
        const second = await Promise.race([
          server.request(2),
          next.then(() => Promise.reject(new Error('events() read on with no reconnect'))),
        ])
        expect(given).toEqual([expect.objectContaining({ data: PARSED[1] })])
        second.answer(SSE_ANSWER)
        second.push(wire(2))
        second.close()
        expect((await next).value?.data).toBe(EVS[2])
        const rest = await Array.fromAsync({ [Symbol.asyncIterator]: () => i })
        expect(rest.map((e) => e.data)).toEqual(EVS.slice(3))
        const all = await Array.fromAsync({ [Symbol.asyncIterator]: () => io })
        expect(all.map((e) => e.data)).toEqual(PARSED)
        expect(await ended).toMatchObject({ done: true })
      })

      it.each([
        ['the outer events() branch ahead of two events({ schema })', ['raw', 'shaped', 'shaped'], [4, 1, 1]],
        [
          'the outer events() branch ahead of events() and events({ schema })',
          ['raw', 'raw', 'shaped'],
          [4, 1, 1],
        ],
        ['the inner events({ schema }) branch ahead', ['raw', 'raw', 'shaped'], [1, 1, 4]],
        ['the inner events() branch ahead', ['raw', 'raw', 'shaped'], [1, 4, 1]],
      ] as const)('%s: refused, as events() beside events({ schema }) is', async (_, ways, counts) => {
        const { given, errors } = await stepped([...ways], [...counts])
        for (const error of errors) expect(String(error)).toContain('it cannot be resumed')
        expect(given).toEqual([])
      })
    })
  })

  /** The `after` a reconnect asks from. */
  const askedAfter = (exchange: Exchange) => Number(new URL(exchange.request.url).searchParams.get('after'))
  /**
   * A tee of a tee over NDJSON: an outer text() branch beside an inner tee of two ndjson() branches. The first
   * inner branch pulls one chunk of the first `pushed` records and delivers the first (and is cancelled, with
   * `cancel`); the other's iteration is begun, nothing read. The outer branch reads the chunk, reads on and is
   * cancelled; the answer drops, and the second answers after the record the reconnect asks after. What the
   * inner branches deliver, what the cursor was given, and how the outer branch's pending read ends.
   */
  async function nestedDrop(records: readonly string[], pushed: number, cancel: boolean) {
    const { server, given, res, first } = await byHand('application/x-ndjson')
    const [outer, inner] = res.tee()
    const [i0, i1] = inner.tee()
    const text = outer.text()[Symbol.asyncIterator]()
    const i = i0.ndjson()[Symbol.asyncIterator]()
    const other = i1.ndjson()[Symbol.asyncIterator]()
    const firstOfI = i.next()
    first.push(
      records
        .slice(0, pushed)
        .map((r) => `${r}\n`)
        .join(''),
    )
    const head = (await firstOfI).value
    if (cancel) await i0.cancel()
    await text.next()
    const ended = text.next()
    await outer.cancel()
    first.fail(DROP)
    const second = await server.request(2)
    second.answer({ headers: { 'content-type': 'application/x-ndjson' } })
    second.push(
      records
        .slice(askedAfter(second) + 1)
        .map((r) => `${r}\n`)
        .join(''),
    )
    second.close()
    const live = await Array.fromAsync({ [Symbol.asyncIterator]: () => other })
    const rest = cancel ? [] : await Array.fromAsync({ [Symbol.asyncIterator]: () => i })
    return { head, live, rest, given, ended: await ended }
  }

  it('continues a tee of a tee after the records a cancelled branch of the inner tee was handed, which the live one beside it reads before it meets the restart: each record once', async () => {
    // The inner tee holds nothing back for its live branch, which reads both records: the restart is after them.
    const { head, live, given, ended } = await nestedDrop(RECS, 2, true)
    expect(head).toEqual(JSON.parse(RECS[0]!))
    expect(given).toEqual([JSON.parse(RECS[1]!)])
    expect(live).toEqual(RECS.map((r) => JSON.parse(r) as unknown))
    expect(ended).toMatchObject({ done: true })
  })

  it.each([
    ['cancelled', true],
    ['still reading', false],
  ] as const)(
    'continues a tee of a tee whose chunk is longer than a decoding slice, its first inner branch %s: the inner tee is handed a slice at a time too, each record once',
    async (_, cancel) => {
      const records = Array.from({ length: 400 }, (_, i) => JSON.stringify({ i, s: 'x'.repeat(100) }))
      const parsed = records.map((r) => JSON.parse(r) as unknown)
      // One chunk of 300 records, about 35 KB: longer than the 32 KiB a branch that decodes is handed at a time.
      // Before, the inner tee took it whole: the restart was planned within it, after what its first branch had
      // decoded, and its branches, holding the rest, met it behind their place and failed.
      const { head, live, rest, ended } = await nestedDrop(records, 300, cancel)
      expect(head).toEqual(parsed[0])
      expect(live).toEqual(parsed)
      if (!cancel) expect(rest).toEqual(parsed.slice(1))
      expect(ended).toMatchObject({ done: true })
    },
  )

  it.each([
    ['events()', 'text/event-stream', (r: string) => `data: ${r}\n\n`, (b: StreamResponse) => b.events()],
    ['ndjson()', 'application/x-ndjson', (r: string) => `${r}\n`, (b: StreamResponse) => b.ndjson()],
  ] as const)(
    'continues a tee of a tee after the items a %s branch delivers before one over the limit, not after the bytes its decoder read past it: a branch read later as bytes gets the body exactly',
    async (_, type, unit, read) => {
      const records = RECS.map((r, i) => (i === 2 ? JSON.stringify({ i, s: 'x'.repeat(100) }) : r))
      const { server, res, first } = await byHand(type, { maxEventBytes: 64, maxLineBytes: 64 })
      const [outer, inner] = res.tee()
      const [i0, i1] = inner.tee()
      const items = read(i0)[Symbol.asyncIterator]()
      const text = i1.text()[Symbol.asyncIterator]()
      // text() pulls a chunk of two items, one over the limit and one more, and reads on; the other inner branch
      // is handed it and delivers the first of the two before it. text() is cancelled, and the answer drops; the
      // outer branch has read nothing.
      const firstOfText = text.next()
      first.push(records.slice(0, 4).map(unit).join(''))
      await firstOfText
      await items.next()
      const ended = text.next()
      await i1.cancel()
      first.fail(DROP)
      const second = await server.request(2)
      second.answer({ headers: { 'content-type': type } })
      second.push(
        records
          .slice(askedAfter(second) + 1)
          .map(unit)
          .join(''),
      )
      second.close()
      // The branch delivers the second item, then fails on the one over the limit.
      await items.next()
      await expect(items.next()).rejects.toMatchObject({ name: 'LimitError' })
      const bytes = concatBytes(await Array.fromAsync(outer.bytes()))
      expect(new TextDecoder().decode(bytes)).toBe(records.map(unit).join(''))
      expect(await ended).toMatchObject({ done: true })
    },
  )

  it('refuses to continue branches that read different kinds of item, rather than lose or repeat any', async () => {
    const s = await scripted({ kind: 'cursor', records: RECS, attempts: [{ drop: 40 }], chunk: 8, pace: 1 })
    const res = await sluice(s.url, { resume: { strategy: 'cursor', cursor: after, backoff: FAST } })
    const [a, b] = res.tee()
    const settled = await Promise.allSettled([Array.fromAsync(a.lines()), Array.fromAsync(b.ndjson())])
    for (const outcome of settled) {
      expect(outcome.status).toBe('rejected')
      expect(String((outcome as PromiseRejectedResult).reason)).toContain(
        'tee() branches read different kinds',
      )
    }
    expect((await s.log()).filter((e) => e.event === 'request')).toHaveLength(1)
  })

  /** A cursor-resumed NDJSON answer by hand, tee()'d into ndjson() (`a`) and lines() (`b`), with their iterators. */
  async function ndjsonBesideLines() {
    const server = handFed(true, { headers: { 'content-type': 'application/x-ndjson' } })
    const res = await sluice('https://example.test/rows', {
      fetch: server.fetch,
      resume: { strategy: 'cursor', cursor: after, backoff: FAST },
    })
    const first = await server.request(1)
    const [a, b] = res.tee()
    return { server, first, a, ia: a.ndjson()[Symbol.asyncIterator](), ib: b.lines()[Symbol.asyncIterator]() }
  }

  it('continues a lines() branch as it would alone once the ndjson() branch beside it is cancelled: every line once', async () => {
    const { server, first, a, ia, ib } = await ndjsonBesideLines()
    // ndjson() delivers the first two records, waits for more and is cancelled; lines() has read nothing.
    first.push(`${RECS[0]}\n${RECS[1]}\n`)
    expect((await ia.next()).value).toEqual(JSON.parse(RECS[0]!))
    expect((await ia.next()).value).toEqual(JSON.parse(RECS[1]!))
    const ended = ia.next()
    await a.cancel()
    first.fail(DROP)
    // Once the drop is met, lines() reads on: it starts over, with no cursor, and gets the two lines it holds in
    // the answer, and only there.
    await settle()
    const rest = Array.fromAsync({ [Symbol.asyncIterator]: () => ib })
    const second = await Promise.race([
      server.request(2),
      rest.then(() => Promise.reject(new Error('lines() ended with no reconnect'))),
    ])
    expect(new URL(second.request.url).searchParams.has('after')).toBe(false)
    second.answer({ headers: { 'content-type': 'application/x-ndjson' } })
    second.push(RECS.map((r) => `${r}\n`).join(''))
    second.close()
    expect(await rest).toEqual(RECS)
    expect(await ended).toMatchObject({ done: true })
  })

  it('continues a lines() branch after the lines it was handed, not only those it delivered, once the ndjson() branch is cancelled: every line once', async () => {
    const { server, first, a, ia, ib } = await ndjsonBesideLines()
    // Both branches are handed one chunk of two records: ndjson() delivers both and waits for more, lines() the
    // first only. ndjson() is cancelled, and the answer drops.
    first.push(`${RECS[0]}\n${RECS[1]}\n`)
    expect((await ia.next()).value).toEqual(JSON.parse(RECS[0]!))
    expect((await ib.next()).value).toBe(RECS[0])
    expect((await ia.next()).value).toEqual(JSON.parse(RECS[1]!))
    const ended = ia.next()
    await a.cancel()
    first.fail(DROP)
    // The reconnect continues after the second line, which lines() delivers while it waits, then the rest.
    const second = await server.request(2)
    expect(new URL(second.request.url).searchParams.get('after')).toBe('1')
    expect((await ib.next()).value).toBe(RECS[1])
    const rest = Array.fromAsync({ [Symbol.asyncIterator]: () => ib })
    second.answer({ headers: { 'content-type': 'application/x-ndjson' } })
    second.push(
      RECS.slice(2)
        .map((r) => `${r}\n`)
        .join(''),
    )
    second.close()
    expect(await rest).toEqual(RECS.slice(2))
    expect(await ended).toMatchObject({ done: true })
  })

  /**
   * A cursor-resumed answer of `type` by hand, tee()'d and read by `read` on both branches, with the items its cursor
   * was given in `given` (the cursor continues after an item's `i`, in its data for events).
   */
  async function teeWithCursorLog(type: string, read: (branch: StreamResponse) => AsyncIterable<unknown>) {
    const { server, given, res, first } = await byHand(type)
    const [a, b] = res.tee()
    return {
      server,
      given,
      first,
      b,
      ia: read(a)[Symbol.asyncIterator](),
      ib: read(b)[Symbol.asyncIterator](),
    }
  }

  it.each([
    ['ndjson()', 'application/x-ndjson', (r: string) => `${r}\n`, (b: StreamResponse) => b.ndjson()],
    [
      'events({ json: true })',
      'text/event-stream',
      (r: string) => `data: ${r}\n\n`,
      (b: StreamResponse) => b.events({ json: true }),
    ],
  ] as const)(
    'gives the cursor the item a %s branch was handed, as it will deliver it, when it leads with the cancelled one',
    async (_, type, unit, read) => {
      const { server, given, first, b, ia, ib } = await teeWithCursorLog(type, read)
      // b pulls a chunk of two items and delivers both; a, handed it too, delivers the first. b is cancelled while
      // its read waits, and the answer drops: both stand after the second item, a with it still to deliver.
      const firstOfB = ib.next()
      first.push(unit(RECS[0]!) + unit(RECS[1]!))
      await firstOfB
      await ia.next()
      await ib.next()
      const ended = ib.next()
      await b.cancel()
      first.fail(DROP)
      const second = await server.request(2)
      // The item as the branch delivers it, with its data parsed: the cursor after the second.
      const bare = (item: unknown) => (item as { data?: unknown }).data ?? item
      expect(given.map(bare)).toEqual([JSON.parse(RECS[1]!)])
      const held = (await ia.next()).value
      const rest = Array.fromAsync({ [Symbol.asyncIterator]: () => ia })
      second.answer({ headers: { 'content-type': type } })
      second.push(RECS.slice(2).map(unit).join(''))
      second.close()
      expect([held, ...(await rest)].map(bare)).toEqual(RECS.slice(1).map((r) => JSON.parse(r) as unknown))
      expect(await ended).toMatchObject({ done: true })
    },
  )

  it.each([
    ['ndjson()', 'application/x-ndjson', (r: string) => `${r}\n`, '\n', (b: StreamResponse) => b.ndjson()],
    [
      'events({ json: true })',
      'text/event-stream',
      (r: string) => `data: ${r}\n\n`,
      'data: not json\n\n',
      (b: StreamResponse) => b.events({ json: true, onInvalid: 'skip' }),
    ],
  ] as const)(
    'gives the cursor the last item a %s branch delivered when the units it was handed after it give none',
    async (_, type, unit, none, read) => {
      const { server, given, first, b, ia, ib } = await teeWithCursorLog(type, read)
      // Both are handed a chunk of an item and a unit that is none (a blank line, data that is not JSON): b
      // delivers the item and passes the other, a delivers the item. b is cancelled while its read waits, and the
      // answer drops: both stand after the unit that is none, and the last item is still the first.
      const firstOfB = ib.next()
      first.push(unit(RECS[0]!) + none)
      await firstOfB
      await ia.next()
      const ended = ib.next()
      await b.cancel()
      first.fail(DROP)
      const second = await server.request(2)
      const bare = (item: unknown) => (item as { data?: unknown }).data ?? item
      expect(given.map(bare)).toEqual([JSON.parse(RECS[0]!)])
      const rest = Array.fromAsync({ [Symbol.asyncIterator]: () => ia })
      second.answer({ headers: { 'content-type': type } })
      second.push(RECS.slice(1).map(unit).join(''))
      second.close()
      expect((await rest).map(bare)).toEqual(RECS.slice(1).map((r) => JSON.parse(r) as unknown))
      expect(await ended).toMatchObject({ done: true })
    },
  )

  it('gives the cursor the blank line a lines() branch was handed last, which it delivers as a line', async () => {
    const { server, given, res, first } = await byHand('application/x-ndjson', { after: () => '0' })
    const [a, b] = res.tee()
    const ia = a.lines()[Symbol.asyncIterator]()
    const ib = b.lines()[Symbol.asyncIterator]()
    // Both are handed a record and a blank line; b delivers both and waits, a the record. b is cancelled, and the
    // answer drops: both stand after the blank line, the last line, which a delivers next.
    const firstOfB = ib.next()
    first.push(`${RECS[0]}\n\n`)
    await firstOfB
    expect((await ib.next()).value).toBe('')
    expect((await ia.next()).value).toBe(RECS[0])
    const ended = ib.next()
    await b.cancel()
    first.fail(DROP)
    const second = await server.request(2)
    expect(given).toEqual([''])
    const rest = Array.fromAsync({ [Symbol.asyncIterator]: () => ia })
    second.answer({ headers: { 'content-type': 'application/x-ndjson' } })
    second.push(`${RECS.slice(1).join('\n')}\n`)
    second.close()
    expect(await rest).toEqual(['', ...RECS.slice(1)])
    expect(await ended).toMatchObject({ done: true })
  })

  it('continues a branch beside a tee whose branches read nothing yet, one cancelled and one not read: each gets every record once', async () => {
    const { server, given, res, first } = await byHand('application/x-ndjson')
    const [outer, inner] = res.tee()
    const [i0, i1] = inner.tee()
    await i0.cancel()
    const items = outer.ndjson()[Symbol.asyncIterator]()
    // The outer branch delivers two records and waits for more; the inner tee, read by nobody, holds them.
    first.push(`${RECS[0]}\n${RECS[1]}\n`)
    expect((await items.next()).value).toEqual(JSON.parse(RECS[0]!))
    expect((await items.next()).value).toEqual(JSON.parse(RECS[1]!))
    const waiting = items.next()
    first.fail(DROP)
    // The inner tee follows the restart as a branch not read yet does: the cursor continues after the second.
    const second = await Promise.race([
      server.request(2),
      waiting.then(() => Promise.reject(new Error('no reconnect'))),
    ])
    expect(given).toEqual([JSON.parse(RECS[1]!)])
    second.answer({ headers: { 'content-type': 'application/x-ndjson' } })
    second.push(`${RECS.slice(2).join('\n')}\n`)
    second.close()
    const all = RECS.map((r) => JSON.parse(r) as unknown)
    expect((await waiting).value).toEqual(all[2])
    expect(await Array.fromAsync({ [Symbol.asyncIterator]: () => items })).toEqual(all.slice(3))
    // Read now, the inner branch gets the two records it holds of the first answer, then the rest.
    expect(await Array.fromAsync(i1.ndjson())).toEqual(all)
  })

  it('starts over for a branch beside a tee whose text() branch took part of the first event and whose events() branch read nothing, both cancelled: each event once', async () => {
    const { server, given, res, first } = await byHand('text/event-stream')
    const [a, b] = res.tee()
    const [e, f] = b.tee()
    e.events()[Symbol.asyncIterator]()
    const text = f.text()[Symbol.asyncIterator]()
    const events = RECS.map((r) => `data: ${r}\n\n`)
    first.push(events[0]!.slice(0, 8))
    expect((await text.next()).value).toBe(events[0]!.slice(0, 8))
    // A cancelled text() branch has no place to continue after, and no say: the inner tee stands where its events()
    // branch does, before the first event.
    await f.cancel()
    await e.cancel()
    first.fail(DROP)
    const read = Array.fromAsync(a.events())
    const second = await Promise.race([
      server.request(2),
      read.then(() => Promise.reject(new Error('no reconnect'))),
    ])
    expect(given).toEqual([])
    second.answer({ headers: { 'content-type': 'text/event-stream' } })
    second.push(events.join(''))
    second.close()
    expect((await read).map((event) => event.data)).toEqual(RECS)
  })

  describe('beside a tee of ndjson() and lines() that both lead and are cancelled', () => {
    // The inner tee's branches deliver a record more than the outer branch and are cancelled, the inner tee with
    // them; the answer drops. Its leaders read items of two kinds, so it has no say: the outer branch resumes as it
    // would alone, after its own last item, with the cursor given that item as it delivers it.
    it.each([
      ['ndjson()', (b: StreamResponse) => b.ndjson(), (r: string) => JSON.parse(r) as unknown],
      ['lines()', (b: StreamResponse) => b.lines(), (r: string) => r],
    ] as const)(
      'a %s branch behind resumes after its own last item: every item once',
      async (_, read, item) => {
        const { server, given, res, first } = await byHand('application/x-ndjson')
        const [outer, inner] = res.tee()
        const [i0, i1] = inner.tee()
        const records = i0.ndjson()[Symbol.asyncIterator]()
        const lines = i1.lines()[Symbol.asyncIterator]()
        const items = read(outer)[Symbol.asyncIterator]()
        first.push(`${RECS[0]}\n`)
        expect((await items.next()).value).toEqual(item(RECS[0]!))
        expect((await records.next()).value).toEqual(JSON.parse(RECS[0]!))
        expect((await lines.next()).value).toBe(RECS[0])
        const next = records.next()
        first.push(`${RECS[1]}\n`)
        expect((await next).value).toEqual(JSON.parse(RECS[1]!))
        expect((await lines.next()).value).toBe(RECS[1])
        // Both inner reads wait for more (one pulls the answer) when they are cancelled and the answer drops.
        const ended = [records.next(), lines.next()]
        await Promise.all([i0.cancel(), i1.cancel()])
        first.fail(DROP)
        await settle()
        const rest = Array.fromAsync({ [Symbol.asyncIterator]: () => items })
        const second = await Promise.race([
          server.request(2),
          rest.then(() => Promise.reject(new Error('no reconnect'))),
        ])
        expect(given).toEqual([item(RECS[0]!)])
        second.answer({ headers: { 'content-type': 'application/x-ndjson' } })
        second.push(`${RECS.slice(1).join('\n')}\n`)
        second.close()
        expect(await rest).toEqual(RECS.slice(1).map(item))
        for (const end of ended) expect(await end).toMatchObject({ done: true })
      },
    )

    it('a branch not read yet starts over, whichever leader is ahead: no one kind of item to continue after, every item once', async () => {
      for (const tie of [true, false]) {
        const { server, given, res, first } = await byHand('application/x-ndjson')
        const [outer, inner] = res.tee()
        const [i0, i1] = inner.tee()
        const records = i0.ndjson()[Symbol.asyncIterator]()
        const lines = i1.lines()[Symbol.asyncIterator]()
        first.push(`${RECS[0]}\n`)
        await records.next()
        await lines.next()
        const next = records.next()
        first.push(`${RECS[1]}\n`)
        await next
        // ndjson() ahead by a record, or lines() level with it.
        if (tie) await lines.next()
        const ended = [records.next(), lines.next()]
        await Promise.all([i0.cancel(), i1.cancel()])
        first.fail(DROP)
        const second = await server.request(2)
        expect(given, `tie ${tie}`).toEqual([])
        expect(new URL(second.request.url).searchParams.has('after')).toBe(false)
        second.answer({ headers: { 'content-type': 'application/x-ndjson' } })
        second.push(`${RECS.join('\n')}\n`)
        second.close()
        expect(await Array.fromAsync(outer.lines())).toEqual(RECS)
        for (const end of ended) expect(await end).toMatchObject({ done: true })
      }
    })
  })

  it('a drop in the answer after a restart that sent no byte, while a tee of the other branch still waits for its first, continues after the record its ndjson() branch made since delivered, not refused as by the plan of the drop before: each record once', async () => {
    const { server, given, res, first } = await byHand('application/x-ndjson')
    // The inner tee is the first branch: the branches at the restart point are looked through in that order.
    const [inner, outer] = res.tee()
    const [i0, i1] = inner.tee()
    const chunks = i1.text()[Symbol.asyncIterator]()
    const items = outer.ndjson()[Symbol.asyncIterator]()
    const all = RECS.map((r) => JSON.parse(r) as unknown)
    first.push(`${RECS[0]}\n`)
    expect((await items.next()).value).toEqual(all[0])
    const second = items.next()
    await settle()
    first.fail(DROP)
    const two = await server.request(2)
    two.answer({ headers: { 'content-type': 'application/x-ndjson' } })
    // text() reads the first record and waits for more, its read pulling the inner tee's: it is cancelled, and the
    // answer drops before its first byte. The inner tee, its read still waiting, plans with no branch reading.
    expect((await chunks.next()).value).toBe(`${RECS[0]}\n`)
    const ended = chunks.next()
    await settle()
    await i1.cancel()
    two.fail(DROP)
    const three = await server.request(3)
    expect(given).toEqual([all[0], all[0]])
    three.answer({ headers: { 'content-type': 'application/x-ndjson' } })
    // Its ndjson() branch, made only now, delivers the first record (it holds it: not held back for the answer's
    // first byte by that plan) and waits; the answer drops before a byte again.
    const records = i0.ndjson()[Symbol.asyncIterator]()
    expect(await Promise.race([records.next(), settle().then(() => 'held')])).toEqual({
      done: false,
      value: all[0],
    })
    const next = records.next()
    await settle()
    three.fail(DROP)
    // The inner tee's read waited through both restarts: not planned as it stood at the drop before (no item).
    const four = await Promise.race([
      server.request(4),
      Promise.all([second, next]).then(() => Promise.reject(new Error('no reconnect'))),
    ])
    expect(given).toEqual([all[0], all[0], all[0]])
    four.answer({ headers: { 'content-type': 'application/x-ndjson' } })
    four.push(`${RECS.slice(1).join('\n')}\n`)
    four.close()
    expect([
      (await second).value,
      ...(await Array.fromAsync({ [Symbol.asyncIterator]: () => items })),
    ]).toEqual(all.slice(1))
    expect([
      (await next).value,
      ...(await Array.fromAsync({ [Symbol.asyncIterator]: () => records })),
    ]).toEqual(all.slice(1))
    expect(await ended).toMatchObject({ done: true })
  })

  it("a branch read later, after an ndjson() branch and a tee's lines() branch that stand at one place and were cancelled, resumes after the line (the first's item): every record once", async () => {
    const { server, given, res, first } = await byHand('application/x-ndjson')
    const [inner, outer] = res.tee()
    const [i0, i1] = inner.tee()
    const lines = i1.lines()[Symbol.asyncIterator]()
    const items = outer.ndjson()[Symbol.asyncIterator]()
    const all = RECS.map((r) => JSON.parse(r) as unknown)
    first.push(`${RECS[0]}\n`)
    expect((await lines.next()).value).toBe(RECS[0])
    expect((await items.next()).value).toEqual(all[0])
    // Both wait for more and are cancelled, and the answer drops: neither reads, and each stands after the first
    // record, one as a line and one as a record. The inner tee's ndjson() branch, read only then, follows the restart.
    const ended = [lines.next(), items.next()]
    await settle()
    await Promise.all([i1.cancel(), outer.cancel()])
    first.fail(DROP)
    await settle()
    const rest = Array.fromAsync(i0.ndjson())
    const second = await Promise.race([
      server.request(2),
      rest.then(() => Promise.reject(new Error('no reconnect'))),
    ])
    expect(given).toEqual([RECS[0]])
    second.answer({ headers: { 'content-type': 'application/x-ndjson' } })
    second.push(`${RECS.slice(1).join('\n')}\n`)
    second.close()
    expect(await rest).toEqual(all)
    for (const end of ended) expect(await end).toMatchObject({ done: true })
  })

  describe('a drop at the start of the answer after a restart, its leaders there giving no item', () => {
    // The answer began after an item: the restart that replaces it continues after that one, not refused for want of
    // an item (a cursor cannot start over: the ndjson() branch left has delivered the first record).
    const all = RECS.map((r) => JSON.parse(r) as unknown)
    const ANSWER = { headers: { 'content-type': 'application/x-ndjson' } }

    it('cancelled there, of two kinds: the ndjson() branch read later gets every record once', async () => {
      const { server, given, res, first } = await byHand('application/x-ndjson')
      const [inner, outer] = res.tee()
      const [i0, i1] = inner.tee()
      const lines = i1.lines()[Symbol.asyncIterator]()
      const items = outer.ndjson()[Symbol.asyncIterator]()
      first.push(`${RECS[0]}\n`)
      expect((await items.next()).value).toEqual(all[0])
      expect((await lines.next()).value).toBe(RECS[0])
      // ndjson() waits for more and is cancelled; the answer drops: lines() alone reads, the restart is after its line.
      const ended = [items.next(), lines.next()]
      await settle()
      await outer.cancel()
      first.fail(DROP)
      const two = await server.request(2)
      expect(given).toEqual([RECS[0]])
      two.answer(ANSWER)
      // lines(), waiting for the answer's first byte, is cancelled too, and the answer drops before one: both
      // cancelled branches stand at its start, one after a line and one after a record.
      await settle()
      await i1.cancel()
      two.fail(DROP)
      await settle()
      // The inner ndjson() branch, read only now, holds the first record and follows the restart after it.
      const rest = Array.fromAsync(i0.ndjson())
      const three = await Promise.race([
        server.request(3),
        rest.then(() => Promise.reject(new Error('no reconnect'))),
      ])
      expect(given).toEqual([RECS[0], RECS[0]])
      three.answer(ANSWER)
      three.push(`${RECS.slice(1).join('\n')}\n`)
      three.close()
      expect(await rest).toEqual(all)
      for (const end of ended) expect(await end).toMatchObject({ done: true })
    })

    it('a tee of a tee branch that met the restart while its branches read two kinds, beside the cancelled ndjson() branch: its ndjson() branch gets every record once', async () => {
      const { server, given, res, first } = await byHand('application/x-ndjson')
      const [inner, outer] = res.tee()
      const [i0, i1] = inner.tee()
      const records = i0.ndjson()[Symbol.asyncIterator]()
      const items = outer.ndjson()[Symbol.asyncIterator]()
      first.push(`${RECS[0]}\n`)
      expect((await items.next()).value).toEqual(all[0])
      const ended = items.next()
      await settle()
      await outer.cancel()
      first.fail(DROP)
      const two = await server.request(2)
      expect(given).toEqual([all[0]])
      two.answer(ANSWER)
      // lines(), opened only now, reads the first line and meets the restart: the inner tee restarts there with an
      // ndjson() and a lines() branch reading, no one item between them. lines() is cancelled while its read waits
      // for the answer's first byte, and the answer drops before one.
      const lines = i1.lines()[Symbol.asyncIterator]()
      expect((await lines.next()).value).toBe(RECS[0])
      const waiting = lines.next()
      await settle()
      await i1.cancel()
      two.fail(DROP)
      await settle()
      const rest = Array.fromAsync({ [Symbol.asyncIterator]: () => records })
      const three = await Promise.race([
        server.request(3),
        rest.then(() => Promise.reject(new Error('no reconnect'))),
      ])
      expect(given).toEqual([all[0], all[0]])
      three.answer(ANSWER)
      three.push(`${RECS.slice(1).join('\n')}\n`)
      three.close()
      expect(await rest).toEqual(all)
      expect(await ended).toMatchObject({ done: true })
      expect(await waiting).toMatchObject({ done: true })
    })
  })

  it("a third drop, while the inner tee's ndjson() branch is still behind the second restart, continues after the outer branch's last record, not after the place the inner tee restarted from the first time: each record once", async () => {
    const { server, given, res, first } = await byHand('application/x-ndjson')
    // The inner tee is the first branch: the branches at the restart point are looked through in that order.
    const [inner, outer] = res.tee()
    const [i0, i1] = inner.tee()
    const records = i0.ndjson()[Symbol.asyncIterator]()
    const items = outer.ndjson()[Symbol.asyncIterator]()
    const all = RECS.map((r) => JSON.parse(r) as unknown)
    const got = { records: [] as unknown[], items: [] as unknown[] }
    // Both ndjson() branches deliver two records, and the answer drops: the cursor continues after the second.
    first.push(`${RECS[0]}\n${RECS[1]}\n`)
    got.items.push((await items.next()).value, (await items.next()).value)
    got.records.push((await records.next()).value, (await records.next()).value)
    const third = items.next()
    first.fail(DROP)
    const second = await server.request(2)
    second.answer({ headers: { 'content-type': 'application/x-ndjson' } })
    second.push(`${RECS[2]}\n`)
    got.items.push((await third).value)
    // The inner ndjson() branch meets the restart with the inner tee, which restarts after the second record too.
    got.records.push((await records.next()).value)
    second.push(`${RECS[3]}\n`)
    got.items.push((await items.next()).value)
    // lines(), opened only now, reads every line up to the fifth, pulling it; its next read waits when it is
    // cancelled, and the answer drops. The inner ndjson() branch, after the third record, is behind the outer one,
    // after the fourth, which the cursor continues after: the inner tee has handed its branches past there.
    const lines = i1.lines()[Symbol.asyncIterator]()
    for (let k = 0; k < 4; k++) await lines.next()
    const fifth = lines.next()
    second.push(`${RECS[4]}\n`)
    expect((await fifth).value).toBe(RECS[4])
    const ended = lines.next()
    await i1.cancel()
    second.fail(DROP)
    const thirdAnswer = await server.request(3)
    expect(given).toEqual([all[1], all[3]])
    // The new answer's first chunk, part of a record, takes the inner tee past the restart, its ndjson() branch still
    // behind it, after the third record. The outer branch reads that chunk and waits for the rest; the answer drops.
    thirdAnswer.answer({ headers: { 'content-type': 'application/x-ndjson' } })
    thirdAnswer.push(RECS[4]!.slice(0, 5))
    expect(await ended).toMatchObject({ done: true })
    const fifthItem = items.next()
    await settle()
    thirdAnswer.fail(DROP)
    // Not after the second record, where the inner tee last restarted: the outer branch has delivered the fourth.
    const fourth = await server.request(4)
    expect(given).toEqual([all[1], all[3], all[3]])
    fourth.answer({ headers: { 'content-type': 'application/x-ndjson' } })
    fourth.push(`${RECS.slice(4).join('\n')}\n`)
    fourth.close()
    got.items.push(
      (await fifthItem).value,
      ...(await Array.fromAsync({ [Symbol.asyncIterator]: () => items })),
    )
    got.records.push(...(await Array.fromAsync({ [Symbol.asyncIterator]: () => records })))
    expect(got).toEqual({ records: all, items: all })
  })

  describe('beside a tee whose ndjson(schema) branch delivered and was cancelled, its other branch not read yet', () => {
    // The schema's items are of another kind than ndjson()'s: the cancelled branch, which the inner tee alone speaks
    // for, has no say, and ndjson() resumes as it would alone; the inner branch, read later, follows the restart.
    /** Takes every item as it is, asynchronously. */
    const ANY: StandardSchemaV1 = {
      '~standard': { version: 1, vendor: 'test', validate: async (value) => ({ value }) },
    }
    const all = RECS.map((r) => JSON.parse(r) as unknown)

    /**
     * The cursor was given record `last`, and the second answer sends the records after it, once `read` (reading
     * the outer branch) has not ended without asking again.
     */
    async function continuedAfter(
      { server, given }: Awaited<ReturnType<typeof byHand>>,
      read: Promise<unknown>,
      last: number,
    ) {
      const second = await Promise.race([
        server.request(2),
        read.then(() => Promise.reject(new Error('no reconnect'))),
      ])
      expect(given).toEqual([all[last]])
      second.answer({ headers: { 'content-type': 'application/x-ndjson' } })
      second.push(`${RECS.slice(last + 1).join('\n')}\n`)
      second.close()
    }

    it('where ndjson() stands: the cursor continues after its record, and each branch gets every record once', async () => {
      const hand = await byHand('application/x-ndjson')
      const [outer, inner] = hand.res.tee()
      const [i0, i1] = inner.tee()
      const validated = i0.ndjson(ANY)[Symbol.asyncIterator]()
      const items = outer.ndjson()[Symbol.asyncIterator]()
      hand.first.push(`${RECS[0]}\n`)
      expect((await validated.next()).value).toEqual(all[0])
      await i0.cancel()
      expect((await items.next()).value).toEqual(all[0])
      const waiting = items.next()
      hand.first.fail(DROP)
      await continuedAfter(hand, waiting, 0)
      expect((await waiting).value).toEqual(all[1])
      expect(await Array.fromAsync({ [Symbol.asyncIterator]: () => items })).toEqual(all.slice(2))
      expect(await Array.fromAsync(i1.ndjson(ANY))).toEqual(all)
    })

    it('after a restart from the start, which it had no say in: where the new answer has not come as far as its record, the inner branch read later gets every record once', async () => {
      const { server, given, res, first } = await byHand('application/x-ndjson')
      const [outer, inner] = res.tee()
      const [i0, i1] = inner.tee()
      const validated = i0.ndjson(ANY)[Symbol.asyncIterator]()
      const items = outer.ndjson()[Symbol.asyncIterator]()
      first.push(`${RECS[0]}\n`)
      expect((await validated.next()).value).toEqual(all[0])
      const waiting = validated.next()
      await settle()
      await i0.cancel()
      first.fail(DROP)
      // ndjson(), which delivered nothing, starts over as it would alone.
      const two = await server.request(2)
      expect(given).toEqual([])
      two.answer({ headers: { 'content-type': 'application/x-ndjson' } })
      // It reads the first bytes of the new answer, part of the first record, and waits for more: it is cancelled,
      // and the answer drops. The cancelled ndjson(schema) branch stands after the first record, which the inner tee
      // has not been given again: not a place to continue from for the branch read later, which holds none of it.
      two.push(RECS[0]!.slice(0, 2))
      const next = items.next()
      await settle()
      await outer.cancel()
      two.fail(DROP)
      await settle()
      const rest = Array.fromAsync(i1.ndjson(ANY))
      const three = await Promise.race([
        server.request(3),
        rest.then(() => Promise.reject(new Error('no reconnect'))),
      ])
      expect(given).toEqual([])
      three.answer({ headers: { 'content-type': 'application/x-ndjson' } })
      three.push(`${RECS.join('\n')}\n`)
      three.close()
      expect(await rest).toEqual(all)
      for (const end of [waiting, next]) expect(await end).toMatchObject({ done: true })
    })

    it('ahead of ndjson(): the cursor continues after the record ndjson() delivered, and the inner tee follows it back', async () => {
      const hand = await byHand('application/x-ndjson')
      const [outer, inner] = hand.res.tee()
      const [i0, i1] = inner.tee()
      const validated = i0.ndjson(ANY)[Symbol.asyncIterator]()
      const items = outer.ndjson()[Symbol.asyncIterator]()
      hand.first.push(`${RECS[0]}\n`)
      expect((await items.next()).value).toEqual(all[0])
      expect((await validated.next()).value).toEqual(all[0])
      const second = validated.next()
      hand.first.push(`${RECS[1]}\n`)
      expect((await second).value).toEqual(all[1])
      // Its next read pulls the answer, and is still waiting when the branch is cancelled and the answer drops.
      void validated.next()
      await i0.cancel()
      hand.first.fail(DROP)
      await settle()
      // Read only now: the restart was planned when the drop was met, ndjson() holding the second record unread.
      const rest = Array.fromAsync({ [Symbol.asyncIterator]: () => items })
      await continuedAfter(hand, rest, 0)
      expect(await rest).toEqual(all.slice(1))
      expect(await Array.fromAsync(i1.ndjson(ANY))).toEqual(all)
    })
  })
})

const ALL = Array.from({ length: 10 }, (_, i) => `e${i}`)
/** The events after `id` (all of them after none) up to e<to - 1>, on the wire. */
const wire = (id: string | null, to = ALL.length) =>
  ALL.slice(id === null ? 0 : ALL.indexOf(id) + 1, to)
    .map((e) => `id: ${e}\ndata: ${e}\n\n`)
    .join('')
/** A stream of those events over a hand-fed server (reconnects answered by the test when `later`), and its first request. */
const opened = async (later = false) => {
  const server = handFed(later)
  const res = await sluice('https://example.test/events', {
    fetch: server.fetch,
    resume: { backoff: FAST },
  })
  return { server, res, first: await server.request(1) }
}

/** The second request, or the error with which `read` ended instead of waiting for it. */
const asked = (server: ReturnType<typeof handFed>, read: Promise<unknown>) =>
  Promise.race([
    server.request(2),
    read.then(
      () => Promise.reject(new Error('the read ended without asking again')),
      (error: unknown) => Promise.reject(error),
    ),
  ])

/**
 * `read`'s second request asks after the event `id` (`null`: from the start), and is answered with every event
 * after it.
 */
async function answeredAfter(server: ReturnType<typeof handFed>, read: Promise<unknown>, id: string | null) {
  const second = await asked(server, read)
  expect(second.lastEventId).toBe(id)
  second.answer(SSE_ANSWER)
  second.push(wire(id))
  second.close()
}

describe.concurrent('a reconnect while every live branch is still behind the last one', () => {
  it("restarts after the cancelled branch's last event, which the branch left still holds: it gets every event once", async () => {
    const { server, res, first } = await opened()
    const [a, b] = res.tee()
    const ia = a.events()[Symbol.asyncIterator]()
    const ib = b.events()[Symbol.asyncIterator]()
    // b delivers one event of the first answer and stops; a delivers all four, and waits for more.
    const firstOfB = ib.next()
    first.push(wire(null, 4))
    expect((await firstOfB).value?.id).toBe('e0')
    for (const id of ALL.slice(0, 4)) expect((await ia.next()).value?.id).toBe(id)
    const waiting = ia.next()
    first.fail(DROP)
    // The second answer begins after e3, a's last; b has e1 to e3 still to deliver from the first.
    const second = await server.request(2)
    expect(second.lastEventId).toBe('e3')
    second.push(wire('e3', 6))
    expect((await waiting).value?.id).toBe('e4')
    expect((await ia.next()).value?.id).toBe('e5')
    // a is cancelled while its read waits on the second answer, which then drops: b, the only branch left, has
    // delivered nothing of it, but holds the rest of the first answer and e4, e5 of the second.
    const ended = ia.next()
    await a.cancel()
    second.fail(DROP)
    const third = await server.request(3)
    third.push(wire(third.lastEventId))
    third.close()
    expect(await ended).toMatchObject({ done: true })
    const rest = await Array.fromAsync({ [Symbol.asyncIterator]: () => ib })
    expect(['e0', ...rest.map((e) => e.id)]).toEqual(ALL)
    expect(third.lastEventId).toBe('e5')
  })

  it('a branch that reads its queued events while the reconnect waits gets each once: the restart is after the cancelled branch that pulled them', async () => {
    const { server, res, first } = await opened(true)
    const [a, b] = res.tee()
    const ia = a.events()[Symbol.asyncIterator]()
    const ib = b.events()[Symbol.asyncIterator]()
    // a delivers e0 and e1 and waits for more; b, not read yet, holds both.
    first.push(wire(null, 2))
    expect((await ia.next()).value?.id).toBe('e0')
    expect((await ia.next()).value?.id).toBe('e1')
    const ended = ia.next()
    // a is cancelled while its read waits, and the answer drops: the reconnect goes out, after a's last event.
    await a.cancel()
    first.fail(DROP)
    const second = await server.request(2)
    // While it waits for its answer, b reads the two events it holds: the answer continues after them.
    expect((await ib.next()).value?.id).toBe('e0')
    expect((await ib.next()).value?.id).toBe('e1')
    const rest = Array.fromAsync({ [Symbol.asyncIterator]: () => ib })
    second.answer(SSE_ANSWER)
    second.push(wire(second.lastEventId))
    second.close()
    expect(['e0', 'e1', ...(await rest).map((e) => e.id)]).toEqual(ALL)
    expect(second.lastEventId).toBe('e1')
    expect(await ended).toMatchObject({ done: true })
  })

  it('a branch that still has events of a chunk it was handed to deliver when text() beside it is cancelled resumes after them: each once', async () => {
    const { server, res, first } = await opened(true)
    const [a, b] = res.tee()
    const ia = a.events()[Symbol.asyncIterator]()
    const ib = b.text()[Symbol.asyncIterator]()
    // text() reads a chunk of two events, and reads on; events() is handed the chunk and delivers the first.
    // text() is cancelled while its read waits, and the answer drops.
    first.push(wire(null, 2))
    expect((await ib.next()).value).toBe(wire(null, 2))
    expect((await ia.next()).value?.id).toBe('e0')
    const ended = ib.next()
    await b.cancel()
    first.fail(DROP)
    // The reconnect goes out after e1, which events() delivers while it waits, then the rest.
    const second = await server.request(2)
    expect(second.lastEventId).toBe('e1')
    expect((await ia.next()).value?.id).toBe('e1')
    const rest = Array.fromAsync({ [Symbol.asyncIterator]: () => ia })
    second.answer(SSE_ANSWER)
    second.push(wire(second.lastEventId))
    second.close()
    expect(['e0', 'e1', ...(await rest).map((e) => e.id)]).toEqual(ALL)
    expect(await ended).toMatchObject({ done: true })
  })

  it('the same with a chunk longer than a decoding slice: the branch is handed one slice at a time, and resumes after the events of the one it holds', async () => {
    const { server, res, first } = await opened(true)
    const ids = Array.from({ length: 400 }, (_, i) => `e${i}`)
    const events = (from: number, to = ids.length) =>
      ids
        .slice(from, to)
        .map((id) => `id: ${id}\ndata: ${'x'.repeat(100)}\n\n`)
        .join('')
    // 300 events of 117 to 119 bytes: more than a 32 KiB slice (`DECODE_SLICE_BYTES`), less than text()'s.
    const chunk = events(0, 300)
    const inSlice = ids.findLast((_, i) => encode(events(0, i + 1)).length <= 32 * 1024)
    const [a, b] = res.tee()
    const ia = a.events()[Symbol.asyncIterator]()
    const ib = b.text()[Symbol.asyncIterator]()
    first.push(chunk)
    expect((await ib.next()).value).toBe(chunk)
    expect((await ia.next()).value?.id).toBe('e0')
    const ended = ib.next()
    await b.cancel()
    first.fail(DROP)
    const second = await server.request(2)
    expect(second.lastEventId).toBe(inSlice)
    const rest = Array.fromAsync({ [Symbol.asyncIterator]: () => ia })
    second.answer(SSE_ANSWER)
    second.push(events(ids.indexOf(second.lastEventId!) + 1))
    second.close()
    expect(['e0', ...(await rest).map((e) => e.id)]).toEqual(ids)
    expect(await ended).toMatchObject({ done: true })
  })

  it('the same when the branch cancelled is a tee whose branches were all cancelled: its place is where they stopped', async () => {
    const { server, res, first } = await opened(true)
    const [outer, inner] = res.tee()
    const [i0, i1] = inner.tee()
    const io = outer.events()[Symbol.asyncIterator]()
    const ii = i1.events()[Symbol.asyncIterator]()
    // One inner branch is cancelled unread; the other delivers e0 and waits for more; the outer one holds e0.
    await i0.cancel()
    first.push(wire(null, 1))
    expect((await ii.next()).value?.id).toBe('e0')
    const ended = ii.next()
    await i1.cancel()
    first.fail(DROP)
    const second = await server.request(2)
    // While the reconnect waits, the outer branch reads the event it holds: the answer continues after it.
    expect((await io.next()).value?.id).toBe('e0')
    const rest = Array.fromAsync({ [Symbol.asyncIterator]: () => io })
    second.answer(SSE_ANSWER)
    second.push(wire(second.lastEventId))
    second.close()
    expect(['e0', ...(await rest).map((e) => e.id)]).toEqual(ALL)
    expect(second.lastEventId).toBe('e0')
    expect(await ended).toMatchObject({ done: true })
  })

  it("resumes after the outer branch's last event, not after the one a tee of the other branch last restarted from, when the restart before passed that tee's events() branch by: each event once", async () => {
    const { server, res, first } = await opened(true)
    // The inner tee is the first branch: the branches at the restart point are looked through in that order.
    const [inner, outer] = res.tee()
    const [i0, i1] = inner.tee()
    const ii = i0.events()[Symbol.asyncIterator]()
    const io = outer.events()[Symbol.asyncIterator]()
    const id = async (items: AsyncIterator<{ id?: string | undefined }>) => (await items.next()).value?.id
    const got = { inner: [] as unknown[], outer: [] as unknown[] }
    // Both events() branches deliver e0 and e1, and the answer drops: it continues after e1, the inner tee too.
    first.push(wire(null, 2))
    got.outer.push(await id(io), await id(io))
    got.inner.push(await id(ii), await id(ii))
    const third = id(io)
    first.fail(DROP)
    const second = await server.request(2)
    second.answer(SSE_ANSWER)
    second.push(wire('e1', 3))
    got.outer.push(await third)
    got.inner.push(await id(ii))
    second.push(wire('e2', 4))
    got.outer.push(await id(io))
    // lines(), opened only now, reads every line up to e4's, pulling it; its next read waits when it is cancelled,
    // and the answer drops: the restart is after e3, where the outer branch stands, past the inner events() branch,
    // after e2, and behind the inner tee, which has handed out e4.
    const lines = i1.lines()[Symbol.asyncIterator]()
    for (let k = 0; k < 12; k++) await lines.next()
    const e4 = lines.next()
    second.push(wire('e3', 5))
    expect((await e4).value).toBe('id: e4')
    await lines.next()
    await lines.next()
    const ended = lines.next()
    await i1.cancel()
    second.fail(DROP)
    const thirdAnswer = await server.request(3)
    expect(thirdAnswer.lastEventId).toBe('e3')
    // Part of e4, the new answer's first chunk, takes the inner tee past the restart, its events() branch still
    // behind it, after e2. The outer branch reads that chunk and waits for the rest; the answer drops again.
    thirdAnswer.answer(SSE_ANSWER)
    thirdAnswer.push('id: e')
    expect(await ended).toMatchObject({ done: true })
    const fifth = id(io)
    await settle()
    thirdAnswer.fail(DROP)
    // Not after e1, where the inner tee last restarted: the outer branch has delivered e3.
    const fourth = await server.request(4)
    expect(fourth.lastEventId).toBe('e3')
    fourth.answer(SSE_ANSWER)
    fourth.push(wire('e3'))
    fourth.close()
    got.outer.push(
      await fifth,
      ...(await Array.fromAsync({ [Symbol.asyncIterator]: () => io })).map((e) => e.id),
    )
    got.inner.push(...(await Array.fromAsync({ [Symbol.asyncIterator]: () => ii })).map((e) => e.id))
    expect(got).toEqual({ inner: ALL, outer: ALL })
  })
})

describe.concurrent('a branch whose consumer is made while the body reconnects', () => {
  it('leaves the progress reconnecting until the new answer is in, then reads every event once', async () => {
    const { server, res, first } = await opened(true)
    const [a, b] = res.tee()
    const ia = a.events()[Symbol.asyncIterator]()
    first.push(wire(null, 2))
    expect((await ia.next()).value?.id).toBe('e0')
    expect((await ia.next()).value?.id).toBe('e1')
    const waiting = ia.next()
    first.fail(DROP)
    const second = await server.request(2)
    expect([b.progress.state, b.progress.attempt]).toEqual(['reconnecting', 2])
    // b's consumer is made now: the body still waits for its new answer, and says so.
    const ib = b.events()[Symbol.asyncIterator]()
    expect([a.progress.state, b.progress.state]).toEqual(['reconnecting', 'reconnecting'])
    second.answer(SSE_ANSWER)
    second.push(wire('e1'))
    second.close()
    expect((await waiting).value?.id).toBe('e2')
    expect(b.progress.state).toBe('streaming')
    const restOfA = await Array.fromAsync({ [Symbol.asyncIterator]: () => ia })
    const ofB = await Array.fromAsync({ [Symbol.asyncIterator]: () => ib })
    expect(['e0', 'e1', 'e2', ...restOfA.map((e) => e.id)]).toEqual(ALL)
    expect(ofB.map((e) => e.id)).toEqual(ALL)
    expect(second.lastEventId).toBe('e1')
  })
})

describe.concurrent('a text() branch made but not read yet at a drop, beside an events() branch', () => {
  // text() carries no event id, so while it reads, a Last-Event-ID restart is refused; until it has been handed a
  // byte it has delivered nothing a restart could repeat, and follows the restart as a branch not read yet does.

  /**
   * `branch`'s events() reads e0 to e2, the answer drops while its next read waits, and the second answer, asked
   * after e2, continues: the branch gets every event once.
   */
  async function acrossTheDrop(
    server: ReturnType<typeof handFed>,
    first: Exchange,
    branch: StreamResponse,
    pushed?: () => Promise<void>,
  ) {
    const events = branch.events()[Symbol.asyncIterator]()
    first.push(wire(null, 3))
    await pushed?.()
    for (const id of ALL.slice(0, 3)) expect((await events.next()).value?.id).toBe(id)
    const waiting = events.next()
    first.fail(DROP)
    const second = await asked(server, waiting)
    expect(second.lastEventId).toBe('e2')
    second.push(wire('e2'))
    second.close()
    const next = (await waiting).value?.id
    const rest = await Array.fromAsync({ [Symbol.asyncIterator]: () => events })
    expect(['e0', 'e1', 'e2', next, ...rest.map((e) => e.id)]).toEqual(ALL)
  }

  it('follows the restart after the last event of the branch that reads: each gets the body once', async () => {
    const { server, res, first } = await opened()
    const [a, b] = res.tee()
    const text = b.text()[Symbol.asyncIterator]()
    await acrossTheDrop(server, first, a)
    expect((await Array.fromAsync({ [Symbol.asyncIterator]: () => text })).join('')).toBe(wire(null))
  })

  for (const cancelled of [false, true])
    it(`in a tee of a tee branch, beside a branch not read yet, ${cancelled ? 'cancelled, has no say in' : 'follows'} the restart`, async () => {
      const { server, res, first } = await opened()
      const [a, b] = res.tee()
      const [t, late] = b.tee()
      const text = t.text()[Symbol.asyncIterator]()
      if (cancelled) await t.cancel()
      await acrossTheDrop(server, first, a)
      const read = (await Array.fromAsync({ [Symbol.asyncIterator]: () => text })).join('')
      expect(read).toBe(cancelled ? '' : wire(null))
      expect((await Array.fromAsync(late.events())).map((e) => e.id)).toEqual(ALL)
    })

  it('in a tee of a tee branch, read and then cancelled, has no say in the restart', async () => {
    const { server, res, first } = await opened()
    const [a, b] = res.tee()
    const [t, late] = b.tee()
    const text = t.text()[Symbol.asyncIterator]()
    await acrossTheDrop(server, first, a, async () => {
      expect((await text.next()).value).toBe(wire(null, 3))
      await t.cancel()
    })
    expect((await Array.fromAsync(late.events())).map((e) => e.id)).toEqual(ALL)
  })

  it('is refused once it has read part of an event: a restart after the last event would repeat that part', async () => {
    const { server, res, first } = await opened()
    const [a, b] = res.tee()
    const text = b.text()[Symbol.asyncIterator]()
    const ia = a.events()[Symbol.asyncIterator]()
    first.push(`${wire(null, 1)}id: e1`)
    expect((await ia.next()).value?.id).toBe('e0')
    expect((await text.next()).value).toBe(`${wire(null, 1)}id: e1`)
    const waiting = ia.next()
    first.fail(DROP)
    await expect(waiting).rejects.toThrow(/cannot/)
    expect(
      await Promise.race([server.request(2).then(() => 'asked again'), settle().then(() => 'not')]),
    ).toBe('not')
  })
})

describe.concurrent('a branch read later, beside one that read and was cancelled before the drop', () => {
  it('starts over for it after a text() branch took part of the first event: no place to continue from', async () => {
    const { server, res, first } = await opened(true)
    const [a, b] = res.tee()
    const text = b.text()[Symbol.asyncIterator]()
    const head = wire(null, 1).slice(0, 8)
    first.push(head)
    expect((await text.next()).value).toBe(head)
    // Its next read pulls the answer and is still waiting when the branch is cancelled and the answer drops.
    void text.next()
    await b.cancel()
    first.fail(DROP)
    await settle()
    // a's consumer is made only now: nothing was delivered that it would get twice from the start.
    const events = Array.fromAsync(a.events())
    await answeredAfter(server, events, null)
    expect((await events).map((e) => e.id)).toEqual(ALL)
  })

  it('continues after the last event of a cancelled events() branch, whose bytes it holds: it gets every event once', async () => {
    const { server, res, first } = await opened(true)
    const [a, b] = res.tee()
    const events = b.events()[Symbol.asyncIterator]()
    first.push(wire(null, 3))
    for (const id of ALL.slice(0, 3)) expect((await events.next()).value?.id).toBe(id)
    void events.next()
    await b.cancel()
    first.fail(DROP)
    await settle()
    const all = Array.fromAsync(a.events())
    await answeredAfter(server, all, 'e2')
    expect((await all).map((e) => e.id)).toEqual(ALL)
  })

  /**
   * lines() on `branch` delivers the first line of e0, `id: e0` (an item, but no event id), and is cancelled while
   * its next read pulls the answer; the answer drops. Then `late`'s consumer is made: it must start over, not be
   * refused, and get every event.
   */
  async function afterFirstLine(first: Exchange, branch: StreamResponse, late: StreamResponse) {
    const lines = branch.lines()[Symbol.asyncIterator]()
    first.push(wire(null, 1).slice(0, 12))
    expect((await lines.next()).value).toBe('id: e0')
    void lines.next()
    await branch.cancel()
    first.fail(DROP)
    await settle()
    return Array.fromAsync(late.events())
  }

  it('starts over for it after a lines() branch took the first line, which carries no event id: no place Last-Event-ID can continue from', async () => {
    const { server, res, first } = await opened(true)
    const [a, b] = res.tee()
    const events = afterFirstLine(first, b, a)
    await answeredAfter(server, events, null)
    expect((await events).map((e) => e.id)).toEqual(ALL)
  })

  it('starts over for both branches of a tee of a tee branch whose lines() branch took the first line: the inner tee asks the body too', async () => {
    const { server, res, first } = await opened(true)
    const [a, b] = res.tee()
    const [inner, late] = b.tee()
    const events = afterFirstLine(first, inner, late)
    await answeredAfter(server, events, null)
    expect((await events).map((e) => e.id)).toEqual(ALL)
    expect((await Array.fromAsync(a.events())).map((e) => e.id)).toEqual(ALL)
  })

  it("starts over for the inner branch read later, after the lines() branch beside its tee took the first line and its tee's events() branch part of the first event, both cancelled: no event id to continue after", async () => {
    const { server, res, first } = await opened(true)
    const [outer, inner] = res.tee()
    const [i0, i1] = inner.tee()
    const lines = outer.lines()[Symbol.asyncIterator]()
    const events = i0.events()[Symbol.asyncIterator]()
    first.push('id: e0\n')
    expect((await lines.next()).value).toBe('id: e0')
    // Both wait for more (events() holds part of the first event) and are cancelled; the answer drops. Neither
    // reads, and the line leads: a place Last-Event-ID cannot continue from.
    const ended = [lines.next(), events.next()]
    await settle()
    await Promise.all([outer.cancel(), i0.cancel()])
    first.fail(DROP)
    await settle()
    const rest = Array.fromAsync(i1.events())
    await answeredAfter(server, rest, null)
    expect((await rest).map((e) => e.id)).toEqual(ALL)
    for (const end of ended) expect(await end).toMatchObject({ done: true })
  })

  /**
   * lines() on `lines` delivers every line of e0 and events() on `events` e0 itself, so both stand right after e0,
   * one at a line (no event id), one at an event id; both are cancelled while their next reads pull the answer, and
   * the answer drops. No branch reads then: the restart is after the first's place, when Last-Event-ID can continue
   * from it, or else from the start. Returns their reads left pending.
   */
  async function bothAfterFirstEvent(first: Exchange, lines: StreamResponse, events: StreamResponse) {
    const byLine = lines.lines()[Symbol.asyncIterator]()
    const byEvent = events.events()[Symbol.asyncIterator]()
    first.push(wire(null, 1))
    for (const line of ['id: e0', 'data: e0', '']) expect((await byLine.next()).value).toBe(line)
    expect((await byEvent.next()).value?.id).toBe('e0')
    const ended = [byLine.next(), byEvent.next()]
    await settle()
    await Promise.all([lines.cancel(), events.cancel()])
    first.fail(DROP)
    await settle()
    return ended
  }

  it("starts over for the inner branch read later, after the lines() branch beside its tee and the tee's events() branch both stood after the first event and were cancelled: the first's place, a line, carries no event id", async () => {
    const { server, res, first } = await opened(true)
    const [outer, inner] = res.tee()
    const [events, late] = inner.tee()
    const ended = await bothAfterFirstEvent(first, outer, events)
    const rest = Array.fromAsync(late.events())
    await answeredAfter(server, rest, null)
    expect((await rest).map((e) => e.id)).toEqual(ALL)
    for (const end of ended) expect(await end).toMatchObject({ done: true })
  })

  it("continues after the first event for the inner branch read later, when its tee's events() branch is the first of the two cancelled there, beside a lines() branch: it gets every event once", async () => {
    const { server, res, first } = await opened(true)
    const [inner, outer] = res.tee()
    const [events, late] = inner.tee()
    const ended = await bothAfterFirstEvent(first, outer, events)
    const rest = Array.fromAsync(late.events())
    await answeredAfter(server, rest, 'e0')
    expect((await rest).map((e) => e.id)).toEqual(ALL)
    for (const end of ended) expect(await end).toMatchObject({ done: true })
  })

  it("starts over for the inner branch made while the reconnect waits, after the lines() branch beside its tee took a line past the tee's events() branch, both cancelled: it is held where the restart begins, not at the cancelled branch's place", async () => {
    const { server, res, first } = await opened(true)
    const [outer, inner] = res.tee()
    const [events, late] = inner.tee()
    const byLine = outer.lines()[Symbol.asyncIterator]()
    const byEvent = events.events()[Symbol.asyncIterator]()
    first.push(wire(null, 1))
    for (const line of ['id: e0', 'data: e0', '']) expect((await byLine.next()).value).toBe(line)
    expect((await byEvent.next()).value?.id).toBe('e0')
    const ended: Array<Promise<IteratorResult<unknown>>> = [byEvent.next()]
    first.push('id: e1\n')
    expect((await byLine.next()).value).toBe('id: e1')
    ended.push(byLine.next())
    await settle()
    await Promise.all([outer.cancel(), events.cancel()])
    first.fail(DROP)
    await settle()
    // The line leads, with no event id: the restart is from the start, and the inner tee's events() branch stood
    // after e0. The consumer made now meets the restart at the start, with e0 once.
    const rest = Array.fromAsync(late.events())
    await answeredAfter(server, rest, null)
    expect((await rest).map((e) => e.id)).toEqual(ALL)
    for (const end of ended) expect(await end).toMatchObject({ done: true })
  })

  it('starts over beside a tee of the other branch whose bytes() branch was cancelled while its read waited, and whose other branch is read later', async () => {
    const { server, res, first } = await opened(true)
    const [a, b] = res.tee()
    const [bytes, late] = b.tee()
    const ia = a.events()[Symbol.asyncIterator]()
    void bytes.bytes()[Symbol.asyncIterator]().next()
    await bytes.cancel()
    // Part of e0: the tee of b was handed it, which neither of its branches reads.
    first.push(wire(null, 1).slice(0, 8))
    const waiting = ia.next()
    await settle()
    first.fail(DROP)
    const second = await asked(server, waiting)
    expect(second.lastEventId).toBeNull()
    second.answer(SSE_ANSWER)
    second.push(wire(null))
    second.close()
    expect((await waiting).value?.id).toBe('e0')
    const rest = await Array.fromAsync({ [Symbol.asyncIterator]: () => ia })
    expect(['e0', ...rest.map((e) => e.id)]).toEqual(ALL)
    expect((await Array.fromAsync(late.events())).map((e) => e.id)).toEqual(ALL)
  })
})

describe.concurrent('a plain tee whose branch behind still holds the tail of a chunk longer than a decoding slice at a drop', () => {
  // A decoding branch is handed a chunk longer than 32 KiB (`DECODE_SLICE_BYTES`) one slice at a time: it can
  // still hold the tail when the branch ahead reads on and meets the drop, and the restart, after the event that
  // branch delivered last, falls inside that tail. The queued tail is cut there, and the bytes cut off must leave
  // the branch's count of what it buffers too: counted still, they make the branch ahead wait as if the other
  // held them, for good. (In a plain tee that stale count stays below maxBuffer, so nothing hangs: the branch
  // behind holds a tail at a drop only while its count is below maxBuffer, else the branch ahead would not have
  // read on to meet the drop. But the branch ahead would wait with less than maxBuffer ahead.)
  it('the branch ahead reads on while the other holds less than maxBuffer after the cut, and each gets every event once', async () => {
    const { server, res, first } = await opened(true)
    const ids = Array.from({ length: 400 }, (_, i) => `e${i}`)
    // ASCII: a string's length is its length in bytes.
    const event = (id: string) => `id: ${id}\ndata: ${'x'.repeat(100)}\n\n`
    const events = (from: number, to = ids.length) => ids.slice(from, to).map(event).join('')
    const slice = 32 * 1024
    // The first answer: one chunk of the events up to the first to end past a slice, then most of the next one.
    const last = ids.findIndex((_, i) => events(0, i + 1).length > slice)
    const partial = event(ids[last + 1]!).slice(0, 100)
    // What the branch behind keeps of its tail at the cut. The sizes the test stands on: at the drop b holds less
    // than maxBuffer (so a reads on to meet it); after the first event of the new answer too, but not if the
    // bytes cut off still counted.
    const kept = events(0, last + 1).length - slice
    const maxBuffer = 256
    expect(kept + partial.length).toBeLessThan(maxBuffer)
    expect(kept + event(ids[last + 1]!).length).toBeLessThan(maxBuffer)
    expect(kept + event(ids[last + 1]!).length + partial.length).toBeGreaterThanOrEqual(maxBuffer)
    const [a, b] = res.tee({ maxBuffer })
    const ia = a.events()[Symbol.asyncIterator]()
    const ib = b.events()[Symbol.asyncIterator]()
    // Each branch is handed the chunk's first slice and delivers e0; b is not read on for now, and holds the tail.
    const firstOfA = ia.next()
    first.push(`${events(0, last + 1)}${partial}`)
    expect((await firstOfA).value?.id).toBe('e0')
    expect((await ib.next()).value?.id).toBe('e0')
    // a delivers every whole event of the chunk and reads on: b holds less than maxBuffer, so a's read pulls and
    // meets the drop. The restart is after a's last event, inside b's tail: b keeps `kept` bytes of it.
    for (const id of ids.slice(1, last + 1)) expect((await ia.next()).value?.id).toBe(id)
    const waiting = ia.next()
    first.fail(DROP)
    const second = await server.request(2)
    expect(second.lastEventId).toBe(ids[last])
    second.answer(SSE_ANSWER)
    second.push(event(ids[last + 1]!))
    expect((await waiting).value?.id).toBe(ids[last + 1])
    // b holds what it kept and that event, less than maxBuffer: a reads on without waiting for b. (With the partial
    // event cut off still counted, b would seem to hold maxBuffer or more, and a would wait.)
    second.push(event(ids[last + 2]!))
    const next = ia.next().then((r) => r.value?.id)
    expect(await Promise.race([next, settle().then(() => 'a still waits for b to drain')])).toBe(
      ids[last + 2],
    )
    // Both read the rest side by side, to the end.
    const rest = Promise.all(
      [ia, ib].map((items) => Array.fromAsync({ [Symbol.asyncIterator]: () => items })),
    )
    second.push(events(last + 3))
    second.close()
    const [restOfA, restOfB] = await rest
    expect([...ids.slice(0, last + 3), ...restOfA!.map((e) => e.id)]).toEqual(ids)
    expect(['e0', ...restOfB!.map((e) => e.id)]).toEqual(ids)
  })
})

describe.concurrent('a tee of a tee branch whose live branch has not read yet', () => {
  it('follows the restart of the branch beside it after the other inner branch read and was cancelled: each event once, and the body exactly to the one read later', async () => {
    const { server, res, first } = await opened(true)
    const [outer, inner] = res.tee()
    const [i0, i1] = inner.tee()
    const io = outer.events()[Symbol.asyncIterator]()
    const ii = i0.events()[Symbol.asyncIterator]()
    // An inner branch delivers e0 and is cancelled; the outer one delivers e0 and e1 and waits; the answer drops.
    first.push(wire(null, 2))
    expect((await ii.next()).value?.id).toBe('e0')
    await i0.cancel()
    expect((await io.next()).value?.id).toBe('e0')
    expect((await io.next()).value?.id).toBe('e1')
    const waiting = io.next()
    first.fail(DROP)
    const second = await Promise.race([
      server.request(2),
      waiting.then(() => Promise.reject(new Error('no reconnect'))),
    ])
    expect(second.lastEventId).toBe('e1')
    second.answer(SSE_ANSWER)
    second.push(wire('e1'))
    second.close()
    expect((await waiting).value?.id).toBe('e2')
    const rest = await Array.fromAsync({ [Symbol.asyncIterator]: () => io })
    expect(rest.map((e) => e.id)).toEqual(ALL.slice(3))
    // Read now, the other inner branch gets the first answer up to e1, then the rest.
    const bytes = concatBytes(await Array.fromAsync(i1.bytes()))
    expect(new TextDecoder().decode(bytes)).toBe(wire(null))
  })

  it('reads the events it holds once an inner branch whose read pulled the answer is cancelled while it waits: the restart meets it behind, and it gets each event once', async () => {
    const { server, res, first } = await opened(true)
    const [outer, inner] = res.tee()
    const [i0, i1] = inner.tee()
    const io = outer.events()[Symbol.asyncIterator]()
    const ib = i0.bytes()[Symbol.asyncIterator]()
    const ii = i1.events()[Symbol.asyncIterator]()
    // bytes() reads e0 and reads on, its read pulling the answer; it is cancelled while that read waits. The outer
    // branch delivers e0; the answer drops. The other inner branch, not read yet, holds e0.
    first.push(wire(null, 1))
    expect(new TextDecoder().decode((await ib.next()).value as Uint8Array)).toBe(wire(null, 1))
    const ended = ib.next()
    await i0.cancel()
    expect((await io.next()).value?.id).toBe('e0')
    first.fail(DROP)
    const second = await server.request(2)
    expect(second.lastEventId).toBe('e0')
    second.answer(SSE_ANSWER)
    second.push(wire('e0'))
    second.close()
    expect((await Array.fromAsync({ [Symbol.asyncIterator]: () => io })).map((e) => e.id)).toEqual(
      ALL.slice(1),
    )
    expect((await Array.fromAsync({ [Symbol.asyncIterator]: () => ii })).map((e) => e.id)).toEqual(ALL)
    expect(await ended).toMatchObject({ done: true })
  })
})

/**
 * events() is handed two events and the start of a third in one chunk, delivers both and waits for more; the
 * answer drops. Another branch, not read yet (with `nested`, a branch of a tee of the other branch, beside an
 * events() branch that delivers both too), holds that chunk. Read as bytes while the reconnect waits, it gets the
 * chunk up to the restart, not the partial event after it: the new answer repeats the rest, and it gets the body
 * exactly; each events() branch gets each event once.
 */
async function bytesReadWhileReconnecting(nested: boolean): Promise<void> {
  const { server, res, first } = await opened(true)
  const [a, other] = res.tee()
  const [b, c] = nested ? other.tee() : [other, undefined]
  const ia = a.events()[Symbol.asyncIterator]()
  const ic = c?.events()[Symbol.asyncIterator]()
  first.push(`${wire(null, 2)}id: e2\nda`)
  if (ic !== undefined) {
    expect((await ic.next()).value?.id).toBe('e0')
    expect((await ic.next()).value?.id).toBe('e1')
  }
  expect((await ia.next()).value?.id).toBe('e0')
  expect((await ia.next()).value?.id).toBe('e1')
  const waiting = ia.next()
  first.fail(DROP)
  const second = await server.request(2)
  expect(second.lastEventId).toBe('e1')
  const ib = b.bytes()[Symbol.asyncIterator]()
  const held = (await ib.next()).value!
  expect(new TextDecoder().decode(held)).toBe(wire(null, 2))
  const bytes = Array.fromAsync({ [Symbol.asyncIterator]: () => ib })
  const events = ic === undefined ? undefined : Array.fromAsync({ [Symbol.asyncIterator]: () => ic })
  second.answer(SSE_ANSWER)
  second.push(wire('e1'))
  second.close()
  expect(new TextDecoder().decode(concatBytes([held, ...(await bytes)]))).toBe(wire(null))
  if (events !== undefined) expect((await events).map((e) => e.id)).toEqual(ALL.slice(2))
  expect((await waiting).value?.id).toBe('e2')
  const after = await Array.fromAsync({ [Symbol.asyncIterator]: () => ia })
  expect(after.map((e) => e.id)).toEqual(ALL.slice(3))
}

describe.concurrent('a bytes() branch of a tee of a tee branch, not read when the answer drops', () => {
  it("is handed what its tee holds up to where the outer tee's restart begins, not past it: the body exactly, and each event once beside it", () =>
    bytesReadWhileReconnecting(true))
})

describe.concurrent('a branch that reads what it holds while a reconnect waits', () => {
  it('a branch first read as bytes then is handed its queue up to where the restarted answer begins, not the partial event after it: it gets the body exactly', () =>
    bytesReadWhileReconnecting(false))

  it("a branch still in an earlier answer reads the events it holds of it at once, not after the reconnect: the hold is the new answer's", async () => {
    const { server, res, first } = await opened(true)
    const [a, b] = res.tee()
    const ia = a.events()[Symbol.asyncIterator]()
    const ib = b.events()[Symbol.asyncIterator]()
    // b pulls a chunk of two events and delivers the first; a delivers both, pulls a chunk of two more, delivers
    // them and waits for more. The answer drops, and the second, after e3, brings e4 to a, then drops too.
    const firstOfB = ib.next()
    first.push(wire(null, 2))
    expect((await firstOfB).value?.id).toBe('e0')
    expect((await ia.next()).value?.id).toBe('e0')
    expect((await ia.next()).value?.id).toBe('e1')
    const pulling = ia.next()
    first.push(wire('e1', 4))
    expect((await pulling).value?.id).toBe('e2')
    expect((await ia.next()).value?.id).toBe('e3')
    let waiting = ia.next()
    first.fail(DROP)
    const second = await server.request(2)
    expect(second.lastEventId).toBe('e3')
    second.answer(SSE_ANSWER)
    second.push(wire('e3', 5))
    expect((await waiting).value?.id).toBe('e4')
    waiting = ia.next()
    second.fail(DROP)
    const third = await server.request(3)
    expect(third.lastEventId).toBe('e4')
    // While the third request waits, b delivers what it holds of the first answer (fewer bytes in the second
    // answer than b has read of the first: no place in the second limits b's reading of the first).
    expect((await ib.next()).value?.id).toBe('e1')
    const next = ib.next().then((r) => r.value?.id)
    expect(await Promise.race([next, settle().then(() => 'still waiting')])).toBe('e2')
    const rest = Array.fromAsync({ [Symbol.asyncIterator]: () => ib })
    third.answer(SSE_ANSWER)
    third.push(wire('e4'))
    third.close()
    expect((await rest).map((e) => e.id)).toEqual(ALL.slice(3))
    expect((await waiting).value?.id).toBe('e5')
  })
})

describe.concurrent('a branch that validates its items with a schema, still holding some of a chunk it was handed at a drop', () => {
  const RECS = Array.from({ length: 6 }, (_, i) => `{"i":${i},"s":"é"}`)
  const VALUES = RECS.map((r) => JSON.parse(r) as { i: number })
  /** Takes every item as it is, asynchronously: the branch awaits its judgement of each. */
  const ANY: StandardSchemaV1 = {
    '~standard': { version: 1, vendor: 'test', validate: async (value) => ({ value }) },
  }
  const NDJSON_ANSWER = { headers: { 'content-type': 'application/x-ndjson' } }
  /** Records `from` to `to - 1`, as NDJSON lines or as SSE events with ids. */
  const lines = (from: number, to = RECS.length) =>
    RECS.slice(from, to)
      .map((r) => `${r}\n`)
      .join('')
  const events = (from: number, to = RECS.length) =>
    RECS.slice(from, to)
      .map((r, j) => `id: e${from + j}\ndata: ${r}\n\n`)
      .join('')

  it('resumes after them by Last-Event-ID once the text() branch beside it is cancelled: each event once', async () => {
    const server = handFed(true)
    const res = await sluice('https://example.test/events', {
      fetch: server.fetch,
      resume: { backoff: FAST },
    })
    const first = await server.request(1)
    const [a, b] = res.tee()
    const ia = a.events({ schema: ANY })[Symbol.asyncIterator]()
    const ib = b.text()[Symbol.asyncIterator]()
    // text() reads a chunk of two events, and reads on; events({ schema }) is handed the chunk and delivers the
    // first. text() is cancelled while its read waits, and the answer drops.
    first.push(events(0, 2))
    expect((await ib.next()).value).toBe(events(0, 2))
    expect((await ia.next()).value).toMatchObject({ id: 'e0', data: VALUES[0] })
    const ended = ib.next()
    await b.cancel()
    first.fail(DROP)
    // The event id is known before the schema judges the event: the reconnect goes out after e1.
    const second = await server.request(2)
    expect(second.lastEventId).toBe('e1')
    const rest = Array.fromAsync({ [Symbol.asyncIterator]: () => ia })
    second.answer(SSE_ANSWER)
    second.push(events(2))
    second.close()
    expect((await rest).map((e) => e.data)).toEqual(VALUES.slice(1))
    expect(await ended).toMatchObject({ done: true })
  })

  it('resumes by Range after the bytes read once the text() branch beside it is cancelled: each record once', async () => {
    const body = encode(lines(0))
    const ranged = {
      headers: {
        ...NDJSON_ANSWER.headers,
        etag: '"v1"',
        'accept-ranges': 'bytes',
        'content-length': String(body.length),
      },
    }
    const server = handFed(true, ranged)
    const res = await sluice('https://example.test/rows', {
      fetch: server.fetch,
      resume: { strategy: 'range', backoff: FAST },
    })
    const first = await server.request(1)
    const [a, b] = res.tee()
    const ia = a.ndjson(ANY)[Symbol.asyncIterator]()
    const ib = b.text()[Symbol.asyncIterator]()
    // text() reads a chunk of two records and a half, and reads on; ndjson(schema) is handed it and delivers the
    // first. text() is cancelled while its read waits, and the answer drops.
    const cut = encode(lines(0, 2)).length + 5
    first.push(body.subarray(0, cut))
    expect((await ib.next()).value).toBe(new TextDecoder().decode(body.subarray(0, cut)))
    expect((await ia.next()).value).toEqual(VALUES[0])
    const ended = ib.next()
    await b.cancel()
    first.fail(DROP)
    const second = await server.request(2)
    expect(second.rangeStart).toBe(cut)
    const rest = Array.fromAsync({ [Symbol.asyncIterator]: () => ia })
    second.answer({
      status: 206,
      headers: {
        ...ranged.headers,
        'content-length': String(body.length - cut),
        'content-range': `bytes ${cut}-${body.length - 1}/${body.length}`,
      },
    })
    second.push(body.subarray(cut))
    second.close()
    expect(await rest).toEqual(VALUES.slice(1))
    expect(await ended).toMatchObject({ done: true })
  })

  it.each([
    ['ndjson(schema)', NDJSON_ANSWER, lines, (b: StreamResponse) => b.ndjson(ANY)],
    ['events({ schema })', SSE_ANSWER, events, (b: StreamResponse) => b.events({ schema: ANY })],
  ] as const)(
    'a %s branch is refused by the cursor strategy, which must continue after the item as the schema gives it, before any reconnect',
    async (_, answer, wire, read) => {
      const { server, given, res, first } = await byHand(answer.headers['content-type'], { after: () => 'x' })
      const [a, b] = res.tee()
      const ia = read(a)[Symbol.asyncIterator]()
      const ib = b.text()[Symbol.asyncIterator]()
      // text() reads a chunk of two items and reads on; the schema branch is handed it and delivers the first.
      // text() is cancelled while its read waits, and the answer drops.
      first.push(wire(0, 2))
      await ib.next()
      await ia.next()
      const ended = ib.next()
      await b.cancel()
      first.fail(DROP)
      // The branch delivers the item it holds, then meets the refusal, with no reconnect sent.
      await ia.next()
      const error = await Promise.race([
        ia.next().then(
          () => undefined,
          (e: unknown) => e,
        ),
        server.request(2).then(() => 'a reconnect was sent'),
      ])
      // Never an item before those it held: the restart would repeat them.
      expect(given).toEqual([])
      expect(isResumeError(error) && error.reason).toBe('not-resumable')
      expect((error as Error).message).toContain(
        'A cursor cannot continue the stream: a tee() branch had items to validate when the connection dropped, and a cursor continues after the last as its schema gives it. Resume by Range or Last-Event-ID, or validate them yourself, reading that branch without a schema.',
      )
      expect(await ended).toMatchObject({ done: true })
    },
  )

  it('continues by a cursor after the item of the cancelled branch that delivered as far as the other was handed: each record once', async () => {
    const { server, given, res, first } = await byHand(NDJSON_ANSWER.headers['content-type'])
    const [a, b] = res.tee()
    const ia = a.ndjson(ANY)[Symbol.asyncIterator]()
    const ib = b.ndjson(ANY)[Symbol.asyncIterator]()
    // b pulls a chunk of two records and delivers both; a, handed it too, delivers the first. b is cancelled while
    // its read waits, and the answer drops: both stand after the second record, a with it still to validate, the
    // first branch to speak, but b knows the item as the schema gave it.
    const firstOfB = ib.next()
    first.push(lines(0, 2))
    await firstOfB
    await ia.next()
    await ib.next()
    const ended = ib.next()
    await b.cancel()
    first.fail(DROP)
    const second = await server.request(2)
    expect(given).toEqual([VALUES[1]])
    const rest = Array.fromAsync({ [Symbol.asyncIterator]: () => ia })
    second.answer(NDJSON_ANSWER)
    second.push(lines(2))
    second.close()
    expect(await rest).toEqual(VALUES.slice(1))
    expect(await ended).toMatchObject({ done: true })
  })

  it("once restarted, holds none of the first answer: a second drop before the new answer's first byte is resumed after its last record again, not refused", async () => {
    const server = handFed(true, NDJSON_ANSWER)
    const res = await sluice('https://example.test/rows', {
      fetch: server.fetch,
      resume: { strategy: 'cursor', cursor: cursorAfter, backoff: FAST },
    })
    const first = await server.request(1)
    const [a, b] = res.tee()
    const ia = a.ndjson(ANY)[Symbol.asyncIterator]()
    const ib = b.text()[Symbol.asyncIterator]()
    // text() pulls a chunk of two records and reads on; ndjson(schema) delivers both. text() is cancelled while its
    // read waits, and the answer drops: the reconnect continues after the second record.
    const firstOfB = ib.next()
    first.push(lines(0, 2))
    await firstOfB
    expect((await ia.next()).value).toEqual(VALUES[0])
    expect((await ia.next()).value).toEqual(VALUES[1])
    const ended = ib.next()
    await b.cancel()
    first.fail(DROP)
    const continuesAfter = (exchange: Exchange) => new URL(exchange.request.url).searchParams.get('after')
    const second = await server.request(2)
    expect(continuesAfter(second)).toBe('1')
    // The new answer's headers come, and the branch, reading on, restarts on it; its body drops before a byte.
    second.answer(NDJSON_ANSWER)
    await settle()
    const next = ia.next()
    await settle()
    second.fail(DROP)
    const third = await Promise.race([
      server.request(3),
      next.then(() => Promise.reject(new Error('ndjson(schema) read on with no reconnect'))),
    ])
    expect(continuesAfter(third)).toBe('1')
    third.answer(NDJSON_ANSWER)
    third.push(lines(2))
    third.close()
    expect((await next).value).toEqual(VALUES[2])
    expect(await Array.fromAsync({ [Symbol.asyncIterator]: () => ia })).toEqual(VALUES.slice(3))
    expect(await ended).toMatchObject({ done: true })
  })
})

describe.concurrent('a tee of a tee branch whose lines() branch was cancelled, beside an events() branch that reads', () => {
  // Its lines carry no event id: cancelled, that branch leaves Last-Event-ID no place to continue from, and no say
  // in the restart, which the inner tee's branch read later follows, as one not read yet does.
  it('opened and cancelled before it read: the events() branch starts over, and the inner branch read later gets every event', async () => {
    const { server, res, first } = await opened(true)
    const [a, b] = res.tee()
    const [lines, late] = b.tee()
    lines.lines()[Symbol.asyncIterator]()
    await lines.cancel()
    const ia = a.events()[Symbol.asyncIterator]()
    first.push(wire(null, 1).slice(0, 8))
    const waiting = ia.next()
    await settle()
    first.fail(DROP)
    await answeredAfter(server, waiting, null)
    expect((await waiting).value?.id).toBe('e0')
    const rest = await Array.fromAsync({ [Symbol.asyncIterator]: () => ia })
    expect(['e0', ...rest.map((e) => e.id)]).toEqual(ALL)
    expect((await Array.fromAsync(late.events())).map((e) => e.id)).toEqual(ALL)
  })

  it('cancelled after its first line: the events() branch resumes after its own last event, and the inner branch read later gets every event', async () => {
    const { server, res, first } = await opened(true)
    const [a, b] = res.tee()
    const [lines, late] = b.tee()
    const il = lines.lines()[Symbol.asyncIterator]()
    const ia = a.events()[Symbol.asyncIterator]()
    first.push(wire(null, 2))
    expect((await il.next()).value).toBe('id: e0')
    await lines.cancel()
    expect((await ia.next()).value?.id).toBe('e0')
    expect((await ia.next()).value?.id).toBe('e1')
    const waiting = ia.next()
    await settle()
    first.fail(DROP)
    await answeredAfter(server, waiting, 'e1')
    expect((await waiting).value?.id).toBe('e2')
    const rest = await Array.fromAsync({ [Symbol.asyncIterator]: () => ia })
    expect(['e0', 'e1', 'e2', ...rest.map((e) => e.id)]).toEqual(ALL)
    expect((await Array.fromAsync(late.events())).map((e) => e.id)).toEqual(ALL)
  })
})

describe.concurrent('a tee of a tee of a tee branch, events() beside text(), behind when the answer drops twice', () => {
  // maxBuffer 1: each branch waits for the one beside it. The innermost tee's events() branch has read part of e0,
  // its text() branch nothing, when the first answer drops after e0 and its reconnect drops before its first byte.
  // The innermost tee, reading on, meets both restarts in one read: the first splits it (its text() branch, handed
  // up to there, cannot restart), and the second must be met where that split left it, not where it stood before.
  it('meets both restarts where they split it: each branch gets every event once, and text() the body exactly', async () => {
    const { server, res, first } = await opened(true)
    const [a, b] = res.tee({ maxBuffer: 1 })
    const [c, d] = b.tee({ maxBuffer: 1 })
    const [e, f] = d.tee({ maxBuffer: 1 })
    const ia = a.events()[Symbol.asyncIterator]()
    const ic = c.events()[Symbol.asyncIterator]()
    const ie = e.events()[Symbol.asyncIterator]()
    const text = f.text()[Symbol.asyncIterator]()
    first.push(wire(null).slice(0, 8))
    first.push(wire(null).slice(8, wire(null, 1).length + 4))
    const fromE = ie.next()
    await settle()
    const fromC = ic.next()
    await settle()
    expect((await ia.next()).value?.id).toBe('e0')
    const waiting = ia.next()
    await settle()
    first.fail(DROP)
    const second = await asked(server, waiting)
    expect(second.lastEventId).toBe('e0')
    second.answer(SSE_ANSWER)
    await settle()
    second.fail(DROP)
    const third = await server.request(3)
    expect(third.lastEventId).toBe('e0')
    third.answer(SSE_ANSWER)
    third.push(wire('e0'))
    third.close()
    const ids = async (
      next: Promise<IteratorResult<{ id?: string | undefined }>>,
      rest: AsyncIterator<{ id?: string | undefined }>,
    ) => [
      (await next).value?.id,
      ...(await Array.fromAsync({ [Symbol.asyncIterator]: () => rest })).map((event) => event.id),
    ]
    const [fromA, others, body] = await Promise.all([
      ids(waiting, ia),
      Promise.all([ids(fromC, ic), ids(fromE, ie)]),
      Array.fromAsync({ [Symbol.asyncIterator]: () => text }),
    ])
    expect(['e0', ...fromA]).toEqual(ALL)
    expect(others).toEqual([ALL, ALL])
    expect(body.join('')).toBe(wire(null))
  })
})

describe.concurrent('a tee of a tee branch beside a lines() branch cancelled before it read', () => {
  /**
   * The events({ json: true }) branch of the tee takes the first byte of e0 and is cancelled while its read waits;
   * the answer drops (with `again`, the second: the first dropped before its first byte). The tee's events() branch,
   * made only now, starts over, as it would alone: no live branch was delivered anything.
   */
  async function startsOver(again: boolean) {
    const { server, res, first } = await opened(true)
    const [a, b] = res.tee()
    const [late, json] = b.tee()
    a.lines()[Symbol.asyncIterator]()
    await a.cancel()
    const ij = json.events({ json: true })[Symbol.asyncIterator]()
    // Its read pulls the answer, and still waits when the branch is cancelled.
    const waiting = ij.next()
    let answer = first
    if (again) {
      first.fail(DROP)
      answer = await asked(server, waiting)
      expect(answer.lastEventId).toBeNull()
      answer.answer(SSE_ANSWER)
    }
    answer.push(wire(null, 1).slice(0, 1))
    await settle()
    await json.cancel()
    answer.fail(DROP)
    await settle()
    const events = Array.fromAsync(late.events())
    const next = await Promise.race([
      server.request(again ? 3 : 2),
      events.then(() => Promise.reject(new Error('the read ended without asking again'))),
    ])
    expect(next.lastEventId).toBeNull()
    next.answer(SSE_ANSWER)
    next.push(wire(null))
    next.close()
    expect((await events).map((e) => e.id)).toEqual(ALL)
    expect(await waiting).toMatchObject({ done: true })
  }

  it('starts over for its events() branch read later, after its events({ json: true }) branch took part of the first event and was cancelled while its read waited: each event once', () =>
    startsOver(false))

  it('the same when the answer it was reading had replaced one that dropped before its first byte', () =>
    startsOver(true))
})
