/**
 * `resume.attempts` bounds the reconnects in a row that bring nothing new, not the stream's whole life: a stream
 * that lives for hours over a connection that drops every few minutes reconnects each time, as `EventSource`
 * does. A reconnect whose answer moved the stream on — a new item under a strategy that restarts after the last one
 * (a cursor, Last-Event-ID), a new byte under `range` — starts the count and the backoff over.
 * `progress.attempt` still counts every request of the stream.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { type Checkpoint, fromResponse, isResumeError, sluice } from '../src/index.ts'

const TOTAL = 12
const row = (id: number): string => `{"id":${id}}\n`

/**
 * What the n-th request gets: `'busy'` a 503; `records`, that many records after the cursor and then a drop
 * (with `tail`, that text before it); once the plan is spent, the rest of the records.
 */
type Step = 'busy' | { records: number; tail?: string }

/** An NDJSON server continued by `?after=<id>`, answering as `plan` says; `asked` lists each request's cursor. */
function server(plan: Step[]): { fetch: typeof globalThis.fetch; asked: string[] } {
  const asked: string[] = []
  const fetch = async (input: RequestInfo | URL): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input))
    const after = url.searchParams.get('after')
    asked.push(after ?? '-')
    const step = plan.shift()
    if (step === 'busy') return new Response('busy', { status: 503 })
    const from = after === null ? 0 : Number(after) + 1
    const to = step === undefined ? TOTAL : Math.min(TOTAL, from + step.records)
    let text = ''
    for (let id = from; id < to; id++) text += row(id)
    text += step?.tail ?? ''
    let sent = false
    // The drop comes on the read after the records (an error discards what is queued before it).
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (!sent && text !== '') controller.enqueue(new TextEncoder().encode(text))
        else if (step === undefined) controller.close()
        else controller.error(new TypeError('terminated'))
        sent = true
      },
    })
    return new Response(body, { headers: { 'content-type': 'application/x-ndjson' } })
  }
  return { fetch: fetch as typeof globalThis.fetch, asked }
}

const cursor = (item: unknown) => ({ searchParams: { after: String((item as { id: number }).id) } })
const ids = (rows: unknown[]): number[] => rows.map((r) => (r as { id: number }).id)
const ALL = Array.from({ length: TOTAL }, (_, i) => i)

afterEach(() => {
  vi.restoreAllMocks()
})

describe('resume.attempts counts the reconnects in a row that bring nothing new', () => {
  it('a stream that drops after every record, reconnecting each time with success, is never given up', async () => {
    const { fetch, asked } = server(Array.from({ length: TOTAL - 1 }, () => ({ records: 1 })))
    const res = await sluice('https://fn.test/rows', {
      fetch,
      resume: { attempts: 1, backoff: { initial: 0 }, cursor },
    })
    expect(ids(await Array.fromAsync(res.ndjson()))).toEqual(ALL)
    expect(asked).toHaveLength(TOTAL)
    // Every request of the stream counts, as pages show it.
    expect(res.progress).toMatchObject({ attempt: TOTAL, state: 'done' })
  })

  it('a drop after a reconnect that brought records, then busy answers: the budget starts over', async () => {
    // 2 records, drop; 2 busy; 3 records, drop; 2 busy; the rest. Five reconnects, never three in a row for nothing.
    const plan: Step[] = [{ records: 2 }, 'busy', 'busy', { records: 3 }, 'busy', 'busy']
    const { fetch, asked } = server(plan)
    const res = await sluice('https://fn.test/rows', {
      fetch,
      resume: { attempts: 3, backoff: { initial: 0 }, cursor },
    })
    expect(ids(await Array.fromAsync(res.ndjson()))).toEqual(ALL)
    expect(asked).toEqual(['-', '1', '1', '1', '4', '4', '4'])
    expect(res.progress.attempt).toBe(7)
  })

  it('gives up after `attempts` reconnects in a row that fail, however many worked before them', async () => {
    const plan: Step[] = [{ records: 1 }, { records: 1 }, { records: 1 }, 'busy', 'busy', 'busy']
    const { fetch, asked } = server(plan)
    const res = await sluice('https://fn.test/rows', {
      fetch,
      resume: { attempts: 2, backoff: { initial: 0 }, cursor },
    })
    const rows: unknown[] = []
    const error = await (async () => {
      for await (const item of res.ndjson()) rows.push(item)
    })().catch((e: unknown) => e)
    // Nothing delivered is lost.
    expect(ids(rows)).toEqual([0, 1, 2])
    expect(isResumeError(error) && error.reason).toBe('attempts-exhausted')
    expect((error as Error).message).toMatch(
      /^Gave up after 2 reconnects in a row to https:\/\/fn\.test\/rows/,
    )
    expect((error as Error).message).toContain('got status 503')
    // `attempts`: the reconnects made for the stream (4), as `progress.attempt` counts them (1 + 4).
    expect(error).toMatchObject({ attempts: 4 })
    expect(asked).toEqual(['-', '0', '1', '2', '2'])
    expect(res.progress).toMatchObject({ attempt: 5, state: 'error' })
  })

  it('a reconnect answered with nothing new before its drop counts on', async () => {
    const plan: Step[] = [{ records: 2 }, { records: 0 }, { records: 0 }]
    const { fetch, asked } = server(plan)
    const res = await sluice('https://fn.test/rows', {
      fetch,
      resume: { attempts: 2, backoff: { initial: 0 }, cursor },
    })
    const error = await Array.fromAsync(res.ndjson()).catch((e: unknown) => e)
    expect(isResumeError(error) && error.reason).toBe('attempts-exhausted')
    expect(asked).toEqual(['-', '1', '1'])
  })

  it('under a cursor, a reconnect that brings part of a record only is no progress: it is sent again whole', async () => {
    // Each reconnect sends the start of the next record and drops: bytes, but nothing a resume continues after.
    const plan: Step[] = [{ records: 2 }, { records: 0, tail: '{"id":' }, { records: 0, tail: '{"id":' }]
    const { fetch, asked } = server(plan)
    const res = await sluice('https://fn.test/rows', {
      fetch,
      resume: { attempts: 2, backoff: { initial: 0 }, cursor },
    })
    const error = await Array.fromAsync(res.ndjson()).catch((e: unknown) => e)
    expect(isResumeError(error) && error.reason).toBe('attempts-exhausted')
    expect(asked).toEqual(['-', '1', '1'])
  })

  it('under a cursor, a reconnect that brings a heartbeat (a blank line) only is no progress', async () => {
    // What no record carries is sent again: counted as progress, a server that answers a heartbeat and fails on
    // the next record would be asked again for ever (plan spent: the rest, which the stream must not reach).
    const plan: Step[] = [{ records: 2 }, { records: 0, tail: '\n' }, { records: 0, tail: '\n' }]
    const { fetch, asked } = server(plan)
    const res = await sluice('https://fn.test/rows', {
      fetch,
      resume: { attempts: 2, backoff: { initial: 0 }, cursor },
    })
    const error = await Array.fromAsync(res.ndjson()).catch((e: unknown) => e)
    expect(isResumeError(error) && error.reason).toBe('attempts-exhausted')
    expect(asked).toEqual(['-', '1', '1'])
  })

  it('the backoff starts over at `initial` after a reconnect that brought records', async () => {
    const waits: number[] = []
    const setTimeout = globalThis.setTimeout
    // The backoff's delays are 7, 21, 63 ms (jitter 0): recorded as sluice asks for them, never timed.
    vi.spyOn(globalThis, 'setTimeout').mockImplementation(((handler: () => void, ms?: number) => {
      if (ms === 7 || ms === 21 || ms === 63) waits.push(ms)
      return setTimeout(handler, ms)
    }) as typeof globalThis.setTimeout)
    const plan: Step[] = [{ records: 2 }, 'busy', { records: 2 }, 'busy']
    const { fetch } = server(plan)
    const res = await sluice('https://fn.test/rows', {
      fetch,
      resume: { attempts: 3, backoff: { initial: 7, factor: 3, jitter: 0 }, cursor },
    })
    expect(ids(await Array.fromAsync(res.ndjson()))).toEqual(ALL)
    expect(waits).toEqual([7, 21, 7, 21])
  })

  it('accepts attempts: Infinity, and a checkpoint of such a stream counts its attempts in a whole number', async () => {
    const plan: Step[] = [{ records: 2 }, 'busy', 'busy', 'busy', 'busy', 'busy', 'busy', { records: 1 }]
    const { fetch } = server(plan)
    const res = await sluice('https://fn.test/rows', {
      fetch,
      resume: { attempts: Number.POSITIVE_INFINITY, backoff: { initial: 0 }, cursor },
    })
    const rows: unknown[] = []
    for await (const item of res.ndjson()) {
      rows.push(item)
      if (rows.length !== 4) continue
      // Taken after the 8th reconnect: its six busy answers in a row were more than the default 5.
      const checkpoint = res.checkpoint()
      expect(checkpoint.attempt).toBe(9)
      expect(JSON.parse(JSON.stringify(checkpoint))).toEqual(checkpoint)
    }
    expect(ids(rows)).toEqual(ALL)
  })

  it('a stream resumed from a checkpoint starts with the whole budget, and counts its requests on', async () => {
    // The checkpoint is taken with both reconnects in a row that `attempts: 2` allows spent (the second's answer
    // has not dropped yet): the stream resumed from it may again reconnect twice in a row.
    const first = server([{ records: 2 }, 'busy', { records: 1 }])
    const options = { resume: { attempts: 2, backoff: { initial: 0 }, cursor } }
    const res = await sluice('https://fn.test/rows', { ...options, fetch: first.fetch })
    let checkpoint: Checkpoint | undefined
    for await (const item of res.ndjson()) {
      if ((item as { id: number }).id !== 2) continue
      checkpoint = res.checkpoint()
      await res.detach()
      break
    }
    expect(checkpoint?.attempt).toBe(3)
    const second = server([{ records: 1 }, 'busy'])
    const resumed = await sluice('https://fn.test/rows', {
      ...options,
      fetch: second.fetch,
      resumeFrom: checkpoint,
    })
    expect(ids(await Array.fromAsync(resumed.ndjson()))).toEqual(ALL.slice(3))
    expect(second.asked).toEqual(['2', '3', '3'])
    expect(resumed.progress.attempt).toBe(5)
  })

  it('a tee() whose branches read at different paces reconnects after every record, never given up', async () => {
    const { fetch, asked } = server(Array.from({ length: TOTAL - 1 }, () => ({ records: 1 })))
    const res = await sluice('https://fn.test/rows', {
      fetch,
      resume: { attempts: 1, backoff: { initial: 0 }, cursor },
    })
    const [fast, slow] = res.tee()
    const read = async (branch: typeof fast, pause: boolean): Promise<number[]> => {
      const seen: unknown[] = []
      for await (const item of branch.ndjson()) {
        seen.push(item)
        if (pause) await new Promise((resolve) => setTimeout(resolve, 1))
      }
      return ids(seen)
    }
    expect(await Promise.all([read(fast, false), read(slow, true)])).toEqual([ALL, ALL])
    expect(asked).toHaveLength(TOTAL)
  })

  it("fromResponse's reconnects start over too", async () => {
    const { fetch, asked } = server(Array.from({ length: TOTAL - 1 }, () => ({ records: 1 })))
    const url = 'https://fn.test/rows'
    const res = await fromResponse(await fetch(url), {
      url,
      request: ({ searchParams, signal }) => fetch(`${url}?${new URLSearchParams(searchParams)}`, { signal }),
      resume: { attempts: 1, backoff: { initial: 0 }, cursor },
    })
    expect(ids(await Array.fromAsync(res.ndjson()))).toEqual(ALL)
    expect(asked).toHaveLength(TOTAL)
  })
})

describe('what counts as progress', () => {
  it('under Last-Event-ID, a new event is; a comment is not', async () => {
    // Each answer sends the next event and drops, until the 5th; then answers send a comment only.
    const asked: string[] = []
    const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
      const last = new Headers(input instanceof Request ? input.headers : init?.headers).get('last-event-id')
      asked.push(last ?? '-')
      const next = last === null ? 0 : Number(last) + 1
      const text = next < 5 ? `id: ${next}\ndata: e${next}\n\n` : ': still here\n\n'
      let sent = false
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (!sent) controller.enqueue(new TextEncoder().encode(text))
          else controller.error(new TypeError('terminated'))
          sent = true
        },
      })
      return new Response(body, { headers: { 'content-type': 'text/event-stream' } })
    }
    const res = await sluice('https://fn.test/events', {
      fetch: fetch as typeof globalThis.fetch,
      resume: { attempts: 2, backoff: { initial: 0 } },
    })
    const data: string[] = []
    const error = await (async () => {
      for await (const event of res.events()) data.push(event.data)
    })().catch((e: unknown) => e)
    expect(data).toEqual(['e0', 'e1', 'e2', 'e3', 'e4'])
    expect(isResumeError(error) && error.reason).toBe('attempts-exhausted')
    expect(asked).toEqual(['-', '0', '1', '2', '3', '4', '4'])
  })

  const LINE = `${'x'.repeat(30)}\n`
  const BODY = new TextEncoder().encode(LINE.repeat(3))

  /** A Range server of BODY whose answers each send `step` bytes and drop, until the last byte. */
  function ranged(step: number): { fetch: typeof globalThis.fetch; ranges: string[] } {
    const ranges: string[] = []
    const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
      const range = new Headers(input instanceof Request ? input.headers : init?.headers).get('range')
      ranges.push(range ?? '-')
      const start = range === null ? 0 : Number(/^bytes=(\d+)-$/.exec(range)![1])
      const end = Math.min(BODY.length, start + step)
      let sent = false
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (!sent) controller.enqueue(BODY.slice(start, end))
          else if (end === BODY.length) controller.close()
          else controller.error(new TypeError('terminated'))
          sent = true
        },
      })
      const headers: Record<string, string> = { 'accept-ranges': 'bytes', etag: '"v1"' }
      if (range === null) return new Response(body, { headers })
      headers['content-range'] = `bytes ${start}-${BODY.length - 1}/${BODY.length}`
      return new Response(body, { status: 206, headers })
    }
    return { fetch: fetch as typeof globalThis.fetch, ranges }
  }

  it('under range, bytes past the last drop are progress, even inside a line: they are not asked again', async () => {
    // 7 bytes per connection, lines of 31: most reconnects deliver no whole line, yet each moves the Range on.
    const { fetch, ranges } = ranged(7)
    const res = await sluice('https://fn.test/log', {
      fetch,
      resume: { attempts: 1, backoff: { initial: 0 } },
    })
    expect(await Array.fromAsync(res.lines())).toEqual(['x'.repeat(30), 'x'.repeat(30), 'x'.repeat(30)])
    expect(ranges).toHaveLength(Math.ceil(BODY.length / 7))
    expect(ranges[1]).toBe('bytes=7-')
  })
})
