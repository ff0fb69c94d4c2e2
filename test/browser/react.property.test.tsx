/**
 * `useStream()` under any sequence of mounts, unmounts, re-renders, key changes, StrictMode on and off, user
 * actions and stream events: a model-based test. After every step the page shows exactly the current key's
 * delivered rows (what the hook returned, too), at most one request is live — the current key's — and none
 * after unmount; a new key cancels the old stream and starts one new request (StrictMode's double effects
 * included); a `retry()` kept from an earlier key or mount starts nothing; React reports no error.
 */
import fc from 'fast-check'
import { Activity, act, type ReactNode, StrictMode } from 'react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { type StreamSnapshot, sluice } from '../../src/index.ts'
import { type UseStreamResult, useStream } from '../../src/react/index.ts'
import { requestKey } from '../../src/react/request-key.ts'
import { useRequestKey } from '../../src/react/use-request-key.ts'
import { type ManualServer, manualServer } from '../support/manual-server.ts'
import { type TestRoot, testRoot } from '../support/react-root.ts'

type Status = StreamSnapshot['status']
type Form = 'url' | 'function'
interface Row {
  k: string
  n: number
}

const RUNS = { numRuns: 80 } as const
const KEYS = ['a', 'b', 'c'] as const
const ROWS = 5
const encoder = new TextEncoder()
const bodyOf = (k: string): Uint8Array =>
  encoder.encode(Array.from({ length: ROWS }, (_, n) => `${JSON.stringify({ k, n })}\n`).join(''))
const LENGTH = bodyOf('a').length
const rowsIn = (k: string, pos: number): string[] => {
  const text = new TextDecoder().decode(bodyOf(k).subarray(0, pos))
  return text
    .split('\n')
    .slice(0, -1)
    .map((line) => {
      const row = JSON.parse(line) as Row
      return `${row.k}${row.n}`
    })
}

// ---------------------------------------------------------------------------------------------------------------
// The components

/** What the last render returned: the hook's result. */
let latest: UseStreamResult<Row> | undefined

function Rows({ result }: { result: UseStreamResult<Row> }): ReactNode {
  latest = result
  return (
    <div>
      <output>{result.status}</output>
      <ul>
        {result.items.map((row) => (
          <li key={row.n}>{`${row.k}${row.n}`}</li>
        ))}
      </ul>
    </div>
  )
}

const options = (fetch: typeof globalThis.fetch) => ({ fetch, retry: 0, resume: false as const })

interface Props {
  k: string
  v: number
  fetch: typeof globalThis.fetch
}

/** Keyed by its URL (and sluice options, written inline on every render). */
function ByUrl({ k, fetch }: Props): ReactNode {
  const result = useStream(`https://api.test/${k}`, { as: 'ndjson', sluice: options(fetch) })
  return <Rows result={result as UseStreamResult<Row>} />
}

/**
 * An inline request function, keyed by `key`; `v` changes the function but not the key: nothing restarts, and
 * the next (re)start calls the latest function.
 */
function ByFunction({ k, v, fetch }: Props): ReactNode {
  const result = useStream(
    (signal) => sluice(`https://api.test/${k}?v=${v}`, { ...options(fetch), signal }),
    {
      as: 'ndjson',
      key: k,
    },
  )
  return <Rows result={result as UseStreamResult<Row>} />
}

// ---------------------------------------------------------------------------------------------------------------
// The model

interface Model {
  strict: boolean
  mounted: boolean
  /** Hidden by `<Activity>`: effects are cleaned up, so the stream is interrupted (the page is not checked). */
  hidden: boolean
  /** Whether showing it again starts a fresh stream: one the hiding interrupted, or a key's not yet started. */
  freshOnShow: boolean
  key: string
  /** The request function's version (function form): the latest is the one a (re)start calls. */
  version: number
  /** The version the live request was made with. */
  sent: number
  status: Status
  conn: 'none' | 'waiting' | 'open'
  /** Bytes of the current key's body delivered to the current request. */
  pos: number
  /** Requests the model expects; StrictMode may add one per mount, aborted before it is answered. */
  requests: number
  spare: number
  /** How many `retry` functions of earlier keys or mounts the test keeps. */
  stale: number
}

interface Real {
  form: Form
  view: TestRoot
  server: ManualServer
  stale: Array<() => void>
  consoleErrors: string[]
}

function tree(m: Model, r: Real): ReactNode {
  const Probe = r.form === 'url' ? ByUrl : ByFunction
  const probe = (
    <Activity mode={m.hidden ? 'hidden' : 'visible'}>
      <Probe k={m.key} v={m.version} fetch={r.server.fetch} />
    </Activity>
  )
  return m.strict ? <StrictMode>{probe}</StrictMode> : probe
}

function agreement(m: Model, r: Real): string[] {
  const out: string[] = []
  const { view, server } = r
  const live = server.live()
  if (live.length !== (m.conn === 'none' ? 0 : 1))
    out.push(`${live.length} requests are live (${live.map((e) => e.request.url)}), the model says ${m.conn}`)
  const current = live[0]
  if (current !== undefined && m.conn !== 'none') {
    const url = r.form === 'url' ? `https://api.test/${m.key}` : `https://api.test/${m.key}?v=${m.sent}`
    if (current.request.url !== url) out.push(`the live request is for ${current.request.url}, not ${url}`)
    if (current.state() !== m.conn)
      out.push(`the live request is ${current.state()}, the model says ${m.conn}`)
  }
  const made = server.exchanges.length
  if (made < m.requests || made > m.requests + m.spare)
    out.push(`${made} requests were made, the model says ${m.requests} (+${m.spare} under StrictMode)`)
  if (!m.mounted) {
    if (view.container.childElementCount > 0) out.push('something shows after unmount')
    return out
  }
  if (m.hidden) return out
  const status = view.container.querySelector('output')?.textContent
  if (status !== m.status) out.push(`the page shows ${status}, the model says ${m.status}`)
  const shown = [...view.container.querySelectorAll('li')].map((li) => li.textContent ?? '')
  const want = rowsIn(m.key, m.pos)
  if (JSON.stringify(shown) !== JSON.stringify(want))
    out.push(`the page shows rows ${JSON.stringify(shown)}, the model says ${JSON.stringify(want)}`)
  const returned = latest?.items.map((row) => `${row.k}${row.n}`)
  if (JSON.stringify(returned) !== JSON.stringify(shown))
    out.push(`the hook returned rows ${JSON.stringify(returned)}, the page shows ${JSON.stringify(shown)}`)
  if (latest?.status !== status) out.push(`the hook returned ${latest?.status}, the page shows ${status}`)
  return out
}

/** Lets the page catch up with a step, inside act(); then a little longer, and nothing may have moved. */
async function settle(m: Model, r: Real): Promise<void> {
  let disagreement: string[] = []
  for (let round = 0; round < 300; round++) {
    disagreement = agreement(m, r)
    if (disagreement.length === 0) break
    await act(() => new Promise<void>((resolve) => setTimeout(resolve, 1)))
  }
  if (disagreement.length === 0) {
    const made = r.server.exchanges.length
    const page = r.view.container.innerHTML
    await act(() => new Promise<void>((resolve) => setTimeout(resolve, 5)))
    if (r.server.exchanges.length !== made) disagreement.push('a request came after the page had settled')
    if (r.view.container.innerHTML !== page) disagreement.push('the page changed after it had settled')
    disagreement.push(...agreement(m, r))
  }
  const problems = [...disagreement, ...r.view.errors.map(String), ...r.consoleErrors]
  expect(problems, `${r.form} form, after the steps so far`).toEqual([])
}

// ---------------------------------------------------------------------------------------------------------------
// The steps

type Step = fc.AsyncCommand<Model, Real>

/** A fresh stream of the current key: what a mount or a new key starts. */
function fresh(m: Model): void {
  m.sent = m.version
  m.status = 'connecting'
  m.conn = 'waiting'
  m.pos = 0
  m.requests++
  if (m.strict) m.spare++
}

/** Keeps the current `retry`: once the key changes or the component unmounts, it must start nothing. */
function keepRetry(r: Real, m: Model): void {
  if (latest === undefined) return
  r.stale.push(latest.retry)
  m.stale++
}

class Mount implements Step {
  check = (m: Readonly<Model>): boolean => !m.mounted
  async run(m: Model, r: Real): Promise<void> {
    latest = undefined
    m.mounted = true
    m.hidden = false
    m.freshOnShow = false
    await r.view.render(tree(m, r))
    fresh(m)
    await settle(m, r)
  }
  toString = (): string => 'mount'
}

class Unmount implements Step {
  check = (m: Readonly<Model>): boolean => m.mounted
  async run(m: Model, r: Real): Promise<void> {
    keepRetry(r, m)
    await r.view.unmount()
    m.mounted = false
    m.conn = 'none'
    await settle(m, r)
  }
  toString = (): string => 'unmount'
}

/** The same key again, with new inline options and a new inline function: nothing restarts. */
class Rerender implements Step {
  /** Whether the request function changes (function form): still nothing restarts. */
  constructor(readonly newFunction: boolean) {}
  check = (m: Readonly<Model>): boolean => m.mounted
  async run(m: Model, r: Real): Promise<void> {
    if (this.newFunction) m.version++
    await r.view.render(tree(m, r))
    await settle(m, r)
  }
  toString = (): string => (this.newFunction ? 'rerender with a new function' : 'rerender')
}

class ChangeKey implements Step {
  constructor(readonly key: string) {}
  check = (m: Readonly<Model>): boolean => m.mounted && m.key !== this.key
  async run(m: Model, r: Real): Promise<void> {
    keepRetry(r, m)
    m.key = this.key
    await r.view.render(tree(m, r))
    if (m.hidden) {
      // Rendered hidden, its effects wait: the new key's stream starts when it shows.
      m.freshOnShow = true
      m.status = 'idle'
      m.pos = 0
    } else {
      // StrictMode double-invokes effects on mount only: a new key is one new request.
      const strict = m.strict
      m.strict = false
      fresh(m)
      m.strict = strict
    }
    await settle(m, r)
  }
  toString = (): string => `key ${this.key}`
}

/** StrictMode on or off: another tree, so the component mounts anew (and the old one unmounts). */
class ToggleStrict implements Step {
  check = (m: Readonly<Model>): boolean => m.mounted
  async run(m: Model, r: Real): Promise<void> {
    keepRetry(r, m)
    m.strict = !m.strict
    latest = undefined
    await r.view.render(tree(m, r))
    if (m.hidden) {
      m.freshOnShow = true
      m.status = 'idle'
      m.conn = 'none'
      m.pos = 0
    } else fresh(m)
    await settle(m, r)
  }
  toString = (): string => 'toggle StrictMode'
}

class Answer implements Step {
  check = (m: Readonly<Model>): boolean => m.conn === 'waiting'
  async run(m: Model, r: Real): Promise<void> {
    await act(async () => r.server.live()[0]!.answer({ headers: { 'content-type': 'application/x-ndjson' } }))
    m.conn = 'open'
    m.status = 'streaming'
    await settle(m, r)
  }
  toString = (): string => 'answer'
}

class Deliver implements Step {
  constructor(readonly size: number) {}
  check = (m: Readonly<Model>): boolean => m.conn === 'open' && m.pos < LENGTH
  async run(m: Model, r: Real): Promise<void> {
    const end = Math.min(LENGTH, m.pos + this.size)
    await act(async () => r.server.live()[0]!.push(bodyOf(m.key).slice(m.pos, end)))
    m.pos = end
    await settle(m, r)
  }
  toString = (): string => `deliver(${this.size})`
}

class End implements Step {
  check = (m: Readonly<Model>): boolean => m.conn === 'open'
  async run(m: Model, r: Real): Promise<void> {
    const exchange = r.server.live()[0]!
    await act(async () => {
      if (m.pos < LENGTH) exchange.push(bodyOf(m.key).slice(m.pos))
      exchange.close()
    })
    m.pos = LENGTH
    m.status = 'done'
    m.conn = 'none'
    await settle(m, r)
  }
  toString = (): string => 'end'
}

class Drop implements Step {
  check = (m: Readonly<Model>): boolean => m.conn === 'open'
  async run(m: Model, r: Real): Promise<void> {
    await act(async () => r.server.live()[0]!.fail(new TypeError('connection reset')))
    m.status = 'error'
    m.conn = 'none'
    await settle(m, r)
  }
  toString = (): string => 'drop'
}

class Cancel implements Step {
  check = (m: Readonly<Model>): boolean => m.mounted
  async run(m: Model, r: Real): Promise<void> {
    await act(async () => latest!.cancel())
    if (m.status === 'connecting' || m.status === 'streaming' || m.status === 'idle') {
      // A key's store that has not started yet (hidden) is cancelled before it starts: it never will.
      if (m.status === 'idle') m.freshOnShow = false
      m.status = 'cancelled'
      m.conn = 'none'
    }
    await settle(m, r)
  }
  toString = (): string => 'cancel'
}

class Retry implements Step {
  check = (m: Readonly<Model>): boolean => m.mounted
  async run(m: Model, r: Real): Promise<void> {
    await act(async () => latest!.retry())
    // Hidden, the stream is not the component's to restart: showing it again does.
    if (m.hidden) return settle(m, r)
    const strict = m.strict
    m.strict = false
    fresh(m)
    m.strict = strict
    await settle(m, r)
  }
  toString = (): string => 'retry'
}

class Hide implements Step {
  check = (m: Readonly<Model>): boolean => m.mounted && !m.hidden
  async run(m: Model, r: Real): Promise<void> {
    m.hidden = true
    await r.view.render(tree(m, r))
    if (m.status === 'connecting' || m.status === 'streaming') {
      m.status = 'cancelled'
      m.conn = 'none'
      m.freshOnShow = true
    }
    await settle(m, r)
  }
  toString = (): string => 'hide'
}

/** Shown again: a stream the hiding interrupted starts over; a finished or cancelled one stays as it was. */
class Show implements Step {
  check = (m: Readonly<Model>): boolean => m.mounted && m.hidden
  async run(m: Model, r: Real): Promise<void> {
    m.hidden = false
    await r.view.render(tree(m, r))
    if (m.freshOnShow) fresh(m)
    m.freshOnShow = false
    await settle(m, r)
  }
  toString = (): string => 'show'
}

class StaleRetry implements Step {
  constructor(readonly which: number) {}
  check = (m: Readonly<Model>): boolean => m.stale > 0
  async run(m: Model, r: Real): Promise<void> {
    const retry = r.stale[this.which % r.stale.length]!
    await act(async () => retry())
    await settle(m, r)
  }
  toString = (): string => `stale retry(${this.which})`
}

const steps = fc.commands(
  [
    fc.oneof(
      { arbitrary: fc.constant(new Mount()), weight: 2 },
      { arbitrary: fc.constant(new Unmount()), weight: 1 },
      { arbitrary: fc.boolean().map((newFunction) => new Rerender(newFunction)), weight: 2 },
      { arbitrary: fc.constantFrom(...KEYS).map((k) => new ChangeKey(k)), weight: 2 },
      { arbitrary: fc.constant(new ToggleStrict()), weight: 1 },
      { arbitrary: fc.constant(new Answer()), weight: 4 },
      { arbitrary: fc.integer({ min: 1, max: 20 }).map((size) => new Deliver(size)), weight: 6 },
      { arbitrary: fc.constant(new End()), weight: 1 },
      { arbitrary: fc.constant(new Drop()), weight: 1 },
      { arbitrary: fc.constant(new Cancel()), weight: 1 },
      { arbitrary: fc.constant(new Retry()), weight: 1 },
      { arbitrary: fc.nat(5).map((which) => new StaleRetry(which)), weight: 1 },
      { arbitrary: fc.constant(new Hide()), weight: 1 },
      { arbitrary: fc.constant(new Show()), weight: 2 },
    ),
  ],
  { maxCommands: 25, size: '+1' },
)

let view: TestRoot | undefined

afterEach(async () => {
  await view?.dispose()
  view = undefined
  vi.restoreAllMocks()
})

describe('useStream under any sequence of renders, user actions and stream events', () => {
  it('shows the current key’s rows, keeps one request live at most, and releases every other one', async () => {
    const consoleErrors: string[] = []
    vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
      consoleErrors.push(args.map(String).join(' '))
    })
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Form>('url', 'function'),
        fc.boolean(),
        steps,
        async (form, strict, commands) => {
          consoleErrors.length = 0
          view = testRoot()
          const real: Real = { form, view, server: manualServer(), stale: [], consoleErrors }
          const model: Model = {
            strict,
            mounted: false,
            hidden: false,
            freshOnShow: false,
            key: 'a',
            version: 0,
            sent: 0,
            status: 'idle',
            conn: 'none',
            pos: 0,
            requests: 0,
            spare: 0,
            stale: 0,
          }
          await new Mount().run(model, real)
          await fc.asyncModelRun(() => ({ model, real }), commands)
          // Unmounting leaves nothing running.
          await new Unmount().run(model, real)
          expect(real.server.live()).toEqual([])
          await view.dispose()
          view = undefined
        },
      ),
      RUNS,
    )
  }, 120_000)
})

/** The hook's key of `sluice` options for one URL; `keyed` is the last one. */
let keyed: string | undefined
function KeyOf({ sluice }: { sluice: object }): ReactNode {
  keyed = useRequestKey('ndjson', 'https://api.test/a', sluice, undefined)
  return null
}

/**
 * A value made from `a` and `b` as a component writes one inline: down to `depth` levels, a new plain object or
 * array holding some of their values (the same ones, or none), below that one of theirs.
 */
function mix(a: unknown, b: unknown, depth: number, coin: Iterator<boolean>): unknown {
  const toss = (): boolean => coin.next().value as boolean
  const plain = (value: unknown): value is Record<string, unknown> =>
    typeof value === 'object' && value !== null && [Object, Array].includes(value.constructor as never)
  if (depth === 0 || !plain(a) || !plain(b)) return toss() ? a : b
  const out = (toss() ? [] : {}) as Record<string, unknown>
  for (const name of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (toss()) continue
    const from = toss() ? a : b
    if (Object.hasOwn(from, name)) out[name] = from[name]
  }
  return out
}

describe('the request key, kept from render to render', () => {
  it('is that of the inputs of this render, for any options that share values with the last ones', async () => {
    const value = fc.oneof(
      fc.constant(undefined),
      fc.anything({
        withBoxedValues: true,
        withDate: true,
        withMap: true,
        withNullPrototype: true,
        withSparseArray: true,
        withTypedArray: true,
      }),
    )
    const level = <T,>(inner: fc.Arbitrary<T>) =>
      fc.oneof(
        fc.dictionary(fc.constantFrom('0', '1', 'a', 'b'), inner),
        fc.array(inner, { maxLength: 3 }),
        value,
      )
    const options = fc.dictionary(fc.constantFrom('json', 'searchParams', 'headers'), level(value))
    await fc.assert(
      fc.asyncProperty(options, options, fc.infiniteStream(fc.boolean()), async (first, other, coins) => {
        const coin = coins[Symbol.iterator]()
        const second = mix(first, other, 2, coin) as object
        view = testRoot()
        await view.render(<KeyOf sluice={first} />)
        await view.render(<KeyOf sluice={second} />)
        expect(keyed).toBe(requestKey('ndjson', 'https://api.test/a', second, undefined))
        await view.dispose()
        view = undefined
      }),
      { numRuns: 200 },
    )
  })
})
