/**
 * What the model-based properties of resume (`test/resume.model.test.ts`) and of `tee()` under resume
 * (`test/tee.resume.model.test.ts`) share: the units a body is made of, how they go on the wire for each strategy,
 * the cursor that continues after one, and the server's commands as fast-check draws them.
 */
import fc from 'fast-check'
import type { Checkpoint, Progress } from '../../src/index.ts'
import { encode } from './chunking.ts'
import {
  type Exchange,
  type ModelServer,
  type OddAnswer,
  RESET,
  type ServerCommand,
} from './manual-server.ts'

/** `n` units' data: JSON with a two-byte character, so that pushes cut characters as well as units. */
export const unitData = (n: number): string[] =>
  Array.from({ length: n }, (_, i) => JSON.stringify({ i, s: `é${'x'.repeat(i % 3)}` }))

/**
 * The units after unit `after` (-1: all), on the wire: NDJSON lines, or SSE events — without ids under a cursor,
 * each with its own, or `sparse` as servers that give ids to some events only send them (sluice/lambda's
 * `streamSse` with plain strings between `{ id }` checkpoints): every third unit carries its id, the next has none,
 * and the one after that none either but is followed by an id-only block that names it. A `Last-Event-ID: eN`
 * asks for the units after unit N, those without an id included. (Not for text() or bytes() beside events(): they
 * cannot skip the events a replay repeats.)
 */
export function unitsOnWire(
  data: readonly string[],
  setup: { format: string; strategy: string; sparse?: boolean },
  after: number,
): string {
  const units = data.map((text, i) =>
    setup.format === 'ndjson'
      ? `${text}\n`
      : setup.strategy === 'cursor'
        ? `data: ${text}\n\n`
        : setup.sparse !== true || i % 3 === 0
          ? `id: e${i}\ndata: ${text}\n\n`
          : i % 3 === 1
            ? `data: ${text}\n\n`
            : `data: ${text}\n\nid: e${i}\n\n`,
  )
  return units.slice(after + 1).join('')
}

/** The id an SSE event of unit `n` carries on the wire of `unitsOnWire`: its own, or the last one before it. */
export const eventIdOf = (setup: { sparse?: boolean }, n: number): string =>
  `e${setup.sparse === true ? n - (n % 3) : n}`

/** The cursor: the `after` param from the last item, whatever shape the consumer gives it. */
export const cursorAfter = (last: unknown) => {
  const value = (last as { data?: unknown }).data ?? last
  const { i } = (typeof value === 'string' ? JSON.parse(value) : value) as { i: number }
  return { searchParams: { after: String(i) } }
}

/** The server's commands, weighted as both models draw them, to mix with the consumers' own. */
export const SERVER_COMMANDS: ReadonlyArray<fc.WeightedArbitrary<ServerCommand>> = [
  { weight: 2, arbitrary: fc.constant({ t: 'answer' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'busy' as const }) },
  {
    weight: 4,
    arbitrary: fc.record({ t: fc.constant('push' as const), n: fc.integer({ min: 1, max: 48 }) }),
  },
  { weight: 1, arbitrary: fc.constant({ t: 'close' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'cut' as const }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('drop' as const), answer: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ t: 'reset' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('odd' as const),
      how: fc.constantFrom('changed' as const, 'short' as const),
    }),
  },
]

/**
 * Answers `exchange` as the models' server does, for a body whose units after unit `after` (-1: all) `wire` gives:
 * under Range the bytes from the asked start (a 206 with the first answer's ETag, or a 416 asked from the end),
 * else the units after the `Last-Event-ID` or the cursor's `after`, with their `Content-Length` when `declared`.
 * What is left to send goes into `left`. `odd`: a Range asked from within the body is answered as a careless
 * server would: `changed`, as by a resource that has grown since, its ETag unchanged: a 206 whose `Content-Range`
 * gives another complete length; `short`, with the first half of the bytes asked for, the `Content-Length` says
 * so but the `Content-Range` gives them all. False, without answering, where that does not apply.
 */
export function answerAsModel(
  exchange: Exchange,
  setup: { format: string; strategy: string },
  wire: (after: number) => string,
  left: Map<Exchange, Uint8Array>,
  trace: string[],
  how: { declared?: boolean; odd?: OddAnswer } = {},
): boolean {
  const full = encode(wire(-1))
  let body: Uint8Array
  const headers: Record<string, string> = {
    'content-type':
      setup.format === 'sse'
        ? 'text/event-stream'
        : setup.format === 'json'
          ? 'application/json'
          : 'application/x-ndjson',
  }
  if (how.odd !== undefined) {
    const start = exchange.rangeStart
    if (setup.strategy !== 'range' || start === undefined || full.length - start < 2) return false
    const changed = how.odd === 'changed'
    body = full.subarray(start, changed ? full.length : start + Math.floor((full.length - start) / 2))
    Object.assign(headers, {
      etag: '"v1"',
      'accept-ranges': 'bytes',
      'content-length': String(body.length),
      'content-range': `bytes ${start}-${full.length - 1}/${full.length + (changed ? 7 : 0)}`,
    })
    trace.push(`answer Range ${start}- ${changed ? 'as another version' : `with ${body.length} bytes`}`)
  } else if (setup.strategy === 'range') {
    const start = exchange.rangeStart ?? 0
    if (start === full.length) {
      // Asked for nothing more: what a server says of a range past the end.
      trace.push(`answer Range ${start}- with 416`)
      exchange.refuse(416, { 'content-range': `bytes */${full.length}` })
      return true
    }
    body = full.subarray(start)
    Object.assign(headers, { etag: '"v1"', 'accept-ranges': 'bytes', 'content-length': String(body.length) })
    if (exchange.rangeStart !== undefined)
      headers['content-range'] = `bytes ${start}-${full.length - 1}/${full.length}`
    trace.push(`answer ${exchange.rangeStart === undefined ? 'whole' : `Range ${start}-`}`)
  } else {
    let after = -1
    if (setup.strategy === 'last-event-id' && exchange.lastEventId !== null)
      after = Number(exchange.lastEventId.slice(1))
    const param = new URL(exchange.request.url).searchParams.get('after')
    if (setup.strategy === 'cursor' && param !== null) after = Number(param)
    body = encode(wire(after))
    if (how.declared === true) headers['content-length'] = String(body.length)
    trace.push(`answer after ${after}`)
  }
  left.set(exchange, body)
  exchange.answer({ status: exchange.rangeStart === undefined ? 200 : 206, headers })
  return true
}

/**
 * Where a checkpoint taken after `n` delivered units says it stands (`got`) and must (`want`): their count, and the
 * place its strategy continues from — the end of the last unit in the body (`ends`), its event id, or its cursor.
 */
export function unitPlace(
  strategy: string,
  saved: Checkpoint,
  n: number,
  ends: readonly number[],
): { got: Record<string, unknown>; want: Record<string, unknown> } {
  const got: Record<string, unknown> = { items: saved.items }
  const want: Record<string, unknown> = { items: n }
  if (strategy === 'range') {
    got.offset = saved.offset
    want.offset = n === 0 ? 0 : ends[n - 1]
  } else if (strategy === 'last-event-id') {
    // The unit a replay after the id continues at, once the events passed since it are skipped: the next one.
    const id = saved.lastEventId
    got.next = id === undefined ? 0 : Number(id.slice(1)) + 1 + (saved.since ?? 0)
    want.next = n
  } else if (n > 0) {
    got.after = saved.cursor?.searchParams?.after
    want.after = String(n - 1)
  }
  return { got, want }
}

/**
 * What goes wrong in one response's progress reports (`who` names it): `loaded` and `attempt` never go back across
 * reconnects, and `loaded` never exceeds a `total` reported with it.
 */
export function progressProblems(reports: readonly Progress[], who: string): string[] {
  const problems: string[] = []
  for (const [k, p] of reports.entries()) {
    const before = reports[k - 1]
    if (before !== undefined && p.loaded < before.loaded)
      problems.push(`${who}'s progress went back from ${before.loaded} to ${p.loaded}`)
    if (before !== undefined && p.attempt < before.attempt)
      problems.push(`${who}'s attempt went back from ${before.attempt} to ${p.attempt}`)
    if (p.total !== undefined && p.loaded > p.total)
      problems.push(`${who}'s progress says ${p.loaded} loaded of ${p.total}`)
  }
  return problems
}

/**
 * How many schedules a model tries: `MODEL_RUNS` when set (thousands explore further, in Node), else `inNode` in
 * Node and `elsewhere` in a browser or an edge runtime, whose turns cost several times more.
 */
export function modelRuns(inNode: number, elsewhere: number): number {
  const env = globalThis.process?.env
  if (env?.MODEL_RUNS !== undefined) return Number(env.MODEL_RUNS)
  return globalThis.process?.versions?.node === undefined ? elsewhere : inNode
}

/**
 * The models' careless server moves (see `ModelServer`): a reset before the headers, and an `odd` answer (see
 * `answerAsModel`); `changed()` is told when a changed answer was given.
 */
export function carelessMoves(
  setup: { format: string; strategy: string },
  wire: (after: number) => string,
  left: Map<Exchange, Uint8Array>,
  trace: string[],
  changed: () => void,
): Required<Pick<ModelServer, 'reset' | 'odd'>> {
  return {
    reset: (exchange) => {
      exchange.reset(RESET)
      trace.push('reset before the headers')
      return true
    },
    odd: (exchange, how) => {
      const given = answerAsModel(exchange, setup, wire, left, trace, { odd: how })
      if (given && how === 'changed') changed()
      return given
    },
  }
}
