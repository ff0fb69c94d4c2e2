/**
 * The limits a function URL enforces on one invocation.
 *
 * @example
 * serve(handler, { limits: { timeoutMs: 5_000, maxResponseBytes: 1024 * 1024 } })
 */
export interface Limits {
  /** The largest streamed response body; the connection is cut beyond it. Default 200 MiB. */
  maxResponseBytes?: number
  /** How long an invocation may run. Default 15 minutes (900 000 ms). */
  timeoutMs?: number
  /** The largest request body; a bigger one gets a 413 and the function is not invoked. Default 6 MiB. */
  maxRequestBytes?: number
}

/** {@link Limits} with every default applied. */
export type ResolvedLimits = Required<Limits>

/**
 * The limits of a real function URL in `RESPONSE_STREAM` mode.
 *
 * @example
 * DEFAULT_LIMITS.maxResponseBytes // 209715200
 */
export const DEFAULT_LIMITS: ResolvedLimits = {
  maxResponseBytes: 200 * 1024 * 1024,
  timeoutMs: 15 * 60 * 1000,
  maxRequestBytes: 6 * 1024 * 1024,
}

/**
 * Applies defaults to partial limits and checks them.
 *
 * @example
 * resolveLimits({ timeoutMs: 1000 }).maxResponseBytes // 209715200
 */
export function resolveLimits(limits: Limits = {}): ResolvedLimits {
  const resolved = { ...DEFAULT_LIMITS, ...stripUndefined(limits) }
  for (const [name, value] of Object.entries(resolved)) {
    if (!(typeof value === 'number' && value > 0)) {
      throw new RangeError(
        `The limit ${name} must be a positive number of ${name.endsWith('Ms') ? 'milliseconds' : 'bytes'}; got ${String(value)}.`,
      )
    }
  }
  return resolved
}

function stripUndefined(limits: Limits): Limits {
  return Object.fromEntries(Object.entries(limits).filter(([, value]) => value !== undefined))
}
