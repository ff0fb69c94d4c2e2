import { describeValue } from '../../runtime/describe-value.ts'
import { ResumeError } from '../errors/resume-error.ts'
import { httpDate } from '../http-date.ts'
import { given, isRecord, known, MAX_TIMER_MS, must } from '../options.ts'
import { refusedPromise } from '../promise-like.ts'

/** How a dropped stream is continued; see README, "Resume". */
export type ResumeStrategy = 'range' | 'last-event-id' | 'cursor'

/**
 * The request additions with which a resume asks for the rest: search params and headers. A type alias, not an
 * interface, so that a `Checkpoint` holding one is assignable to a JSON value type. `resume.cursor` may also
 * return either key as `undefined`, which means absent (a checkpoint never holds it).
 *
 * @example
 * const next: CursorRequest = { searchParams: { after: '42' } }
 */
export type CursorRequest = {
  searchParams?: Record<string, string>
  headers?: Record<string, string>
}

/** What `resume.cursor` returns: a {@link CursorRequest} whose keys may also be `undefined`, meaning absent. */
type CursorAnswer = { [K in keyof CursorRequest]?: CursorRequest[K] | undefined }

/**
 * Resume settings. Times in milliseconds.
 *
 * @example
 * await sluice(url, { resume: { strategy: 'cursor', cursor: (row) => ({ searchParams: { after: String((row as Row).id) } }) } })
 */
export interface ResumeOptions {
  /** Which strategy to use; `'auto'` picks from what the server offers. Default `'auto'`. */
  strategy?: 'auto' | ResumeStrategy | undefined
  /**
   * Reconnects allowed since the stream last streamed healthily, not in its whole life: a drop after a connection
   * that moved the stream on (new bytes under `range`, a new last item or event id else) and stayed up at least
   * `backoff.max`, and 30 s, spends none and starts the backoff over, so a stream that drops every few minutes lives
   * on; one that fails, brings nothing new, or replays and drops sooner or where it dropped before, spends them. A
   * whole number, or `Infinity` (never give up, as `EventSource`). Default 5.
   */
  attempts?: number | undefined
  /**
   * Delay before reconnect n, counted as `attempts` counts (from 1 again after a healthy connection): min(max,
   * initial × factor^(n-1)) ± jitter. Defaults 250, 10 000, 2, 0.2.
   */
  backoff?:
    | {
        initial?: number | undefined
        max?: number | undefined
        factor?: number | undefined
        jitter?: number | undefined
      }
    | undefined
  /**
   * Range: the body is deterministic, so a server that answers a Range request with the full `200` may be
   * resumed by discarding the bytes already delivered. Default `false` (such an answer is a `ResumeError`).
   */
  skipOnRestart?: boolean | undefined
  /** Cursor: what to send to continue after the last delivered item (an NDJSON record or SSE event). */
  cursor?: ((lastItem: unknown) => CursorAnswer) | undefined
}

/** The `resume` option: `'auto'` (default), `false`, or settings. */
export type ResumeOption = false | 'auto' | ResumeOptions

/** Resume settings with every default filled in; `undefined` when resume is off. */
export interface ResolvedResume {
  strategy: 'auto' | ResumeStrategy
  attempts: number
  backoff: { initial: number; max: number; factor: number; jitter: number }
  skipOnRestart: boolean
  cursor: ((lastItem: unknown) => CursorRequest) | undefined
}

/**
 * The `resume` of a client's defaults with a call's or `extend()`'s over it: two objects merge, as ky merges its
 * nested options (`retry`), `backoff` included, so that `{ skipOnRestart: true }` keeps the client's attempts and
 * backoff; `false`, `'auto'` and `undefined` (not given) replace or keep as they say.
 *
 * @example
 * mergeResume({ attempts: 1 }, { skipOnRestart: true }) // { attempts: 1, skipOnRestart: true }
 */
export function mergeResume(
  base: ResumeOption | undefined,
  over: ResumeOption | undefined,
): ResumeOption | undefined {
  if (over === undefined) return base
  if (!isRecord(base) || !isRecord(over)) return over
  const backoff =
    isRecord(base.backoff) && isRecord(over.backoff) ? { ...base.backoff, ...over.backoff } : undefined
  return { ...base, ...given(over), ...(backoff && { backoff }) }
}

/** Checks the `resume` option and fills in its defaults. */
export function resolveResume(option: ResumeOption | undefined): ResolvedResume | undefined {
  if (option === false) return undefined
  const settings: ResumeOptions = option === undefined || option === 'auto' ? {} : option
  must(
    typeof settings === 'object' && settings !== null,
    '`resume`',
    "false, 'auto' or an object of settings",
    option,
    TypeError,
  )
  known(settings, '`resume`', 'strategy attempts backoff skipOnRestart cursor', 'setting')
  const { strategy = 'auto', cursor, attempts = 5 } = settings
  must(
    ['auto', 'range', 'last-event-id', 'cursor'].includes(strategy),
    '`resume.strategy`',
    "'auto', 'range', 'last-event-id' or 'cursor'",
    strategy,
    TypeError,
  )
  if (strategy === 'cursor' && cursor === undefined) {
    throw new TypeError(
      "`resume.strategy: 'cursor'` needs `resume.cursor`: (lastItem) => ({ searchParams, headers }).",
    )
  }
  must(
    cursor === undefined || typeof cursor === 'function',
    '`resume.cursor`',
    'a function (lastItem) => ({ searchParams?, headers? })',
    cursor,
    TypeError,
  )
  must(
    (Number.isInteger(attempts) || attempts === Infinity) && attempts >= 0,
    '`resume.attempts`',
    'a whole number of reconnects (0 or more), or Infinity',
    attempts,
  )
  const b = settings.backoff ?? {}
  must(typeof b === 'object' && b !== null, '`resume.backoff`', 'an object of settings', b, TypeError)
  known(b, '`resume.backoff`', 'initial max factor jitter', 'setting')
  const backoff = {
    initial: b.initial ?? 250,
    max: b.max ?? 10_000,
    factor: b.factor ?? 2,
    jitter: b.jitter ?? 0.2,
  }
  for (const [key, value] of Object.entries(backoff)) {
    must(
      typeof value === 'number' && value >= 0 && (key !== 'jitter' || value <= 1),
      `\`resume.backoff.${key}\``,
      `a number ≥ 0${key === 'jitter' ? ' and ≤ 1' : ''}`,
      value,
    )
  }
  return {
    strategy,
    attempts,
    backoff,
    skipOnRestart: settings.skipOnRestart ?? false,
    cursor: cursor && checkedAnswer(cursor),
  }
}

/**
 * The user's cursor, checked and with the keys it returns as `undefined` left out: they mean absent, and the
 * request additions it gives end up in checkpoints, which hold JSON only. An answer that is not request
 * additions would send the reconnect without a position, and the server would start over: a `ResumeError`.
 */
function checkedAnswer(cursor: (lastItem: unknown) => CursorAnswer): (lastItem: unknown) => CursorRequest {
  return (lastItem) => {
    const answer: unknown = cursor(lastItem)
    if (refusedPromise(answer)) {
      throw new ResumeError(
        'not-resumable',
        '`resume.cursor` returned a Promise; it must return { searchParams?, headers? } synchronously, from the item it is given.',
        0,
      )
    }
    const { searchParams, headers, ...rest } = isRecord(answer) ? answer : {}
    const bad = !isRecord(answer)
      ? describeValue(answer)
      : !strings(searchParams)
        ? `{ searchParams: ${describeValue(searchParams)} }`
        : !strings(headers) && `{ headers: ${describeValue(headers)} }`
    if (bad) {
      throw new ResumeError(
        'not-resumable',
        `\`resume.cursor\` returned ${bad}, not { searchParams?, headers? } of strings; return where to continue after the item it is given.`,
        0,
      )
    }
    return {
      ...rest,
      ...(searchParams === undefined ? {} : { searchParams: searchParams as Record<string, string> }),
      ...(headers === undefined ? {} : { headers: headers as Record<string, string> }),
    }
  }
}

/** Whether `value` is absent, or a plain object of strings (search params or headers). */
const strings = (value: unknown): boolean =>
  value === undefined || (isRecord(value) && Object.values(value).every((v) => typeof v === 'string'))

/** The delay before reconnect `n` (1-based), with jitter; `random` is injectable for tests. */
export function backoffDelay(resume: ResolvedResume, n: number, random: () => number = Math.random): number {
  const { initial, max, factor, jitter } = resume.backoff
  // No initial delay, none later: past about a thousand reconnects factor^(n-1) is Infinity, and 0 × that NaN.
  const base = Math.min(max, initial && initial * factor ** (n - 1))
  return Math.max(0, Math.round(base * (1 + jitter * (2 * random() - 1))))
}

/**
 * Milliseconds from a `Retry-After` header — seconds, a fraction too, as ky reads them (Date.parse reads `1.5` as a
 * day in 2001: no wait at all), or an HTTP-date (`httpDate`) — if it has a usable value; any other is none.
 */
export function retryAfter(headers: Headers | undefined, now: number = Date.now()): number | undefined {
  const value = headers?.get('retry-after')?.trim() ?? ''
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000
  const date = httpDate(value, now)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

/**
 * Waits `ms` — however long: a server's `Retry-After` of weeks waits weeks, in steps a timer can take, rather
 * than overflowing into an immediate retry — or rejects with the signal's reason once it aborts.
 */
export const sleep = (ms: number, signal: AbortSignal | undefined): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    let left = ms
    let timer = setTimeout(step, Math.min(left, MAX_TIMER_MS))
    function step(): void {
      left -= MAX_TIMER_MS
      if (left > 0) {
        timer = setTimeout(step, Math.min(left, MAX_TIMER_MS))
        return
      }
      signal?.removeEventListener('abort', abort)
      resolve()
    }
    function abort(): void {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    signal?.addEventListener('abort', abort, { once: true })
  })
