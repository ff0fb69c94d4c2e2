import { describeValue } from './describe-value.ts'

/**
 * The limits a function URL enforces on one invocation.
 *
 * @example
 * serve(handler, { limits: { timeoutMs: 5_000, maxResponseBytes: 1024 * 1024 } })
 */
export interface Limits {
  /** The largest streamed response body; the connection is cut beyond it; `Infinity` for no cap. Default 200 MiB. */
  maxResponseBytes?: number | undefined
  /** How long an invocation may run, at most 2³¹ − 1 ms; `Infinity` for no timeout. Default 15 minutes (900 000 ms). */
  timeoutMs?: number | undefined
  /**
   * The largest invoke payload a request makes, as the service counts it: its event as JSON, in UTF-8 bytes, the
   * body in it with the headers and request context — as base64 for a binary body, 4/3 its size, so that a
   * binary upload of a little under 4.5 MiB fills the default. A bigger one gets a 413 and the function is not
   * invoked (a body over it alone is refused without reading the rest); `Infinity` for no cap. Default 6 MiB
   * (6 291 456 bytes), the service's "6 MB".
   */
  maxRequestBytes?: number | undefined
  /**
   * The largest result of a handler not wrapped in `awslambda.streamifyResponse`, counted as the runtime sends it:
   * the result as JSON, in UTF-8 bytes (a string with its quotes, a `{ statusCode, headers, body }` whole, a base64
   * body as base64). A bigger one gets a 502 `Function.ResponseSizeTooLarge` instead of its body; `Infinity` for no
   * cap. Default 6 291 556 bytes (6 MiB + 100), the service's "6 MB".
   */
  maxBufferedResponseBytes?: number | undefined
}

/** {@link Limits} with every default applied. */
export type ResolvedLimits = { [K in keyof Limits]-?: number }

/**
 * The limits of a real function URL in `RESPONSE_STREAM` mode, and of the invoke payload of a handler it runs
 * buffered.
 *
 * @example
 * DEFAULT_LIMITS.maxResponseBytes // 209715200
 */
export const DEFAULT_LIMITS: ResolvedLimits = {
  maxResponseBytes: 200 * 1024 * 1024,
  timeoutMs: 15 * 60 * 1000,
  maxRequestBytes: 6 * 1024 * 1024,
  // What the service enforces on an invoke response payload, whatever its documentation's "6 MB" suggests.
  maxBufferedResponseBytes: 6 * 1024 * 1024 + 100,
}

/** The longest delay a timer can wait (2³¹ − 1 ms, about 24.8 days); a longer one fires at once. */
export const MAX_TIMEOUT_MS: number = 2 ** 31 - 1

/**
 * Applies defaults to partial limits and checks them; `Infinity` lifts a limit (`timeoutMs: Infinity`: no timeout).
 * `where` names the caller in messages.
 *
 * @example
 * resolveLimits({ timeoutMs: 1000 }).maxResponseBytes // 209715200
 */
export function resolveLimits(limits: Limits = {}, where = 'limits'): ResolvedLimits {
  if (typeof limits !== 'object' || limits === null) {
    throw new TypeError(`${where}: limits must be an object, got ${describeValue(limits)}.`)
  }
  for (const name of Object.keys(limits)) {
    if (!Object.hasOwn(DEFAULT_LIMITS, name)) {
      // A misspelt limit would otherwise leave the default in force, and the test would pass for the wrong reason.
      throw new TypeError(
        `${where}: unknown limit '${name}'. Known limits: ${Object.keys(DEFAULT_LIMITS).join(', ')}.`,
      )
    }
  }
  const resolved = { ...DEFAULT_LIMITS, ...stripUndefined(limits) }
  for (const [name, value] of Object.entries(resolved)) {
    if (!(typeof value === 'number' && value > 0)) {
      throw new RangeError(
        `${where}: limits.${name} must be a positive number of ${name.endsWith('Ms') ? 'milliseconds' : 'bytes'}, or Infinity for no limit; got ${describeValue(value)}.`,
      )
    }
  }
  if (resolved.timeoutMs > MAX_TIMEOUT_MS && resolved.timeoutMs !== Number.POSITIVE_INFINITY) {
    throw new RangeError(
      `${where}: limits.timeoutMs must be at most ${MAX_TIMEOUT_MS} ms (about 24.8 days, the longest a timer waits); got ${resolved.timeoutMs}. Pass Infinity for no timeout.`,
    )
  }
  return resolved
}

function stripUndefined(limits: Limits): Partial<ResolvedLimits> {
  return Object.fromEntries(
    Object.entries(limits).filter(([, value]) => value !== undefined),
  ) as Partial<ResolvedLimits>
}
