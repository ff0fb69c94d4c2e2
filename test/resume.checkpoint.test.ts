/**
 * Checkpoints against a real server on 127.0.0.1 (or, where one step must come between two others, a server the test
 * answers by hand): taken in the loop body after k items, serialised, and
 * continued by a new client with `resumeFrom`, the two parts make exactly the undisturbed output.
 */
import { describe, expect, it } from 'vitest'
import {
  type Checkpoint,
  fromResponse,
  isNetworkError,
  isResumeError,
  type Progress,
  type ResumeError,
  type StreamResponse,
  sluice,
} from '../src/index.ts'
import { concatBytes, encode } from './support/chunking.ts'
import { DROP, manualServer, settle } from './support/manual-server.ts'
import { base64, type Script, scripted } from './support/scripted.ts'
import { bodyOf, fetchWith } from './support/streams.ts'

const LINES = Array.from({ length: 12 }, (_, i) => `{"i":${i},"s":"ligne ${i} — ${'€'.repeat(i % 4)}😀"}`)
const TEXT = `${LINES.join('\r\n')}\r\n`
const BODY = encode(TEXT)
const EVENTS = LINES.map((data, i) => ({ id: `e${i}`, data }))
const SSE = EVENTS.map((e) => `id: ${e.id}\ndata: ${e.data}\n\n`).join('')
const SSE_WITHOUT_IDS = encode(SSE.replace(/^id: .*\n/gm, ''))
// Small writes a little apart, so that a checkpoint lands mid-stream and mid-batch.
const PACED = { chunk: 45, pace: 2 } as const
// About 150 KB in one write: it arrives in chunks longer than the decoders' 32 KiB slices, so a checkpoint
// after item 200 (near byte 50 000) lands in the second slice of a chunk.
const LONG_LINES = Array.from(
  { length: 600 },
  (_, i) => `{"i":${i},"s":"${'€'.repeat(i % 7)}😀${'x'.repeat(200)}"}`,
)
const LONG = encode(`${LONG_LINES.join('\n')}\n`)
const LONG_SSE = encode(LONG_LINES.map((data) => `data: ${data}\n\n`).join(''))

type Case = {
  name: string
  script: Script
  read: (res: StreamResponse) => AsyncIterable<unknown>
  join: (items: unknown[]) => unknown
  k: number
  size: number
  items: number
}

const identity = (items: unknown[]) => items
/** A range script; unpaced, the body comes in one write, so a checkpoint after k items lands mid-batch. */
const rangeOf = (body: Uint8Array, type?: string, paced = true): Script => ({
  kind: 'range',
  body: base64(body),
  etag: ['"v1"'],
  ...(type === undefined ? {} : { type }),
  ...(paced ? PACED : {}),
})

/**
 * A paced range script whose second answer (the first part's) stops halfway and waits: `bytes()` and `text()`
 * yield chunks as the network gives them, and a loaded browser can read a whole paced body in one, so only a
 * pause makes "a checkpoint mid-body" certain.
 */
const stallsMidway = (body: Uint8Array): Script => ({
  ...rangeOf(body),
  attempts: [{}, { stall: Math.floor(body.length / 2) }],
})

const CASES: Case[] = [
  {
    name: 'lines()',
    script: rangeOf(BODY),
    read: (res) => res.lines(),
    join: identity,
    k: 5,
    size: BODY.length,
    items: 12,
  },
  {
    name: 'ndjson()',
    script: rangeOf(BODY),
    read: (res) => res.ndjson(),
    join: identity,
    k: 7,
    size: BODY.length,
    items: 12,
  },
  {
    name: 'events() with ids (Last-Event-ID)',
    script: { kind: 'sse', events: EVENTS, ...PACED },
    read: (res) => res.events(),
    join: identity,
    k: 4,
    size: encode(SSE).length,
    items: 12,
  },
  {
    name: 'events() without ids (Range)',
    script: rangeOf(SSE_WITHOUT_IDS, 'text/event-stream'),
    read: (res) => res.events(),
    join: identity,
    k: 6,
    size: SSE_WITHOUT_IDS.length,
    items: 12,
  },
  {
    name: 'events() without ids (Range), mid-batch',
    script: rangeOf(SSE_WITHOUT_IDS, 'text/event-stream', false),
    read: (res) => res.events(),
    join: identity,
    k: 6,
    size: SSE_WITHOUT_IDS.length,
    items: 12,
  },
  {
    name: 'lines() in chunks longer than a decode slice',
    script: rangeOf(LONG, undefined, false),
    read: (res) => res.lines(),
    join: identity,
    k: 200,
    size: LONG.length,
    items: 600,
  },
  {
    name: 'ndjson() in chunks longer than a decode slice',
    script: rangeOf(LONG, undefined, false),
    read: (res) => res.ndjson(),
    join: identity,
    k: 200,
    size: LONG.length,
    items: 600,
  },
  {
    name: 'events() without ids (Range) in chunks longer than a decode slice',
    script: rangeOf(LONG_SSE, 'text/event-stream', false),
    read: (res) => res.events(),
    join: identity,
    k: 200,
    size: LONG_SSE.length,
    items: 600,
  },
  {
    name: 'text() in chunks longer than a decode slice',
    script: rangeOf(LONG, undefined, false),
    read: (res) => res.text(),
    join: (items) => items.join(''),
    k: 2,
    size: LONG.length,
    items: 0,
  },
  {
    name: 'bytes()',
    script: stallsMidway(BODY),
    read: (res) => res.bytes(),
    join: (items) => Array.from(concatBytes(items as Uint8Array[])),
    k: 1,
    size: BODY.length,
    items: 0,
  },
  {
    name: 'bytes({ chunkSize: 10 })',
    script: rangeOf(BODY),
    read: (res) => res.bytes({ chunkSize: 10 }),
    join: (items) => Array.from(concatBytes(items as Uint8Array[])),
    k: 3,
    size: BODY.length,
    items: 0,
  },
  {
    name: 'text()',
    script: stallsMidway(BODY),
    read: (res) => res.text(),
    join: (items) => items.join(''),
    k: 1,
    size: BODY.length,
    items: 0,
  },
]

/** Reads k items, takes a checkpoint in the loop body and stops; returns the items and the saved checkpoint. */
async function firstPart(res: StreamResponse, c: Case): Promise<{ items: unknown[]; saved: string }> {
  const items: unknown[] = []
  let saved = ''
  for await (const item of c.read(res)) {
    items.push(item)
    if (items.length === c.k) {
      saved = JSON.stringify(res.checkpoint())
      break
    }
  }
  expect(saved).not.toBe('')
  return { items, saved }
}

describe('checkpoint and resumeFrom', () => {
  for (const c of CASES) {
    it(`${c.name}: a checkpoint taken after ${c.k} item${c.k === 1 ? '' : 's'} and resumed by a new client completes the body exactly`, async () => {
      const s = await scripted(c.script)
      const undisturbed = await Array.fromAsync(c.read(await sluice(s.url)))
      const first = await firstPart(await sluice(s.url), c)
      expect((JSON.parse(first.saved) as Checkpoint).loaded).toBeLessThan(c.size)
      const res = await sluice(s.url, { resumeFrom: JSON.parse(first.saved) as Checkpoint })
      const second = await Array.fromAsync(c.read(res))
      expect(c.join([...first.items, ...second])).toEqual(c.join(undisturbed))
      expect(res.progress).toMatchObject({ loaded: c.size, items: c.items, state: 'done' })
    })
  }

  it('a resumed stream continues counting: loaded and items start from the checkpoint', async () => {
    const s = await scripted(rangeOf(BODY))
    const first = await firstPart(await sluice(s.url), CASES[1]!)
    const checkpoint = JSON.parse(first.saved) as Checkpoint
    expect(checkpoint).toMatchObject({ strategy: 'range', items: 7, etag: '"v1"' })
    expect(checkpoint.loaded).toBe(checkpoint.offset)
    const seen: Progress[] = []
    const res = await sluice(s.url, {
      resumeFrom: checkpoint,
      onProgress: (p) => seen.push(p),
      progressInterval: 0,
    })
    expect(res.progress).toMatchObject({ loaded: checkpoint.loaded, items: 7 })
    const rest = await Array.fromAsync(res.ndjson())
    expect(rest).toHaveLength(5)
    expect(seen.every((p) => p.loaded >= checkpoint.loaded)).toBe(true)
    expect(seen.at(-1)).toMatchObject({
      loaded: BODY.length,
      items: 12,
      total: BODY.length,
      percent: 100,
      state: 'done',
    })
    const requests = (await s.log()).filter((e) => e.event === 'request')
    expect(requests.at(-1)).toMatchObject({ range: `bytes=${checkpoint.offset}-`, ifRange: '"v1"' })
  })

  it("waits a busy server's Retry-After and asks again, as a reconnect does", async () => {
    const s = await scripted({
      ...rangeOf(BODY),
      attempts: [{}, { status: 503, headers: { 'retry-after': '0' } }],
    })
    const first = await firstPart(await sluice(s.url), CASES[1]!)
    // A backoff this long would time the test out: only the server's Retry-After makes it pass.
    const res = await sluice(s.url, {
      resumeFrom: JSON.parse(first.saved) as Checkpoint,
      resume: { backoff: { initial: 600_000, max: 600_000, jitter: 0 } },
    })
    expect(await Array.fromAsync(res.ndjson())).toHaveLength(LINES.length - CASES[1]!.k)
    const { offset } = JSON.parse(first.saved) as Checkpoint
    const requests = (await s.log()).filter((e) => e.event === 'request')
    expect(requests.map((r) => r.range)).toEqual([null, `bytes=${offset}-`, `bytes=${offset}-`])
  })

  it('asks again after a connection that fails, as a reconnect does', async () => {
    const s = await scripted(rangeOf(BODY))
    const first = await firstPart(await sluice(s.url), CASES[1]!)
    let calls = 0
    const flaky = ((input: RequestInfo | URL, init?: RequestInit) =>
      ++calls === 1 ? Promise.reject(new TypeError('fetch failed')) : fetch(input, init)) as typeof fetch
    const res = await sluice(s.url, {
      fetch: flaky,
      resumeFrom: JSON.parse(first.saved) as Checkpoint,
      resume: { backoff: { initial: 1, max: 1, jitter: 0 } },
    })
    expect(await Array.fromAsync(res.ndjson())).toHaveLength(LINES.length - CASES[1]!.k)
    expect(calls).toBe(2)
    // Both requests are reconnects, counted on from the checkpoint's attempt.
    expect(res.progress).toMatchObject({ attempt: 3, state: 'done' })
  })

  it('a checkpoint taken after a reconnect resumes exactly, and counts reconnects on from its attempt', async () => {
    // The first client reconnects once (attempt 2) before its checkpoint; the resumed one continues (a reconnect:
    // attempt 3), drops and reconnects (attempt 4).
    const s = await scripted({
      ...rangeOf(BODY),
      attempts: [{ drop: 20 }, {}, { drop: BODY.length - 20 }, {}],
    })
    const backoff = { initial: 1, max: 1, jitter: 0 }
    const first = await firstPart(await sluice(s.url, { resume: { backoff } }), CASES[1]!)
    const checkpoint = JSON.parse(first.saved) as Checkpoint
    expect(checkpoint.attempt).toBe(2)
    const res = await sluice(s.url, { resumeFrom: checkpoint, resume: { backoff } })
    expect(await Array.fromAsync(res.ndjson())).toEqual(LINES.slice(CASES[1]!.k).map((l) => JSON.parse(l)))
    expect(res.progress).toMatchObject({ attempt: 4, state: 'done' })
  })

  it('counts the request that continues from a checkpoint as a reconnect, as the stream connects', async () => {
    const s = await scripted(rangeOf(BODY))
    const first = await firstPart(await sluice(s.url), CASES[1]!)
    const checkpoint = JSON.parse(first.saved) as Checkpoint
    expect(checkpoint.attempt).toBe(1)
    const seen: Progress[] = []
    const res = await sluice(s.url, { resumeFrom: checkpoint, onProgress: (p) => seen.push(p) })
    expect(res.progress.attempt).toBe(2)
    const items: unknown[] = []
    let later: Checkpoint | undefined
    for await (const item of res.ndjson()) {
      items.push(item)
      if (items.length === 2) later = res.checkpoint()
    }
    expect(items).toHaveLength(LINES.length - CASES[1]!.k)
    expect(seen.find((p) => p.state === 'streaming')?.attempt).toBe(2)
    // A checkpoint taken later carries the count on; the stream ends with no other reconnect.
    expect(later?.attempt).toBe(2)
    expect(res.progress).toMatchObject({ attempt: 2, state: 'done' })
  })

  it('counts each time a busy server is asked again from a checkpoint, and a later drop after them', async () => {
    const busy = { status: 503, headers: { 'retry-after': '0' } }
    const s = await scripted({ ...rangeOf(BODY), attempts: [{}, busy, busy, { drop: 20 }, {}] })
    const backoff = { initial: 1, max: 1, jitter: 0 }
    const first = await firstPart(await sluice(s.url), CASES[1]!)
    const checkpoint = JSON.parse(first.saved) as Checkpoint
    const seen: Progress[] = []
    const res = await sluice(s.url, {
      resumeFrom: checkpoint,
      resume: { backoff },
      onProgress: (p) => seen.push(p),
    })
    // Three requests made from the checkpoint: attempts 2, 3 and 4, the last one streams.
    expect(res.progress.attempt).toBe(4)
    const later = res.checkpoint()
    expect(later.attempt).toBe(4)
    expect(await Array.fromAsync(res.ndjson())).toHaveLength(LINES.length - CASES[1]!.k)
    expect(seen.find((p) => p.state === 'streaming')?.attempt).toBe(4)
    expect(seen.find((p) => p.state === 'reconnecting')?.attempt).toBe(5)
    expect(res.progress).toMatchObject({ attempt: 5, state: 'done' })
    expect((await s.log()).filter((e) => e.event === 'request')).toHaveLength(5)
  })

  it('counts the request that continued among the reconnects of a later give-up', async () => {
    const s = await scripted({ ...rangeOf(BODY), attempts: [{}, { drop: 20 }, { status: 503 }] })
    const first = await firstPart(await sluice(s.url), CASES[1]!)
    const res = await sluice(s.url, {
      resumeFrom: JSON.parse(first.saved) as Checkpoint,
      resume: { attempts: 1, backoff: { initial: 1, max: 1, jitter: 0 } },
    })
    const error = await Array.fromAsync(res.ndjson()).catch((e: unknown) => e)
    expect(isResumeError(error) && error.reason).toBe('attempts-exhausted')
    expect((error as ResumeError).attempts).toBe(2)
    expect((error as Error).message).toMatch(new RegExp(`^Gave up after 2 reconnects to ${s.url}: `))
    expect(res.progress).toMatchObject({ attempt: 3, state: 'error' })
  })

  it('reports the checkpoint’s counts and total, not zero, when the resume request fails', async () => {
    const busy = { status: 503 }
    const s = await scripted({ ...rangeOf(BODY), attempts: [{}, busy, busy] })
    // The total from the option: in Chromium the test server is another origin, whose Content-Length claims none.
    const first = await firstPart(await sluice(s.url, { total: BODY.length }), CASES[1]!)
    const checkpoint = JSON.parse(first.saved) as Checkpoint
    expect(checkpoint.total).toBe(BODY.length)
    const reports: Progress[] = []
    const error = await sluice(s.url, {
      resumeFrom: checkpoint,
      resume: { attempts: 1, backoff: { initial: 1, max: 1, jitter: 0 } },
      onProgress: (p) => reports.push(p),
    }).catch((e: unknown) => e)
    expect(isResumeError(error) && error.reason).toBe('attempts-exhausted')
    // A page showing the run that broke off keeps showing what it holds: the bytes and items delivered, and how
    // far that is (of the total, the percentage): a progress bar must not lose its scale. Its two requests are
    // counted, as `attempts` says: the checkpoint, which stays good for a later try, does not count them.
    expect(reports.at(-1)).toMatchObject({
      state: 'error',
      loaded: checkpoint.loaded,
      items: checkpoint.items,
      total: BODY.length,
      percent: expect.closeTo((checkpoint.loaded / BODY.length) * 100, 1),
      attempt: checkpoint.attempt + 2,
    })
    expect((error as ResumeError).attempts).toBe(2)
    expect(checkpoint.loaded).toBeGreaterThan(0)
  })

  it("gives up with 'attempts-exhausted' when only a busy status answers, as a reconnect does, saying how many requests, the status and what to do", async () => {
    const busy = { status: 503 }
    const s = await scripted({ ...rangeOf(BODY), attempts: [{}, busy, busy, busy] })
    const first = await firstPart(await sluice(s.url), CASES[1]!)
    const error = await sluice(s.url, {
      resumeFrom: JSON.parse(first.saved) as Checkpoint,
      resume: { attempts: 1, backoff: { initial: 1, max: 1, jitter: 0 } },
    }).catch((e: unknown) => e)
    expect(isResumeError(error) && error.reason).toBe('attempts-exhausted')
    expect((error as ResumeError).attempts).toBe(2)
    expect((error as Error).message).toBe(
      `Gave up after 2 resume requests: The resume request to ${s.url} got status 503. Try again later from the checkpoint, or allow more \`resume.attempts\`.`,
    )
    // The busy answer is the cause's, as after a reconnect's attempts.
    const cause = (error as ResumeError).cause
    expect(isNetworkError(cause) && cause.response?.status).toBe(503)
    expect((await s.log()).filter((e) => e.event === 'request')).toHaveLength(3)
  })

  it("refuses a resource whose length changed since the checkpoint with 'validator-changed'", async () => {
    const longer = encode(`${TEXT}{"i":12,"s":"added since"}\r\n`)
    const s = await scripted({ kind: 'range', body: base64(BODY), attempts: [{}, { body: base64(longer) }] })
    const first = await firstPart(await sluice(s.url), CASES[1]!)
    const checkpoint = JSON.parse(first.saved) as Checkpoint
    expect(checkpoint.length).toBe(BODY.length)
    const error = await sluice(s.url, { resumeFrom: checkpoint }).catch((e: unknown) => e)
    expect(isResumeError(error) && error.reason).toBe('validator-changed')
    // The one request it made, as the `attempts` of a refused reconnect count its requests.
    expect((error as ResumeError).attempts).toBe(1)
    expect((error as Error).message).toContain(`its length ${BODY.length} became ${longer.length} bytes`)
    // No attempt came before it in this client: the change is since the checkpoint, not between attempts.
    expect((error as Error).message).toMatch(/^The resource changed since the checkpoint \(/)
  })

  it("refuses a tampered checkpoint (an edited offset) with ResumeError 'invalid-checkpoint'", async () => {
    const s = await scripted(rangeOf(BODY))
    const { saved } = await firstPart(await sluice(s.url), CASES[0]!)
    const tampered = { ...(JSON.parse(saved) as Checkpoint) }
    tampered.offset += 1
    const error = await sluice(s.url, { resumeFrom: tampered }).catch((e: unknown) => e)
    expect(isResumeError(error) && error.reason).toBe('invalid-checkpoint')
    expect((error as Error).message).toContain('does not match its integrity check')
    expect((error as Error).message).toContain('res.checkpoint()')
  })

  it('takes a checkpoint whose keys were stored in another order (a database may reorder them)', async () => {
    const s = await scripted(rangeOf(BODY))
    const undisturbed = await Array.fromAsync(CASES[0]!.read(await sluice(s.url)))
    const first = await firstPart(await sluice(s.url), CASES[0]!)
    const reordered = Object.fromEntries(
      Object.entries(JSON.parse(first.saved) as Checkpoint).reverse(),
    ) as Checkpoint
    const res = await sluice(s.url, { resumeFrom: reordered })
    expect([...first.items, ...(await Array.fromAsync(CASES[0]!.read(res)))]).toEqual(undisturbed)
  })

  it('names a negative offset, loaded, items or attempt as what is wrong', async () => {
    const s = await scripted(rangeOf(BODY))
    const { saved } = await firstPart(await sluice(s.url), CASES[0]!)
    for (const key of ['offset', 'loaded', 'items', 'attempt'] as const) {
      const bad = { ...(JSON.parse(saved) as Checkpoint), [key]: -1 }
      const error = await sluice(s.url, { resumeFrom: bad }).catch((e: unknown) => e)
      expect(isResumeError(error) && error.reason).toBe('invalid-checkpoint')
      expect((error as Error).message).toContain(`has an invalid ${key}`)
    }
  })

  it('names a fractional, non-numeric or missing offset, loaded, items or attempt as what is wrong', async () => {
    const s = await scripted(rangeOf(BODY))
    const { saved } = await firstPart(await sluice(s.url), CASES[0]!)
    for (const key of ['offset', 'loaded', 'items', 'attempt'] as const) {
      for (const value of [1.5, '3', undefined, Number.POSITIVE_INFINITY]) {
        const bad = { ...(JSON.parse(saved) as Checkpoint), [key]: value }
        const error = await sluice(s.url, { resumeFrom: bad as Checkpoint }).catch((e: unknown) => e)
        expect(isResumeError(error) && error.reason).toBe('invalid-checkpoint')
        expect((error as Error).message).toContain(`has an invalid ${key}`)
      }
    }
  })

  it('names an optional length, partEnd, retry or since that is not a count as what is wrong', async () => {
    const s = await scripted(rangeOf(BODY))
    const { saved } = await firstPart(await sluice(s.url), CASES[0]!)
    for (const key of ['length', 'partEnd', 'retry', 'since'] as const) {
      for (const value of [-1, 2.5, '9']) {
        const bad = { ...(JSON.parse(saved) as Checkpoint), [key]: value }
        const error = await sluice(s.url, { resumeFrom: bad as Checkpoint }).catch((e: unknown) => e)
        expect(isResumeError(error) && error.reason).toBe('invalid-checkpoint')
        expect((error as Error).message).toContain(`has an invalid ${key}`)
      }
    }
  })

  it('names a trailing that is neither text nor -2, -1, 1 or 2 as what is wrong', async () => {
    const s = await scripted(rangeOf(BODY))
    const { saved } = await firstPart(await sluice(s.url), CASES[0]!)
    for (const value of [0, -3, 3, -1.5, true, ['x']]) {
      const bad = { ...(JSON.parse(saved) as Checkpoint), trailing: value }
      const error = await sluice(s.url, { resumeFrom: bad as Checkpoint }).catch((e: unknown) => e)
      expect(isResumeError(error) && error.reason).toBe('invalid-checkpoint')
      expect((error as Error).message).toContain('has an invalid trailing')
    }
  })

  it("keeps no length for a content-encoded body: its Content-Length counts encoded bytes, not the body's", async () => {
    const after = (last: unknown) => ({ searchParams: { after: String((last as { i: number }).i) } })
    // As fetch hands a gzip body: decoded, with the headers of the encoded one.
    const res = await fromResponse(
      new Response('{"i":1}\n{"i":2}\n{"i":3}\n', {
        headers: { 'content-encoding': 'gzip', 'content-length': '9', 'accept-ranges': 'bytes' },
      }),
      {
        url: 'https://fn.example/rows',
        resume: { strategy: 'cursor', cursor: after },
        request: async () => new Response(null, { status: 204 }),
      },
    )
    const rows = res.ndjson()[Symbol.asyncIterator]()
    expect((await rows.next()).value).toEqual({ i: 1 })
    const checkpoint = JSON.parse(JSON.stringify(res.checkpoint())) as Checkpoint
    await rows.return?.()
    expect(checkpoint).toMatchObject({
      strategy: 'cursor',
      offset: 8,
      cursor: { searchParams: { after: '1' } },
    })
    expect(checkpoint.length).toBeUndefined()
  })

  it('bytes({ chunkSize }): a checkpoint taken on the last, shorter chunk lands at the end of the body', async () => {
    const body = encode('0123456789abcdef')
    const s = await scripted({ kind: 'range', body: base64(body), etag: ['"v1"'] })
    const res = await sluice(s.url)
    const items: Uint8Array[] = []
    let saved = ''
    for await (const chunk of res.bytes({ chunkSize: 10 })) {
      items.push(chunk)
      saved = JSON.stringify(res.checkpoint())
    }
    expect(items.map((c) => c.length)).toEqual([10, 6])
    const checkpoint = JSON.parse(saved) as Checkpoint
    expect(checkpoint.offset).toBe(body.length)
    const rest = await Array.fromAsync(
      (await sluice(s.url, { resumeFrom: checkpoint })).bytes({ chunkSize: 10 }),
    )
    expect(concatBytes([...items, ...rest])).toEqual(body)
  })

  it("refuses a checkpoint taken for another URL with ResumeError 'invalid-checkpoint'", async () => {
    const a = await scripted(rangeOf(BODY))
    const b = await scripted(rangeOf(BODY))
    const { saved } = await firstPart(await sluice(a.url), CASES[0]!)
    const error = await sluice(b.url, { resumeFrom: JSON.parse(saved) as Checkpoint }).catch(
      (e: unknown) => e,
    )
    expect(isResumeError(error) && error.reason).toBe('invalid-checkpoint')
    expect((error as Error).message).toContain(`was taken for GET ${a.url}, not for GET ${b.url}`)
    // Refused on its answer: the one request it made.
    expect((error as ResumeError).attempts).toBe(1)
  })

  it('refuses a range checkpoint for the same path with another query: another resource', async () => {
    const s = await scripted(rangeOf(BODY))
    const { saved } = await firstPart(await sluice(`${s.url}?fill=A`), CASES[0]!)
    const error = await sluice(`${s.url}?fill=B`, { resumeFrom: JSON.parse(saved) as Checkpoint }).catch(
      (e: unknown) => e,
    )
    expect(isResumeError(error) && error.reason).toBe('invalid-checkpoint')
    expect((error as Error).message).toContain(`was taken for GET ${s.url}?fill=A`)
  })

  it("refuses a cursor checkpoint for another query than its cursor's own parameters: another resource", async () => {
    // A report per month, continued after the record a cursor names; the first answer drops after record 1.
    const requests: string[] = []
    const fetch = fetchWith((request) => {
      requests.push(request.url.slice(request.url.indexOf('?')))
      const url = new URL(request.url)
      const month = url.searchParams.get('month')
      const from = Number(url.searchParams.get('after') ?? -1) + 1
      const rows = [0, 1, 2, 3].slice(from).map((i) => `${JSON.stringify({ month, i })}\n`)
      return new Response(
        bodyOf(from === 0 ? rows.slice(0, 2) : rows, from === 0 ? { error: new TypeError('terminated') } : {})
          .stream,
        {
          headers: { 'content-type': 'application/x-ndjson' },
        },
      )
    })
    const resume = {
      cursor: (row: unknown) => ({ searchParams: { after: String((row as { i: number }).i) } }),
      backoff: { initial: 1, max: 1, jitter: 0 },
    }
    const res = await sluice('https://fn.test/report?month=10', { fetch, resume })
    const saved: string[] = []
    for await (const row of res.ndjson()) {
      saved.push(JSON.stringify(res.checkpoint()))
      if ((row as { i: number }).i === 2) break
    }
    // Taken before the reconnect (?month=10) and after it (?month=10&after=1).
    for (const checkpoint of saved.map((c) => JSON.parse(c) as Checkpoint)) {
      const error = await sluice('https://fn.test/report?month=11', {
        fetch,
        resume,
        resumeFrom: checkpoint,
      }).catch((e: unknown) => e)
      expect(isResumeError(error) && error.reason).toBe('invalid-checkpoint')
      expect((error as Error).message).toContain(`was taken for GET ${checkpoint.url}, not for GET`)
      // Its own parameter replaced is the same resource, with the cursor's value old or absent in the call.
      for (const url of ['https://fn.test/report?month=10', 'https://fn.test/report?after=0&month=10']) {
        const again = await sluice(url, { fetch, resume, resumeFrom: checkpoint })
        const rest = await Array.fromAsync(again.ndjson())
        expect(rest.at(-1)).toEqual({ month: '10', i: 3 })
      }
    }
    expect(requests.slice(0, 2)).toEqual(['?month=10', '?month=10&after=1'])
  })

  it('refuses a cursor checkpoint taken after a reconnect, whose URL has the cursor in it, for another query', async () => {
    const rows = Array.from({ length: 6 }, (_, i) => JSON.stringify({ i }))
    const drop = encode(`${rows[0]}\n${rows[1]}\n`).length + 3
    const s = await scripted({
      kind: 'cursor',
      records: rows,
      format: 'ndjson',
      attempts: [{ drop, release: true }],
    })
    const resume = {
      cursor: (row: unknown) => ({ searchParams: { after: String((row as { i: number }).i) } }),
      backoff: { initial: 1, max: 1, jitter: 0 },
    }
    // The drop waits until the client has read the bytes before it (else a loaded Chromium may lose them).
    const res = await sluice(`${s.url}?month=10`, {
      resume,
      progressInterval: 0,
      onProgress: (p) => {
        if (p.loaded === drop && p.attempt === 1) void s.release()
      },
    })
    let saved = ''
    for await (const row of res.ndjson()) {
      saved = JSON.stringify(res.checkpoint())
      if ((row as { i: number }).i === 3) break
    }
    const checkpoint = JSON.parse(saved) as Checkpoint
    expect(checkpoint.url).toBe(`${s.url}?month=10&after=1`)
    const error = await sluice(`${s.url}?month=11`, { resume, resumeFrom: checkpoint }).catch(
      (e: unknown) => e,
    )
    expect(isResumeError(error) && error.reason).toBe('invalid-checkpoint')
    const again = await sluice(`${s.url}?month=10`, { resume, resumeFrom: checkpoint })
    expect(await Array.fromAsync(again.ndjson())).toEqual([{ i: 4 }, { i: 5 }])
  })

  it('after detach(), the iteration ends without an error and the checkpoint resumes the rest', async () => {
    const s = await scripted(rangeOf(BODY))
    const res = await sluice(s.url)
    const first: string[] = []
    for await (const line of res.lines()) {
      first.push(line)
      if (first.length === 4) res.detach()
    }
    expect(first).toEqual(LINES.slice(0, 4))
    expect(res.progress.state).toBe('cancelled')
    const saved = JSON.stringify(res.checkpoint())
    const rest = await Array.fromAsync(
      (await sluice(s.url, { resumeFrom: JSON.parse(saved) as Checkpoint })).lines(),
    )
    expect([...first, ...rest]).toEqual(LINES)
  })

  it('a checkpoint taken at detach() in the loop body (the README pattern) misses and repeats nothing', async () => {
    const s = await scripted(rangeOf(BODY))
    const res = await sluice(s.url)
    const first: unknown[] = []
    let saved = ''
    for await (const row of res.ndjson()) {
      first.push(row)
      if (first.length === 3) {
        res.detach()
        saved = JSON.stringify(res.checkpoint())
      }
    }
    expect(first).toHaveLength(3)
    const rest = await Array.fromAsync(
      (await sluice(s.url, { resumeFrom: JSON.parse(saved) as Checkpoint })).ndjson(),
    )
    expect([...first, ...rest]).toEqual(LINES.map((line) => JSON.parse(line) as unknown))
  })
})

describe('a checkpoint passed directly, not through JSON', () => {
  const RECORDS = LINES.map((line) => JSON.parse(line) as unknown)
  const after = (row: unknown) => ({ searchParams: { after: String((row as { i: number }).i) } })

  /** Reads `k` records of a cursor stream and takes its checkpoint, as the object `checkpoint()` returns. */
  async function cursorCheckpoint(k: number, cursor: (row: unknown) => object = after) {
    const s = await scripted({ kind: 'cursor', records: LINES })
    const res = await sluice(s.url, {
      resume: {
        strategy: 'cursor',
        cursor: cursor as (row: unknown) => { searchParams: Record<string, string> },
      },
    })
    const first: unknown[] = []
    for await (const row of res.ndjson()) if (first.push(row) === k) break
    return { s, first, checkpoint: res.checkpoint() }
  }

  /** Resumes from `resumeFrom`: the rest, and the query of the request that asked for it. */
  async function resumed(s: Awaited<ReturnType<typeof cursorCheckpoint>>['s'], resumeFrom: unknown) {
    const res = await sluice(s.url, {
      resume: { strategy: 'cursor', cursor: after },
      resumeFrom: resumeFrom as Checkpoint,
    })
    const rest = await Array.fromAsync(res.ndjson())
    return { rest, search: (await s.log()).filter((e) => e.event === 'request').at(-1)?.search }
  }

  it('resumes exactly as its JSON round trip does: a key set to undefined or a function, at its top or in its cursor, is absent', async () => {
    const { s, first, checkpoint } = await cursorCheckpoint(4)
    const edited = {
      ...checkpoint,
      note: undefined,
      onResume: () => {},
      cursor: { ...checkpoint.cursor, searchParams: { ...checkpoint.cursor?.searchParams, page: undefined } },
    }
    for (const resumeFrom of [checkpoint, edited, JSON.parse(JSON.stringify(edited)) as unknown]) {
      const { rest, search } = await resumed(s, resumeFrom)
      expect([...first, ...rest]).toEqual(RECORDS)
      expect(search).toBe('?after=3')
    }
  })

  it('of a cursor that answered with a key set to undefined resumes, directly and through JSON', async () => {
    const { s, first, checkpoint } = await cursorCheckpoint(5, (row) => ({ ...after(row), page: undefined }))
    for (const resumeFrom of [checkpoint, JSON.parse(JSON.stringify(checkpoint)) as unknown]) {
      const { rest, search } = await resumed(s, resumeFrom)
      expect([...first, ...rest]).toEqual(RECORDS)
      expect(search).toBe('?after=4')
    }
  })

  it("with a value JSON cannot write is refused with ResumeError 'invalid-checkpoint' that says so", async () => {
    const { s, checkpoint } = await cursorCheckpoint(2)
    const error = await sluice(s.url, { resumeFrom: { ...checkpoint, note: 1n } as Checkpoint }).catch(
      (e: unknown) => e,
    )
    expect(isResumeError(error) && error.reason).toBe('invalid-checkpoint')
    expect((error as Error).message).toMatch(
      /^The checkpoint passed as `resumeFrom` cannot be written as JSON \(.+\); take a new one with res\.checkpoint\(\)\.$/,
    )
  })
})

describe('a checkpoint of a stream whose server sent a retry: too long for a number', () => {
  it('resumes through JSON, with the events after it', async () => {
    // 400 digits parse as Infinity, which JSON writes as null: the checkpoint was refused as damaged.
    const body = `retry: ${'9'.repeat(400)}\n${SSE}`
    const fetch = fetchWith((request) => {
      const after = request.headers.get('last-event-id')
      return new Response(
        after === null ? body : SSE.slice(SSE.indexOf(`id: e${Number(after.slice(1)) + 1}\n`)),
        {
          headers: { 'content-type': 'text/event-stream' },
        },
      )
    })
    const res = await sluice('https://example.test/events', { fetch })
    const first: unknown[] = []
    for await (const event of res.events()) if (first.push(event.data) === 3) break
    const resumeFrom = JSON.parse(JSON.stringify(res.checkpoint())) as Checkpoint
    const again = await sluice('https://example.test/events', { fetch, resumeFrom })
    const rest = (await Array.fromAsync(again.events())).map((event) => event.data)
    expect([...first, ...rest]).toEqual(EVENTS.map((event) => event.data))
  })
})

describe('a checkpoint taken after a restart, before the partial unit is sent again', () => {
  const event = (i: number) => `id: e${i}\ndata: {"i":${i}}\n\n`
  const BODY = encode([0, 1, 2].map(event).join(''))
  const STREAM = { 'content-type': 'text/event-stream' }
  const resume = { strategy: 'last-event-id', backoff: { initial: 0, max: 0, jitter: 0 } } as const

  // Found by test/resume.model.test.ts: the bytes of the partial event counted before the drop were counted in
  // the checkpoint's `loaded` too, so a stream continued from it ended past the body's length.
  it.each([
    ['nothing', ''],
    ['part', 'id: '],
  ])(
    'counts only the delivered units in loaded when the restart has sent %s of it again',
    async (_, again) => {
      const server = manualServer()
      const pending = sluice('https://example.test/stream', { fetch: server.fetch, retry: 0, resume })
      await settle()
      server.exchanges[0]!.answer({ headers: STREAM })
      const res = await pending
      const events = res.events()[Symbol.asyncIterator]()
      server.exchanges[0]!.push(`${event(0)}id: e1\n`)
      expect((await events.next()).value).toMatchObject({ id: 'e0' })
      const waiting = events.next()
      server.exchanges[0]!.fail(DROP)
      await settle(() => server.exchanges.length < 2)
      expect(server.exchanges[1]!.lastEventId).toBe('e0')
      server.exchanges[1]!.answer({ headers: STREAM })
      server.exchanges[1]!.push(again)
      await settle()
      const checkpoint = res.checkpoint()
      expect(checkpoint).toMatchObject({ lastEventId: 'e0', items: 1, loaded: encode(event(0)).length })
      res.detach()
      expect(await waiting).toEqual({ done: true, value: undefined })

      const continuing = sluice('https://example.test/stream', {
        fetch: server.fetch,
        retry: 0,
        resume,
        resumeFrom: checkpoint,
      })
      await settle()
      expect(server.exchanges[2]!.lastEventId).toBe('e0')
      server.exchanges[2]!.answer({ headers: STREAM })
      const rest = await continuing
      server.exchanges[2]!.push(`${event(1)}${event(2)}`)
      server.exchanges[2]!.close()
      expect((await Array.fromAsync(rest.events())).map((e) => e.id)).toEqual(['e1', 'e2'])
      expect(rest.progress).toMatchObject({ loaded: BODY.length, items: 3, state: 'done' })
    },
  )
})

describe('a stream continued from a checkpoint at its end (416)', () => {
  const RECORDS = ['{"i":0}', '{"i":1}']
  const WHOLE = encode(RECORDS.map((r) => `${r}\n`).join(''))
  const RANGED = {
    'content-type': 'application/x-ndjson',
    etag: '"v1"',
    'accept-ranges': 'bytes',
    'content-length': String(WHOLE.length),
  }
  const resume = { strategy: 'range', backoff: { initial: 0, max: 0, jitter: 0 } } as const

  // Found by test/resume.model.test.ts: its checkpoint said offset 0, so continuing from it again asked for the
  // whole body and delivered every record a second time.
  it('keeps the checkpoint at the end, so that continuing from it again delivers nothing twice', async () => {
    const server = manualServer()
    const pending = sluice('https://example.test/stream', { fetch: server.fetch, retry: 0, resume })
    await settle()
    server.exchanges[0]!.answer({ headers: RANGED })
    const res = await pending
    const records = res.ndjson()[Symbol.asyncIterator]()
    server.exchanges[0]!.push(WHOLE)
    for (const record of RECORDS) expect((await records.next()).value).toEqual(JSON.parse(record))
    const atEnd = res.checkpoint()
    expect(atEnd).toMatchObject({ offset: WHOLE.length, items: 2 })
    res.detach()

    const continueFrom = async (checkpoint: Checkpoint) => {
      const continuing = sluice('https://example.test/stream', {
        fetch: server.fetch,
        retry: 0,
        resume,
        resumeFrom: checkpoint,
      })
      await settle()
      const exchange = server.exchanges.at(-1)!
      expect(exchange.rangeStart).toBe(WHOLE.length)
      exchange.refuse(416, { 'content-range': `bytes */${WHOLE.length}` })
      return continuing
    }
    const again = await continueFrom(atEnd)
    expect(again.status).toBe(416)
    const stillAtEnd = again.checkpoint()
    expect(stillAtEnd).toMatchObject({ offset: WHOLE.length, loaded: WHOLE.length, items: 2 })
    expect(await Array.fromAsync(again.ndjson())).toEqual([])
    expect(again.checkpoint()).toMatchObject({ offset: WHOLE.length, items: 2 })

    const once = await continueFrom(stillAtEnd)
    expect(await Array.fromAsync(once.ndjson())).toEqual([])
    expect(once.progress).toMatchObject({ loaded: WHOLE.length, items: 2, state: 'done' })
  })
})
