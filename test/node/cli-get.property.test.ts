/**
 * `sluice get` against a server that drops, resets, ends early, stalls and answers 503 at any byte, a resource
 * that changes between runs, and a user who stops it (Ctrl-C, twice too, SIGTERM or kill -9) before the
 * headers, in the body or between reconnects, and runs it again with `--resume`, any number of times: the file
 * it ends with is exactly the undisturbed output of the mode, the checkpoint beside it always accounts for
 * exactly what is in the file, and the exit codes and messages are the README's.
 *
 * The server serves a deterministic resource per scenario: bytes with a declared length, a strong ETag and
 * Accept-Ranges; NDJSON (or bytes) with the end marker and no length, resumable by Range; or server-sent events
 * with ids and the end marker, resumable by Last-Event-ID. Each planned run lists the faults of its requests in
 * order and, perhaps, a kill: the first sound answer of that run is paced up to a chosen byte and held there
 * until the process is killed (or released as the signal is sent, so that it lands between writes). After the
 * planned runs, runs against a sound server must finish the download.
 *
 * A failure says the seed and the path of the failing scenario, and the command that runs it again:
 * `SLUICE_GET_SEED=<seed> SLUICE_GET_PATH=<path> npx vitest run --project node test/node/cli-get.property.test.ts`
 * (`SLUICE_GET_RUNS=<n>` runs more scenarios than the 30 of CI, to look for rare failures).
 */
import { readdirSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { basename, dirname, join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { SavedCheckpoint, SavedDownload } from '../../src/cli/checkpoint-file.ts'
import { count } from '../../src/cli/count.ts'
import { formatBytes } from '../../src/cli/progress-reporter.ts'
import { endMarkerLine, formatSseEvent, type SseEvent as ServerEvent } from '../../src/lambda/index.ts'
import { concatBytes, encode, referenceLines, referenceNdjson } from '../support/chunking.ts'
import { cliServer, sizeOf } from '../support/cli-process.ts'
import type { ProcessRun, StartedProcess } from '../support/run-process.ts'

/** Each scenario starts one to eight processes: 30 take about 30 s on two shared cores. */
const NUM_RUNS = Number(process.env.SLUICE_GET_RUNS ?? 30)
/** To run a failure again: the seed and path that its message gives. */
const SEED = process.env.SLUICE_GET_SEED === undefined ? undefined : Number(process.env.SLUICE_GET_SEED)
const PATH = process.env.SLUICE_GET_PATH
/** A `sluice get` that has not exited after this long hangs: it is killed, and the scenario fails saying so. */
const PROCESS_MS = 20_000
/** No scenario may take longer (a hang outside the processes, in the test itself): it fails with its seed. */
const SCENARIO_MS = 60_000
/**
 * No new scenario starts after this long (a machine much slower than usual): the test passes with the scenarios
 * that ran, rather than time out without a seed, and says how many ran.
 */
const BUDGET_MS = 90_000 + Math.max(0, NUM_RUNS - 30) * 2_000
const TIMEOUT = BUDGET_MS + SCENARIO_MS + 20_000
/**
 * A paced answer sends its part before the pause in this many writes, this far apart: longer than the CLI's
 * 250 ms between checkpoint saves, so that a kill -9 finds one.
 */
const PACED_WRITES = 10
const PACE_MS = 40

// ---------------------------------------------------------------------------------------------------------
// What a scenario is made of.

type Mode = 'bytes' | 'text' | 'lines' | 'ndjson' | 'sse'
/** How the server frames the body: a declared length, the end marker without a length, or SSE with ids. */
type Framing = 'length' | 'marker' | 'sse'
type Content = 'records' | 'binary' | 'events'
type FaultKind = 'drop' | 'reset' | 'end' | 'stall' | 'busy'

/** What becomes of one request: cut after `at`‰ of its answer's body, or (`busy`) answered 503 + Retry-After. */
interface Fault {
  kind: FaultKind
  at: number
}

/** Ctrl-C, Ctrl-C twice (the second exits at once), SIGTERM, or kill -9. */
type Signal = 'SIGINT' | 'SIGINT twice' | 'SIGTERM' | 'SIGKILL'

/**
 * A kill: while the first sound answer of the run is held before its headers (`headers`), once `at`‰ of its body
 * has been sent (`body`), or just after the run's first fault, while the CLI waits to reconnect (`reconnect`).
 */
interface Kill {
  signal: Signal
  when: 'headers' | 'body' | 'reconnect'
  at: number
  /** The answer goes on as the signal is sent, so that it lands between writes. */
  flowing: boolean
}

interface RunPlan {
  faults: Fault[]
  kill: Kill | null
  quiet: boolean
  /** Without --resume (the first run of a scenario may have it, as a retry loop passes it every time). */
  fresh: boolean
  /** First, the same command with another --as: refused as a usage error, which changes nothing. */
  misuse: boolean
}

interface Shape {
  mode: Mode
  framing: Framing
  content: Content
}

interface Scenario extends Shape {
  seed: number
  /** About how many bytes the body has. */
  size: number
  runs: RunPlan[]
  /** The resource changes (another body, another ETag) before this run, counted from 1. */
  change: number | null
}

const SHAPES: Shape[] = [
  { mode: 'bytes', framing: 'length', content: 'binary' },
  { mode: 'bytes', framing: 'marker', content: 'records' },
  { mode: 'text', framing: 'length', content: 'records' },
  { mode: 'text', framing: 'marker', content: 'records' },
  { mode: 'lines', framing: 'length', content: 'records' },
  { mode: 'lines', framing: 'marker', content: 'records' },
  { mode: 'ndjson', framing: 'marker', content: 'records' },
  { mode: 'ndjson', framing: 'length', content: 'records' },
  { mode: 'sse', framing: 'sse', content: 'events' },
  // Text and lines over bytes that are not UTF-8: a replaced sequence is 3 bytes of text for 1 to 3 of the body,
  // and a checkpoint must still land right after what was written.
  { mode: 'text', framing: 'length', content: 'binary' },
  { mode: 'text', framing: 'marker', content: 'binary' },
  { mode: 'lines', framing: 'length', content: 'binary' },
  { mode: 'lines', framing: 'marker', content: 'binary' },
]

const permille = fc.nat({ max: 999 })
const fault: fc.Arbitrary<Fault> = fc.record({
  kind: fc.constantFrom<FaultKind>('drop', 'reset', 'end', 'end', 'busy', 'busy', 'stall'),
  at: permille,
})
const cut: fc.Arbitrary<Fault> = fc.record({
  kind: fc.constantFrom<FaultKind>('drop', 'reset', 'end'),
  at: permille,
})
/**
 * Enough to exhaust the 5 reconnects of a run, ky's 2 retries of a first request or the 5 of a request from a
 * checkpoint: the run gives up, in the body or before it.
 */
const giveUp: fc.Arbitrary<Fault[]> = fc
  .option(cut, { nil: undefined })
  .map((first) => [
    ...(first === undefined ? [] : [first]),
    ...Array.from({ length: 6 }, () => ({ kind: 'busy' as const, at: 0 })),
  ])
const kill: fc.Arbitrary<Kill> = fc.record({
  signal: fc.constantFrom<Signal>('SIGINT', 'SIGINT', 'SIGKILL', 'SIGKILL', 'SIGINT twice', 'SIGTERM'),
  when: fc.constantFrom<Kill['when']>('body', 'body', 'body', 'headers', 'reconnect'),
  at: permille,
  flowing: fc.boolean(),
})
const runPlan: fc.Arbitrary<RunPlan> = fc
  .record({
    faults: fc.oneof(
      { weight: 6, arbitrary: fc.array(fault, { maxLength: 2 }) },
      { weight: 1, arbitrary: giveUp },
    ),
    kill: fc.option(kill, { freq: 3, nil: null }),
    quiet: fc.boolean(),
    fresh: fc.nat({ max: 6 }).map((n) => n === 0),
    misuse: fc.nat({ max: 9 }).map((n) => n === 0),
  })
  // A stall is ended by --idle-timeout, which would also end the pause that waits for a kill.
  .map((run) =>
    run.kill === null
      ? run
      : { ...run, faults: run.faults.map((f) => (f.kind === 'stall' ? { ...f, kind: 'drop' as const } : f)) },
  )

const scenario: fc.Arbitrary<Scenario> = fc
  .record({
    shape: fc.constantFrom(...SHAPES),
    seed: fc.nat(),
    size: fc.integer({ min: 1, max: 40 }).map((k) => k * 1024),
    runs: fc.array(runPlan, { minLength: 1, maxLength: 3 }),
    change: fc.option(fc.integer({ min: 2, max: 3 }), { freq: 4, nil: null }),
  })
  .map(({ shape, runs, change, ...rest }) => ({
    ...shape,
    ...rest,
    // Event streams have no validator to change; the run after a change has no faults, so that what it meets
    // first is the changed resource.
    change: shape.framing === 'sse' || change === null || change > runs.length ? null : change,
    runs: runs.map((run, i) => (change === i + 1 && shape.framing !== 'sse' ? { ...run, faults: [] } : run)),
  }))

// ---------------------------------------------------------------------------------------------------------
// Deterministic bodies and what each mode must write for them.

interface SseEvent {
  id: string
  event: string | undefined
  data: string
}

/** One version of the resource: what the server sends, and what `sluice get` must end up writing. */
interface Resource {
  framing: Framing
  etag: string
  /** The body, without the end marker (records or bytes). */
  content: Uint8Array
  events: SseEvent[]
  expected: Uint8Array
}

function random(seed: number): () => number {
  let x = seed >>> 0 || 1
  return () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0
    return x >>> 8
  }
}

const CHARS = ['a', 'b', ' ', 'é', 'ß', '€', '中', '𝄞', '😀', '"', '\\', '\t', '\r', '\u2028']

/** NDJSON records with multi-byte characters, LF or CRLF, the odd blank line and whitespace inside a record. */
function records(seed: number, size: number): Uint8Array {
  const next = random(seed)
  // The odd body starts with a BOM, which text, lines and ndjson drop.
  let text = seed % 5 === 0 ? '\uFEFF' : ''
  for (let i = 0; text.length < size; i++) {
    let s = ''
    for (let n = next() % 24; n > 0; n--) s += CHARS[next() % CHARS.length]
    const record = { i, s, pad: 'x'.repeat(next() % 160) }
    const line =
      next() % 4 === 0 ? JSON.stringify(record, null, 1).replaceAll('\n', ' ') : JSON.stringify(record)
    text += `${line}${next() % 3 === 0 ? '\r\n' : '\n'}${next() % 10 === 0 ? '\n' : ''}`
  }
  return encode(text)
}

/** Any bytes: invalid UTF-8, CR, LF and NUL included. */
function binary(seed: number, size: number): Uint8Array {
  const next = random(seed)
  return Uint8Array.from({ length: size }, () => next() & 0xff)
}

const DATA = ['a', ' ', 'é', '€', '😀', '\n', ':', 'data: ', '{"k":1}', 'x'.repeat(40)]

function events(seed: number, size: number): SseEvent[] {
  const next = random(seed)
  const out: SseEvent[] = []
  for (let bytes = 0; bytes < size; ) {
    let data = DATA[next() % DATA.length]!
    for (let n = next() % 6; n > 0; n--) data += DATA[next() % DATA.length]
    const event: SseEvent = { id: String(out.length), event: next() % 5 === 0 ? 'tick' : undefined, data }
    out.push(event)
    bytes += formatSseEvent(sent(event)).length
  }
  return out
}

/** The event as the server helper takes it. */
const sent = ({ id, event, data }: SseEvent): ServerEvent => ({
  id,
  data,
  ...(event === undefined ? {} : { event }),
})

/** What `sluice get --as <mode>` writes for `content` (or `events`) read whole, undisturbed. */
function render(mode: Mode, content: Uint8Array, events: readonly SseEvent[] = []): Uint8Array {
  const text = () => new TextDecoder().decode(content)
  switch (mode) {
    case 'bytes':
      return content
    case 'text':
      return encode(text())
    case 'lines':
      return encode(
        referenceLines(text())
          .map((line) => `${line}\n`)
          .join(''),
      )
    case 'ndjson':
      return encode(
        referenceNdjson(text())
          .map((record) => `${JSON.stringify(record)}\n`)
          .join(''),
      )
    case 'sse':
      return encode(
        events
          .map(({ id, event, data }) => `${JSON.stringify({ id, event: event ?? 'message', data })}\n`)
          .join(''),
      )
  }
}

function resource(s: Scenario, version: number): Resource {
  const seed = s.seed + version * 7919
  const content = s.content === 'records' ? records(seed, s.size) : binary(seed, s.size)
  const list = s.content === 'events' ? events(seed, s.size) : []
  return {
    framing: s.framing,
    etag: `"v${version}-${s.seed}"`,
    content: s.content === 'events' ? new Uint8Array() : content,
    events: list,
    expected: s.content === 'events' ? render('sse', content, list) : render(s.mode, content),
  }
}

// ---------------------------------------------------------------------------------------------------------
// The server: the current scenario's resource, with the faults and the pause of the run under way.

interface Armed {
  path: string
  resource: Resource
  faults: Fault[]
  /** Where to stop for the kill, until it is used. */
  kill: Kill | undefined
  /** Settles when the kill is due. */
  paused: PromiseWithResolvers<void>
  release: PromiseWithResolvers<void>
  /** One line per request, for the failure message. */
  log: string[]
}

let armed: Armed | undefined

function handle(req: IncomingMessage, res: ServerResponse): void {
  const a = armed
  if (a === undefined || req.url !== a.path) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('No such scenario.\n')
    return
  }
  const fault = a.faults.shift()
  const answer = answerFor(a.resource, req)
  a.log.push(
    `${req.headers.range ?? ''}${req.headers['if-range'] ? ` if-range ${req.headers['if-range']}` : ''}${req.headers['last-event-id'] === undefined ? '' : ` last-event-id ${req.headers['last-event-id']}`} → ${fault?.kind === 'busy' ? 503 : answer.status} ${fault && fault.kind !== 'busy' ? `${fault.kind} at ${fault.at}‰ of ${answer.body.length}` : ''}`,
  )
  const kill = a.kill
  // A kill between attempts comes after the first fault (in the body when there is none); the others, in the
  // first sound answer.
  const due =
    kill !== undefined && (kill.when === 'reconnect' ? fault !== undefined || a.faults.length === 0 : !fault)
  if (due) a.kill = undefined
  if (fault?.kind === 'busy') {
    res.writeHead(503, { 'retry-after': '0', 'content-type': 'text/plain' }).end('busy: try again\n')
    if (due) a.paused.resolve()
    return
  }
  if (due && kill.when === 'headers') {
    a.paused.resolve()
    const closed = new Promise((resolve) => res.once('close', resolve))
    void Promise.race([a.release.promise, closed]).then(() => {
      if (res.destroyed) return
      res.writeHead(answer.status, answer.headers)
      res.end(answer.body)
    })
    return
  }
  res.writeHead(answer.status, answer.headers)
  res.flushHeaders()
  if (fault !== undefined) {
    cutAnswer(res, answer, fault, () => {
      if (due) a.paused.resolve()
    })
    return
  }
  if (due && answer.status < 300) {
    void paced(res, answer.body, Math.floor((kill.at / 1000) * answer.body.length), a)
    return
  }
  if (due) a.paused.resolve()
  res.end(answer.body)
}

interface Answer {
  status: number
  headers: Record<string, string>
  body: Uint8Array
  chunked: boolean
}

function answerFor(r: Resource, req: IncomingMessage): Answer {
  if (r.framing === 'sse') {
    const last = req.headers['last-event-id']
    const rest = r.events.filter((e) => last === undefined || Number(e.id) > Number(last))
    const text = rest.map((e, i) => formatSseEvent(i === 0 ? { ...sent(e), retry: 10 } : sent(e))).join('')
    return {
      status: 200,
      headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-sluice-end': 'marker' },
      body: encode(`${text}${endMarkerLine(encode(text).length)}`),
      chunked: true,
    }
  }
  const marked = r.framing === 'marker'
  const full = marked ? concatBytes([r.content, encode(endMarkerLine(r.content.length))]) : r.content
  const headers: Record<string, string> = {
    'content-type': marked ? 'application/x-ndjson' : 'application/octet-stream',
    'accept-ranges': 'bytes',
    etag: r.etag,
    ...(marked ? { 'x-sluice-end': 'marker' } : {}),
  }
  const start = /^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1]
  const ifRange = req.headers['if-range']
  if (start !== undefined && (ifRange === undefined || ifRange === r.etag)) {
    const from = Number(start)
    if (from >= full.length) {
      const body = encode(`Range not satisfiable: the body is ${full.length} bytes long.\n`)
      return {
        status: 416,
        headers: { 'content-type': 'text/plain', 'content-range': `bytes */${full.length}` },
        body,
        chunked: false,
      }
    }
    return {
      status: 206,
      headers: {
        ...headers,
        'content-range': marked ? `bytes ${from}-*/*` : `bytes ${from}-${full.length - 1}/${full.length}`,
        ...(marked ? {} : { 'content-length': String(full.length - from) }),
      },
      body: full.subarray(from),
      chunked: marked,
    }
  }
  return {
    status: 200,
    headers: { ...headers, ...(marked ? {} : { 'content-length': String(full.length) }) },
    body: full,
    chunked: marked,
  }
}

/** Sends `at`‰ of the answer, then the fault, then calls `after`. */
function cutAnswer(res: ServerResponse, answer: Answer, fault: Fault, after: () => void): void {
  const at = Math.floor((fault.at / 1000) * answer.body.length)
  res.write(answer.body.subarray(0, at), () => {
    setImmediate(after)
    switch (fault.kind) {
      case 'drop':
        res.destroy()
        return
      case 'reset':
        res.socket?.resetAndDestroy()
        return
      case 'end':
        // A chunked body ends cleanly (what a function URL shows of a late failure); a declared length cannot,
        // so its connection closes (FIN) short of it.
        if (answer.chunked) res.end()
        else res.socket?.end()
        return
      case 'stall':
        // Nothing more: the CLI's --idle-timeout ends it.
        return
      case 'busy':
        return
    }
  })
}

const write = (res: ServerResponse, chunk: Uint8Array): Promise<void> =>
  new Promise((resolve) => res.write(chunk, () => resolve()))
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Sends the first `at` bytes in paced writes, says it paused, and waits for the kill (or the release). */
async function paced(res: ServerResponse, body: Uint8Array, at: number, a: Armed): Promise<void> {
  const closed = new Promise<void>((resolve) => res.once('close', resolve))
  const step = Math.max(1, Math.ceil(at / PACED_WRITES))
  for (let from = 0; from < at && !res.destroyed; from += step) {
    await write(res, body.subarray(from, Math.min(at, from + step)))
    await Promise.race([sleep(PACE_MS), closed])
  }
  a.paused.resolve()
  await Promise.race([a.release.promise, closed])
  // The rest in small writes, so that the signal sent with the release lands between them.
  for (let from = at; from < body.length && !res.destroyed; from += 1024) {
    await write(res, body.subarray(from, from + 1024))
    await new Promise(setImmediate)
  }
  if (!res.destroyed) res.end()
}

const site = cliServer(handle, 'sluice-get-property-', () => {
  armed = undefined
})
const { runs } = site

// ---------------------------------------------------------------------------------------------------------
// Running the CLI, and what the files beside it say.

interface Files {
  output: Uint8Array | undefined
  saved: SavedDownload | undefined
}

async function filesOf(output: string): Promise<Files> {
  const bytes = await readFile(output).catch(() => undefined)
  const text = await readFile(`${output}.sluice-checkpoint.json`, 'utf8').catch(() => undefined)
  return {
    output: bytes === undefined ? undefined : new Uint8Array(bytes),
    saved: text === undefined ? undefined : (JSON.parse(text) as SavedDownload),
  }
}

const isCheckpoint = (saved: SavedDownload | undefined): saved is SavedCheckpoint =>
  saved !== undefined && !('restart' in saved)

/** Waits until the size of the file at `path` holds still for a few polls: the CLI wrote what it had. */
async function settled(path: string): Promise<void> {
  let last = -1
  for (let same = 0, i = 0; same < 3 && i < 100; i++) {
    const size = await sizeOf(path)
    same = size === last ? same + 1 : 0
    last = size
    await sleep(15)
  }
}

function arm(path: string, r: Resource, plan: RunPlan): Armed {
  armed = {
    path,
    resource: r,
    faults: [...plan.faults],
    kill: plan.kill ?? undefined,
    paused: Promise.withResolvers(),
    release: Promise.withResolvers(),
    log: [],
  }
  return armed
}

/** How a run ended; `hung`: it had not exited after {@link PROCESS_MS}, and was killed. */
interface Ended {
  run: ProcessRun
  hung: boolean
}

/** Waits for `started` to exit, after `before` when given; kills it when it has not after PROCESS_MS. */
async function ended(
  started: StartedProcess,
  before?: (exited: Promise<'exited'>) => Promise<void>,
): Promise<Ended> {
  const deadline = Promise.withResolvers<'hung'>()
  const timer = setTimeout(() => deadline.resolve('hung'), PROCESS_MS)
  const exited = started.exit.then(() => 'exited' as const)
  try {
    if (before !== undefined) await Promise.race([before(exited), deadline.promise])
    const hung = (await Promise.race([exited, deadline.promise])) === 'hung'
    if (hung) started.child.kill('SIGKILL')
    return { run: await started.exit, hung }
  } finally {
    clearTimeout(timer)
  }
}

/** Runs `sluice get` once under `plan`, killing it when the plan says. */
async function runOnce(args: string[], plan: RunPlan, a: Armed, output: string): Promise<Ended> {
  const started = runs.get(args)
  const kill = plan.kill
  try {
    return await ended(
      started,
      kill === null
        ? undefined
        : async (exited) => {
            const pausedFirst =
              (await Promise.race([a.paused.promise.then(() => 'paused'), exited])) === 'paused'
            if (!pausedFirst) return
            if (kill.when === 'body') await settled(output)
            if (kill.flowing) a.release.resolve()
            if (kill.signal === 'SIGINT twice') {
              started.child.kill('SIGINT')
              await new Promise(setImmediate)
              started.child.kill('SIGINT')
            } else started.child.kill(kill.signal)
          },
    )
  } finally {
    a.release.resolve()
  }
}

/** Whether two files hold the same bytes (`undefined`: no file). */
const equal = (a: Uint8Array | undefined, b: Uint8Array | undefined): boolean =>
  a === undefined || b === undefined ? a === b : Buffer.from(a).equals(Buffer.from(b))
const startsWith = (whole: Uint8Array, part: Uint8Array): boolean =>
  part.length <= whole.length && equal(whole.subarray(0, part.length), part)

/** What the output file must hold for what a checkpoint accounts for, read undisturbed. */
function accountedFor(mode: Mode, versions: Resource[], saved: SavedCheckpoint): Uint8Array | undefined {
  const { checkpoint } = saved
  if (mode === 'sse') {
    const last = checkpoint.lastEventId
    const r = versions[0]!
    return render(
      'sse',
      r.content,
      r.events.filter((e) => last !== undefined && Number(e.id) <= Number(last)),
    )
  }
  const r = versions.find((v) => v.etag === checkpoint.etag)
  return r === undefined ? undefined : render(mode, r.content.subarray(0, checkpoint.offset))
}

/** One run of a scenario: what it was asked, what it found, what it did and left. */
interface Step {
  plan: RunPlan
  resume: boolean
  before: Files
  after: Files
  run: ProcessRun
  lastLine: string
  /** The resource now served. */
  current: Resource
  /** The failure message's context: the scenario and the transcript of its runs so far. */
  why: string
}

/** What the progress and summary of each mode count, one per line written (singular); bytes alone for the others. */
const ITEM: Record<Mode, string | undefined> = {
  bytes: undefined,
  text: undefined,
  lines: 'line',
  ndjson: 'record',
  sse: 'event',
}

/** `text` in a regular expression, matching itself. */
const literal = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** A progress line (`sluice: 1.5 KiB of 4.0 KiB (37.5%), …`), not a note or a failure. */
const PROGRESS = /^sluice: [\d.]+ (B|KiB|MiB)\b/
/** A note at the start of a run: that it resumes, or that it starts over a download it cannot continue. */
const NOTE =
  /^sluice: (resuming (at byte|after event id) |.* is an unfinished download that cannot be continued\b.*; starting over\.$)/

/** What holds after any run: the file is the start of an output, and the file beside it describes it. */
function checkAnyRun(s: Scenario, versions: Resource[], { run, after, current, why }: Step): void {
  // Standard output is not written to; standard error has no stack trace, and every line is the CLI's.
  expect(run.stdout, why).toBe('')
  expect(run.stderr, why).not.toMatch(/^\s+at \S|node:internal|^\w*Error\b/m)
  if (run.stderr !== '') {
    expect(run.stderr.endsWith('\n'), why).toBe(true)
    for (const line of run.stderr.trimEnd().split('\n')) expect(line, why).toMatch(/^sluice: /)
  }
  if (after.output !== undefined)
    expect(
      versions.some((v) => startsWith(v.expected, after.output!)),
      `${why}\nthe file is not the start of an undisturbed output`,
    ).toBe(true)
  // A signal that came as the CLI was exiting, its download finished (a second Ctrl-C, or kill -9), leaves the
  // whole output with nothing beside it.
  if (run.code !== 0)
    expect(
      after.output === undefined ||
        after.output.length === 0 ||
        after.saved !== undefined ||
        (run.signal !== null && equal(after.output, current.expected)),
      `${why}\nan unfinished file with nothing beside it`,
    ).toBe(true)
  const saved = after.saved
  if (!isCheckpoint(saved)) return
  expect(saved.as, why).toBe(s.mode)
  expect(saved.outputBytes, why).toBeLessThanOrEqual(after.output?.length ?? 0)
  // The checkpoint accounts for exactly the bytes before `outputBytes`: continued from it, nothing is written
  // twice and nothing is missing.
  const accounted = accountedFor(s.mode, versions, saved)
  expect(accounted, `${why}\na checkpoint of no version`).toBeDefined()
  expect(
    equal(after.output?.subarray(0, saved.outputBytes) ?? new Uint8Array(), accounted),
    `${why}\nthe ${saved.outputBytes} bytes the checkpoint accounts for are not what its offset stands for (${accounted?.length} bytes)`,
  ).toBe(true)
  if (s.mode === 'bytes') expect(saved.checkpoint.offset, why).toBe(saved.outputBytes)
}

/** A run that exited 0: the file is exactly the undisturbed output, alone, and the summary says so. */
function checkDone(
  s: Scenario,
  output: string,
  { plan, resume, before, after, run, lastLine, current, why }: Step,
): void {
  expect(equal(after.output, current.expected), `${why}\nthe file is not the undisturbed output`).toBe(true)
  // Nothing beside it: no checkpoint, and no temporary file of one, not even one that a kill -9 left.
  const beside = readdirSync(dirname(output)).filter((f) => f.startsWith(`${basename(output)}.`))
  expect(beside, why).toEqual([])
  if (plan.quiet) {
    expect(run.stderr, why).toBe('')
    return
  }
  expect(lastLine, why).toMatch(/^sluice: done: /)
  // What the summary counts: the body's bytes (but an event stream continued by Last-Event-ID is another body),
  // and the items of the mode, one per line written.
  const noun = ITEM[s.mode]
  const items = (bytes: Uint8Array) => bytes.filter((byte) => byte === 0x0a).length
  const counts = (bytes: string, output: Uint8Array) =>
    noun === undefined ? bytes : `${bytes}, ${count(items(output), noun)}`
  const size = s.framing === 'sse' ? '[\\d.]+ (B|KiB)' : literal(formatBytes(current.content.length))
  if (resume && isCheckpoint(before.saved) && before.saved.outputBytes > 0) {
    const { offset, lastEventId } = before.saved.checkpoint
    expect(run.stderr, why).toContain(
      s.mode === 'sse'
        ? `sluice: resuming after event id ${JSON.stringify(lastEventId)}.`
        : `sluice: resuming at byte ${offset}`,
    )
    // The counts of the whole download, then those of this run (what was not in the file), each said as such.
    const earlier = before.output?.subarray(0, before.saved.outputBytes) ?? new Uint8Array()
    const rest = after.output!.subarray(earlier.length)
    expect(lastLine, why).toMatch(
      new RegExp(
        `^sluice: done: ${counts(size, after.output!)} in all; this run: ${counts('[\\d.]+ (B|KiB)', rest)} in [\\d.]+m?s \\([\\d.]+ (B|KiB|MiB)/s\\)(, \\d+ reconnects?)?$`,
      ),
    )
  } else {
    expect(lastLine, why).toMatch(
      new RegExp(
        `^sluice: done: ${size} in [\\d.]+m?s \\([\\d.]+ (B|KiB|MiB)/s\\)${noun === undefined ? '' : `, ${count(items(after.output!), noun)}`}(, \\d+ reconnects?)?$`,
      ),
    )
  }
  if (resume && before.saved !== undefined && 'restart' in before.saved)
    expect(run.stderr, why).toMatch(/is an unfinished download that cannot be continued.*; starting over\./)
}

/** A run stopped by a signal it handled: cut back to what its checkpoint accounts for, saying so. */
function checkInterrupted({ plan, before, after, run, lastLine, why }: Step): void {
  if (plan.kill?.signal === 'SIGINT twice') {
    // The second Ctrl-C may end it anywhere (before any progress, after the note that it resumes or starts over):
    // the files are then as consistent as after a kill -9.
    if (lastLine !== '')
      expect(lastLine, why).toMatch(new RegExp(`${PROGRESS.source}|${NOTE.source}|^sluice: interrupted `))
    return
  }
  // Stopped cleanly, it then dies by the signal, as a shell expects of a command that Ctrl-C stopped.
  expect({ code: run.code, signal: run.signal }, why).toEqual({ code: null, signal: plan.kill?.signal })
  expect(lastLine, why).toMatch(/^sluice: interrupted /)
  // A run that wrote nothing leaves an earlier run's checkpoint as it was.
  if (isCheckpoint(after.saved) && JSON.stringify(after.saved) !== JSON.stringify(before.saved)) {
    expect(after.output?.length ?? 0, why).toBe(after.saved.outputBytes)
    expect(lastLine, why).toContain(
      `interrupted after ${count(after.saved.outputBytes, 'byte')} of output; run the same command with --resume to continue`,
    )
  }
}

/**
 * A run that failed: the plan had enough faults to exhaust the reconnects, or the resource changed under a
 * checkpoint (`stale`). One line says why and what to run next; a refused checkpoint becomes word to start over,
 * and the file keeps what it accounted for.
 */
function checkFailed({ plan, before, after, run, lastLine, why }: Step, stale: boolean): void {
  expect(run.code, why).toBe(1)
  expect(plan.faults.length >= 3 || stale, `${why}\na failure the plan did not call for`).toBe(true)
  expect(lastLine, why).not.toMatch(PROGRESS)
  if (isCheckpoint(after.saved) && !equal(before.output, after.output)) {
    expect(after.output?.length ?? 0, why).toBe(after.saved.outputBytes)
    expect(lastLine, why).toContain('run the same command with --resume to continue')
  }
  if (stale && isCheckpoint(before.saved) && after.saved !== undefined && 'restart' in after.saved) {
    expect(lastLine, why).toContain('run again without --resume to start over')
    expect(equal(after.output, before.output?.subarray(0, before.saved.outputBytes)), why).toBe(true)
  }
}

/** The same download resumed with another --as: a usage error (exit 2) that changes nothing. */
async function checkMisuse(
  s: Scenario,
  args: string[],
  output: string,
  before: Files,
  why: string,
): Promise<void> {
  const other = s.mode === 'bytes' ? 'lines' : 'bytes'
  const { run: misuse, hung } = await ended(runs.get([...args.slice(0, 3), '--as', other, '--resume']))
  expect(hung, `${why}\nsluice get --as ${other} --resume did not exit within ${PROCESS_MS} ms`).toBe(false)
  expect(misuse.code, why).toBe(2)
  expect(misuse.stderr, why).toMatch(
    new RegExp(`^sluice: the download in .* was started with --as ${s.mode}; .*\n\nUsage: sluice get `),
  )
  const now = await filesOf(output)
  expect(equal(now.output, before.output), why).toBe(true)
  expect(now.saved, why).toEqual(before.saved)
}

// ---------------------------------------------------------------------------------------------------------

let scenarios = 0

async function runScenario(s: Scenario): Promise<void> {
  const n = scenarios++
  const path = `/s${n}`
  const url = `${site.base}${path}`
  const output = join(site.dir, `s${n}.out`)
  const versions = [resource(s, 1)]
  if (s.change !== null) versions.push(resource(s, 2))
  let current = versions[0]!
  const transcript: string[] = []
  const context = () => `${JSON.stringify(s)}\n${transcript.join('\n')}`

  // After the planned runs, a sound server and no kill: at most two more runs finish it (one that meets the
  // changed resource and says to start over, one that starts over).
  const sound: RunPlan = { faults: [], kill: null, quiet: false, fresh: false, misuse: false }
  for (let i = 0; i < s.runs.length + 2; i++) {
    const planned = i < s.runs.length
    const plan = planned ? s.runs[i]! : sound
    const changed = planned && s.change === i + 1
    if (changed) current = versions[1]!
    // A retry loop passes --resume to its first run too; a later run without it starts over.
    const resume = i === 0 ? !plan.fresh && s.seed % 2 === 0 : !plan.fresh
    const args = [url, '-o', output, '--as', s.mode]
    if (resume) args.push('--resume')
    if (plan.quiet) args.push('-q')
    if (plan.faults.some((f) => f.kind === 'stall')) args.push('--idle-timeout', '300')

    const before = await filesOf(output)
    if (plan.misuse && isCheckpoint(before.saved)) await checkMisuse(s, args, output, before, context())
    const a = arm(path, current, plan)
    const started = Date.now()
    const { run, hung } = await runOnce(args, plan, a, output)
    const after = await filesOf(output)
    const left = isCheckpoint(after.saved)
      ? `checkpoint of ${after.saved.outputBytes} bytes (offset ${after.saved.checkpoint.offset}${after.saved.checkpoint.lastEventId === undefined ? '' : `, event ${after.saved.checkpoint.lastEventId}`})`
      : after.saved === undefined
        ? 'nothing beside it'
        : `word to start over (${after.saved.why})`
    transcript.push(
      [
        `run ${i + 1}: sluice get ${args.slice(1).join(' ')}${changed ? ' (the resource changed)' : ''} → ${run.code ?? run.signal}${hung ? ' (hung: killed)' : ''} in ${Date.now() - started} ms`,
        `  requests: ${a.log.join('\n            ')}`,
        `  stderr: ${run.stderr.trimEnd().split('\n').join('\n          ')}`,
        `  file: ${after.output === undefined ? 'none' : `${after.output.length} bytes`}, ${left}`,
      ].join('\n'),
    )
    const lastLine = run.stderr.trimEnd().split('\n').at(-1) ?? ''
    expect(hung, `${context()}\nsluice get did not exit within ${PROCESS_MS} ms`).toBe(false)
    const step: Step = { plan, resume, before, after, run, lastLine, current, why: context() }
    checkAnyRun(s, versions, step)
    // A checkpoint of the version before the change, continued, is refused: what it accounts for is of that one.
    const stale =
      resume &&
      isCheckpoint(before.saved) &&
      before.saved.outputBytes > 0 &&
      before.saved.checkpoint.etag !== undefined &&
      before.saved.checkpoint.etag !== current.etag
    if (run.code === 0) {
      expect(stale, `${step.why}\na checkpoint of another version was continued`).toBe(false)
      checkDone(s, output, step)
      return
    }
    // kill -9; Ctrl-C or SIGTERM, which stop it cleanly before it dies by them; or a signal that came as the CLI
    // was exiting, once it no longer handled them.
    if (run.signal !== null) {
      expect(run.signal, step.why).toBe(plan.kill?.signal.split(' ')[0])
      // It came once the download had finished: the file is whole, alone, and there is nothing left to resume.
      if (after.saved === undefined && equal(after.output, current.expected)) {
        expect(stale, `${step.why}\na checkpoint of another version was continued`).toBe(false)
        return
      }
      // It came as the CLI was exiting, having refused the changed resource (the server's answer can beat a kill
      // planned in the body): its word to start over stands, as after a plain failure.
      if (stale && after.saved !== undefined && 'restart' in after.saved) {
        expect(lastLine, step.why).toContain('run again without --resume to start over')
        continue
      }
      if (run.signal !== 'SIGKILL') checkInterrupted(step)
    } else checkFailed(step, stale)
  }
  expect.fail(`${context()}\nstill not done after the planned runs and two more`)
}

describe('sluice get, any drops and any kills, then --resume', () => {
  it(
    'ends with exactly the undisturbed output, a checkpoint that always describes the file, and the README’s exit codes',
    async () => {
      // No shrinking: each step would start processes again, for minutes. The failing scenario is in the report.
      const details = await fc.check(fc.asyncProperty(scenario, runScenario), {
        numRuns: NUM_RUNS,
        endOnFailure: true,
        timeout: SCENARIO_MS,
        interruptAfterTimeLimit: BUDGET_MS,
        ...(SEED === undefined ? {} : { seed: SEED }),
        ...(PATH === undefined ? {} : { path: PATH }),
      })
      const again = `SLUICE_GET_SEED=${details.seed} SLUICE_GET_PATH=${details.counterexamplePath ?? ''} npx vitest run --project node test/node/cli-get.property.test.ts`
      if (details.failed) {
        const error = details.errorInstance
        throw new Error(
          `${fc.defaultReportMessage(details)}\nRun it again: ${again}\n\n${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        )
      }
      if (details.interrupted)
        console.warn(`Out of time after ${details.numRuns} of ${NUM_RUNS} scenarios (seed ${details.seed}).`)
    },
    TIMEOUT,
  )
})
