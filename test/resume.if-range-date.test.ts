/**
 * A Last-Modified date goes back as `If-Range` only when it is a strong validator (RFC 9110 §13.1.5): for a
 * client, when the answer it came from has a `Date` 60 s or more after it (§8.8.2.2). A weak date — no Date (from
 * another origin, CORS hides it unless exposed), a Date less than a minute later, either unparsable — leaves the
 * `Range` alone: a strict server would answer it with the whole body (200), and the stream would end at a drop it
 * could continue. The answer is still checked against the first answer's Last-Modified. A checkpoint carries the
 * decision into another process; one from before it (without `strongDate`) sends no date.
 */
import { describe, expect, it } from 'vitest'
import { sealCheckpoint } from '../src/core/resume/checkpoint.ts'
import { type Checkpoint, sluice } from '../src/index.ts'
import { droppedAfter, fetchWith, resumeError } from './support/streams.ts'

const URL_ = 'https://files.example/report.ndjson'
const FAST = { initial: 1, max: 2, jitter: 0 }
const ROWS = Array.from({ length: 8 }, (_, i) => ({ i, name: `row ${i} — ${'é'.repeat(i)}` }))
const BODY = new TextEncoder().encode(ROWS.map((r) => `${JSON.stringify(r)}\n`).join(''))
/** Inside the third row, after two whole ones. */
const DROP =
  new TextEncoder().encode(
    ROWS.slice(0, 2)
      .map((r) => `${JSON.stringify(r)}\n`)
      .join(''),
  ).length + 5
const MODIFIED = 'Tue, 01 Dec 2026 05:00:00 GMT'
/** `MODIFIED` plus `s` seconds, as an HTTP date. */
const later = (s: number) => new Date(Date.parse(MODIFIED) + s * 1000).toUTCString()

interface Options {
  /** The first answer's Date header, if any. */
  date?: string | undefined
  /** Last-Modified of the first answer and of every later one. Default: `MODIFIED` on both. */
  modified?: [string, string]
  /**
   * A server that takes every date in If-Range for a weak one (it was modified within the minute): it ignores the
   * Range and answers the whole body (200), as RFC 9110 §13.1.5 lets it.
   */
  strict?: boolean
  /** Whether the first answer drops after `DROP` bytes. Default true. */
  drops?: boolean
}

/** A range server over BODY; `seen` lists each request's Range and If-Range, and the status it got. */
function server({ date, modified = [MODIFIED, MODIFIED], strict = false, drops = true }: Options) {
  const seen: Array<{ range: string | null; ifRange: string | null; status: number }> = []
  const fetch = fetchWith((request) => {
    const range = request.headers.get('range')
    const ifRange = request.headers.get('if-range')
    const lastModified = modified[seen.length === 0 ? 0 : 1]
    const headers: Record<string, string> = {
      'content-type': 'application/x-ndjson',
      'accept-ranges': 'bytes',
      'last-modified': lastModified,
    }
    const start = Number(/^bytes=(\d+)-$/.exec(range ?? '')?.[1] ?? Number.NaN)
    const honour = !Number.isNaN(start) && (ifRange === null || (!strict && ifRange === lastModified))
    const status = honour ? 206 : 200
    seen.push({ range, ifRange, status })
    if (!honour) {
      if (seen.length === 1 && date !== undefined) headers.date = date
      const body = seen.length === 1 && drops ? droppedAfter(BODY, DROP) : BODY.slice()
      return new Response(body, { headers: { ...headers, 'content-length': String(BODY.length) } })
    }
    return new Response(BODY.slice(start), {
      status,
      headers: { ...headers, 'content-range': `bytes ${start}-${BODY.length - 1}/${BODY.length}` },
    })
  })
  return { fetch, seen }
}

/** The checkpoint after two rows of a stream that does not drop, as storage keeps it (JSON). */
async function checkpointOf(date: string | undefined): Promise<Checkpoint> {
  const res = await sluice(URL_, { fetch: server({ date, drops: false }).fetch })
  const rows = res.ndjson()[Symbol.asyncIterator]()
  await rows.next()
  await rows.next()
  const checkpoint = JSON.parse(JSON.stringify(res.checkpoint())) as Checkpoint
  await rows.return?.()
  return checkpoint
}

const STRONG: Array<[string, string]> = [
  ['a Date an hour later', later(3600)],
  ['a Date exactly 60 s later', later(60)],
]
const WEAK: Array<[string, string | undefined]> = [
  ['no Date', undefined],
  ['a Date 59 s later', later(59)],
  ['a Date before it', later(-3600)],
  ['an unparsable Date', 'soon'],
  ['a Date an hour later in no HTTP format', '2026-12-01T06:00:00Z'],
  ['a Date an hour later in lower case', 'tue, 01 dec 2026 06:00:00 gmt'],
]

describe('If-Range with a Last-Modified date and no ETag', () => {
  it("sends the date only when the first answer's Date is 60 s or more after it, and continues either way", async () => {
    for (const [name, date, expected] of [
      ...STRONG.map(([name, date]) => [name, date, MODIFIED] as const),
      ...WEAK.map(([name, date]) => [name, date, null] as const),
    ]) {
      const { fetch, seen } = server({ date })
      const res = await sluice(URL_, { fetch, resume: { backoff: FAST } })
      expect(await Array.fromAsync(res.ndjson()), name).toEqual(ROWS)
      expect(seen, name).toEqual([
        { range: null, ifRange: null, status: 200 },
        { range: `bytes=${DROP}-`, ifRange: expected, status: 206 },
      ])
    }
  })

  it('sends no Last-Modified that is no HTTP-date as If-Range, whatever the Date', async () => {
    // V8's Date.parse reads all but the first as 1 December 2026, 05:00 (the last in the machine's zone).
    for (const modified of [
      'last week',
      '2026-12-01T05:00:00Z',
      'Tue, 1 Dec 2026 05:00:00 GMT',
      'Tue, 01 Dec 2026 05:00:00 UTC',
      'Tue, 01 Dec 2026 05:00:00 +0000',
      'Mon, 01 Dec 2026 05:00:00 GMT',
      'Tue, 01 Dec 2026 05:00 GMT',
      'Tue Dec 1 05:00:00 2026',
    ]) {
      const { fetch, seen } = server({ date: later(3600), modified: [modified, modified] })
      const res = await sluice(URL_, { fetch, resume: { backoff: FAST } })
      expect(await Array.fromAsync(res.ndjson()), modified).toEqual(ROWS)
      expect(
        seen.map((s) => s.ifRange),
        modified,
      ).toEqual([null, null])
    }
  })

  it('continues at a drop from a strict server, which would answer a weak date in If-Range with the whole body', async () => {
    const { fetch, seen } = server({ date: later(5), strict: true })
    const res = await sluice(URL_, { fetch, resume: { backoff: FAST } })
    expect(await Array.fromAsync(res.ndjson())).toEqual(ROWS)
    expect(seen.map((s) => [s.range, s.ifRange, s.status])).toEqual([
      [null, null, 200],
      [`bytes=${DROP}-`, null, 206],
    ])
  })

  it('still refuses a 206 with another Last-Modified, asked for with the Range alone', async () => {
    const other = 'Tue, 01 Dec 2026 05:00:30 GMT'
    const { fetch, seen } = server({ date: later(30), modified: [MODIFIED, other] })
    const res = await sluice(URL_, { fetch, resume: { backoff: FAST } })
    const got: unknown[] = []
    const error = await resumeError(
      (async () => {
        for await (const row of res.ndjson()) got.push(row)
      })(),
    )
    expect(error.reason).toBe('validator-changed')
    expect(error.message).toContain(`Last-Modified ${MODIFIED} became ${other}`)
    expect(got).toEqual(ROWS.slice(0, 2))
    expect(seen.map((s) => [s.ifRange, s.status])).toEqual([
      [null, 200],
      [null, 206],
    ])
  })
})

describe('the same decision through a checkpoint, in another process', () => {
  it('keeps that the date is strong (strongDate), and sends it from resumeFrom only then', async () => {
    for (const [name, date, expected] of [
      ...STRONG.map(([name, date]) => [name, date, MODIFIED] as const),
      ...WEAK.map(([name, date]) => [name, date, null] as const),
    ]) {
      const checkpoint = await checkpointOf(date)
      expect(checkpoint.lastModified, name).toBe(MODIFIED)
      expect(checkpoint.strongDate, name).toBe(expected === null ? undefined : true)
      // The other process's server sends no Date at all: the decision is the first answer's.
      const { fetch, seen } = server({})
      const res = await sluice(URL_, { fetch, resumeFrom: checkpoint, resume: { backoff: FAST } })
      expect(await Array.fromAsync(res.ndjson()), name).toEqual(ROWS.slice(2))
      expect(seen, name).toEqual([{ range: `bytes=${checkpoint.offset}-`, ifRange: expected, status: 206 }])
      // Its own checkpoint keeps the decision for the next process.
      expect(res.checkpoint().strongDate, name).toBe(checkpoint.strongDate)
    }
  })

  it('sends no date from a checkpoint made before strongDate existed, strong as its date was', async () => {
    const { check: _check, version: _version, strongDate, ...fields } = await checkpointOf(later(3600))
    expect(strongDate).toBe(true)
    const old = JSON.parse(JSON.stringify(sealCheckpoint(fields))) as Checkpoint
    const { fetch, seen } = server({ strict: true })
    const res = await sluice(URL_, { fetch, resumeFrom: old, resume: { backoff: FAST } })
    expect(await Array.fromAsync(res.ndjson())).toEqual(ROWS.slice(2))
    expect(seen).toEqual([{ range: `bytes=${old.offset}-`, ifRange: null, status: 206 }])
  })

  it('refuses a 206 with another Last-Modified from a checkpoint with a weak date', async () => {
    const checkpoint = await checkpointOf(undefined)
    const other = 'Tue, 01 Dec 2026 05:00:30 GMT'
    const { fetch, seen } = server({ modified: [other, other] })
    const error = await resumeError(sluice(URL_, { fetch, resumeFrom: checkpoint }))
    expect(error.reason).toBe('validator-changed')
    expect(error.message).toContain(`since the checkpoint (Last-Modified ${MODIFIED} became ${other})`)
    expect(seen).toEqual([{ range: `bytes=${checkpoint.offset}-`, ifRange: null, status: 206 }])
  })
})
