import type { KyInstance, Options as KyOptions } from 'ky'
import { describeValue } from '../runtime/describe-value.ts'
import type { Limits } from './consumers/context.ts'
import type { ProgressListener } from './progress.ts'
import type { Checkpoint } from './resume/checkpoint.ts'
import type { ResumeOption } from './resume/options.ts'

/** The memory bounds as options: each optional, `undefined` meaning its default. */
type LimitOptions = { [K in keyof Limits]?: Limits[K] | undefined }

/**
 * ky's options that sluice passes on, each also taking `undefined` under `exactOptionalPropertyTypes`, as it
 * does at run time: ky takes it as unset, and a client's call or `extend()` as not given.
 */
type KyPart = {
  [K in keyof Omit<
    KyOptions,
    'onDownloadProgress' | 'totalTimeout' | 'throwHttpErrors' | 'parseJson' | 'signal'
  >]?: KyOptions[K] | undefined
}

/**
 * Options of `sluice()`: every ky option (`method`, `json`, `headers`, `searchParams`, `hooks`, `retry`,
 * `timeout`, `fetch`, …) plus sluice's own. ky's `retry` covers failures before the body starts; everything
 * about the body is sluice's.
 *
 * @example
 * await sluice(url, { method: 'POST', json: { month: '2026-10' }, idleTimeout: 30_000, onProgress: render })
 */
export interface SluiceOptions extends KyPart, LimitOptions {
  /**
   * A ky instance whose defaults and hooks apply to every request (auth refresh, signing). Default: ky. Given
   * to a client's call or to `client.extend()`, it adds to the client's ky options instead of replacing them, as
   * if its own options were passed there: where both set one, the instance's wins (`prefix`, `timeout`, `retry`
   * fields…); headers merge (its value wins for the same name); search params accumulate; hooks run the
   * client's first, then its own; signals combine.
   *
   * @example
   * const api = createClient({ prefix: 'https://abc.lambda-url.eu-west-1.on.aws', headers: { 'x-api-key': 'k' } })
   * const logged = ky.create({ hooks: { beforeRequest: [({ request }) => console.log(request.url)] } })
   * await api('report', { ky: logged }) // the prefix and x-api-key stay; the logging hook runs after the client's
   */
  ky?: KyInstance | undefined
  /**
   * Cancels the whole logical stream, reconnects and waits between them included: an abort rejects with its
   * reason and ends in state `cancelled`, never in a reconnect. A signal in `createClient()` defaults, on the ky
   * instance or on a `Request` input applies as well; any of them aborting ends the stream. Default: none.
   */
  signal?: AbortSignal | null | undefined
  /** Called with progress snapshots, throttled by `progressInterval`; always on state changes and at the end. */
  onProgress?: ProgressListener | undefined
  /** Minimum time between two `onProgress` calls while streaming, in ms; `0` reports every change. Default 100. */
  progressInterval?: number | undefined
  /** Longest silence allowed between two chunks of the body, in ms. Default: none. */
  idleTimeout?: number | undefined
  /** Longest time for the whole logical stream, headers to end, in ms. Default: none. */
  totalTimeout?: number | undefined
  /**
   * The body's length when the server cannot declare it (it wins over a length the server declares); a shorter or
   * longer body is then a `TruncatedError`.
   */
  total?: number | undefined
  /**
   * Reconnect after a drop and continue exactly where the stream left off: `'auto'` (default) picks
   * Last-Event-ID for SSE with ids, Range when the server sends `Accept-Ranges: bytes`, or a cursor when given;
   * `false` turns it off; an object sets strategy, attempts, backoff, skipOnRestart and cursor.
   */
  resume?: ResumeOption | undefined
  /** A checkpoint from `res.checkpoint()`: the request continues from it (another process, a page reload). */
  resumeFrom?: Checkpoint | undefined
}

/** How `fromResponse()` re-requests for a resume: the strategy's headers and search params, and a signal. */
export type ReRequest = (extra: {
  headers: Record<string, string>
  searchParams: Record<string, string>
  signal: AbortSignal
}) => Promise<Response>

/** Options of `fromResponse()`: the sluice options that apply to a response obtained elsewhere. */
export type FromResponseOptions = Pick<
  SluiceOptions,
  | 'onProgress'
  | 'progressInterval'
  | 'idleTimeout'
  | 'total'
  | 'maxBytes'
  | 'maxLineBytes'
  | 'maxEventBytes'
  | 'signal'
  | 'resume'
> & {
  /** Re-requests the resource for a resume; without it, a response from elsewhere cannot be resumed. */
  request?: ReRequest | undefined
  /**
   * What the response answers, for checkpoints (which `resumeFrom` matches against the request) and messages:
   * by default the response's own `url` (empty for a `Response` made in code) and `GET`. A response's own `url`
   * wins; without one, `res.url` is this `url` (resolved as a `Request` resolves it). Checked as fetch checks
   * them: outside a browser, a relative `url` is refused.
   */
  url?: string | undefined
  method?: string | undefined
}

export const DEFAULT_LIMITS: Limits = {
  maxLineBytes: 8 * 1024 * 1024,
  maxEventBytes: 8 * 1024 * 1024,
  maxBytes: Number.POSITIVE_INFINITY,
}

/**
 * Throws a `TypeError` for a key of `given` that `names` (space-separated) lacks: an object that is sluice's alone
 * has no other, and a typo (`untill`, `attempt`) would leave the default in force without a word. One set to
 * `undefined` means absent, as everywhere; `given` itself may be `undefined`, or else must be a plain object.
 */
export function known(given: unknown, where: string, names: string, noun = 'option'): void {
  // A string or a number would be read key by key (`lines('x')` has an option `0`), null or an array as none.
  must(given === undefined || isRecord(given), `${where}: its ${noun}s`, 'an object', given, TypeError)
  const list = names.split(' ')
  for (const [key, value] of Object.entries(given ?? {})) {
    if (value !== undefined && !list.includes(key)) {
      const all = list.length > 1 ? `${list.slice(0, -1).join(', ')} and ${list.at(-1)}` : list[0]
      throw new TypeError(`${where} has no ${noun} \`${key}\`: its ${noun}s are ${all}.`)
    }
  }
}

/** `options` without the keys given as `undefined`, which mean "not set". */
export function given<T extends object>(options: T): T {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as T
}

/** Whether `value` is a plain object: not null, an array, a function nor a class's instance such as URLSearchParams. */
export const isRecord = (value: unknown): value is Record<string, unknown> =>
  Object.prototype.toString.call(value) === '[object Object]'

/**
 * Throws, unless `ok`, an error that says what the option `name` must be and what it got (a string quoted, so
 * that `"10"` and `10` differ): a `RangeError` by default, as for a number out of range.
 */
export function must(
  ok: boolean,
  name: string,
  what: string,
  value: unknown,
  Type: new (message: string) => Error = RangeError,
): void {
  if (!ok) throw new Type(`${name} must be ${what}, got ${describeValue(value)}.`)
}

/** The limits in force, after checking the caller's values. */
export function resolveLimits(options: { [K in keyof Limits]?: number | undefined }): Limits {
  const limits = { ...DEFAULT_LIMITS }
  for (const key of ['maxLineBytes', 'maxEventBytes', 'maxBytes'] as const) {
    const value = options[key]
    if (value === undefined) continue
    must(typeof value === 'number' && value > 0, `\`${key}\``, 'a positive number of bytes', value)
    limits[key] = value
  }
  return limits
}

/** `progressInterval`: 0 (every change) to `Infinity` (state changes only); anything else is a RangeError. */
export function checkInterval(value: number | undefined): number {
  if (value === undefined) return 100
  must(
    typeof value === 'number' && value >= 0,
    '`progressInterval`',
    'a number of milliseconds, 0 or more (Infinity reports state changes only)',
    value,
  )
  return value
}

/** The longest delay a timer takes: a longer one fires at once (a 32-bit overflow, and a warning in Node). */
export const MAX_TIMER_MS: number = 2 ** 31 - 1

/** Checks an optional duration option and returns it. */
export function checkDuration(name: string, value: number | undefined): number | undefined {
  if (value !== undefined) {
    must(
      typeof value === 'number' && value > 0 && value <= MAX_TIMER_MS,
      `\`${name}\``,
      `a number of milliseconds between 1 and ${MAX_TIMER_MS}`,
      value,
    )
  }
  return value
}
