/**
 * Any sequence of user actions and stream events, same contract: a model-based test of `createStreamStore()`.
 * fast-check drives a store over a fake server whose every step is the test's (answer a request, refuse it,
 * deliver a chunk, drop the connection, end the body) interleaved with what a UI does (subscribe, unsubscribe,
 * start, retry, cancel, abort its own signal), in each of the modes `ndjson`, `text`, `json` and `events`, with
 * resume on and off. After every step the store is checked against a small model and against the invariants
 * README states: identity-stable, frozen, never-mutated snapshots; exactly the delivered items, in order, never
 * duplicated by a reconnect; legal status moves only; listeners never called inside `subscribe()` nor after they
 * left, and told of every change; every connection released once, and no request but those the model expects.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createStreamStore, type StreamSnapshot, type StreamStore, sluice } from '../src/index.ts'
import { type Exchange, type ManualServer, manualServer } from './support/manual-server.ts'

type Mode = 'ndjson' | 'text' | 'json' | 'events'
type Status = StreamSnapshot['status']

const RUNS = { numRuns: 100 } as const
/** Reconnects a resuming stream may make before it gives up. */
const ATTEMPTS = 2
const HOLD = 60_000
const ADDRESS = 'http://sluice.test/stream'
const WORDS = ['a', 'bc', 'é', '€uro', '😀', ' ', 'x\\y', 'q"t']

// ---------------------------------------------------------------------------------------------------------------
// The body each mode reads, and what a store shows of any prefix of it

interface Body {
  mode: Mode
  bytes: Uint8Array
  /** Where each unit (record, event, array element) ends: it is delivered once the prefix reaches that offset. */
  ends: number[]
  /** Each unit's value as the store shows it. */
  units: unknown[]
  /** The whole document (`json`). */
  doc: unknown
}

const encoder = new TextEncoder()

function bodyOf(mode: Mode, words: string[]): Body {
  const pieces: string[] = []
  const ends: number[] = []
  const units: unknown[] = []
  let length = 0
  const add = (piece: string, unit?: unknown): void => {
    pieces.push(piece)
    length += encoder.encode(piece).length
    if (unit !== undefined) {
      ends.push(length)
      units.push(unit)
    }
  }
  const records = words.map((s, n) => ({ n, s }))
  switch (mode) {
    case 'ndjson':
      for (const record of records) add(`${JSON.stringify(record)}\n`, record)
      break
    case 'events':
      for (const record of records) add(`id: ${record.n}\ndata: ${JSON.stringify(record)}\n\n`, record)
      break
    case 'json':
      add('[')
      records.forEach((record, i) => {
        if (i > 0) add(',')
        add(JSON.stringify(record), record)
      })
      add(']')
      break
    case 'text':
      for (const word of words) add(word)
  }
  return { mode, bytes: encoder.encode(pieces.join('')), ends, units, doc: records }
}

/** How many units a prefix of `high` bytes completes. */
const unitsIn = (body: Body, high: number): number => body.ends.filter((end) => end <= high).length

/** The text of a prefix: its whole characters, as a streaming decoder has them. */
const textOf = (body: Body, high: number): string =>
  new TextDecoder().decode(body.bytes.subarray(0, high), { stream: true })

/** Where a resumed SSE stream starts after the event with id `lastEventId` (or from the start without one). */
function eventStart(body: Body, lastEventId: string | null): number {
  if (lastEventId === null) return 0
  const n = Number(lastEventId)
  return body.ends[n] ?? Number.NaN
}

// ---------------------------------------------------------------------------------------------------------------
// The model, and the system under test with what the test observed of it

interface Config {
  /** A request function (which can retry), or a request already sent, handed over as a promise. */
  form: 'function' | 'promise'
  mode: Mode
  resume: boolean
  words: string[]
  /** `HOLD`: after the first batch, data waits (for a minute) — but never a state move nor the end. */
  throttleMs: 0 | 4 | typeof HOLD
  maxItems: number | undefined
}

interface Model {
  readonly form: Config['form']
  status: Status
  /** The current run's request: none, waiting for the server's answer, or reading its body. */
  conn: 'none' | 'waiting' | 'open'
  /** Whether the waiting request is a reconnect. */
  reconnecting: boolean
  /** Where the open body stands in the whole body (a resumed one starts past 0). */
  pos: number
  /** How far the bytes delivered in this run reach. */
  high: number
  /** How far the bytes shown reach: behind `high` while a `HOLD` throttle holds a batch back. */
  shown: number
  /** Whether this run published a batch (or a reconnect): the throttle holds the next batch back. */
  flushed: boolean
  /** The whole body's length. */
  readonly length: number
  reconnects: number
  requests: number
  ownAborted: boolean
  /** A handed-over request that was refused before the store started. */
  refusedEarly: boolean
  /** How many listeners are subscribed (ids 0, 1, …, some of them gone). */
  listeners: number[]
  nextListener: number
}

interface Spy {
  /** The snapshot in effect when it subscribed: it needs no call until the snapshot moves on. */
  atSubscribe: StreamSnapshot
  lastSeen: StreamSnapshot | undefined
  active: boolean
  unsubscribe: () => void
}

/**
 * What a listener does besides looking: nothing, unsubscribe itself at its first call, or unsubscribe one listener
 * subscribed after it, once there is one (a component that unmounts another, say): that one, still waiting for
 * its call in the same notification, must then not be called. A `bounce` one subscribes, unsubscribes and
 * subscribes again at once, as React's StrictMode does.
 */
type ListenerKind = 'plain' | 'once' | 'evicts' | 'cancels' | 'retries' | 'bounce'

/**
 * What a reacting listener did from inside its call: `cancels` cancels at the first `streaming` snapshot it sees,
 * `retries` retries at the first `error` (a UI's "stop after the first rows" and "try again once"). The model
 * follows them when they happen; `requests` is how many requests had been made by then.
 */
interface Reaction {
  kind: 'cancel' | 'retry'
  requests: number
}

interface Fingerprint {
  status: Status
  items: readonly unknown[]
  itemRefs: unknown[]
  text: string
  data: string
  progress: string
  error: Error | undefined
}

interface Real {
  config: Config
  body: Body
  store: StreamStore
  server: ManualServer
  own: AbortController
  spies: Map<number, Spy>
  subscribing: boolean
  violations: string[]
  /** Every distinct snapshot seen, in order, with what it said when first seen. */
  history: StreamSnapshot[]
  prints: Map<StreamSnapshot, Fingerprint>
  /** Exchanges of runs that are over: none may stay waiting or open. */
  retired: Set<Exchange>
  /** What reacting listeners did, for the model to follow. */
  reactions: Reaction[]
}

const print = (s: StreamSnapshot): Fingerprint => ({
  status: s.status,
  items: s.items,
  itemRefs: [...s.items],
  text: s.text,
  data: JSON.stringify(s.data) ?? 'undefined',
  progress: JSON.stringify(s.progress),
  error: s.error,
})

/** Records a snapshot the test saw, checking that a new one moved from the last by a legal step. */
function observe(real: Real, snapshot: StreamSnapshot): void {
  if (real.prints.has(snapshot)) return
  if (!Object.isFrozen(snapshot)) real.violations.push(`a ${snapshot.status} snapshot is not frozen`)
  const last = real.history.at(-1)
  real.history.push(snapshot)
  real.prints.set(snapshot, print(snapshot))
  if (last === undefined) return
  if (!legal(last.status, snapshot.status, snapshot))
    real.violations.push(`status moved from ${last.status} to ${snapshot.status}`)
  if (same(last, snapshot)) real.violations.push(`a new ${snapshot.status} snapshot changed nothing`)
  // Within one run, bytes delivered only grow.
  if (snapshot.status !== 'connecting' && snapshot.progress.loaded < last.progress.loaded)
    real.violations.push(
      `progress.loaded went back from ${last.progress.loaded} to ${snapshot.progress.loaded}`,
    )
}

const ENDED: ReadonlySet<Status> = new Set(['done', 'error', 'cancelled'])

/** idle → connecting → streaming → done | error | cancelled; idle and connecting may end; retry() → connecting. */
function legal(from: Status, to: Status, next: StreamSnapshot): boolean {
  // retry() may start over from anywhere, with a fresh snapshot.
  if (to === 'connecting') return from !== 'connecting' || next.items.length === 0
  if (ENDED.has(from)) return false
  if (to === 'streaming') return from === 'connecting' || from === 'streaming'
  if (to === 'idle') return false
  return true
}

/** Whether two snapshots say the same thing (a new object for them would be a render for nothing). */
function same(a: StreamSnapshot, b: StreamSnapshot): boolean {
  const p = (s: StreamSnapshot): string =>
    JSON.stringify([
      s.progress.loaded,
      s.progress.total,
      s.progress.items,
      s.progress.attempt,
      s.progress.state,
    ])
  return (
    a.status === b.status &&
    a.items === b.items &&
    a.text === b.text &&
    a.data === b.data &&
    a.final === b.final &&
    a.error === b.error &&
    a.response === b.response &&
    a.dropped === b.dropped &&
    a.isComplete === b.isComplete &&
    p(a) === p(b)
  )
}

/** What must hold at any time: listeners, release of connections, and that no snapshot was ever changed. */
function safety(real: Real): string[] {
  const out = [...real.violations]
  const { store, server } = real
  const now = store.getSnapshot()
  if (store.getSnapshot() !== now) out.push('getSnapshot() gave two objects with nothing in between')
  for (const [snapshot, was] of real.prints) {
    const is = print(snapshot)
    const moved =
      is.status !== was.status ||
      is.items !== was.items ||
      is.items.length !== was.itemRefs.length ||
      was.itemRefs.some((item, i) => is.items[i] !== item) ||
      is.text !== was.text ||
      is.data !== was.data ||
      is.progress !== was.progress ||
      is.error !== was.error
    if (moved) out.push(`a ${was.status} snapshot handed out earlier changed`)
  }
  for (const exchange of server.exchanges) {
    if (exchange.cancels() > 1) out.push(`a body was cancelled ${exchange.cancels()} times`)
  }
  for (const exchange of real.retired) {
    const state = exchange.state()
    if (state === 'waiting' || state === 'open') out.push(`a request of an ended run is still ${state}`)
  }
  return out
}

/** What must hold once the store has caught up with the step: the model's view. */
function agreement(model: Model, real: Real): string[] {
  const out: string[] = []
  const { store, server, body, config } = real
  const s = store.getSnapshot()
  observe(real, s)
  if (s.status !== model.status) out.push(`status is ${s.status}, the model says ${model.status}`)
  if ((s.error !== undefined) !== (s.status === 'error'))
    out.push(`error is ${s.error} with status ${s.status}`)
  if (s.error !== undefined && !(s.error instanceof Error)) out.push('error is not an Error')
  if (server.exchanges.length !== model.requests)
    out.push(`${server.exchanges.length} requests were made, the model says ${model.requests}`)
  const last = server.exchanges.at(-1)
  if (model.conn !== 'none' && last?.state() !== model.conn)
    out.push(`the last request is ${last?.state()}, the model says ${model.conn}`)
  const live = server.live()
  if (live.length > (model.conn === 'none' ? 0 : 1)) out.push(`${live.length} requests are live`)
  // What the snapshot shows: all that was delivered, but for a batch the throttle holds back while streaming.
  const high = config.throttleMs === HOLD && !ENDED.has(model.status) ? model.shown : model.high
  const count = unitsIn(body, high)
  switch (config.mode) {
    case 'ndjson':
    case 'events': {
      const all = body.units.slice(0, count)
      const kept = config.maxItems === undefined ? all : all.slice(Math.max(0, all.length - config.maxItems))
      const shown = config.mode === 'events' ? s.items.map((e) => (e as { data: unknown }).data) : s.items
      if (JSON.stringify(shown) !== JSON.stringify(kept))
        out.push(`items are ${JSON.stringify(shown)}, the model says ${JSON.stringify(kept)}`)
      if (s.dropped !== all.length - kept.length) out.push(`dropped is ${s.dropped}`)
      if (config.mode === 'events') {
        const ids = s.items.map((e) => (e as { id?: string }).id)
        const want = kept.map((unit) => String((unit as { n: number }).n))
        if (JSON.stringify(ids) !== JSON.stringify(want)) out.push(`event ids are ${JSON.stringify(ids)}`)
      }
      break
    }
    case 'text': {
      const want = textOf(body, high)
      if (s.text !== want)
        out.push(`text is ${JSON.stringify(s.text)}, the model says ${JSON.stringify(want)}`)
      break
    }
    case 'json': {
      const data = s.data as unknown[] | undefined
      if (high > 0 && !Array.isArray(data)) out.push(`data is ${JSON.stringify(data)} after ${high} bytes`)
      if (Array.isArray(data)) {
        const complete = data.filter((_, i) => s.isComplete([i]))
        if (JSON.stringify(complete) !== JSON.stringify(body.units.slice(0, count)))
          out.push(`complete elements are ${JSON.stringify(complete)}, the model says ${count} of them`)
        if (data.length > count + 1) out.push(`data has ${data.length} elements for ${count} complete`)
      }
      if (
        model.status === 'done' &&
        high === body.bytes.length &&
        JSON.stringify(s.final) !== JSON.stringify(body.doc)
      )
        out.push(`final is ${JSON.stringify(s.final)}`)
    }
  }
  // Progress.
  const { progress } = s
  if (s.status === 'streaming') {
    const state = model.conn === 'waiting' ? 'reconnecting' : 'streaming'
    if (progress.state !== state) out.push(`progress.state is ${progress.state}, the model says ${state}`)
  } else if (s.status !== 'idle' && progress.state !== s.status)
    out.push(`progress.state is ${progress.state} with status ${s.status}`)
  if (s.status !== 'idle' && progress.attempt !== 1 + model.reconnects)
    out.push(`progress.attempt is ${progress.attempt}, the model says ${1 + model.reconnects}`)
  if (progress.loaded > high) out.push(`progress.loaded is ${progress.loaded} of ${high} bytes delivered`)
  if (s.status === 'done' && progress.loaded !== high)
    out.push(`progress.loaded is ${progress.loaded} at the end of ${high} bytes`)
  // Listeners: told of the latest snapshot, unless it has not moved since they subscribed.
  for (const [id, spy] of real.spies) {
    if (spy.active && s !== spy.atSubscribe && spy.lastSeen !== s)
      out.push(`listener ${id} was not told of the ${s.status} snapshot`)
  }
  return out
}

const macrotask = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0))
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Lets the store catch up with a step: until it agrees with the model, then until it is quiet. Only a `json`
 * store may still publish then (a partial element the model does not predict); the others must not.
 */
async function settle(model: Model, real: Real): Promise<void> {
  let disagreement: string[] = []
  for (let round = 0; round < 400; round++) {
    observe(real, real.store.getSnapshot())
    follow(model, real)
    disagreement = agreement(model, real)
    if (disagreement.length === 0) break
    await macrotask()
  }
  if (disagreement.length === 0) {
    for (let round = 0; round < 20; round++) {
      const now = real.store.getSnapshot()
      await macrotask()
      await sleep(Math.min(real.config.throttleMs, 4) + 1)
      if (real.store.getSnapshot() === now) break
      if (real.config.mode !== 'json') {
        disagreement.push('a new snapshot came after the store had caught up with the step')
        break
      }
    }
    follow(model, real)
    disagreement.push(...agreement(model, real))
  }
  const problems = [...disagreement, ...safety(real)]
  expect(problems, `after the steps so far, in ${where(real)}`).toEqual([])
}

const where = ({ config, body }: Real): string =>
  `a store of the ${config.form} form in ${config.mode} mode, resume ${config.resume ? 'on' : 'off'}, throttleMs ${config.throttleMs}, ${body.bytes.length} bytes`

// ---------------------------------------------------------------------------------------------------------------
// The steps

type Step = fc.AsyncCommand<Model, Real>

/**
 * What starting a run does: a request, unless the caller's signal is already aborted. A handed-over request was
 * sent already: the store reads on from where the server has it (only answered or refused, before a start).
 */
function startRun(model: Model): void {
  if (model.form === 'promise') {
    model.status = model.refusedEarly
      ? 'error'
      : model.ownAborted
        ? 'cancelled'
        : model.conn === 'open'
          ? 'streaming'
          : 'connecting'
    return
  }
  model.status = model.ownAborted ? 'cancelled' : 'connecting'
  model.conn = model.ownAborted ? 'none' : 'waiting'
  if (!model.ownAborted) model.requests++
  model.reconnecting = false
  model.pos = 0
  model.high = 0
  model.shown = 0
  model.flushed = false
  model.reconnects = 0
}

/** Marks the requests made so far (or the first `count`) as belonging to runs that are over. */
function retire(real: Real, count = real.server.exchanges.length): void {
  for (const exchange of real.server.exchanges.slice(0, count)) real.retired.add(exchange)
}

/**
 * What `cancel()` does to a live store: `cancelled`, and every connection released — except the request of a
 * store made from a promise, which the store cannot abort: it is released once the server answers it.
 */
function cancelled(model: Model, real: Real, count?: number): void {
  if (ENDED.has(model.status)) return
  model.status = 'cancelled'
  if (model.form === 'promise' && model.conn === 'waiting' && !model.reconnecting) return
  retire(real, count)
  model.conn = 'none'
}

/** Makes the model follow what reacting listeners did since the last step. */
function follow(model: Model, real: Real): void {
  for (const { kind, requests } of real.reactions.splice(0)) {
    // A reconnect the step expected may not have been asked for by then, and will not be now.
    model.requests = requests
    if (kind === 'retry') {
      retire(real, requests)
      startRun(model)
    } else cancelled(model, real, requests)
  }
}

class Subscribe implements Step {
  constructor(readonly kind: ListenerKind) {}
  check = (m: Readonly<Model>): boolean => m.listeners.length < 4
  async run(m: Model, r: Real): Promise<void> {
    const id = m.nextListener++
    const before = r.store.getSnapshot()
    const wasIdle = before.status === 'idle'
    const spy: Spy = {
      atSubscribe: before,
      lastSeen: undefined,
      active: true,
      unsubscribe: () => {},
    }
    let done = false
    const victim = (): Spy | undefined => {
      if (this.kind === 'once') return spy
      if (this.kind !== 'evicts') return undefined
      return [...r.spies].find(([other, s]) => other > id && s.active)?.[1]
    }
    const listener = (): void => {
      if (r.subscribing) r.violations.push(`listener ${id} was called inside subscribe()`)
      if (!spy.active) r.violations.push(`listener ${id} was called after it unsubscribed`)
      const snapshot = r.store.getSnapshot()
      spy.lastSeen = snapshot
      observe(r, snapshot)
      const target = done ? undefined : victim()
      if (target?.active) {
        done = true
        target.active = false
        target.unsubscribe()
      }
      const reaction =
        this.kind === 'cancels' && snapshot.status === 'streaming'
          ? 'cancel'
          : this.kind === 'retries' && snapshot.status === 'error' && m.form === 'function'
            ? 'retry'
            : undefined
      if (reaction !== undefined && !done) {
        done = true
        r.reactions.push({ kind: reaction, requests: r.server.exchanges.length })
        if (reaction === 'cancel') r.store.cancel()
        else r.store.retry()
      }
    }
    const subscribe = (): void => {
      r.subscribing = true
      try {
        spy.unsubscribe = r.store.subscribe(listener)
      } finally {
        r.subscribing = false
      }
    }
    subscribe()
    if (this.kind === 'bounce') {
      spy.active = false
      spy.unsubscribe()
      spy.active = true
      subscribe()
    }
    r.spies.set(id, spy)
    if (wasIdle) {
      startRun(m)
      // The first subscriber starts the stream: getSnapshot() says so at once.
      expect(r.store.getSnapshot().status).toBe('connecting')
    }
    m.listeners.push(id)
    await settle(m, r)
  }
  toString = (): string => `subscribe(${this.kind})`
}

class Unsubscribe implements Step {
  constructor(readonly which: number) {}
  check = (m: Readonly<Model>): boolean => m.listeners.length > 0
  async run(m: Model, r: Real): Promise<void> {
    const [id] = m.listeners.splice(this.which % m.listeners.length, 1)
    const spy = r.spies.get(id!)!
    spy.active = false
    // Perhaps a second time (another listener unsubscribed it already): a no-op.
    spy.unsubscribe()
    await settle(m, r)
  }
  toString = (): string => `unsubscribe(${this.which})`
}

class Start implements Step {
  check = (): boolean => true
  async run(m: Model, r: Real): Promise<void> {
    r.store.start()
    if (m.status === 'idle') startRun(m)
    await settle(m, r)
  }
  toString = (): string => 'start'
}

class Retry implements Step {
  check = (): boolean => true
  async run(m: Model, r: Real): Promise<void> {
    if (m.form === 'promise') {
      // A body can be read once: nothing changes.
      expect(() => r.store.retry()).toThrow(/cannot retry.*request function/)
      await settle(m, r)
      return
    }
    retire(r)
    r.store.retry()
    // A fresh snapshot at once.
    const fresh = r.store.getSnapshot()
    expect([fresh.status, fresh.items.length, fresh.text, fresh.progress.loaded]).toEqual([
      'connecting',
      0,
      '',
      0,
    ])
    observe(r, fresh)
    startRun(m)
    await settle(m, r)
  }
  toString = (): string => 'retry'
}

class Cancel implements Step {
  check = (): boolean => true
  async run(m: Model, r: Real): Promise<void> {
    const live = !ENDED.has(m.status)
    r.store.cancel()
    cancelled(m, r)
    if (live) expect(r.store.getSnapshot().status).toBe('cancelled')
    await settle(m, r)
  }
  toString = (): string => 'cancel'
}

class AbortOwn implements Step {
  check = (m: Readonly<Model>): boolean => !m.ownAborted
  async run(m: Model, r: Real): Promise<void> {
    r.own.abort()
    m.ownAborted = true
    if (m.status === 'connecting' || m.status === 'streaming') m.status = 'cancelled'
    // It aborts whatever request is under way, also one handed over before the store started.
    retire(r)
    m.conn = 'none'
    await settle(m, r)
  }
  toString = (): string => 'abort own signal'
}

class Answer implements Step {
  check = (m: Readonly<Model>): boolean => m.conn === 'waiting'
  async run(m: Model, r: Real): Promise<void> {
    const exchange = r.server.exchanges.at(-1)!
    const { body, config } = r
    const length = body.bytes.length
    let start = 0
    let init: ResponseInit
    if (config.mode === 'events') {
      start = eventStart(body, exchange.lastEventId)
      init = { headers: { 'content-type': 'text/event-stream' } }
    } else {
      const headers = { 'accept-ranges': 'bytes', etag: '"v1"', 'content-type': 'application/octet-stream' }
      start = exchange.rangeStart ?? 0
      init =
        exchange.rangeStart === undefined
          ? { headers: { ...headers, 'content-length': String(length) } }
          : {
              status: 206,
              headers: {
                ...headers,
                'content-length': String(length - start),
                'content-range': `bytes ${start}-${length - 1}/${length}`,
              },
            }
    }
    if (m.reconnecting) {
      // A reconnect asks for the rest: after the last whole event, or from the last byte delivered.
      const want = config.mode === 'events' ? eventStart(body, lastEventIdOf(body, m.high)) : m.pos
      expect(start, `where reconnect ${m.reconnects} continues`).toBe(want)
      // Back to streaming: a move, published at once.
      moved(m)
    } else expect([exchange.rangeStart, exchange.lastEventId]).toEqual([undefined, null])
    m.reconnecting = false
    if (m.status === 'idle' || ENDED.has(m.status)) {
      // A request handed over: answered before the store started, or after it was cancelled (then released).
      exchange.answer(init)
      if (m.status === 'idle') m.conn = 'open'
      else {
        retire(r)
        m.conn = 'none'
      }
    } else {
      exchange.answer(init)
      m.conn = 'open'
      m.status = 'streaming'
      m.pos = start
    }
    await settle(m, r)
  }
  toString = (): string => 'answer'
}

function lastEventIdOf(body: Body, high: number): string | null {
  const count = unitsIn(body, high)
  return count === 0 ? null : String(count - 1)
}

class Refuse implements Step {
  constructor(readonly status: 404 | 503) {}
  check = (m: Readonly<Model>): boolean => m.conn === 'waiting'
  async run(m: Model, r: Real): Promise<void> {
    r.server.exchanges.at(-1)!.refuse(this.status)
    retire(r)
    if (m.status === 'idle' || ENDED.has(m.status)) {
      // A request handed over, refused before the store started (which then ends in error) or after it ended.
      m.refusedEarly = m.status === 'idle'
      m.conn = 'none'
    } else if (m.reconnecting && this.status === 503) reconnectOrFail(m)
    else {
      m.status = 'error'
      m.conn = 'none'
    }
    await settle(m, r)
  }
  toString = (): string => `refuse(${this.status})`
}

/** Whether delivering `from`‥`to` gives the store something new to show: a unit, or text. */
function newData(body: Body, from: number, to: number): boolean {
  return body.mode === 'text'
    ? textOf(body, to) !== textOf(body, from)
    : unitsIn(body, to) > unitsIn(body, from)
}

/** A move of `progress.state` or `.attempt` is published at once, whatever the throttle: with the data held. */
function moved(m: Model): void {
  m.shown = m.high
  m.flushed = true
}

/** A drop (or a busy answer to a reconnect) with resume on: another attempt, or an error once they ran out. */
function reconnectOrFail(m: Model): void {
  moved(m)
  if (m.reconnects < ATTEMPTS) {
    m.reconnects++
    m.requests++
    m.conn = 'waiting'
    m.reconnecting = true
  } else {
    m.status = 'error'
    m.conn = 'none'
  }
}

class Deliver implements Step {
  constructor(readonly size: number) {}
  check = (m: Readonly<Model>): boolean => m.conn === 'open' && m.status !== 'idle'
  async run(m: Model, r: Real): Promise<void> {
    const end = Math.min(r.body.bytes.length, m.pos + this.size)
    if (end > m.pos) r.server.exchanges.at(-1)!.push(r.body.bytes.slice(m.pos, end))
    const before = m.high
    m.pos = end
    m.high = Math.max(m.high, end)
    if (r.config.throttleMs !== HOLD || !m.flushed) {
      m.flushed ||= newData(r.body, before, m.high)
      m.shown = m.high
    }
    await settle(m, r)
  }
  toString = (): string => `deliver(${this.size})`
}

class End implements Step {
  check = (m: Readonly<Model>): boolean => m.conn === 'open' && m.status !== 'idle'
  async run(m: Model, r: Real): Promise<void> {
    const exchange = r.server.exchanges.at(-1)!
    if (m.pos < r.body.bytes.length) exchange.push(r.body.bytes.slice(m.pos))
    exchange.close()
    retire(r)
    m.pos = m.high = r.body.bytes.length
    m.status = 'done'
    m.conn = 'none'
    await settle(m, r)
  }
  toString = (): string => 'end'
}

/**
 * The connection fails (`reset`), or the server closes the body where it stands (`close`): a body that ends
 * short of its declared length is a drop too, and so is an SSE stream, which declares none, that ends inside an
 * event; between two events it is simply done. A drop after every declared byte arrived loses nothing: done,
 * without a reconnect.
 */
class Drop implements Step {
  constructor(readonly how: 'reset' | 'close') {}
  check = (m: Readonly<Model>): boolean =>
    m.conn === 'open' && m.status !== 'idle' && (this.how === 'reset' || m.pos < m.length)
  async run(m: Model, r: Real): Promise<void> {
    const exchange = r.server.exchanges.at(-1)!
    if (this.how === 'reset') exchange.fail(new TypeError('connection reset'))
    else exchange.close()
    retire(r)
    const proven = r.config.mode !== 'events' && m.pos === m.length
    // An SSE stream declares no length: a close between its events is its end, one inside an event a cut.
    const between = r.config.mode === 'events' && (m.pos === 0 || r.body.ends.includes(m.pos))
    if ((this.how === 'close' && between) || proven) {
      m.status = 'done'
      m.conn = 'none'
    } else if (r.config.resume) reconnectOrFail(m)
    else {
      m.status = 'error'
      m.conn = 'none'
    }
    await settle(m, r)
  }
  toString = (): string => (this.how === 'reset' ? 'drop' : 'close early')
}

const deliver = fc.integer({ min: 1, max: 24 }).map((size) => new Deliver(size))
/** Stream events weigh more than user actions: most runs should get far into a stream before they end it. */
const steps = fc.commands(
  [
    fc.oneof(
      {
        arbitrary: fc
          .constantFrom<ListenerKind>('plain', 'once', 'evicts', 'cancels', 'retries', 'bounce')
          .map((k) => new Subscribe(k)),
        weight: 3,
      },
      { arbitrary: fc.nat(3).map((which) => new Unsubscribe(which)), weight: 2 },
      { arbitrary: fc.constant(new Start()), weight: 1 },
      { arbitrary: fc.constant(new Retry()), weight: 1 },
      { arbitrary: fc.constant(new Cancel()), weight: 1 },
      { arbitrary: fc.constant(new AbortOwn()), weight: 1 },
      { arbitrary: fc.constant(new Answer()), weight: 6 },
      { arbitrary: fc.constantFrom(404 as const, 503 as const).map((s) => new Refuse(s)), weight: 1 },
      { arbitrary: deliver, weight: 12 },
      { arbitrary: fc.constant(new End()), weight: 1 },
      { arbitrary: fc.constant(new Drop('reset')), weight: 3 },
      { arbitrary: fc.constant(new Drop('close')), weight: 1 },
    ),
  ],
  { maxCommands: 40, size: '+1' },
)

const configs = fc
  .record({
    form: fc.constantFrom<Config['form']>('function', 'function', 'promise'),
    mode: fc.constantFrom<Mode>('ndjson', 'text', 'json', 'events'),
    resume: fc.boolean(),
    words: fc.array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 6 }),
    throttleMs: fc.constantFrom<Config['throttleMs']>(0, 4, HOLD),
    maxItems: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
  })
  // A json store's consumer throttles too, so what it holds back is not the store's alone: not modelled.
  .map(
    (config): Config =>
      config.mode === 'json' && config.throttleMs === HOLD ? { ...config, throttleMs: 4 } : config,
  )

function setup(config: Config): { model: Model; real: Real } {
  const server = manualServer()
  const own = new AbortController()
  const body = bodyOf(config.mode, config.words)
  const resume = config.resume ? { attempts: ATTEMPTS, backoff: { initial: 0, max: 0, jitter: 0 } } : false
  const request =
    config.form === 'promise'
      ? sluice(ADDRESS, { fetch: server.fetch, retry: 0, signal: own.signal, resume })
      : (signal: AbortSignal) =>
          sluice(ADDRESS, {
            fetch: server.fetch,
            retry: 0,
            signal: AbortSignal.any([own.signal, signal]),
            resume,
          })
  const common = { throttleMs: config.throttleMs }
  const items = config.maxItems === undefined ? common : { ...common, maxItems: config.maxItems }
  const store: StreamStore =
    config.mode === 'events'
      ? createStreamStore(request, { as: 'events', json: true, ...items })
      : config.mode === 'ndjson'
        ? createStreamStore(request, { as: 'ndjson', ...items })
        : config.mode === 'text'
          ? createStreamStore(request, { as: 'text', ...common })
          : createStreamStore(request, { as: 'json', ...common })
  const model: Model = {
    form: config.form,
    status: 'idle',
    conn: config.form === 'promise' ? 'waiting' : 'none',
    reconnecting: false,
    pos: 0,
    high: 0,
    shown: 0,
    flushed: false,
    length: body.bytes.length,
    reconnects: 0,
    requests: config.form === 'promise' ? 1 : 0,
    ownAborted: false,
    refusedEarly: false,
    listeners: [],
    nextListener: 0,
  }
  const real: Real = {
    config,
    body,
    store,
    server,
    own,
    spies: new Map(),
    subscribing: false,
    violations: [],
    history: [],
    prints: new Map(),
    retired: new Set(),
    reactions: [],
  }
  observe(real, store.getSnapshot())
  return { model, real }
}

describe('createStreamStore under any sequence of actions and stream events', () => {
  it('agrees with the model and keeps its invariants after every step', async () => {
    await fc.assert(
      fc.asyncProperty(configs, steps, async (config, commands) => {
        const { model, real } = setup(config)
        await fc.asyncModelRun(() => ({ model, real }), commands)
        // Whatever the steps left running, a cancel() releases it (a request handed over, once answered).
        await new Cancel().run(model, real)
        if (model.conn === 'waiting') await new Answer().run(model, real)
        expect(real.server.live()).toEqual([])
      }),
      RUNS,
    )
  }, 120_000)
})
