/**
 * What the resume engine accepts as the rest of a stream, against a real server on 127.0.0.1: an answer that
 * is not the stream (another media type, no end marker where there was one), a full answer shorter than what
 * was delivered, an encoded body, a cursor that throws — each refused with an error that says why, never a
 * clean end with a gap. And what a checkpoint carries into the next process: its event id or cursor until the
 * resumed stream delivers, its attempt count, its total.
 */
import { describe, expect, it } from 'vitest'
import {
  type Checkpoint,
  fromResponse,
  isNetworkError,
  isResumeError,
  isTimeoutError,
  type Progress,
  sluice,
} from '../src/index.ts'
import { encode } from './support/chunking.ts'
import { dropping as rangedDrop, rest as rangedRest, URL_R } from './support/ranged-drop.ts'
import { base64, FAST, scripted, totalSeen } from './support/scripted.ts'
import { bodyOf, failure, fetchWith, responseOf } from './support/streams.ts'

const events = ['alpha', 'βeta', 'γάμμα 😀', 'delta', 'epsilon'].map((data, i) => ({ id: `e${i}`, data }))
const wire = (list: typeof events) => list.map((e) => `id: ${e.id}\ndata: ${e.data}\n\n`).join('')
/** Inside the data of event e2, after e0 and e1 were delivered. */
const INSIDE_E2 = encode(wire(events.slice(0, 2))).length + 14
const rows = Array.from({ length: 6 }, (_, i) => JSON.stringify({ i, name: `row ${i} — ${'é'.repeat(i)}` }))
const after = (last: unknown) => ({ searchParams: { after: String((last as { i: number }).i) } })
/** The bytes of `list` as NDJSON, one record per line. */
const ndjsonLength = (list: string[]) => encode(list.map((r) => `${r}\n`).join('')).length
const LINES = ['première ligne — é', 'second 😀 line', '{"third":"中文"}', 'fourth\tline', 'fifth']
const BODY = encode(`${LINES.join('\r\n')}\r\n`)

/** Reads `n` items, takes a checkpoint and stops. */
async function checkpointAfter<T>(items: AsyncIterable<T>, n: number, take: () => Checkpoint) {
  const seen: T[] = []
  let checkpoint: Checkpoint | undefined
  for await (const item of items) {
    seen.push(item)
    if (seen.length === n) {
      checkpoint = JSON.parse(JSON.stringify(take())) as Checkpoint
      break
    }
  }
  return { seen, checkpoint: checkpoint! }
}

/** A checkpoint after the first record of `body`, served as https://fn.example/r with Range. */
async function checkpointOfFirstRecord(body: Uint8Array): Promise<Checkpoint> {
  const first = await fromResponse(
    new Response(new Uint8Array(body), { headers: { 'accept-ranges': 'bytes' } }),
    {
      url: 'https://fn.example/r',
    },
  )
  return (await checkpointAfter(first.ndjson(), 1, () => first.checkpoint())).checkpoint
}

describe('answers that are not the rest of the stream', () => {
  it('refuses a restart answer of another media type (a sign-in page), with the events before it kept', async () => {
    const s = await scripted({ kind: 'sse', events, attempts: [{ drop: INSIDE_E2 }, { type: 'text/html' }] })
    const res = await sluice(s.url, { resume: { backoff: FAST } })
    const got: string[] = []
    const error = await failure(
      (async () => {
        for await (const event of res.events()) got.push(event.data)
      })(),
    )
    expect(got).toEqual(['alpha', 'βeta'])
    expect(isResumeError(error) && error.reason).toBe('not-resumable')
    expect(error.message).toContain('text/html, not the text/event-stream of the stream it would continue')
  })

  it('refuses a restart answer without the end marker the stream announced', async () => {
    const s = await scripted({
      kind: 'sse',
      events,
      marker: true,
      attempts: [{ drop: INSIDE_E2 }, { marker: false }],
    })
    const res = await sluice(s.url, { resume: { backoff: FAST } })
    const error = await failure(Array.fromAsync(res.events()))
    expect(isResumeError(error) && error.reason).toBe('not-resumable')
    expect(error.message).toContain('announces no end marker (x-sluice-end)')
    expect(res.progress.state).toBe('error')
  })

  it('with skipOnRestart, a full answer shorter than what was delivered is a cut, never a clean end', async () => {
    const s = await scripted({
      kind: 'range',
      body: base64(BODY),
      length: false,
      attempts: [{ drop: 30 }, { answer: 'full', body: base64(BODY.subarray(0, 20)) }],
    })
    const res = await sluice(s.url, { resume: { backoff: FAST, skipOnRestart: true, attempts: 1 } })
    const error = await failure(Array.fromAsync(res.lines()))
    expect(isResumeError(error) && error.reason).toBe('attempts-exhausted')
    expect(error.message).toContain('ended after 20 bytes, before the 30 already delivered')
    const requests = (await s.log()).filter((e) => e.event === 'request')
    expect(requests.map((r) => r.range)).toEqual([null, 'bytes=30-'])
  })

  it('a drop before the first byte, answered with the full body (200), reads it from the start', async () => {
    const s = await scripted({
      kind: 'range',
      body: base64(BODY),
      attempts: [{ drop: 0 }, { answer: 'full' }],
    })
    const res = await sluice(s.url, { resume: { backoff: FAST } })
    expect(await Array.fromAsync(res.lines())).toEqual(LINES)
    const requests = (await s.log()).filter((e) => e.event === 'request')
    expect(requests.map((r) => r.range)).toEqual([null, 'bytes=0-'])
    expect(res.progress).toMatchObject({ loaded: BODY.length, state: 'done' })
  })

  it('a 206 without a body is refused as not-resumable, naming the status', async () => {
    let calls = 0
    const fetch = fetchWith(() =>
      ++calls === 1
        ? responseOf(['{"n":1}\n', '{"n":'], {
            headers: { 'accept-ranges': 'bytes' },
            error: new TypeError('terminated'),
          })
        : new Response(null, { status: 206, headers: { 'content-range': 'bytes 13-*/*' } }),
    )
    const res = await sluice('https://example.test/rows', { fetch, resume: { backoff: FAST } })
    const error = await failure(Array.fromAsync(res.ndjson()))
    expect(isResumeError(error) && error.reason).toBe('not-resumable')
    expect(error.message).toContain('with status 206 and no body')
    expect(calls).toBe(2)
  })

  it('does not continue a content-encoded body by Range, and says why', async () => {
    let requests = 0
    let pulls = 0
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulls++ === 0) controller.enqueue(encode('a\nb\n'))
        else controller.error(new TypeError('terminated'))
      },
    })
    const headers = { 'content-encoding': 'gzip', 'accept-ranges': 'bytes', etag: '"v1"' }
    const res = await fromResponse(new Response(body, { headers }), {
      resume: { backoff: FAST },
      request: async () => {
        requests++
        return new Response('')
      },
    })
    const error = await failure(Array.fromAsync(res.lines()))
    expect(isNetworkError(error)).toBe(true)
    expect(error.message).toContain('content-encoded (gzip), which byte ranges cannot continue')
    expect(requests).toBe(0)
    const explicit = await fromResponse(new Response('x\n', { headers }), {
      resume: { strategy: 'range' },
      request: async () => new Response(''),
    })
    expect(() => explicit.checkpoint()).toThrow(/content-encoded \(gzip\)/)
  })

  it("continues a body whose Content-Encoding is 'identity' (no coding at all) by Range, and checks its length", async () => {
    const ranges: Array<string | null> = []
    const res = await sluice(URL_R, {
      retry: 0,
      resume: { backoff: FAST },
      fetch: fetchWith((request) => {
        ranges.push(request.headers.get('range'))
        return ranges.length === 1 ? rangedDrop({ 'content-encoding': 'identity' }) : rangedRest('efgh')
      }),
    })
    expect(await res.collect.text()).toBe('abcdefgh')
    expect(ranges).toEqual([null, 'bytes=4-'])
    // Its Content-Length is the body's: the total is known from the first answer on.
    expect(res.progress).toMatchObject({ loaded: 8, total: 8, percent: 100, state: 'done' })
  })

  it('refuses last-event-id when nothing delivered carried an id: starting over would repeat it', async () => {
    const plain = events.map(({ data }) => ({ id: '', data }))
    const s = await scripted({ kind: 'sse', events: plain, attempts: [{ drop: INSIDE_E2 - 10 }] })
    const res = await sluice(s.url, { resume: { strategy: 'last-event-id', backoff: FAST } })
    const got: string[] = []
    const error = await failure(
      (async () => {
        for await (const event of res.events()) got.push(event.data)
      })(),
    )
    expect(got).toEqual(['alpha', 'βeta'])
    expect(error.message).toContain('no SSE event id is in force')
    expect((await s.log()).filter((e) => e.event === 'request')).toHaveLength(1)
  })

  it('fails at once, with the error as cause, when resume.cursor throws: no reconnect, no backoff', async () => {
    const inside = encode(`${rows[0]}\n${rows[1]}\n`).length + 5
    const s = await scripted({
      kind: 'cursor',
      records: rows,
      format: 'ndjson',
      attempts: [{ drop: inside, release: true }],
    })
    const broken = new TypeError('no position in this row')
    // The drop waits until the client has read the rows before it: a loaded Chromium may lose unread bytes, and
    // with no row delivered there is no cursor to ask for (a restart from the start, after the long backoff).
    const res = await sluice(s.url, {
      progressInterval: 0,
      onProgress: (p) => {
        if (p.loaded === inside && p.attempt === 1) void s.release()
      },
      resume: {
        strategy: 'cursor',
        backoff: { initial: 600_000, max: 600_000, jitter: 0 },
        cursor: () => {
          throw broken
        },
      },
    })
    const error = await failure(Array.fromAsync(res.ndjson()))
    expect(isResumeError(error) && error.reason).toBe('not-resumable')
    expect(error.cause).toBe(broken)
    expect((await s.log()).filter((e) => e.event === 'request')).toHaveLength(1)
  })
})

describe('progress across a reconnect', () => {
  it('learns the total from a 206 when the first answer had no length, and ends at 100 %', async () => {
    const s = await scripted({
      kind: 'range',
      body: base64(BODY),
      attempts: [{ length: false, drop: 30 }, { length: true }],
    })
    const seen: Progress[] = []
    const res = await sluice(s.url, {
      resume: { backoff: FAST },
      onProgress: (p) => seen.push(p),
      progressInterval: 0,
    })
    expect(res.progress.total).toBeUndefined()
    expect(await Array.fromAsync(res.lines())).toEqual(LINES)
    expect(seen.at(-1)).toMatchObject({
      loaded: BODY.length,
      total: BODY.length,
      percent: 100,
      state: 'done',
    })
  })

  it("learns the total from a restart answer's length: what was committed before it, plus what it sends", async () => {
    const whole = ndjsonLength(rows)
    // Inside the fourth record: rows 0 to 2 are committed, and the restart answer sends rows 3 to 5.
    const inside = ndjsonLength(rows.slice(0, 3)) + 6
    const s = await scripted({
      kind: 'cursor',
      records: rows,
      format: 'ndjson',
      attempts: [{ length: false, drop: inside }, { length: true }],
    })
    const seen: Progress[] = []
    const res = await sluice(s.url, {
      resume: { strategy: 'cursor', cursor: after, backoff: FAST },
      onProgress: (p) => seen.push(p),
      progressInterval: 0,
    })
    expect(await Array.fromAsync(res.ndjson())).toEqual(rows.map((r) => JSON.parse(r) as unknown))
    const second = seen.filter((p) => p.attempt === 2 && p.state === 'streaming')
    expect(second.length).toBeGreaterThan(0)
    for (const p of second) {
      expect(p.total).toBe(totalSeen(whole))
      expect(p.percent ?? 0).toBeLessThan(100)
    }
    expect(seen.at(-1)).toMatchObject({ loaded: whole, state: 'done' })
    expect(seen.at(-1)?.total).toBe(totalSeen(whole))
    expect(seen.at(-1)?.percent).toBe(totalSeen(100))
  })
})

describe('what a checkpoint carries into the next process', () => {
  it('sends its Last-Event-ID again when the resumed stream drops before its first event', async () => {
    const s = await scripted({
      kind: 'sse',
      events,
      attempts: [{}, { drop: 5 }],
    })
    const first = await sluice(s.url)
    const { seen, checkpoint } = await checkpointAfter(first.events(), 2, () => first.checkpoint())
    const res = await sluice(s.url, { resumeFrom: checkpoint, resume: { backoff: FAST } })
    const rest = await Array.fromAsync(res.events())
    expect([...seen, ...rest].map((e) => e.id)).toEqual(events.map((e) => e.id))
    const requests = (await s.log()).filter((e) => e.event === 'request')
    expect(requests.map((r) => r.lastEventId)).toEqual([null, 'e1', 'e1'])
  })

  it("lets the resumed stream's own empty id: end the checkpoint's id, repeating nothing", async () => {
    const list = [
      { id: 'e0', data: 'alpha' },
      { id: 'e1', data: 'βeta' },
      { id: '', data: 'after a reset' },
      { id: '', data: 'no id either' },
    ]
    const cut = encode(wire(list.slice(2, 3))).length + 8
    // The drop waits until the resumed stream has delivered its event: a loaded Chromium loses the bytes it has not
    // read when the connection fails, and with nothing delivered the stream would just ask again from e1.
    const s = await scripted({ kind: 'sse', events: list, attempts: [{}, { drop: cut, release: true }] })
    const first = await sluice(s.url)
    const { checkpoint } = await checkpointAfter(first.events(), 2, () => first.checkpoint())
    const res = await sluice(s.url, { resumeFrom: checkpoint, resume: { backoff: FAST } })
    const got: string[] = []
    const error = await failure(
      (async () => {
        for await (const event of res.events()) {
          got.push(event.data)
          void s.release()
        }
      })(),
    )
    expect(got).toEqual(['after a reset'])
    expect(error.message).toContain('no SSE event id is in force')
    expect((await s.log()).filter((e) => e.event === 'request')).toHaveLength(2)
  })

  it('asks with its cursor again when the resumed stream drops before its first record', async () => {
    const s = await scripted({ kind: 'cursor', records: rows, format: 'ndjson', attempts: [{}, { drop: 5 }] })
    const resume = { strategy: 'cursor' as const, cursor: after, backoff: FAST }
    const first = await sluice(s.url, { resume })
    const { seen, checkpoint } = await checkpointAfter(first.ndjson(), 2, () => first.checkpoint())
    const res = await sluice(s.url, { resumeFrom: checkpoint, resume })
    // Taken before the resumed stream delivered anything, a checkpoint still holds the cursor.
    expect(JSON.parse(JSON.stringify(res.checkpoint())).cursor).toEqual({ searchParams: { after: '1' } })
    const rest = await Array.fromAsync(res.ndjson())
    expect([...seen, ...rest]).toEqual(rows.map((r) => JSON.parse(r) as unknown))
    const requests = (await s.log()).filter((e) => e.event === 'request')
    expect(requests.map((r) => r.search)).toEqual(['', '?after=1', '?after=1'])
  })

  it('keeps counting attempts from the checkpoint, and completes the total of a restart answer', async () => {
    const s = await scripted({
      kind: 'cursor',
      records: rows,
      format: 'ndjson',
      attempts: [{ length: false }, { length: true, drop: 5 }, { length: true }],
    })
    const resume = { strategy: 'cursor' as const, cursor: after, backoff: FAST }
    const first = await sluice(s.url, { resume })
    const { checkpoint } = await checkpointAfter(first.ndjson(), 2, () => first.checkpoint())
    expect(checkpoint.total).toBeUndefined()
    const seen: Progress[] = []
    const res = await sluice(s.url, {
      resumeFrom: { ...checkpoint },
      resume,
      onProgress: (p) => seen.push(p),
      progressInterval: 0,
    })
    await Array.fromAsync(res.ndjson())
    const whole = ndjsonLength(rows)
    expect(seen.map((p) => p.attempt)).toEqual([...seen.map((p) => p.attempt)].sort())
    // The request that continues and the reconnect after its drop.
    expect(res.progress).toMatchObject({ attempt: checkpoint.attempt + 2, loaded: whole, state: 'done' })
    const rest = whole - checkpoint.loaded
    expect(seen.find((p) => p.state === 'streaming')?.total).toBe(totalSeen(checkpoint.loaded + rest))
  })

  it("from fromResponse(), names the request the caller says it answered, so a POST's can be resumed", async () => {
    const s = await scripted({ kind: 'range', body: base64(BODY), etag: ['"v1"'] })
    const post = await fetch(s.url, { method: 'POST' })
    const res = await fromResponse(post, {
      method: 'post',
      request: ({ headers, signal }) => fetch(s.url, { method: 'POST', headers, signal }),
    })
    const { seen, checkpoint } = await checkpointAfter(res.lines(), 2, () => res.checkpoint())
    expect(checkpoint).toMatchObject({ method: 'POST', url: s.url })
    const again = await sluice(s.url, { method: 'POST', resumeFrom: checkpoint })
    expect([...seen, ...(await Array.fromAsync(again.lines()))]).toEqual(LINES)
    // A Response made in code has no URL of its own: the caller's goes into the checkpoint.
    const made = await fromResponse(
      new Response(LINES.join('\n'), { headers: { 'accept-ranges': 'bytes' } }),
      {
        url: s.url,
        request: ({ headers, signal }) => fetch(s.url, { headers, signal }),
      },
    )
    expect(made.checkpoint()).toMatchObject({ url: s.url, method: 'GET' })
  })

  it('can be taken before the first event of an SSE stream whose ids have not come yet: it starts over', async () => {
    const s = await scripted({ kind: 'sse', events })
    const res = await sluice(s.url)
    const checkpoint = res.checkpoint()
    expect(checkpoint).toMatchObject({ strategy: 'last-event-id', offset: 0, loaded: 0, items: 0 })
    expect(checkpoint.lastEventId).toBeUndefined()
    await res.cancel()
    const again = await sluice(s.url, { resumeFrom: checkpoint })
    expect((await Array.fromAsync(again.events())).map((e) => e.id)).toEqual(events.map((e) => e.id))
  })
})

/** Three records, over Range: an answer that drops after the first, for the resume answers below to refuse. */
const body = encode('{"n":1}\n{"n":2}\n{"n":3}\n')
const dropping = (): Response => {
  let sent = false
  return new Response(
    new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent) return controller.error(new TypeError('network error (scripted drop)'))
        sent = true
        controller.enqueue(body.subarray(0, 8))
      },
    }),
    { headers: { 'accept-ranges': 'bytes', 'content-length': String(body.length) } },
  )
}

describe('a refused resume says what the server said', () => {
  it('a busy answer: the excerpt of its error page, in the cause of giving up', async () => {
    const res = await fromResponse(dropping(), {
      resume: { strategy: 'range', attempts: 2, backoff: FAST },
      request: () =>
        Promise.resolve(
          new Response('The function failed before it sent a response: db lost', { status: 502 }),
        ),
    })
    const error = await failure(Array.fromAsync(res.ndjson()))
    expect(isResumeError(error) && error.reason).toBe('attempts-exhausted')
    expect(error.message).toContain(
      'got status 502 (the server said: "The function failed before it sent a response: db lost")',
    )
  })

  it('a refusal: the excerpt after the reason', async () => {
    const res = await fromResponse(dropping(), {
      resume: { strategy: 'range', backoff: FAST },
      request: () => Promise.resolve(new Response('no such report', { status: 404 })),
    })
    const error = await failure(Array.fromAsync(res.ndjson()))
    expect(isResumeError(error) && error.reason).toBe('not-resumable')
    expect(error.message).toMatch(
      /status 404; the stream cannot be continued; the server said: "no such report"\.$/,
    )
  })

  it('resumeFrom refused: the same', async () => {
    const checkpoint = await checkpointOfFirstRecord(body)
    const error = await failure(
      sluice('https://fn.example/r', {
        resumeFrom: checkpoint,
        fetch: async () => new Response('gone for good', { status: 410 }),
      }),
    )
    expect(isResumeError(error) && error.message).toMatch(/the server said: "gone for good"\.$/)
  })
})

describe('resumeFrom releases the answers it does not stream', () => {
  const restOf = (from: number) =>
    new Response(body.slice(from), {
      status: 206,
      headers: {
        'accept-ranges': 'bytes',
        'content-range': `bytes ${from}-${body.length - 1}/${body.length}`,
      },
    })

  it("cancels a busy answer's body before it asks again", async () => {
    const checkpoint = await checkpointOfFirstRecord(body)
    const busy = bodyOf(['busy: ', 'try again ', 'later'])
    let n = 0
    const res = await sluice('https://fn.example/r', {
      resumeFrom: checkpoint,
      resume: { backoff: FAST },
      fetch: fetchWith(() =>
        n++ === 0
          ? new Response(busy.stream, { status: 503, headers: { 'retry-after': '0' } })
          : restOf(checkpoint.offset),
      ),
    })
    expect(await Array.fromAsync(res.ndjson())).toEqual([{ n: 2 }, { n: 3 }])
    expect(n).toBe(2)
    expect(busy.cancels()).toBe(1)
  })

  it('cancels the body of a 2xx answer it refuses (the full 200 instead of a part)', async () => {
    const checkpoint = await checkpointOfFirstRecord(body)
    const full = bodyOf(['{"n":1}\n', '{"n":2}\n', '{"n":3}\n'])
    const error = await failure(
      sluice('https://fn.example/r', {
        resumeFrom: checkpoint,
        fetch: fetchWith(() => new Response(full.stream, { headers: { 'accept-ranges': 'bytes' } })),
      }),
    )
    expect(isResumeError(error) && error.reason).toBe('range-ignored')
    expect(full.cancels()).toBe(1)
  })
})

describe('reading a refused answer’s error page yields to a stop', () => {
  /** An error page that keeps streaming: its excerpt would take the whole second. */
  const endless = (status: number): Response => {
    let timer: ReturnType<typeof setInterval> | undefined
    return new Response(
      new ReadableStream<Uint8Array>({
        start(controller) {
          timer = setInterval(() => controller.enqueue(encode('.')), 20)
        },
        cancel() {
          clearInterval(timer)
        },
      }),
      { status },
    )
  }
  const reconnecting = () => {
    let n = 0
    return async () => (n++ === 0 ? dropping() : endless(404))
  }

  it('the user’s abort during a reconnect’s error page: the abort reason, cancelled', async () => {
    const controller = new AbortController()
    const res = await sluice('https://fn.example/r', {
      fetch: reconnecting(),
      signal: controller.signal,
      resume: { strategy: 'range', backoff: FAST },
    })
    const reason = new Error('the user left')
    setTimeout(() => controller.abort(reason), 100)
    expect(await failure(Array.fromAsync(res.ndjson()))).toBe(reason)
    expect(res.progress.state).toBe('cancelled')
  })

  it('the total timeout during a reconnect’s error page: a TimeoutError, not the refusal', async () => {
    const res = await sluice('https://fn.example/r', {
      fetch: reconnecting(),
      totalTimeout: 150,
      resume: { strategy: 'range', backoff: FAST },
    })
    const error = await failure(Array.fromAsync(res.ndjson()))
    expect(isTimeoutError(error) && error.phase).toBe('total')
  })

  it('cancel() during a reconnect’s error page ends the loop quietly', async () => {
    const fetch = reconnecting()
    let calls = 0
    const res = await sluice('https://fn.example/r', {
      // Cancels once the reconnect has its error page, whose excerpt takes a second to read: not at a fixed
      // time, which a loaded browser may reach before the first record.
      fetch: async () => {
        if (calls++ === 1) setTimeout(() => void res.cancel(), 50)
        return fetch()
      },
      resume: { strategy: 'range', backoff: FAST },
    })
    const seen: unknown[] = []
    for await (const item of res.ndjson()) seen.push(item)
    expect(seen).toEqual([{ n: 1 }])
  })

  it('resumeFrom: the total timeout and the user’s abort win over the refusal', async () => {
    const checkpoint = await checkpointOfFirstRecord(body)
    const timedOut = await failure(
      sluice('https://fn.example/r', {
        resumeFrom: checkpoint,
        fetch: async () => endless(404),
        totalTimeout: 150,
      }),
    )
    expect(isTimeoutError(timedOut) && timedOut.phase).toBe('total')
    const controller = new AbortController()
    const reason = new Error('the user left')
    setTimeout(() => controller.abort(reason), 100)
    const progress: string[] = []
    const aborted = await failure(
      sluice('https://fn.example/r', {
        resumeFrom: checkpoint,
        fetch: async () => endless(404),
        signal: controller.signal,
        onProgress: (p) => progress.push(p.state),
        progressInterval: 0,
      }),
    )
    expect(aborted).toBe(reason)
    expect(progress.at(-1)).toBe('cancelled')
  })
})

it('a cursor that throws when a checkpoint is taken is a ResumeError that says so', async () => {
  const res = await fromResponse(new Response('{"n":1}\n{"n":2}\n'), {
    url: 'https://fn.example/feed',
    request: async () => new Response(''),
    resume: {
      strategy: 'cursor',
      cursor: () => {
        throw new Error('the record has no id')
      },
    },
  })
  const it = res.ndjson()[Symbol.asyncIterator]()
  await it.next()
  let error: unknown
  try {
    res.checkpoint()
  } catch (e) {
    error = e
  }
  expect(isResumeError(error) && error.reason).toBe('not-resumable')
  expect(isResumeError(error) && error.message).toBe(
    '`resume.cursor` threw (the record has no id); no checkpoint can be taken.',
  )
  await res.cancel()
})

describe('a full answer (200) skipped to where the stream was, with skipOnRestart', () => {
  it('delivers no empty chunk when one of its chunks ends exactly there', async () => {
    const headers = { 'accept-ranges': 'bytes', etag: '"v1"', 'content-length': '20' }
    const res = await fromResponse(
      responseOf(['0123456789'], { headers, error: new TypeError('terminated') }),
      {
        url: 'https://fn.example/r',
        resume: { strategy: 'range', attempts: 2, backoff: FAST, skipOnRestart: true },
        // The server ignores the Range: the whole body again, its first chunk ending where the drop was.
        request: async () => responseOf(['0123456789', 'abcdefghij'], { headers }),
      },
    )
    const chunks = (await Array.fromAsync(res.bytes())).map((chunk) => new TextDecoder().decode(chunk))
    expect(chunks).toEqual(['0123456789', 'abcdefghij'])
    expect(res.progress).toMatchObject({ loaded: 20, total: 20, state: 'done' })
  })
  it('discards exactly the bytes delivered when they span several of its chunks', async () => {
    const headers = { 'accept-ranges': 'bytes', etag: '"v1"', 'content-length': '20' }
    const res = await fromResponse(
      responseOf(['012345678901234'], { headers, error: new TypeError('terminated') }),
      {
        url: 'https://fn.example/r',
        resume: { strategy: 'range', attempts: 2, backoff: FAST, skipOnRestart: true },
        request: async () => responseOf(['0123456', '78901234abc', 'de'], { headers }),
      },
    )
    expect(new TextDecoder().decode(await res.collect.bytes())).toBe('012345678901234abcde')
    expect(res.progress).toMatchObject({ loaded: 20, total: 20, state: 'done' })
  })
})

describe('a full answer (200) cut while it is still skipped to where the stream was', () => {
  it('the next Range asks from where the stream was, not from where the full answer got to', async () => {
    const headers = { 'accept-ranges': 'bytes', etag: '"v1"', 'content-length': '20' }
    const whole = '012345678901234abcde'
    const ranges: Array<string | null> = []
    const answers = [
      () => responseOf([whole.slice(0, 8)], { headers, error: new TypeError('terminated') }),
      () =>
        responseOf([whole.slice(15)], {
          status: 206,
          headers: { etag: '"v1"', 'content-range': 'bytes 15-19/20' },
        }),
    ]
    const res = await fromResponse(
      responseOf([whole.slice(0, 15)], { headers, error: new TypeError('terminated') }),
      {
        url: 'https://fn.example/r',
        resume: { strategy: 'range', attempts: 3, backoff: FAST, skipOnRestart: true },
        request: async ({ headers: sent }) => {
          ranges.push(new Headers(sent).get('range'))
          return answers[ranges.length - 1]!()
        },
      },
    )
    expect(new TextDecoder().decode(await res.collect.bytes())).toBe(whole)
    expect(ranges).toEqual(['bytes=15-', 'bytes=15-'])
  })
})

describe('a consumer that cannot restart at a record boundary (bytes)', () => {
  it('refuses a restarting strategy after a single byte delivered, saying why', async () => {
    let requests = 0
    const res = await fromResponse(responseOf(['a'], { error: new TypeError('terminated') }), {
      url: 'https://fn.example/r',
      resume: { strategy: 'last-event-id', attempts: 2, backoff: FAST },
      request: async () => {
        requests++
        return responseOf(['abc'])
      },
    })
    const error = await res.collect.bytes().catch((e: unknown) => e)
    expect(isResumeError(error) && error.reason).toBe('not-resumable')
    expect((error as Error).message).toContain(
      'the last-event-id strategy restarts at a record boundary, which this consumer cannot do',
    )
    expect(requests).toBe(0)
  })
})
