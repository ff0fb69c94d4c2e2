import type { KyInstance, Options } from 'ky'

/** ky's own default for `timeout`, used when neither the instance nor the call sets one. */
const KY_TIMEOUT_MS = 10_000

const seen = new WeakMap<KyInstance, Options>()

/**
 * The defaults a ky instance was made with (`ky.create()`, `.extend()`, or a client's), which sluice must know
 * for what ky applies without telling it: the `timeout` behind a TimeoutError, and a `signal` that must stop
 * the logical stream as well as each request. ky hands them to a function passed to `.extend()`; an instance's
 * defaults never change, so they are read once.
 *
 * @example
 * kyDefaults(ky.create({ timeout: 200 })).timeout // 200
 */
export function kyDefaults(instance: KyInstance): Options {
  let defaults = seen.get(instance)
  if (defaults === undefined) {
    let parent: Options = {}
    instance.extend((options) => {
      parent = options
      return {}
    })
    defaults = parent
    seen.set(instance, defaults)
  }
  return defaults
}

/**
 * The time ky allows one attempt to get the headers, as ky computes it from the instance's defaults and the
 * call's options: `timeout` (a call's own key wins, even when undefined), bounded by the instance's
 * `totalTimeout`. Options changed by an `init` hook are not seen.
 */
export function headersTimeout(
  call: { timeout?: Options['timeout'] | undefined },
  defaults: Options,
): number {
  const timeout = 'timeout' in call ? call.timeout : defaults.timeout
  const perAttempt = timeout === false ? Number.POSITIVE_INFINITY : (timeout ?? KY_TIMEOUT_MS)
  const total = typeof defaults.totalTimeout === 'number' ? defaults.totalTimeout : Number.POSITIVE_INFINITY
  const limit = Math.min(perAttempt, total)
  // Without either limit ky never times out; a TimeoutError then came from elsewhere, and ky's default is the
  // least surprising figure to report.
  return Number.isFinite(limit) ? limit : KY_TIMEOUT_MS
}
