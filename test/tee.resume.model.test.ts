/**
 * A model of `tee()` under resume, driven step by step: fast-check writes a schedule of what the server does
 * (answer the request waiting, or refuse it with a 503; push some bytes of its answer, end it, drop it) and what
 * each branch's consumer does (ask for its next items, take a checkpoint, cancel), against a server the test
 * answers by hand, for each strategy (Range, Last-Event-ID, a cursor over NDJSON and over SSE), consumers of
 * the same or of related kinds, a tee of a tee, and buffers from 1 byte. Whatever the schedule, every branch
 * delivers a prefix of the stream's units (each once, in order), all of them when it reads to the end, its
 * checkpoint stands after its last, and it fails only where the README says a drop is refused, with a
 * `ResumeError` or `NetworkError` that says why; once everything is cancelled, no read is left pending.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type Checkpoint, isNetworkError, isResumeError, type StreamResponse, sluice } from '../src/index.ts'
import { encode } from './support/chunking.ts'
import {
  type Exchange,
  isServerCommand,
  type ModelServer,
  manualServer,
  type ServerCommand,
  serveRest,
  serverStep,
  settle,
  turn,
} from './support/manual-server.ts'
import {
  answerAsModel,
  cursorAfter,
  SERVER_COMMANDS,
  unitData,
  unitPlace,
  unitsOnWire,
} from './support/resume-model.ts'

/** What a branch reads with. */
type Kind = 'events' | 'json-events' | 'ndjson' | 'lines' | 'text'

interface Setup {
  name: string
  strategy: 'range' | 'last-event-id' | 'cursor'
  format: 'sse' | 'ndjson'
  /** One per branch: two for a tee, three for a tee of the second branch, four for a tee of each. */
  kinds: Kind[]
  /** Whether the README says a restart cannot satisfy these consumers: a drop may then be refused. */
  refusable: boolean
}

const SETUPS: Setup[] = [
  {
    name: 'Range, ndjson() twice',
    strategy: 'range',
    format: 'ndjson',
    kinds: ['ndjson', 'ndjson'],
    refusable: false,
  },
  {
    name: 'Range, ndjson() and lines()',
    strategy: 'range',
    format: 'ndjson',
    kinds: ['ndjson', 'lines'],
    refusable: false,
  },
  {
    name: 'Range, lines() beside a tee of ndjson()',
    strategy: 'range',
    format: 'ndjson',
    kinds: ['lines', 'ndjson', 'ndjson'],
    refusable: false,
  },
  {
    name: 'Range, events() and text()',
    strategy: 'range',
    format: 'sse',
    kinds: ['events', 'text'],
    refusable: false,
  },
  {
    name: 'Last-Event-ID, events() twice',
    strategy: 'last-event-id',
    format: 'sse',
    kinds: ['events', 'events'],
    refusable: false,
  },
  {
    name: 'Last-Event-ID, events() and events({ json: true })',
    strategy: 'last-event-id',
    format: 'sse',
    kinds: ['events', 'json-events'],
    refusable: false,
  },
  {
    name: 'Last-Event-ID, events() beside a tee of events()',
    strategy: 'last-event-id',
    format: 'sse',
    kinds: ['events', 'events', 'json-events'],
    refusable: false,
  },
  {
    name: 'Last-Event-ID, a tee of events() beside a tee of events() and events({ json: true })',
    strategy: 'last-event-id',
    format: 'sse',
    kinds: ['events', 'events', 'events', 'json-events'],
    refusable: false,
  },
  {
    name: 'Last-Event-ID, events() and text()',
    strategy: 'last-event-id',
    format: 'sse',
    kinds: ['events', 'text'],
    refusable: true,
  },
  {
    name: 'cursor, ndjson() twice',
    strategy: 'cursor',
    format: 'ndjson',
    kinds: ['ndjson', 'ndjson'],
    refusable: false,
  },
  {
    name: 'cursor, ndjson() beside a tee of ndjson()',
    strategy: 'cursor',
    format: 'ndjson',
    kinds: ['ndjson', 'ndjson', 'ndjson'],
    refusable: false,
  },
  {
    name: 'cursor, a tee of ndjson() beside a tee of ndjson()',
    strategy: 'cursor',
    format: 'ndjson',
    kinds: ['ndjson', 'ndjson', 'ndjson', 'ndjson'],
    refusable: false,
  },
  {
    name: 'cursor, ndjson() and lines()',
    strategy: 'cursor',
    format: 'ndjson',
    kinds: ['ndjson', 'lines'],
    refusable: true,
  },
  {
    name: 'cursor over SSE, events() and events({ json: true })',
    strategy: 'cursor',
    format: 'sse',
    kinds: ['events', 'json-events'],
    refusable: false,
  },
  {
    name: 'cursor over SSE, events({ json: true }) beside a tee of events()',
    strategy: 'cursor',
    format: 'sse',
    kinds: ['json-events', 'events', 'events'],
    refusable: false,
  },
]

const N = 12
/** Each unit's data, as every consumer's item comes out once normalised (see `keyOf`). */
const DATA = unitData(N)

/** The units after unit `after` (-1: all), on the wire. */
function wire(setup: Setup, after: number): string {
  return unitsOnWire(DATA, setup, after)
}

type Command =
  | ServerCommand
  | { t: 'read'; b: number; k: number }
  | { t: 'cancel'; b: number; how: 'cancel' | 'return' }
  | { t: 'checkpoint'; b: number }

function iterate(branch: StreamResponse, kind: Kind): AsyncIterator<unknown> {
  const items: AsyncIterable<unknown> =
    kind === 'events'
      ? branch.events()
      : kind === 'json-events'
        ? branch.events({ json: true })
        : kind === 'ndjson'
          ? branch.ndjson()
          : kind === 'lines'
            ? branch.lines()
            : branch.text()
  return items[Symbol.asyncIterator]()
}

/** An item as a string comparable with `DATA` (text: the chunk itself). */
function keyOf(kind: Kind, item: unknown): string {
  if (kind === 'events') return (item as { data: string }).data
  if (kind === 'json-events') return JSON.stringify((item as { data: unknown }).data)
  if (kind === 'ndjson') return JSON.stringify(item)
  return item as string
}

interface Lane {
  kind: Kind
  branch: StreamResponse
  iterator: AsyncIterator<unknown>
  pending: Promise<void> | undefined
  delivered: string[]
  text: string
  done: boolean
  cancelled: boolean
  error: unknown
}

/** Runs one schedule; returns what went wrong (empty when nothing did) and what happened, for the report. */
async function run(setup: Setup, maxBuffer: number, commands: readonly Command[]) {
  const server = manualServer()
  const problems: string[] = []
  const trace: string[] = []
  /** What each exchange has left to send. */
  const left = new Map<Exchange, Uint8Array>()
  const answer = (exchange: Exchange): void =>
    answerAsModel(exchange, setup, (after) => wire(setup, after), left, trace)
  const current = () => server.exchanges.at(-1)

  const pending = sluice('https://example.test/stream', {
    fetch: server.fetch,
    retry: 0,
    resume:
      setup.strategy === 'cursor'
        ? {
            strategy: 'cursor',
            cursor: cursorAfter,
            attempts: 1000,
            backoff: { initial: 0, max: 0, jitter: 0 },
          }
        : { strategy: setup.strategy, attempts: 1000, backoff: { initial: 0, max: 0, jitter: 0 } },
  })
  await settle(() => current() === undefined)
  answer(current()!)
  const res = await pending
  // The source is reconnecting, and its request has not come yet.
  const due = () => res.progress.state === 'reconnecting' && current()?.state() !== 'waiting'
  const [outer, inner] = res.tee({ maxBuffer })
  const branches =
    setup.kinds.length === 2
      ? [outer, inner]
      : setup.kinds.length === 3
        ? [outer, ...inner.tee({ maxBuffer })]
        : [...outer.tee({ maxBuffer }), ...inner.tee({ maxBuffer })]
  const lanes: Lane[] = branches.map((branch, k) => ({
    kind: setup.kinds[k]!,
    branch,
    iterator: iterate(branch, setup.kinds[k]!),
    pending: undefined,
    delivered: [],
    text: '',
    done: false,
    cancelled: false,
    error: undefined,
  }))
  const fullText = wire(setup, -1)
  /** Where each unit ends in the whole body. */
  const ends = DATA.map((_, i) => encode(wire(setup, -1)).length - encode(wire(setup, i)).length)
  /**
   * A live branch's checkpoint stands where its consumer does: after its last item (its event id, its cursor,
   * the end of its last unit in the body), with its own count.
   */
  const checkpoint = (k: number): void => {
    const lane = lanes[k]!
    if (lane.cancelled || lane.error !== undefined || setup.refusable) return
    let saved: Checkpoint
    try {
      saved = lane.branch.checkpoint()
    } catch (error) {
      problems.push(`branch ${k}'s checkpoint failed: ${String(error)}`)
      return
    }
    const n = lane.delivered.length
    const got: Record<string, unknown> = {}
    const want: Record<string, unknown> = {}
    if (lane.kind === 'text') {
      got.offset = saved.offset
      want.offset = encode(lane.text).length
    } else {
      const place = unitPlace(setup.strategy, saved, n, ends)
      Object.assign(got, place.got)
      Object.assign(want, place.want)
    }
    trace.push(`checkpoint of branch ${k}: ${JSON.stringify(got)}`)
    if (JSON.stringify(got) !== JSON.stringify(want))
      problems.push(`branch ${k}'s checkpoint says ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`)
  }
  const read = (k: number): void => {
    const lane = lanes[k]!
    if (lane.pending !== undefined || lane.done || lane.error !== undefined) return
    lane.pending = lane.iterator.next().then(
      (r) => {
        lane.pending = undefined
        if (r.done) {
          lane.done = true
          return
        }
        if (lane.kind === 'text') {
          lane.text += r.value as string
          if (!fullText.startsWith(lane.text))
            problems.push(`branch ${k} got text that is not the body's: ${JSON.stringify(lane.text)}`)
          return
        }
        const n = lane.delivered.length
        // An event carries its id too, where the wire gives one.
        const ids = setup.format === 'sse' && setup.strategy !== 'cursor'
        const id = ids ? `${(r.value as { id?: string }).id} ` : ''
        const key = id + keyOf(lane.kind, r.value)
        const expected = `${ids ? `e${n} ` : ''}${DATA[n]}`
        lane.delivered.push(key)
        if (key !== expected)
          problems.push(
            `branch ${k} delivered ${key} as item ${lane.delivered.length - 1}, expected ${expected}`,
          )
      },
      (error: unknown) => {
        lane.pending = undefined
        lane.error = error
        const clear =
          (isResumeError(error) || isNetworkError(error)) && /cannot|refuse/.test((error as Error).message)
        if (!setup.refusable || !clear) problems.push(`branch ${k} failed: ${String(error)}`)
      },
    )
  }
  const cancel = (k: number, how: 'cancel' | 'return'): void => {
    const lane = lanes[k]!
    if (lane.cancelled) return
    lane.cancelled = true
    if (how === 'cancel') void lane.branch.cancel()
    else void lane.iterator.return?.()
  }

  const model: ModelServer = {
    current,
    answer,
    left,
    due,
    declared: setup.strategy === 'range',
    busy: (exchange) => {
      // A 503: the source asks again, with the same position.
      if (exchange === server.exchanges[0]) return false
      exchange.refuse(503)
      return true
    },
  }
  for (const command of commands) {
    if (isServerCommand(command)) {
      if (!(await serverStep(command, model))) continue
    } else
      switch (command.t) {
        case 'read':
          for (let n = 0; n < command.k; n++) {
            read(command.b % lanes.length)
            for (let t = 0; t < 4; t++) await turn()
          }
          break
        case 'cancel':
          cancel(command.b % lanes.length, command.how)
          break
        case 'checkpoint':
          checkpoint(command.b % lanes.length)
          break
      }
    trace.push(JSON.stringify(command))
    await settle(due)
  }

  // Then the server sends the rest and every live branch reads on, until each ends: no drop is left, so a
  // branch that neither ends nor fails is stuck.
  const live = () => lanes.filter((lane) => !lane.cancelled && !lane.done && lane.error === undefined)
  for (let round = 0; round < 40 && live().length > 0; round++) {
    for (const [k, lane] of lanes.entries()) if (!lane.cancelled) read(k)
    await serveRest(model)
  }
  for (const [k, lane] of lanes.entries()) {
    if (lane.cancelled || lane.error !== undefined) continue
    if (!lane.done) problems.push(`branch ${k} neither ended nor failed after the body was sent whole`)
    else if (lane.kind === 'text' ? lane.text !== fullText : lane.delivered.length !== N)
      problems.push(`branch ${k} ended after ${lane.delivered.length} of ${N} units`)
  }
  // Whatever is left is cancelled: every read still pending must settle.
  for (const lane of lanes) void lane.branch.cancel()
  for (let round = 0; round < 20 && lanes.some((lane) => lane.pending !== undefined); round++)
    await settle(due)
  for (const [k, lane] of lanes.entries())
    if (lane.pending !== undefined)
      problems.push(`branch ${k}'s read never settled after every branch was cancelled`)
  return { problems, trace }
}

const command = (branches: number): fc.Arbitrary<Command> =>
  fc.oneof(
    ...SERVER_COMMANDS,
    {
      weight: 6,
      arbitrary: fc.record({
        t: fc.constant('read' as const),
        b: fc.nat(branches - 1),
        k: fc.integer({ min: 1, max: 4 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('checkpoint' as const), b: fc.nat(branches - 1) }) },
    {
      weight: 1,
      arbitrary: fc.record({
        t: fc.constant('cancel' as const),
        b: fc.nat(branches - 1),
        how: fc.constantFrom('cancel' as const, 'return' as const),
      }),
    },
  )

const schedule = fc
  .constantFrom(...SETUPS)
  .chain((setup) =>
    fc.tuple(
      fc.constant(setup),
      fc.constantFrom(1, 24, 96, 1 << 20),
      fc.array(command(setup.kinds.length), { maxLength: 60, size: 'max' }),
    ),
  )

const setup = (name: string): Setup => SETUPS.find((s) => s.name === name)!

/**
 * Schedules the model found, shrunk, run first every time. In each, a branch is cancelled while its read waits
 * (the inner tee's last branch, in all but the last), the answer drops, and a branch left still holds units that
 * the cancelled one delivered: the restart was planned after less (after nothing), and the branch left, reading
 * them, got a ResumeError. In the last, the inner tee, cancelled whole, gave no kind of position any more.
 */
const FOUND: Array<[Setup, number, Command[]]> = [
  [
    setup('Last-Event-ID, events() beside a tee of events()'),
    96,
    [
      { t: 'cancel', b: 1, how: 'cancel' },
      { t: 'push', n: 31 },
      { t: 'read', b: 2, k: 2 },
      { t: 'cancel', b: 2, how: 'cancel' },
      { t: 'drop', answer: false },
    ],
  ],
  [
    setup('Last-Event-ID, events() beside a tee of events()'),
    1 << 20,
    [
      { t: 'push', n: 31 },
      { t: 'read', b: 0, k: 2 },
      { t: 'cancel', b: 0, how: 'cancel' },
      { t: 'drop', answer: false },
    ],
  ],
  [
    setup('cursor over SSE, events({ json: true }) beside a tee of events()'),
    1,
    [
      { t: 'read', b: 0, k: 1 },
      { t: 'read', b: 1, k: 1 },
      { t: 'cancel', b: 1, how: 'cancel' },
      { t: 'push', n: 24 },
      { t: 'read', b: 0, k: 1 },
      { t: 'cancel', b: 0, how: 'cancel' },
      { t: 'drop', answer: false },
    ],
  ],
  [
    setup('cursor, ndjson() beside a tee of ndjson()'),
    1,
    [
      { t: 'read', b: 0, k: 1 },
      { t: 'push', n: 17 },
      { t: 'drop', answer: false },
      { t: 'read', b: 1, k: 1 },
      { t: 'cancel', b: 2, how: 'cancel' },
      { t: 'cancel', b: 1, how: 'cancel' },
    ],
  ],
]

describe('tee() under resume, step by step', () => {
  // About 6 ms a schedule in Node, 20 in Chromium; the schedules found before run first (`examples`).
  it('any schedule of answers, pushes, drops, reads and cancels: each branch delivers every unit once, in order, or is refused only where the README says', async () => {
    await fc.assert(
      fc.asyncProperty(schedule, async ([setup, maxBuffer, commands]) => {
        const { problems, trace } = await run(setup, maxBuffer, commands)
        expect(problems, `${setup.name}, maxBuffer ${maxBuffer}:\n${trace.join('\n')}`).toEqual([])
      }),
      {
        numRuns: 700,
        examples: FOUND.map((found) => [found]),
      },
    )
  }, 120_000)
})
