/**
 * A model of `tee()` under resume, driven step by step: fast-check writes a schedule of what the server does
 * (answer the request waiting, refuse it with a 503, reset it before its headers, answer a Range oddly; push some
 * bytes of its answer, end it, end it short of its declared length, drop it) and what each branch's consumer does
 * (ask for its next items, take a checkpoint, cancel), against a server the test answers by hand, for each
 * strategy (Range, Last-Event-ID, a cursor over NDJSON and over SSE), consumers of the same or of related kinds
 * (with an asynchronous schema too), of other kinds (lines() beside ndjson(), or beside events() over SSE, its
 * lines carrying no event id), text or bytes beside them, a tee of a tee and of a tee of a tee, buffers from 1
 * byte, answers that declare their length or not, and (one run in ten) units and pushes long enough for one push to
 * cross a decoding slice. Whatever the schedule, every branch delivers a prefix of the stream's units (each once, in
 * order; an SSE body's lines, for lines()), all of them when it reads to the end, its checkpoint stands after its
 * last and, continued in a new `sluice()` call, delivers the rest; the body's progress never goes back, counts each
 * reconnect and says `reconnecting` while one waits for its answer (whatever consumer is made meanwhile); a branch
 * fails only where the README says a drop is refused (while branches that cannot restart together read — text() or
 * bytes() once handed a byte, items of other kinds; or, alone, text or bytes after it delivered some, or lines of an
 * SSE body under Last-Event-ID; or, under a cursor, while a
 * branch that validates with a schema holds items no branch has delivered), with an error that says why; once
 * everything is cancelled, no read is left pending. A branch's consumer, and a tee of a tee branch, may also be
 * made late, at any step (`late`, `open`): until then the branch reads nothing and buffers from its tee's creation,
 * so its consumer, once made, still delivers every unit from the start of the body. Two schedules in three come in
 * rounds (see `rounds`), each some moves and a drop, so that several drops meet branches standing apart; a schedule
 * that never ends fails by fast-check's timeout, with its counterexample.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type Checkpoint,
  isNetworkError,
  isResumeError,
  isTruncatedError,
  type Progress,
  type ResumeOptions,
  type StandardSchemaV1,
  type StreamResponse,
  sluice,
} from '../src/index.ts'
import { concatBytes, encode } from './support/chunking.ts'
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
  carelessMoves,
  cursorAfter,
  eventIdOf,
  modelRuns,
  progressProblems,
  SERVER_COMMANDS,
  unitData,
  unitPlace,
  unitsOnWire,
} from './support/resume-model.ts'

/**
 * What a branch reads with: `schema-events` and `schema-ndjson`, `events({ schema })` and `ndjson(schema)` with a
 * schema that takes every item as it is, asynchronously.
 */
type Kind =
  | 'events'
  | 'json-events'
  | 'schema-events'
  | 'ndjson'
  | 'schema-ndjson'
  | 'lines'
  | 'text'
  | 'bytes'

/**
 * How the branches are split: a lane (its index in `kinds`), or a tee of what it holds. The whole is `res.tee()`;
 * each tee inside it is a tee of a tee branch.
 */
type Shape = number | [Shape, Shape]

interface Setup {
  name: string
  strategy: 'range' | 'last-event-id' | 'cursor'
  format: 'sse' | 'ndjson'
  /**
   * One per branch: two for a tee, three for a tee of the second branch, four for a tee of each (or as `shape`
   * says).
   */
  kinds: Kind[]
  /** A tee of a tee of a tee (`[0, [1, [2, 3]]]`, say), where the number of kinds does not say it. */
  shape?: Shape
  /**
   * Whether the README says a restart cannot satisfy these consumers (a cursor or Last-Event-ID, and items of
   * different kinds: lines() beside ndjson() or events()): a drop may then be refused while branches of different
   * kinds read, not once all but one kind are cancelled. (So may a drop while a branch reads text or bytes beside
   * events(), under Last-Event-ID, or lines() alone there: see `conflicted`.)
   */
  refusable?: true
}

const SETUPS: Setup[] = [
  {
    name: 'Range, ndjson() twice',
    strategy: 'range',
    format: 'ndjson',
    kinds: ['ndjson', 'ndjson'],
  },
  {
    name: 'Range, ndjson() and lines()',
    strategy: 'range',
    format: 'ndjson',
    kinds: ['ndjson', 'lines'],
  },
  {
    name: 'Range, lines() beside a tee of ndjson()',
    strategy: 'range',
    format: 'ndjson',
    kinds: ['lines', 'ndjson', 'ndjson'],
  },
  {
    name: 'Range, events() and text()',
    strategy: 'range',
    format: 'sse',
    kinds: ['events', 'text'],
  },
  {
    name: 'Last-Event-ID, events() twice',
    strategy: 'last-event-id',
    format: 'sse',
    kinds: ['events', 'events'],
  },
  {
    name: 'Last-Event-ID, events() and events({ json: true })',
    strategy: 'last-event-id',
    format: 'sse',
    kinds: ['events', 'json-events'],
  },
  {
    name: 'Last-Event-ID, events() beside a tee of events()',
    strategy: 'last-event-id',
    format: 'sse',
    kinds: ['events', 'events', 'json-events'],
  },
  {
    name: 'Last-Event-ID, a tee of events() beside a tee of events() and events({ json: true })',
    strategy: 'last-event-id',
    format: 'sse',
    kinds: ['events', 'events', 'events', 'json-events'],
  },
  {
    name: 'Last-Event-ID, events() and text()',
    strategy: 'last-event-id',
    format: 'sse',
    kinds: ['events', 'text'],
  },
  {
    name: 'Last-Event-ID, bytes() and events()',
    strategy: 'last-event-id',
    format: 'sse',
    kinds: ['bytes', 'events'],
  },
  {
    name: 'Last-Event-ID, events() beside a tee of bytes() and events()',
    strategy: 'last-event-id',
    format: 'sse',
    kinds: ['events', 'bytes', 'events'],
  },
  {
    name: 'Last-Event-ID, events() beside a tee of text() and events()',
    strategy: 'last-event-id',
    format: 'sse',
    kinds: ['events', 'text', 'events'],
  },
  {
    name: 'Range, bytes() and ndjson()',
    strategy: 'range',
    format: 'ndjson',
    kinds: ['bytes', 'ndjson'],
  },
  {
    name: 'cursor, ndjson() twice',
    strategy: 'cursor',
    format: 'ndjson',
    kinds: ['ndjson', 'ndjson'],
  },
  {
    name: 'cursor, ndjson() beside a tee of ndjson()',
    strategy: 'cursor',
    format: 'ndjson',
    kinds: ['ndjson', 'ndjson', 'ndjson'],
  },
  {
    name: 'cursor, a tee of ndjson() beside a tee of ndjson()',
    strategy: 'cursor',
    format: 'ndjson',
    kinds: ['ndjson', 'ndjson', 'ndjson', 'ndjson'],
  },
  {
    name: 'cursor, text() beside a tee of ndjson()',
    strategy: 'cursor',
    format: 'ndjson',
    kinds: ['text', 'ndjson', 'ndjson'],
  },
  {
    name: 'cursor, ndjson() and lines()',
    strategy: 'cursor',
    format: 'ndjson',
    kinds: ['ndjson', 'lines'],
    refusable: true,
  },
  {
    name: 'Range, ndjson(schema) and text()',
    strategy: 'range',
    format: 'ndjson',
    kinds: ['schema-ndjson', 'text'],
  },
  {
    name: 'Last-Event-ID, events({ schema }) twice',
    strategy: 'last-event-id',
    format: 'sse',
    kinds: ['schema-events', 'schema-events'],
  },
  {
    name: 'Last-Event-ID, events({ schema }) and text()',
    strategy: 'last-event-id',
    format: 'sse',
    kinds: ['schema-events', 'text'],
  },
  {
    name: 'cursor, ndjson(schema) twice',
    strategy: 'cursor',
    format: 'ndjson',
    kinds: ['schema-ndjson', 'schema-ndjson'],
  },
  {
    name: 'cursor, a tee of ndjson(schema) beside a tee of ndjson(schema)',
    strategy: 'cursor',
    format: 'ndjson',
    kinds: ['schema-ndjson', 'schema-ndjson', 'schema-ndjson', 'schema-ndjson'],
  },
  {
    name: 'cursor, ndjson(schema) and text()',
    strategy: 'cursor',
    format: 'ndjson',
    kinds: ['schema-ndjson', 'text'],
  },
  {
    name: 'Range, events() and lines() over SSE',
    strategy: 'range',
    format: 'sse',
    kinds: ['events', 'lines'],
  },
  {
    name: 'Last-Event-ID, events() and lines()',
    strategy: 'last-event-id',
    format: 'sse',
    kinds: ['events', 'lines'],
    refusable: true,
  },
  {
    name: 'Last-Event-ID, lines() beside a tee of events() and events({ json: true })',
    strategy: 'last-event-id',
    format: 'sse',
    kinds: ['lines', 'events', 'json-events'],
    refusable: true,
  },
  {
    name: 'Last-Event-ID, events() beside a tee of lines() and events()',
    strategy: 'last-event-id',
    format: 'sse',
    kinds: ['events', 'lines', 'events'],
    refusable: true,
  },
  {
    name: 'Range, ndjson() beside a tee of lines() and a tee of text() and bytes()',
    strategy: 'range',
    format: 'ndjson',
    kinds: ['ndjson', 'lines', 'text', 'bytes'],
    shape: [0, [1, [2, 3]]],
  },
  {
    name: 'Last-Event-ID, events() beside a tee of events({ json: true }) and a tee of bytes() and events()',
    strategy: 'last-event-id',
    format: 'sse',
    kinds: ['events', 'json-events', 'bytes', 'events'],
    shape: [0, [1, [2, 3]]],
  },
  {
    name: 'Last-Event-ID, a tee of a tee of lines() and events({ schema }) and text(), beside events()',
    strategy: 'last-event-id',
    format: 'sse',
    kinds: ['lines', 'schema-events', 'text', 'events'],
    shape: [[[0, 1], 2], 3],
    refusable: true,
  },
  {
    name: 'cursor, ndjson() beside a tee of ndjson(schema) and a tee of text() and ndjson(schema)',
    strategy: 'cursor',
    format: 'ndjson',
    kinds: ['ndjson', 'schema-ndjson', 'text', 'schema-ndjson'],
    shape: [0, [1, [2, 3]]],
    refusable: true,
  },
  {
    name: 'cursor over SSE, events() beside a tee of events({ json: true }) and a tee of events() and text()',
    strategy: 'cursor',
    format: 'sse',
    kinds: ['events', 'json-events', 'events', 'text'],
    shape: [0, [1, [2, 3]]],
  },
  // The tee of a tee branch first: at a tie, the restart takes the position the first branch gives.
  {
    name: 'cursor, a tee of ndjson() and text() beside ndjson()',
    strategy: 'cursor',
    format: 'ndjson',
    kinds: ['ndjson', 'text', 'ndjson'],
    shape: [[0, 1], 2],
  },
  {
    name: 'cursor, a tee of ndjson() and lines() beside ndjson()',
    strategy: 'cursor',
    format: 'ndjson',
    kinds: ['ndjson', 'lines', 'ndjson'],
    shape: [[0, 1], 2],
    refusable: true,
  },
  {
    name: 'cursor over SSE, events() and events({ json: true })',
    strategy: 'cursor',
    format: 'sse',
    kinds: ['events', 'json-events'],
  },
  {
    name: 'cursor over SSE, events({ json: true }) beside a tee of events()',
    strategy: 'cursor',
    format: 'sse',
    kinds: ['json-events', 'events', 'events'],
  },
]

const N = 12
/** Each unit's data, as every consumer's item comes out once normalised (see `keyOf`). */
const DATA = unitData(N)
/**
 * The same padded to about 3 KB, for the runs with long units (`long`), whose pushes are 1 KiB a step: one push
 * may then be longer than a decoding slice (`DECODE_SLICE_BYTES`, 32 KiB), which the tee hands a consumer that
 * decodes units, or a tee of its branch, one slice at a time, many units in each.
 */
const LONG_DATA = DATA.map((data) =>
  JSON.stringify({ ...(JSON.parse(data) as object), pad: 'x'.repeat(3000) }),
)
const LONG_PUSH = 1024

type Command =
  | ServerCommand
  /** Makes a late branch's consumer (and its tee, if that is late too) without reading it yet. */
  | { t: 'open'; b: number }
  | { t: 'read'; b: number; k: number }
  /** Reads a branch until its read waits: it delivers all it was handed, and its last read pulls the source. */
  | { t: 'drain'; b: number }
  | { t: 'cancel'; b: number; how: 'cancel' | 'return' }
  | { t: 'checkpoint'; b: number }

/** Takes every item as it is, asynchronously: a branch awaits its judgement of each. */
const ANY: StandardSchemaV1 = {
  '~standard': { version: 1, vendor: 'test', validate: async (value) => ({ value }) },
}

function iterate(branch: StreamResponse, kind: Kind): AsyncIterator<unknown> {
  const items: AsyncIterable<unknown> =
    kind === 'events'
      ? branch.events()
      : kind === 'json-events'
        ? branch.events({ json: true })
        : kind === 'schema-events'
          ? branch.events({ schema: ANY })
          : kind === 'ndjson'
            ? branch.ndjson()
            : kind === 'schema-ndjson'
              ? branch.ndjson(ANY)
              : kind === 'lines'
                ? branch.lines()
                : kind === 'bytes'
                  ? branch.bytes()
                  : branch.text()
  return items[Symbol.asyncIterator]()
}

/** An item as a string comparable with `DATA` (text: the chunk itself). */
function keyOf(kind: Kind, item: unknown): string {
  if (kind === 'events') return (item as { data: string }).data
  if (kind === 'json-events' || kind === 'schema-events')
    return JSON.stringify((item as { data: unknown }).data)
  if (kind === 'ndjson' || kind === 'schema-ndjson') return JSON.stringify(item)
  return item as string
}

/** The refusal of a cursor while a branch has items to validate that no branch has delivered (see README). */
const JUDGING = 'a tee() branch had items to validate when the connection dropped'

interface Lane {
  kind: Kind
  /** `undefined` while its tee, a tee of a tee branch made late, is not made yet. */
  branch: StreamResponse | undefined
  /** Its consumer; `undefined` while not made yet (see `late`). */
  iterator: AsyncIterator<unknown> | undefined
  pending: Promise<void> | undefined
  delivered: string[]
  /** Bytes of the body delivered, by text() or bytes(). */
  bytes: number
  done: boolean
  cancelled: boolean
  error: unknown
  /** Its last checkpoint, and how many units (bytes, for text or bytes) it had delivered then. */
  saved?: { checkpoint: Checkpoint; at: number }
}

/** Runs one schedule; returns what went wrong (empty when nothing did) and what happened, for the report. */
async function run(
  setup: Setup,
  maxBuffer: number,
  declared: boolean,
  commands: readonly Command[],
  long = false,
  /** Per branch, whether its consumer is made late (by `open` or its first read), not at setup. */
  late: readonly boolean[] = [],
) {
  const units = long ? LONG_DATA : DATA
  /** The units after unit `after` (-1: all), on the wire. */
  // Under Last-Event-ID, some events without ids where every branch reads events (see `unitsOnWire`).
  const sparse = setup.strategy === 'last-event-id' && setup.kinds.every((kind) => kind.endsWith('events'))
  const wire = (setup: Setup, after: number): string => unitsOnWire(units, { ...setup, sparse }, after)
  const server = manualServer()
  const problems: string[] = []
  const trace: string[] = []
  /** What each exchange has left to send. */
  const left = new Map<Exchange, Uint8Array>()
  const answer = (exchange: Exchange): void => {
    answerAsModel(exchange, setup, (after) => wire(setup, after), left, trace, { declared })
  }
  const current = () => server.exchanges.at(-1)
  /** Whether the server answered a Range as another version: every branch must then be refused. */
  let changed = false
  /**
   * Whether, when the source met a drop, a restart could not satisfy the live branches: under a restart strategy, a
   * branch reading text or bytes beside one reading items, or one reading them alone after it delivered some (a
   * restart would repeat them: README, Resume); or (`refusable`) branches reading items of different kinds. Only
   * then may the drop be refused (a cancelled one reads nothing a restart could break). text() and bytes() read as
   * nothing until they are handed a byte, so until then they follow the restart of the others (reading their queue
   * up to where they restart).
   * The source meets the drop in the read pending when the connection drops, or else in a later one: until it has
   * (the body reconnects, or a branch fails), every read looks again (`unseen`).
   */
  let conflictAtDrop = false
  let unseen: { exchanges: number; errors: number } | undefined
  const met = (since: { exchanges: number; errors: number }) =>
    res.progress.state !== 'streaming' ||
    server.exchanges.length > since.exchanges ||
    lanes.filter((lane) => lane.error !== undefined).length > since.errors
  /**
   * Whether, under a cursor, a live branch validating with a schema may have held units no branch had delivered
   * when the connection dropped: a unit was sent whole, in some answer, past every branch's last. Only then may
   * the drop be refused for that (`JUDGING`).
   */
  let judgingAtDrop = false
  const judging = () => {
    if (setup.strategy !== 'cursor') return false
    const validating = (lane: Lane) =>
      lane.kind.startsWith('schema') &&
      lane.iterator !== undefined &&
      !lane.cancelled &&
      lane.error === undefined
    if (!lanes.some(validating)) return false
    const sent = server.exchanges.map((exchange) => {
      const body = left.get(exchange)
      if (body === undefined) return 0
      const after = Number(new URL(exchange.request.url).searchParams.get('after') ?? -1)
      const all = encode(wire(setup, after))
      const text = new TextDecoder().decode(all.subarray(0, all.length - body.length))
      return after + 1 + text.split(setup.format === 'ndjson' ? '\n' : '\n\n').length - 1
    })
    // Not counting a cancelled branch of another kind (ndjson() beside ndjson(schema)): it has no say in the restart,
    // whose cursor cannot continue after its item.
    const counted = lanes.filter((lane) => !lane.cancelled || lane.kind.startsWith('schema'))
    return Math.max(0, ...sent) > Math.max(0, ...counted.map((lane) => lane.delivered.length))
  }
  /** Takes in where the branches stand, while the source has not met the last drop (see `unseen`). */
  const look = () => {
    if (unseen !== undefined && met(unseen)) unseen = undefined
    if (unseen === undefined) return
    conflictAtDrop ||= conflicted()
    judgingAtDrop ||= judging()
  }
  const conflicted = () => {
    // A branch whose consumer is not made yet reads nothing: it follows whatever restart the others make.
    const reading = lanes.filter(
      (lane) => lane.iterator !== undefined && !lane.cancelled && lane.error === undefined,
    )
    // Items of one family continue together: events with ids whatever their options under Last-Event-ID, and under a
    // cursor events() beside events({ json: true }) (README), else only the same consumer with the same options.
    const family = (kind: Kind) =>
      setup.strategy === 'cursor' ? kind.replace('json-', '') : kind.replace(/^\w+-events$/, 'events')
    const families = new Set(reading.filter((lane) => !raw(lane.kind)).map((lane) => family(lane.kind)))
    // Text or bytes read once handed a byte (text() comes out as it is handed here: ASCII); lines of an SSE body
    // under Last-Event-ID, as lines() alone, once it delivered one (it carries no event id to continue after).
    return (
      (setup.strategy !== 'range' && reading.some((lane) => raw(lane.kind) && lane.bytes > 0)) ||
      reading.some((lane) => idless(lane.kind) && lane.delivered.length > 0) ||
      (setup.refusable === true && families.size > 1)
    )
  }

  /** The body's progress, as both branches report it. */
  const reports: Progress[] = []
  const resume: ResumeOptions =
    setup.strategy === 'cursor'
      ? {
          strategy: 'cursor',
          cursor: cursorAfter,
          attempts: 1000,
          backoff: { initial: 0, max: 0, jitter: 0 },
        }
      : { strategy: setup.strategy, attempts: 1000, backoff: { initial: 0, max: 0, jitter: 0 } }
  const pending = sluice('https://example.test/stream', {
    fetch: server.fetch,
    retry: 0,
    resume,
    progressInterval: 0,
    onProgress: (p) => {
      reports.push({ ...p })
    },
  })
  await settle(() => current() === undefined)
  answer(current()!)
  const res = await pending
  // The source is reconnecting, and its request has not come yet.
  const due = () => res.progress.state === 'reconnecting' && current()?.state() !== 'waiting'
  const lanes: Lane[] = setup.kinds.map((kind) => ({
    kind,
    branch: undefined,
    iterator: undefined,
    pending: undefined,
    delivered: [],
    bytes: 0,
    done: false,
    cancelled: false,
    error: undefined,
  }))
  /** The tees of a tee branch not made yet, each with the branch it splits (see `late`). */
  const unmade: Array<[[Shape, Shape], StreamResponse]> = []
  const lanesOf = (shape: Shape): number[] =>
    typeof shape === 'number' ? [shape] : [...lanesOf(shape[0]), ...lanesOf(shape[1])]
  // A tee of a tee branch is made late when all its branches' consumers are: by the first of them made.
  const place = (shape: Shape, branch: StreamResponse): void => {
    if (typeof shape === 'number') lanes[shape]!.branch = branch
    else if (lanesOf(shape).every((k) => late[k] === true)) unmade.push([shape, branch])
    else makeTee(shape, branch)
  }
  const makeTee = (shape: [Shape, Shape], from: StreamResponse, later = false): void => {
    const [first, second] = from.tee({ maxBuffer })
    if (later) trace.push(`tee made of branches ${lanesOf(shape).join(' ')}`)
    place(shape[0], first)
    place(shape[1], second)
  }
  const shape: Shape =
    setup.shape ??
    (setup.kinds.length === 2
      ? [0, 1]
      : setup.kinds.length === 3
        ? [0, [1, 2]]
        : [
            [0, 1],
            [2, 3],
          ])
  // The split response itself, whatever its consumers.
  const [outer, inner] = res.tee({ maxBuffer })
  if (typeof shape === 'number') throw new Error(`${setup.name}: a tee has two branches`)
  place(shape[0], outer)
  place(shape[1], inner)
  const branchOf = (k: number): StreamResponse => {
    // The tee of a tee branch that holds it, and the tees that hold that one first.
    while (lanes[k]!.branch === undefined) {
      const [tee, from] = unmade.splice(
        unmade.findIndex(([tee]) => lanesOf(tee).includes(k)),
        1,
      )[0]!
      makeTee(tee, from, true)
    }
    return lanes[k]!.branch!
  }
  /**
   * Makes branch k's consumer, if not made yet: a branch cancelled before gets none. A read of a branch not opened
   * opens it first, as `for await (… of branch.events())` does; `open` alone makes it without reading (text()
   * attaches to its branch then, which may decide a drop: see `conflicted`).
   */
  const open = (k: number): void => {
    const lane = lanes[k]!
    if (lane.iterator !== undefined || lane.cancelled) return
    lane.iterator = iterate(branchOf(k), lane.kind)
    if (late[k] === true) trace.push(`open branch ${k}`)
    look()
  }
  for (const k of lanes.keys()) if (late[k] !== true) open(k)
  const full = encode(wire(setup, -1))
  const raw = (kind: Kind) => kind === 'text' || kind === 'bytes'
  // An event carries its id too, where the wire gives one.
  const ids = setup.format === 'sse' && setup.strategy !== 'cursor'
  const evented = (kind: Kind) => ids && kind.endsWith('events')
  const idOf = (kind: Kind, item: unknown) => (evented(kind) ? `${(item as { id?: string }).id} ` : '')
  /** The body's lines: NDJSON's units, or each SSE event's lines (`id:`, `data:`, and the blank line after). */
  const lines = wire(setup, -1).split('\n').slice(0, -1)
  /** What a consumer of `kind` delivers, each item as `keyOf` gives it (text and bytes: none). */
  const itemsOf = (kind: Kind): readonly string[] => (kind === 'lines' ? lines : units)
  /** Where each of those items ends in the whole body. */
  let end = 0
  const lineEnds = lines.map((line) => (end += encode(`${line}\n`).length))
  const unitEnds = units.map((_, i) => full.length - encode(wire(setup, i)).length)
  const ends = (kind: Kind) => (kind === 'lines' ? lineEnds : unitEnds)
  /**
   * Whether a consumer of `kind` delivers items that Last-Event-ID cannot continue after: lines() of an SSE body,
   * which carry no event id (README: not after a `lines()` branch's line).
   */
  const idless = (kind: Kind) =>
    kind === 'lines' && setup.format === 'sse' && setup.strategy === 'last-event-id'
  /**
   * A live branch's checkpoint stands where its consumer does: after its last item (its event id, its cursor,
   * the end of its last unit in the body), with its own count.
   */
  const checkpoint = (k: number): void => {
    const lane = lanes[k]!
    if (lane.cancelled || lane.error !== undefined) return
    // Text or bytes have no position but their offset, which only Range continues from.
    if (raw(lane.kind) && setup.strategy !== 'range') return
    const n = lane.delivered.length
    let saved: Checkpoint
    try {
      // A branch not read yet (its consumer not made) stands at the start of the body.
      saved = branchOf(k).checkpoint()
    } catch (error) {
      // Lines of an SSE body, once delivered, leave Last-Event-ID no place to continue from: refused, saying why.
      if (idless(lane.kind) && n > 0 && isResumeError(error) && /event id/.test(error.message)) return
      problems.push(`branch ${k}'s checkpoint failed: ${String(error)}`)
      return
    }
    if (idless(lane.kind) && n > 0) problems.push(`branch ${k}'s checkpoint after ${n} lines did not fail`)
    const got: Record<string, unknown> = {}
    const want: Record<string, unknown> = {}
    if (raw(lane.kind)) {
      got.offset = saved.offset
      want.offset = lane.bytes
    } else {
      const place = unitPlace(setup.strategy, saved, n, ends(lane.kind))
      Object.assign(got, place.got)
      Object.assign(want, place.want)
    }
    trace.push(`checkpoint of branch ${k}: ${JSON.stringify(got)}`)
    if (JSON.stringify(got) !== JSON.stringify(want))
      problems.push(`branch ${k}'s checkpoint says ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`)
    lane.saved = {
      checkpoint: JSON.parse(JSON.stringify(saved)) as Checkpoint,
      at: raw(lane.kind) ? lane.bytes : n,
    }
  }
  const read = (k: number): void => {
    const lane = lanes[k]!
    open(k)
    const iterator = lane.iterator
    if (iterator === undefined || lane.pending !== undefined || lane.done || lane.error !== undefined) return
    look()
    lane.pending = iterator.next().then(
      (r) => {
        lane.pending = undefined
        if (r.done) {
          lane.done = true
          return
        }
        if (raw(lane.kind)) {
          const chunk = lane.kind === 'text' ? encode(r.value as string) : (r.value as Uint8Array)
          const expected = full.subarray(lane.bytes, lane.bytes + chunk.length)
          if (expected.length !== chunk.length || expected.some((b, j) => b !== chunk[j]))
            problems.push(`branch ${k} got ${chunk.length} bytes at ${lane.bytes} that are not the body's`)
          lane.bytes += chunk.length
          // Handed a chunk, bytes() reads: the source, reading on as it is released, may meet the drop now.
          look()
          return
        }
        const n = lane.delivered.length
        const key = idOf(lane.kind, r.value) + keyOf(lane.kind, r.value)
        const expected = `${evented(lane.kind) ? `${eventIdOf({ sparse }, n)} ` : ''}${itemsOf(lane.kind)[n]}`
        lane.delivered.push(key)
        if (key !== expected)
          problems.push(
            `branch ${k} delivered ${key} as item ${lane.delivered.length - 1}, expected ${expected}`,
          )
      },
      (error: unknown) => {
        lane.pending = undefined
        lane.error = error
        // The drop's own error (a cut's TruncatedError), or a ResumeError, that says why.
        const clear =
          (isResumeError(error) || isNetworkError(error) || isTruncatedError(error)) &&
          /cannot|refuse/.test((error as Error).message)
        // Only where a restart could not satisfy the branches reading at the drop (see `conflictAtDrop`).
        const refusable = conflictAtDrop
        const versioned = changed && isResumeError(error) && error.reason === 'validator-changed'
        const unjudged = judgingAtDrop && isResumeError(error) && error.message.includes(JUDGING)
        if (!versioned && !(refusable && clear) && !unjudged)
          problems.push(`branch ${k} failed: ${String(error)}`)
      },
    )
    // Its read waits now: the source may meet the drop in it (see `conflicted`).
    look()
  }
  const cancel = (k: number, how: 'cancel' | 'return'): void => {
    const lane = lanes[k]!
    if (lane.cancelled) return
    lane.cancelled = true
    // A branch whose consumer is not made yet has only its own cancel.
    if (how === 'cancel' || lane.iterator === undefined) void branchOf(k).cancel()
    else void lane.iterator.return?.()
  }

  const model: ModelServer = {
    current,
    answer,
    left,
    due,
    declared: setup.strategy === 'range' || declared,
    busy: (exchange) => {
      // A 503: the source asks again, with the same position.
      if (exchange === server.exchanges[0]) return false
      exchange.refuse(503)
      return true
    },
    ...carelessMoves(
      setup,
      (after) => wire(setup, after),
      left,
      trace,
      () => {
        changed = true
      },
    ),
  }
  for (const command of commands) {
    if (isServerCommand(command)) {
      if (command.t === 'drop' || command.t === 'cut') {
        if (lanes.some((lane) => lane.pending !== undefined)) {
          conflictAtDrop ||= conflicted()
          judgingAtDrop ||= judging()
        }
        unseen = {
          exchanges: server.exchanges.length,
          errors: lanes.filter((lane) => lane.error !== undefined).length,
        }
      }
      const step = long && command.t === 'push' ? { ...command, n: command.n * LONG_PUSH } : command
      if (!(await serverStep(step, model))) continue
    } else
      switch (command.t) {
        case 'read':
          for (let n = 0; n < command.k; n++) {
            read(command.b % lanes.length)
            for (let t = 0; t < 4; t++) await turn()
          }
          break
        case 'drain': {
          const lane = lanes[command.b % lanes.length]!
          for (let n = 0; n < 4 * N; n++) {
            read(command.b % lanes.length)
            for (let t = 0; t < 4; t++) await turn()
            if (lane.pending !== undefined || lane.done || lane.cancelled || lane.error !== undefined) break
          }
          break
        }
        case 'cancel':
          cancel(command.b % lanes.length, command.how)
          break
        case 'checkpoint':
          checkpoint(command.b % lanes.length)
          break
        case 'open':
          open(command.b % lanes.length)
          break
      }
    trace.push(JSON.stringify(command))
    await settle(due)
    // While a reconnect's request waits for its answer the body is reconnecting, whatever consumer is made meanwhile
    // (README, Progress: `reconnecting` with the next attempt, back to `streaming` once it resumes).
    if (server.exchanges.length > 1 && current()?.state() === 'waiting' && res.progress.state === 'streaming')
      problems.push(
        `the body's progress says streaming while request ${server.exchanges.length} waits for its answer`,
      )
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
    else if (changed) problems.push(`branch ${k} read another version's answer to its end`)
    else if (
      raw(lane.kind) ? lane.bytes !== full.length : lane.delivered.length !== itemsOf(lane.kind).length
    )
      problems.push(
        `branch ${k} ended after ${lane.delivered.length} of ${itemsOf(lane.kind).length} items (${lane.bytes} bytes)`,
      )
  }
  problems.push(...progressProblems(reports, 'the body'))
  // Every request after the first answer is a reconnect.
  const last = reports.at(-1)
  if (last?.state === 'done' && last.attempt !== server.exchanges.length)
    problems.push(`the body ended at attempt ${last.attempt} after ${server.exchanges.length} requests`)
  // Whatever is left is cancelled: every read still pending must settle.
  for (const lane of lanes) void lane.branch?.cancel()
  for (let round = 0; round < 20 && lanes.some((lane) => lane.pending !== undefined); round++)
    await settle(due)
  for (const [k, lane] of lanes.entries())
    if (lane.pending !== undefined)
      problems.push(`branch ${k}'s read never settled after every branch was cancelled`)

  // Each branch's last checkpoint, continued in a new sluice() call from the same server, delivers the rest of
  // the body: every unit after it, once, in order (the bytes after it, for text or bytes).
  for (const [k, lane] of lanes.entries()) {
    if (lane.saved === undefined) continue
    const { checkpoint: saved, at } = lane.saved
    let out: { items: unknown[] } | { error: unknown } | undefined
    void (async () => {
      const again = await sluice('https://example.test/stream', {
        fetch: server.fetch,
        retry: 0,
        resume,
        resumeFrom: saved,
      })
      const items: unknown[] = []
      const iterator = iterate(again, lane.kind)
      for (let r = await iterator.next(); !r.done; r = await iterator.next()) items.push(r.value)
      return items
    })().then(
      (items) => {
        out = { items }
      },
      (error: unknown) => {
        out = { error }
      },
    )
    for (let round = 0; round < 40 && out === undefined; round++) await serveRest(model)
    if (out === undefined || 'error' in out) {
      problems.push(
        `branch ${k}'s checkpoint, continued, ${out ? `failed: ${String(out.error)}` : 'never ended'}`,
      )
      continue
    }
    const got = raw(lane.kind)
      ? new TextDecoder().decode(
          concatBytes(
            out.items.map((item) => (lane.kind === 'text' ? encode(item as string) : (item as Uint8Array))),
          ),
        )
      : out.items.map((item, j) => `${idOf(lane.kind, item)}${keyOf(lane.kind, item)} @${at + j}`).join('\n')
    const want = raw(lane.kind)
      ? new TextDecoder().decode(full.subarray(at))
      : itemsOf(lane.kind)
          .slice(at)
          .map(
            (data, j) => `${evented(lane.kind) ? `${eventIdOf({ sparse }, at + j)} ` : ''}${data} @${at + j}`,
          )
          .join('\n')
    if (got !== want) problems.push(`branch ${k}'s checkpoint, continued, delivered ${got}, expected ${want}`)
  }
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
    { weight: 2, arbitrary: fc.record({ t: fc.constant('drain' as const), b: fc.nat(branches - 1) }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('checkpoint' as const), b: fc.nat(branches - 1) }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('open' as const), b: fc.nat(branches - 1) }) },
    {
      weight: 1,
      arbitrary: fc.record({
        t: fc.constant('cancel' as const),
        b: fc.nat(branches - 1),
        how: fc.constantFrom('cancel' as const, 'return' as const),
      }),
    },
  )

/**
 * A schedule in rounds, each some moves and a drop: several drops, each met where the branches stand apart. A round
 * has every branch read all it was handed (its read then waits, and pulls the source); or one branch do so (it
 * reads ahead, the others stay behind); or one do so, then another read past it and be cancelled while its read
 * waits; each after a push of some bytes (a part of a unit or more). Or it takes a few steps of the kinds the free
 * schedules take.
 */
const rounds = (branches: number): fc.Arbitrary<Command[]> => {
  const b = fc.nat(branches - 1)
  const n = fc.integer({ min: 1, max: 48 })
  const how = fc.constantFrom('cancel' as const, 'return' as const)
  const step: fc.Arbitrary<Command[]> = fc.oneof(
    { weight: 3, arbitrary: n.map((n): Command[] => [{ t: 'push', n }]) },
    {
      weight: 2,
      arbitrary: fc
        .record({ b, k: fc.integer({ min: 1, max: 4 }) })
        .map(({ b, k }): Command[] => [{ t: 'read', b, k }]),
    },
    { weight: 3, arbitrary: b.map((b): Command[] => [{ t: 'drain', b }]) },
    {
      weight: 1,
      arbitrary: fc.record({ b, how }).map(({ b, how }): Command[] => [
        { t: 'drain', b },
        { t: 'cancel', b, how },
      ]),
    },
    { weight: 1, arbitrary: b.map((b): Command[] => [{ t: 'open', b }]) },
    { weight: 1, arbitrary: b.map((b): Command[] => [{ t: 'checkpoint', b }]) },
  )
  const round: fc.Arbitrary<Command[]> = fc.oneof(
    {
      weight: 1,
      arbitrary: n.map((n): Command[] => [
        { t: 'push', n },
        ...Array.from({ length: branches }, (_, b) => ({ t: 'drain' as const, b })),
      ]),
    },
    {
      weight: 3,
      arbitrary: fc.tuple(n, b).map(([n, b]): Command[] => [
        { t: 'push', n },
        { t: 'drain', b },
      ]),
    },
    {
      weight: 3,
      arbitrary: fc.tuple(n, b, n, b, how).map(([n, lead, m, b, how]): Command[] => [
        { t: 'push', n },
        { t: 'drain', b: lead },
        { t: 'push', n: m },
        { t: 'drain', b },
        { t: 'cancel', b, how },
      ]),
    },
    { weight: 2, arbitrary: fc.array(step, { maxLength: 6 }).map((steps) => steps.flat()) },
  )
  const end = fc.oneof(
    { weight: 4, arbitrary: fc.constant<Command>({ t: 'drop', answer: true }) },
    { weight: 1, arbitrary: fc.constant<Command>({ t: 'drop', answer: false }) },
    { weight: 1, arbitrary: fc.constant<Command>({ t: 'cut' }) },
  )
  return fc
    .array(fc.tuple(round, end), { minLength: 1, maxLength: 5 })
    .map((all) => all.flatMap(([moves, drop]) => [...moves, drop]))
}

const schedule = fc.constantFrom(...SETUPS).chain((setup) =>
  fc.tuple(
    fc.constant(setup),
    fc.constantFrom(1, 24, 96, 1 << 20),
    // Whether answers after Last-Event-ID or a cursor declare their length (Range's always do).
    fc.boolean(),
    fc.oneof(
      { weight: 1, arbitrary: fc.array(command(setup.kinds.length), { maxLength: 60, size: 'max' }) },
      { weight: 2, arbitrary: rounds(setup.kinds.length) },
    ),
    // Long units in one run of ten: a push may then cross many units and a decoding slice.
    fc.nat(9).map((k) => k === 0),
    // Whether each branch's consumer is made late, at its first `open` or read (each, one run in two).
    fc.array(fc.boolean(), { minLength: setup.kinds.length, maxLength: setup.kinds.length }),
  ),
)

const setup = (name: string): Setup => SETUPS.find((s) => s.name === name)!

const RUNS = modelRuns(400, 200)

/**
 * Schedules the model found, shrunk, run first every time (all but the last four are commented where they
 * stand). In each of the others, a branch is cancelled while its read waits (the inner tee's last branch, in all
 * but the last), the answer drops, and a branch left still holds units that the cancelled one delivered: the
 * restart was planned after less (after nothing), and the branch left, reading them, got a ResumeError. In the
 * last, the inner tee, cancelled whole, gave no kind of position any more.
 */
/**
 * text() reads both pushes; events() is handed them too, two events in all, and delivers the first; text() reads
 * on (the source's read pending) and is cancelled; the answer drops, events() still holding the second event.
 */
const HELD_EVENT: Command[] = [
  { t: 'push', n: 20 },
  { t: 'push', n: 45 },
  { t: 'read', b: 1, k: 2 },
  { t: 'read', b: 0, k: 1 },
  { t: 'read', b: 1, k: 1 },
  { t: 'cancel', b: 1, how: 'cancel' },
  { t: 'drop', answer: false },
]

const FOUND: Array<[Setup, number, boolean, Command[], boolean?, boolean[]?]> = [
  // Found by the rounds (seed 3 over the tees of a tee branch first, run 1181), shrunk, with `rebase` keeping the
  // inner tee's last restart place (commit 285629f undone; pinned with the focused tests in tee.resume.test.ts, a
  // third drop while the inner tee's ndjson() branch is still behind). The inner ndjson() branch takes a byte and
  // waits; the answer drops and restarts from the start, the inner tee with it. The outer branch delivers two records
  // (the inner one the first) and is cancelled while its read waits; the answer drops, the restart after the second:
  // the inner tee, behind, moves on. text() reads past there and is cancelled while its read waits, and the answer
  // drops again: the inner tee, its branch still behind, gave the place of its own last restart, the start, where
  // ndjson() had delivered a record, and was refused.
  [
    setup('cursor, a tee of ndjson() and text() beside ndjson()'),
    96,
    false,
    [
      { t: 'push', n: 1 },
      { t: 'drain', b: 0 },
      { t: 'drop', answer: true },
      { t: 'push', n: 17 },
      { t: 'drain', b: 2 },
      { t: 'push', n: 18 },
      { t: 'drain', b: 2 },
      { t: 'cancel', b: 2, how: 'cancel' },
      { t: 'drop', answer: true },
      { t: 'push', n: 1 },
      { t: 'drain', b: 1 },
      { t: 'push', n: 1 },
      { t: 'drain', b: 1 },
      { t: 'cancel', b: 1, how: 'cancel' },
      { t: 'drop', answer: true },
    ],
  ],
  // Found by the rounds (seed 3, run 3452), shrunk; pinned with the focused test (tee.resume.test.ts, a drop in the
  // answer after a restart that sent no byte). The outer branch delivers the first record and waits; the answer drops.
  // text() reads that record and waits, pulling the inner tee, and is cancelled; the answer drops before its first
  // byte. The inner ndjson() branch, made then, could not read the record it held (held for the next answer's first
  // byte), and the next drop was refused: the inner tee, its read still waiting, planned as at the drop before, when
  // no branch of it read.
  [
    setup('cursor, a tee of ndjson() and text() beside ndjson()'),
    1 << 20,
    false,
    [
      { t: 'push', n: 4 },
      { t: 'push', n: 13 },
      { t: 'read', b: 2, k: 2 },
      { t: 'drop', answer: true },
      { t: 'drain', b: 1 },
      { t: 'cancel', b: 1, how: 'cancel' },
      { t: 'drop', answer: true },
      { t: 'drain', b: 0 },
      { t: 'drop', answer: true },
    ],
    false,
    [true, false, false],
  ],
  // Found (seed 2, run 3738), shrunk; pinned with the focused test (tee.resume.test.ts, a branch read later, after an
  // ndjson() branch and a tee's lines() branch that stand at one place). lines() and the outer ndjson() branch
  // deliver the first record, each its own way, and are cancelled; the answer is cut there. Cancelled leaders of two
  // kinds gave no item: the inner ndjson() branch, made then, was refused where it follows a restart after one.
  [
    setup('cursor, a tee of ndjson() and lines() beside ndjson()'),
    96,
    false,
    [
      { t: 'push', n: 7 },
      { t: 'drain', b: 1 },
      { t: 'push', n: 10 },
      { t: 'drain', b: 1 },
      { t: 'cancel', b: 1, how: 'cancel' },
      { t: 'cut' },
      { t: 'drain', b: 2 },
      { t: 'cancel', b: 2, how: 'cancel' },
      { t: 'drop', answer: true },
      { t: 'push', n: 1 },
      { t: 'drain', b: 0 },
      { t: 'push', n: 1 },
      { t: 'drain', b: 0 },
      { t: 'cancel', b: 0, how: 'cancel' },
      { t: 'drop', answer: false },
    ],
    false,
    [true, false, false],
  ],

  // Found (seed 2, run 946), shrunk: the same at the start of the answer after a restart (pinned with the focused
  // test, a drop at the start of the answer after a restart: cancelled there, of two kinds).
  [
    setup('cursor, a tee of ndjson() and lines() beside ndjson()'),
    24,
    false,
    [
      { t: 'push', n: 6 },
      { t: 'drain', b: 1 },
      { t: 'push', n: 11 },
      { t: 'drain', b: 2 },
      { t: 'cancel', b: 2, how: 'cancel' },
      { t: 'drop', answer: true },
      { t: 'drain', b: 1 },
      { t: 'cancel', b: 1, how: 'cancel' },
      { t: 'drop', answer: true },
      { t: 'push', n: 1 },
      { t: 'drain', b: 0 },
      { t: 'drop', answer: true },
    ],
    false,
    [true, false, false],
  ],
  // Found (seed 1, run 6146), shrunk; pinned with the focused test (a drop at the start of the answer after a
  // restart: a tee of a tee branch that met the restart while its branches read two kinds). The outer branch
  // delivers the first record and is cancelled; the answer drops, the restart after it. lines(), made then, reads the
  // first line and meets the restart with the inner ndjson() branch, which reads nothing: two kinds, no item. lines()
  // is cancelled and the answer drops before its first byte: the inner tee, standing at its start, gave no item,
  // and was refused, where the answer began after the first record.
  [
    setup('cursor, a tee of ndjson() and lines() beside ndjson()'),
    1 << 20,
    false,
    [
      { t: 'push', n: 1 },
      { t: 'drain', b: 2 },
      { t: 'push', n: 2 },
      { t: 'drain', b: 2 },
      { t: 'cancel', b: 2, how: 'cancel' },
      { t: 'drop', answer: false },
      { t: 'push', n: 1 },
      { t: 'drain', b: 1 },
      { t: 'push', n: 1 },
      { t: 'drain', b: 1 },
      { t: 'cancel', b: 1, how: 'cancel' },
      { t: 'drop', answer: true },
    ],
    true,
    [false, true, false],
  ],
  // Found (seed 13, run 978), shrunk; pinned with the focused test (tee.resume.test.ts, beside a tee whose
  // ndjson(schema) branch delivered and was cancelled: after a restart from the start, which it had no say in). The
  // middle tee's ndjson(schema) branch delivers the first record and is cancelled; the answer drops, and ndjson(),
  // which delivered nothing, starts over. It reads two bytes of the new answer and is cancelled; the answer drops.
  // The cancelled branch's place, past what the new answer had sent, led the restart: after the first record, which
  // the branches left did not hold, and they were refused.
  [
    setup('cursor, ndjson() beside a tee of ndjson(schema) and a tee of text() and ndjson(schema)'),
    96,
    false,
    [
      { t: 'push', n: 1 },
      { t: 'drain', b: 1 },
      { t: 'push', n: 16 },
      { t: 'drain', b: 1 },
      { t: 'cancel', b: 1, how: 'cancel' },
      { t: 'drop', answer: true },
      { t: 'push', n: 1 },
      { t: 'drain', b: 0 },
      { t: 'push', n: 1 },
      { t: 'drain', b: 0 },
      { t: 'cancel', b: 0, how: 'cancel' },
      { t: 'drop', answer: true },
    ],
    false,
    [false, false, false, true],
  ],
  // Found (seed 13, run 4954), shrunk; pinned with the focused test (tee.resume.test.ts, starts over for the inner
  // branch read later, after the lines() branch beside its tee took the first line). lines() delivers the first
  // line and is cancelled; the answer drops and events() starts over. lines() stands after the first line of the new
  // answer once it comes again; the inner events() branch reads that far and is cancelled, and the answer drops. With
  // every branch cancelled, the line led the restart, which Last-Event-ID cannot continue from: the inner branch made
  // then was refused where it starts over.
  [
    setup('Last-Event-ID, lines() beside a tee of events() and events({ json: true })'),
    96,
    false,
    [
      { t: 'push', n: 1 },
      { t: 'drain', b: 0 },
      { t: 'push', n: 6 },
      { t: 'drain', b: 0 },
      { t: 'cancel', b: 0, how: 'cancel' },
      { t: 'drop', answer: false },
      { t: 'push', n: 1 },
      { t: 'drain', b: 0 },
      { t: 'push', n: 6 },
      { t: 'drain', b: 1 },
      { t: 'cancel', b: 1, how: 'cancel' },
      { t: 'drop', answer: true },
    ],
    false,
    [false, false, true],
  ],
  // The focused test of the same, as the model writes it: the inner tee's lines() branch, made late, reads past the
  // outer branch and is cancelled while its read waits; the third answer drops after part of a record.
  [
    setup('cursor, a tee of ndjson() and lines() beside ndjson()'),
    1 << 20,
    false,
    [
      { t: 'push', n: 35 },
      { t: 'read', b: 2, k: 2 },
      { t: 'read', b: 0, k: 2 },
      { t: 'read', b: 2, k: 1 },
      { t: 'drop', answer: true },
      { t: 'push', n: 19 },
      { t: 'read', b: 0, k: 1 },
      { t: 'push', n: 17 },
      { t: 'read', b: 2, k: 1 },
      { t: 'read', b: 1, k: 5 },
      { t: 'push', n: 18 },
      { t: 'read', b: 1, k: 1 },
      { t: 'cancel', b: 1, how: 'cancel' },
      { t: 'drop', answer: true },
      { t: 'push', n: 5 },
      { t: 'read', b: 2, k: 1 },
      { t: 'drop', answer: true },
    ],
    false,
    [false, true, false],
  ],
  // Found (seed -31337, run 3525), shrunk: the outer lines() branch is cancelled having read nothing, the inner
  // events({ json: true }) branch takes 1 byte of the first event and is cancelled while its read waits; the answer
  // drops. The inner events() branch, made only then, was refused ("restarts at a record boundary, which this
  // consumer cannot do") where, alone, it starts over.
  [
    setup('Last-Event-ID, lines() beside a tee of events() and events({ json: true })'),
    96,
    false,
    [
      { t: 'cancel', b: 0, how: 'cancel' },
      { t: 'read', b: 2, k: 1 },
      { t: 'push', n: 1 },
      { t: 'cancel', b: 2, how: 'cancel' },
      { t: 'drop', answer: false },
    ],
    false,
    [false, true, false],
  ],
  // Found (the same seed, once a fix let the above pass only before any restart): the same after a first drop before
  // any byte, whose restart from the start sent no position either.
  [
    setup('Last-Event-ID, lines() beside a tee of events() and events({ json: true })'),
    96,
    false,
    [
      { t: 'cancel', b: 0, how: 'cancel' },
      { t: 'drop', answer: false },
      { t: 'read', b: 2, k: 1 },
      { t: 'push', n: 1 },
      { t: 'cancel', b: 2, how: 'cancel' },
      { t: 'drop', answer: false },
    ],
    false,
    [false, true, false],
  ],
  // Found (seed -1967442982, as fast-check shrank it); pinned with the focused tests (tee.resume.test.ts, a branch read later beside
  // one that read and was cancelled). lines() delivers the first event's lines and is cancelled; the answer drops and
  // starts over; the inner events() branch delivers the first event and is cancelled, and the answer drops again.
  // With no branch reading, the line and the inner tee's event id stood at one place, two kinds of position no
  // restart agrees with: it was refused where, after the first's place (the line), it starts over.
  [
    setup('Last-Event-ID, lines() beside a tee of events() and events({ json: true })'),
    96,
    false,
    [
      { t: 'push', n: 27 },
      { t: 'drain', b: 0 },
      { t: 'push', n: 4 },
      { t: 'drain', b: 0 },
      { t: 'cancel', b: 0, how: 'cancel' },
      { t: 'drop', answer: true },
      { t: 'push', n: 1 },
      { t: 'drain', b: 0 },
      { t: 'push', n: 30 },
      { t: 'drain', b: 1 },
      { t: 'cancel', b: 1, how: 'cancel' },
      { t: 'drop', answer: true },
      { t: 'drain', b: 0 },
    ],
    false,
    [false, false, true],
  ],
  // Found (late consumers), shrunk by hand: the answer drops, events() meets the drop and its reconnect waits for an
  // answer; the other branch's consumer, made then, said the body was streaming again (its claim of the body did).
  [
    setup('Last-Event-ID, events() twice'),
    1 << 20,
    false,
    [
      { t: 'drop', answer: false },
      { t: 'read', b: 0, k: 1 },
      { t: 'read', b: 1, k: 1 },
    ],
    false,
    [false, true],
  ],
  // Found (late consumers; seed 22005), shrunk: text() reads part of the first event, its next read pulls the
  // answer, it is cancelled, the answer drops; the events() branch, made only then, was refused ("nothing delivered
  // carries an event id") where, alone, it starts over: the cancelled text() branch's place led the restart.
  [
    setup('Last-Event-ID, events({ schema }) and text()'),
    96,
    false,
    [
      { t: 'push', n: 1 },
      { t: 'read', b: 1, k: 2 },
      { t: 'cancel', b: 1, how: 'cancel' },
      { t: 'drop', answer: false },
    ],
    false,
    [true, false],
  ],
  // Found (late consumers; seed 22), shrunk: the inner tee's bytes() branch is cancelled while its read waits, the
  // inner tee is handed part of a long unit that its other branch, made late, has not read; the drop was refused
  // ("restarts at a record boundary, which this consumer cannot do"): the inner tee counted as reading for the
  // bytes it was handed.
  [
    setup('Last-Event-ID, events() beside a tee of bytes() and events()'),
    1,
    false,
    [
      { t: 'read', b: 1, k: 1 },
      { t: 'cancel', b: 1, how: 'cancel' },
      { t: 'push', n: 1 },
      { t: 'read', b: 0, k: 1 },
      { t: 'drop', answer: false },
    ],
    true,
    [false, false, true],
  ],
  // Found (seeds 1 and 2) once text() read only when handed a byte, shrunk: text() made and not read yet, the inner
  // tee's first ndjson() branch reads the first chunk, the answer drops. The cursor's restart after its record was
  // refused ("restarts at a record boundary, which this consumer cannot do") for text(), which had read nothing.
  [
    setup('cursor, text() beside a tee of ndjson()'),
    1 << 20,
    false,
    [
      { t: 'push', n: 1 },
      { t: 'read', b: 1, k: 1 },
      { t: 'drop', answer: false },
    ],
    true,
  ],
  // Pinned with the focused test of the same (tee.resume.test.ts): text() in a tee of a tee branch, made and not
  // read, its sibling made late, and the outer events() branch reads when the answer drops. The inner tee spoke
  // through its text() branch, as read, so the Last-Event-ID restart had an outer branch without an event id.
  [
    setup('Last-Event-ID, events() beside a tee of text() and events()'),
    1 << 20,
    false,
    [
      { t: 'push', n: 200 },
      { t: 'read', b: 0, k: 12 },
      { t: 'drop', answer: false },
    ],
    false,
    [false, false, true],
  ],
  // Found (seed 52), shrunk: the same, its text() branch cancelled before it was handed a byte. The inner tee spoke
  // through it as through a branch that read before it was cancelled.
  [
    setup('Last-Event-ID, events() beside a tee of text() and events()'),
    96,
    false,
    [
      { t: 'cancel', b: 1, how: 'cancel' },
      { t: 'read', b: 0, k: 1 },
      { t: 'push', n: 1 },
      { t: 'drop', answer: false },
    ],
    false,
    [false, false, true],
  ],
  // Found (a helper's run, seed -178716653): the same, its text() branch read and then cancelled. A cancelled
  // text() branch leaves no place to continue after, yet the inner tee spoke through it.
  [
    setup('Last-Event-ID, events() beside a tee of text() and events()'),
    1,
    false,
    [
      { t: 'read', b: 1, k: 1 },
      { t: 'push', n: 1 },
      { t: 'cancel', b: 1, how: 'cancel' },
      { t: 'read', b: 0, k: 1 },
      { t: 'drop', answer: false },
    ],
    true,
    [false, false, true],
  ],
  // Pinned, not found (with long units): one push of the whole body, longer than a decoding slice. The inner tee's
  // first branch delivers the first record and is cancelled; text() reads the chunk, reads on and is cancelled; the
  // answer drops. The inner tee, handed the chunk whole, not a slice at a time, would hold records past the restart
  // planned after its branch's slice, which its other branch would meet behind its place.
  [
    setup('cursor, text() beside a tee of ndjson()'),
    1 << 20,
    false,
    [
      { t: 'read', b: 1, k: 1 },
      { t: 'push', n: 48 },
      { t: 'cancel', b: 1, how: 'cancel' },
      { t: 'read', b: 0, k: 2 },
      { t: 'cancel', b: 0, how: 'cancel' },
      { t: 'drop', answer: false },
    ],
    true,
  ],
  // Found with the hold undone (a branch handed a chunk that crosses the restart whole, not up to it): events()
  // delivers the first event of a chunk and waits for more, bytes() has read nothing; the answer drops. bytes(),
  // read while the reconnect waits, must be handed its queue up to the restart only, and follow it.
  [
    setup('Last-Event-ID, bytes() and events()'),
    1 << 20,
    false,
    [
      { t: 'push', n: 32 },
      { t: 'read', b: 1, k: 2 },
      { t: 'drop', answer: false },
    ],
  ],
  // Found: both branches are handed a chunk of two records (and part of a third); ndjson() delivers both and is
  // cancelled while its read waits, lines() has delivered the first. The answer drops: the restart was planned
  // after lines()'s first line, and lines(), delivering its second before it met the restart, was refused. The
  // restart goes after the lines a branch was handed (the cursor after the second).
  [
    setup('cursor, ndjson() and lines()'),
    1 << 20,
    false,
    [
      { t: 'push', n: 48 },
      { t: 'read', b: 0, k: 1 },
      { t: 'read', b: 1, k: 1 },
      { t: 'read', b: 0, k: 2 },
      { t: 'cancel', b: 0, how: 'cancel' },
      { t: 'drop', answer: false },
    ],
  ],
  // Found, `HELD_EVENT`: the same, events() refused after delivering its second event, the restart having been
  // planned after its first.
  [setup('Last-Event-ID, events() and text()'), 1 << 20, false, HELD_EVENT],
  // Pinned, not found: the same with events({ schema }), whose event id there is known before the schema judges
  // the event it holds: the restart goes after it.
  [setup('Last-Event-ID, events({ schema }) and text()'), 1 << 20, false, HELD_EVENT],
  // Pinned, not found: text() reads a chunk of two records and reads on; ndjson(schema), handed it too, delivers
  // the first; text() is cancelled and the answer drops. A cursor would need the second record as the schema gives
  // it: the drop is refused (\`JUDGING\`), before any reconnect.
  [
    setup('cursor, ndjson(schema) and text()'),
    1 << 20,
    false,
    [
      { t: 'push', n: 48 },
      { t: 'read', b: 1, k: 1 },
      { t: 'read', b: 0, k: 1 },
      { t: 'read', b: 1, k: 1 },
      { t: 'cancel', b: 1, how: 'cancel' },
      { t: 'drop', answer: false },
    ],
  ],
  // Pinned, not found: both ndjson(schema) branches are handed a chunk of two records; the second delivers both and
  // is cancelled while its read waits, the first has delivered one. Both stand after the second record, the first
  // with it still to validate: the cursor continues after the cancelled branch's, not refused.
  [
    setup('cursor, ndjson(schema) twice'),
    1 << 20,
    false,
    [
      { t: 'push', n: 48 },
      { t: 'read', b: 1, k: 1 },
      { t: 'read', b: 0, k: 1 },
      { t: 'read', b: 1, k: 2 },
      { t: 'cancel', b: 1, how: 'cancel' },
      { t: 'drop', answer: false },
    ],
  ],
  // Pinned, not found: the same across tees. The first tee's first branch is handed a chunk of two records and
  // delivers one; both branches of the second deliver both and are cancelled: the first tee, whose place holds an
  // item still to validate, speaks first, but the second, cancelled there, knows the item.
  [
    setup('cursor, a tee of ndjson(schema) beside a tee of ndjson(schema)'),
    1 << 20,
    false,
    [
      { t: 'push', n: 48 },
      { t: 'read', b: 2, k: 1 },
      { t: 'read', b: 0, k: 1 },
      { t: 'read', b: 2, k: 2 },
      { t: 'read', b: 3, k: 3 },
      { t: 'cancel', b: 2, how: 'cancel' },
      { t: 'cancel', b: 3, how: 'cancel' },
      { t: 'drop', answer: false },
    ],
  ],
  // Found: ndjson() delivers the first unit and is cancelled while its read waits; the answer drops. lines(), which
  // had not read, was planned to restart after the cancelled branch's unit with no cursor (its items are of
  // another kind), and was refused: it resumes as it would alone, from the start, the queued unit dropped.
  [
    setup('cursor, ndjson() and lines()'),
    1 << 20,
    false,
    [
      { t: 'push', n: 20 },
      { t: 'read', b: 0, k: 2 },
      { t: 'cancel', b: 0, how: 'cancel' },
      { t: 'drop', answer: false },
    ],
  ],
  // Found: events() reads the first event and the answer drops; the restarted answer (after it) reaches the inner
  // tee, whose branches cannot restart (bytes() beside events()) but stand on its boundary: bytes() goes on. Its
  // events() branch, not read yet, still counted its place in the first answer as in the new one: its checkpoint,
  // taken before its first event, said it stood after one without an id, and was refused.
  [
    setup('Last-Event-ID, events() beside a tee of bytes() and events()'),
    96,
    false,
    [
      { t: 'push', n: 31 },
      { t: 'read', b: 0, k: 2 },
      { t: 'drop', answer: false },
      { t: 'answer' },
      { t: 'read', b: 1, k: 2 },
      { t: 'checkpoint', b: 2 },
    ],
  ],
  // Found: text() pulls the first event's bytes, reads again (the source's read pending) and is cancelled; the
  // answer drops. events(), which had not read, was planned to restart from nothing, then read the event in its
  // queue while the source reconnected: the restarted answer would have sent it again, and it was refused.
  [
    setup('Last-Event-ID, events() and text()'),
    96,
    false,
    [
      { t: 'read', b: 1, k: 1 },
      { t: 'push', n: 31 },
      { t: 'read', b: 1, k: 1 },
      { t: 'cancel', b: 1, how: 'cancel' },
      { t: 'drop', answer: false },
    ],
  ],
  // The same after events() read the first event: text() pulled the second, which events() then read while the
  // source reconnected after the first.
  [
    setup('Last-Event-ID, events() and text()'),
    1 << 20,
    false,
    [
      { t: 'push', n: 31 },
      { t: 'read', b: 0, k: 1 },
      { t: 'read', b: 1, k: 1 },
      { t: 'push', n: 33 },
      { t: 'read', b: 1, k: 2 },
      { t: 'cancel', b: 1, how: 'cancel' },
      { t: 'drop', answer: false },
    ],
  ],
  // Pinned, not found: a bytes() branch pulls the source ahead of events(), whose queue then holds an event it has
  // not read, and is cancelled; the answer drops. events() alone can follow Last-Event-ID: the drop is resumed
  // after its own last event, the queued bytes past it dropped for the restarted answer to repeat, not refused.
  [
    setup('Last-Event-ID, bytes() and events()'),
    1 << 20,
    false,
    [
      { t: 'push', n: 48 },
      { t: 'read', b: 0, k: 2 },
      { t: 'read', b: 1, k: 1 },
      { t: 'push', n: 48 },
      { t: 'read', b: 0, k: 2 },
      { t: 'cancel', b: 0, how: 'cancel' },
      { t: 'drop', answer: true },
    ],
  ],
  // Found: the inner events() and the outer branch deliver the first event of a chunk; the answer drops. bytes(),
  // read after, was handed its tee's chunk past the outer restart, and both inner branches were refused there.
  [
    setup('Last-Event-ID, events() beside a tee of bytes() and events()'),
    1,
    false,
    [
      { t: 'read', b: 2, k: 1 },
      { t: 'push', n: 32 },
      { t: 'read', b: 0, k: 2 },
      { t: 'drop', answer: false },
    ],
  ],
  // Found: the same with one byte, which the inner tee takes while the source meets the drop (restart after byte 0).
  [
    setup('Last-Event-ID, events() beside a tee of bytes() and events()'),
    1,
    false,
    [
      { t: 'read', b: 0, k: 1 },
      { t: 'push', n: 1 },
      { t: 'drop', answer: false },
      { t: 'read', b: 2, k: 1 },
    ],
  ],
  // Found with the hold above: the restart cut an inner branch's queued chunk without counting the bytes it dropped,
  // and with maxBuffer 1 the other inner branch waited forever for that queue to drain.
  [
    setup('cursor over SSE, events({ json: true }) beside a tee of events()'),
    1,
    false,
    [
      { t: 'read', b: 0, k: 1 },
      { t: 'push', n: 25 },
      { t: 'drop', answer: false },
      { t: 'read', b: 0, k: 1 },
      { t: 'read', b: 1, k: 1 },
      { t: 'push', n: 1 },
    ],
  ],
  // Found (seed 101, three levels), shrunk; pinned with the focused test (tee.resume.test.ts, a tee of a tee of a
  // tee branch). The innermost tee is behind when the first answer is cut after the first unit and the second
  // drops before its first byte; reading on, it met both restarts in one read: the first split it (its text()
  // branch, handed up to there, cannot restart), and the second was met where it stood before that split.
  [
    setup(
      'cursor over SSE, events() beside a tee of events({ json: true }) and a tee of events() and text()',
    ),
    1,
    true,
    [
      { t: 'push', n: 1 },
      { t: 'push', n: 2 },
      { t: 'cut' },
      { t: 'read', b: 2, k: 1 },
      { t: 'read', b: 1, k: 1 },
      { t: 'read', b: 0, k: 2 },
      { t: 'answer' },
      { t: 'drop', answer: false },
    ],
    true,
  ],
  // Found (seeds 103 and 106, lines() over SSE), shrunk; pinned with the focused tests (tee.resume.test.ts, a tee
  // of a tee branch whose lines() branch was cancelled). The lines() branch, cancelled having read nothing, spoke
  // for its tee, whose other branch was not read yet: that tee counted as reading lines, with no event id, beside
  // the outer events() branch, which was refused the restart from the start it makes alone.
  [
    setup('Last-Event-ID, a tee of a tee of lines() and events({ schema }) and text(), beside events()'),
    1,
    false,
    [
      { t: 'read', b: 0, k: 1 },
      { t: 'cancel', b: 0, how: 'cancel' },
      { t: 'push', n: 1 },
      { t: 'drop', answer: false },
      { t: 'read', b: 3, k: 1 },
    ],
    true,
    [false, true, false, false],
  ],
  [
    setup('Last-Event-ID, a tee of a tee of lines() and events({ schema }) and text(), beside events()'),
    1 << 20,
    true,
    [{ t: 'push', n: 1 }, { t: 'cancel', b: 0, how: 'cancel' }, { t: 'read', b: 3, k: 1 }, { t: 'cut' }],
    true,
    [false, true, false, false],
  ],
  // Found (seed 116, three levels), shrunk; pinned with the focused test of the same at two (tee.resume.test.ts,
  // the cursor strategy under tee()). The innermost tee's text() branch takes part of the first unit and is
  // cancelled, then its events() branch, which read nothing; the answer drops. That tee stood where its text()
  // branch had stopped, mid-unit and with no item: the cursor, with none to give, was refused.
  [
    setup(
      'cursor over SSE, events() beside a tee of events({ json: true }) and a tee of events() and text()',
    ),
    1,
    false,
    [
      { t: 'read', b: 3, k: 1 },
      { t: 'push', n: 1 },
      { t: 'cancel', b: 3, how: 'cancel' },
      { t: 'drop', answer: false },
      { t: 'cancel', b: 2, how: 'cancel' },
    ],
    true,
  ],
  // Found (seed 115, three levels), shrunk; pinned with the focused test (tee.resume.test.ts, the cursor strategy
  // under tee()). The innermost tee's ndjson(schema) branch delivers the first record and is cancelled, its other
  // branch and the one of the middle tee are not read yet; the answer drops. Speaking for its cancelled branch, the
  // middle tee counted as reading items of another kind than the outer ndjson() branch, and the cursor was refused.
  [
    setup('cursor, ndjson() beside a tee of ndjson(schema) and a tee of text() and ndjson(schema)'),
    1,
    false,
    [
      { t: 'read', b: 3, k: 1 },
      { t: 'push', n: 17 },
      { t: 'cancel', b: 3, how: 'cancel' },
      { t: 'drop', answer: false },
      { t: 'read', b: 0, k: 2 },
    ],
    false,
    [false, true, false, false],
  ],
  [
    setup('Last-Event-ID, events() beside a tee of events()'),
    96,
    false,
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
    false,
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
    false,
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
    false,
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
  // About 60 ms a schedule in Node on a loaded machine (several drops in most), more in Chromium; the schedules found
  // before run first.
  it(
    'any schedule of answers, pushes, drops, reads and cancels: each branch delivers every unit once, in order, or is refused only where the README says',
    async () => {
      await fc.assert(
        fc.asyncProperty(schedule, async ([setup, maxBuffer, declared, commands, long, late]) => {
          const { problems, trace } = await run(setup, maxBuffer, declared, commands, long, late)
          const lateOnes = late.flatMap((l, k) => (l ? [k] : []))
          expect(
            problems,
            `${setup.name}, maxBuffer ${maxBuffer}, declared ${declared}${long ? ', long units' : ''}${lateOnes.length > 0 ? `, late branches ${lateOnes.join(' ')}` : ''}:\n${trace.join('\n')}`,
          ).toEqual([])
        }),
        {
          numRuns: RUNS,
          // A schedule that hangs (a read that never settles) fails, with its counterexample, rather than stall.
          timeout: 20_000,
          examples: FOUND.map(
            ([setup, maxBuffer, declared, commands, long = false, late = setup.kinds.map(() => false)]) => [
              [setup, maxBuffer, declared, commands, long, late],
            ],
          ),
        },
      )
    },
    Math.max(120_000, RUNS * 50),
  )
})
