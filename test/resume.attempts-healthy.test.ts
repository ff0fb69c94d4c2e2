/**
 * `resume.attempts` bounds the reconnects since the stream last streamed healthily, not its whole life: a function
 * URL ends an invocation after 15 minutes at most, so a stream that lives for hours must reconnect every 15 minutes,
 * and each of those drops follows a connection that moved the stream on (the request to continue is not the one
 * that made it: new bytes under `range`, a new last item or event id otherwise) and stayed up at least `backoff.max`,
 * and 30 s. Such a drop spends no attempt, and the backoff starts over. A server that fails, or that brings nothing new, or that replays what it
 * sent (ignoring the position: its items look new) and drops fast or where it dropped before, spends them as before.
 * `progress.attempt` and `ResumeError.attempts` still count every reconnect.
 *
 * The clock is `performance.now()`, which the servers here move on: a connection "stays up" 15 minutes at once.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  type Checkpoint,
  isResumeError,
  type ResumeOptions,
  type SluiceOptions,
  type StreamResponse,
  sluice,
} from '../src/index.ts'

const MINUTE = 60_000
let clock = 0

beforeEach(() => {
  clock = 1_000_000
  vi.spyOn(performance, 'now').mockImplementation(() => clock)
})

afterEach(() => {
  vi.restoreAllMocks()
})

type Kind = 'cursor' | 'last-event-id' | 'range'

/**
 * What the n-th request gets: a busy `503`; or `items` units from where it is asked to continue (from the start
 * with `replay`, as a server that ignores the position does), then the clock moves on `upMs` and the connection
 * drops. Once the plan is spent: the rest, and the end. Range: with `part`, the answer is a whole part of `items`
 * lines, which ends where its `Content-Range` says, short of the body's end (a server that caps its parts).
 */
type Step = 'busy' | { items: number; upMs: number; replay?: boolean; part?: boolean }

const TOTAL = 21
const encoder = new TextEncoder()
/** Range: the body is TOTAL lines of 8 bytes, `line 00\n`…, a unit being a line. */
const LINE = 8
const BODY = Array.from({ length: TOTAL }, (_, i) => `line ${String(i).padStart(2, '0')}\n`).join('')

/** A body that sends `text` (if any) and, on the read after it, drops once the clock moved on; or ends. */
function answer(text: string, step: Step | undefined): ReadableStream<Uint8Array> {
  let sent = false
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (!sent && text !== '') controller.enqueue(encoder.encode(text))
      else if (step === undefined || step === 'busy' || step.part) {
        if (step !== undefined && step !== 'busy') clock += step.upMs
        controller.close()
      } else {
        clock += step.upMs
        controller.error(new TypeError('terminated'))
      }
      sent = true
    },
  })
}

/** A server of `kind` answering as `plan` says; `asked` lists each request's position (`-`: none). */
function server(kind: Kind, plan: Step[]): { fetch: typeof globalThis.fetch; asked: string[] } {
  const asked: string[] = []
  const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init)
    const position =
      kind === 'cursor'
        ? new URL(request.url).searchParams.get('after')
        : kind === 'last-event-id'
          ? request.headers.get('last-event-id')
          : request.headers.get('range')
    asked.push(position ?? '-')
    const step = plan.shift()
    if (step === 'busy') return new Response('busy', { status: 503 })
    const next =
      position === null ? 0 : kind === 'range' ? Number(/\d+/.exec(position)![0]) / LINE : +position + 1
    const from = step?.replay ? 0 : next
    const to = step === undefined ? TOTAL : Math.min(TOTAL, from + step.items)
    const units = Array.from({ length: to - from }, (_, i) => from + i)
    if (kind === 'range') {
      const start = from * LINE
      const headers: Record<string, string> = { 'accept-ranges': 'bytes', etag: '"v1"' }
      const end = step?.part ? to * LINE : BODY.length
      if (position !== null) headers['content-range'] = `bytes ${start}-${end - 1}/${BODY.length}`
      const text = BODY.slice(start, to * LINE)
      return new Response(answer(text, step), { status: position === null ? 200 : 206, headers })
    }
    const text = units.map((n) => (kind === 'cursor' ? `{"id":${n}}\n` : `id: ${n}\ndata: ${n}\n\n`)).join('')
    const type = kind === 'cursor' ? 'application/x-ndjson' : 'text/event-stream'
    return new Response(answer(text, step), { headers: { 'content-type': type } })
  }
  return { fetch: fetch as typeof globalThis.fetch, asked }
}

const cursor = (item: unknown) => ({ searchParams: { after: String((item as { id: number }).id) } })

/** The units the consumer for `kind` delivers, as numbers, until the end or an error (returned too). */
async function read(kind: Kind, res: StreamResponse): Promise<{ units: number[]; error?: unknown }> {
  const units: number[] = []
  const items: AsyncIterable<unknown> =
    kind === 'cursor' ? res.ndjson() : kind === 'last-event-id' ? res.events() : res.lines()
  try {
    for await (const item of items) {
      units.push(
        kind === 'cursor'
          ? (item as { id: number }).id
          : kind === 'last-event-id'
            ? Number((item as { data: string }).data)
            : Number((item as string).slice(5)),
      )
    }
  } catch (error) {
    return { units, error }
  }
  return { units }
}

function open(kind: Kind, plan: Step[], resume: ResumeOptions, extra: Partial<SluiceOptions> = {}) {
  const { fetch, asked } = server(kind, plan)
  const url = kind === 'cursor' ? 'https://fn.test/rows' : 'https://fn.test/stream'
  const response = sluice(url, {
    fetch,
    retry: 0,
    resume: { backoff: { initial: 0 }, ...(kind === 'cursor' ? { cursor } : {}), ...resume },
    ...extra,
  })
  return { response, asked }
}

const ALL = Array.from({ length: TOTAL }, (_, i) => i)
const healthy = { items: 1, upMs: 15 * MINUTE }
const times = <T>(n: number, step: T): T[] => Array.from({ length: n }, () => step)

describe('a drop after a healthy connection spends no attempt', () => {
  it.each(['cursor', 'last-event-id', 'range'] as const)(
    '%s: a stream that drops every 15 minutes after streaming lives on through 20 drops, with attempts: 2',
    async (kind) => {
      const { response, asked } = open(kind, times(TOTAL - 1, healthy), { attempts: 2 })
      const res = await response
      expect(await read(kind, res)).toEqual({ units: ALL })
      expect(asked).toHaveLength(TOTAL)
      // Every reconnect counts in progress, as a page shows it.
      expect(res.progress).toMatchObject({ attempt: TOTAL, state: 'done' })
    },
  )

  it('range: a connection is up from its reconnect to its drop, over the parts a server that caps them sends', async () => {
    // Each reconnect gets three parts that take 20 s each, the next asked for at once (no reconnect), and then one
    // that drops within a second: up a minute in all, though no part took 30 s.
    const part = { items: 1, upMs: 20_000, part: true }
    const cycle: Step[] = [part, part, part, { items: 1, upMs: 1_000 }]
    const { response, asked } = open('range', [healthy, ...times(4, cycle).flat()], { attempts: 1 })
    const res = await response
    expect(await read('range', res)).toEqual({ units: ALL })
    expect(asked).toHaveLength(18)
    expect(res.progress).toMatchObject({ attempt: 6, state: 'done' })
  })

  it('after 20 healthy drops, a server that stops answering ends after `attempts` more, counting every reconnect', async () => {
    const plan: Step[] = [...times(20, healthy), ...times(4, 'busy' as const)]
    const { response, asked } = open('cursor', plan, { attempts: 3 })
    const res = await response
    const { units, error } = await read('cursor', res)
    // Nothing delivered is lost.
    expect(units).toEqual(ALL.slice(0, 20))
    expect(isResumeError(error) && error.reason).toBe('attempts-exhausted')
    // 19 reconnects that streamed, then 3 busy answers.
    expect((error as Error).message).toMatch(
      /^Gave up after 22 reconnects to https:\/\/fn\.test\/rows: .*503/,
    )
    expect(error).toMatchObject({ attempts: 22 })
    expect(asked).toHaveLength(23)
    expect(res.progress).toMatchObject({ attempt: 23, state: 'error' })
  })
})

describe('what spends attempts as before', () => {
  it('a dead server: the stream gives up after `attempts` reconnects, whatever streamed before', async () => {
    const { response, asked } = open('cursor', [healthy, ...times(6, 'busy' as const)], {})
    const res = await response
    const { units, error } = await read('cursor', res)
    expect(units).toEqual([0])
    expect(isResumeError(error) && error.reason).toBe('attempts-exhausted')
    expect((error as Error).message).toMatch(/^Gave up after 5 reconnects to https:\/\/fn\.test\/rows: /)
    expect(error).toMatchObject({ attempts: 5 })
    expect(asked).toEqual(['-', '0', '0', '0', '0', '0'])
    expect(res.progress).toMatchObject({ attempt: 6, state: 'error' })
  })

  it.each(['cursor', 'last-event-id', 'range'] as const)(
    '%s: connections that stay up 15 minutes but bring nothing new spend them',
    async (kind) => {
      const { response, asked } = open(kind, [healthy, ...times(3, { items: 0, upMs: 15 * MINUTE })], {
        attempts: 2,
      })
      const { units, error } = await read(kind, await response)
      expect(units).toEqual([0])
      expect(isResumeError(error) && error.reason).toBe('attempts-exhausted')
      expect(asked).toHaveLength(3)
    },
  )

  it('a server that ignores the cursor, replays its items and drops fast: the stream ends after `attempts`', async () => {
    // Each answer's items look new, so progress alone would reconnect for ever (the replay is the server's bug,
    // and what it sends is delivered as sent).
    const replay = { items: 2, upMs: 1_000, replay: true }
    const { response, asked } = open('cursor', times(10, replay), { attempts: 3 })
    const { units, error } = await read('cursor', await response)
    expect(units).toEqual([0, 1, 0, 1, 0, 1, 0, 1])
    expect(isResumeError(error) && error.reason).toBe('attempts-exhausted')
    expect(asked).toEqual(['-', '1', '1', '1'])
  })

  it('a server that replays and drops where it dropped before, however long it stays up, ends after `attempts`', async () => {
    const replay = { items: 2, upMs: 15 * MINUTE, replay: true }
    const { response, asked } = open('cursor', times(10, replay), { attempts: 3 })
    const { error } = await read('cursor', await response)
    expect(isResumeError(error) && error.reason).toBe('attempts-exhausted')
    expect(asked).toEqual(['-', '1', '1', '1'])
  })

  it('resumed from a checkpoint, a connection that brings nothing past it spends an attempt', async () => {
    const first = open('cursor', [{ items: 3, upMs: 0 }], {})
    const res = await first.response
    let checkpoint: Checkpoint | undefined
    for await (const item of res.ndjson()) {
      if ((item as { id: number }).id !== 2) continue
      checkpoint = res.checkpoint()
      await res.detach()
      break
    }
    const nothing = { items: 0, upMs: 15 * MINUTE }
    const { response, asked } = open('cursor', times(3, nothing), { attempts: 1 }, { resumeFrom: checkpoint })
    const { units, error } = await read('cursor', await response)
    expect(units).toEqual([])
    expect(isResumeError(error) && error.reason).toBe('attempts-exhausted')
    expect(asked).toEqual(['2', '2'])
  })
})

describe('the backoff', () => {
  /** The backoff's waits sluice asks for (7, 21, 63… ms with factor 3 and no jitter), recorded and not waited. */
  function recordWaits(): number[] {
    const waits: number[] = []
    const real = globalThis.setTimeout
    const backoff = new Set([7, 21, 63, 189, 567, 900])
    vi.spyOn(globalThis, 'setTimeout').mockImplementation(((handler: () => void, ms?: number) => {
      if (ms === undefined || !backoff.has(ms)) return real(handler, ms)
      waits.push(ms)
      return real(handler, 0)
    }) as typeof globalThis.setTimeout)
    return waits
  }
  const backoff = { initial: 7, factor: 3, max: 900, jitter: 0 }

  it('starts over at `initial` after a healthy connection', async () => {
    const waits = recordWaits()
    const plan: Step[] = [healthy, 'busy', 'busy', healthy, 'busy', 'busy']
    const { response } = open('cursor', plan, { backoff })
    expect((await read('cursor', await response)).units).toEqual(ALL)
    expect(waits).toEqual([7, 21, 63, 7, 21, 63])
  })

  it('keeps growing after a connection that dropped within 30 s, however much it brought', async () => {
    const waits = recordWaits()
    const fast = { items: 1, upMs: 29_000 }
    const plan: Step[] = [fast, 'busy', 'busy', fast, 'busy', 'busy']
    const { response } = open('cursor', plan, { backoff, attempts: 6 })
    expect((await read('cursor', await response)).units).toEqual(ALL)
    expect(waits).toEqual([7, 21, 63, 189, 567, 900])
  })

  it('a healthy connection is one up at least `backoff.max`, when that is more than 30 s', async () => {
    const waits = recordWaits()
    const plan: Step[] = [{ items: 1, upMs: 45_000 }, 'busy', { items: 1, upMs: 45_000 }, 'busy']
    const { response } = open('cursor', plan, { backoff: { ...backoff, max: 60_000 }, attempts: 4 })
    expect((await read('cursor', await response)).units).toEqual(ALL)
    expect(waits).toEqual([7, 21, 63, 189])
  })
})

describe('attempts: Infinity', () => {
  it('reconnects for ever: more busy answers in a row than the default 5, then the rest', async () => {
    const plan: Step[] = [{ items: 2, upMs: 0 }, ...times(7, 'busy' as const)]
    const { response, asked } = open('cursor', plan, { attempts: Number.POSITIVE_INFINITY })
    const res = await response
    let checkpoint: Checkpoint | undefined
    const units: number[] = []
    for await (const item of res.ndjson()) {
      units.push((item as { id: number }).id)
      if (units.length === 3) checkpoint = res.checkpoint()
    }
    expect(units).toEqual(ALL)
    expect(asked).toHaveLength(9)
    expect(res.progress).toMatchObject({ attempt: 9, state: 'done' })
    // A checkpoint of such a stream is JSON as any other.
    expect(checkpoint?.attempt).toBe(9)
    expect(JSON.parse(JSON.stringify(checkpoint))).toEqual(checkpoint)
  })
})
