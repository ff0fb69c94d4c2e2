import { describeValue } from './describe-value.ts'
import { DEFAULT_LIMITS, type Limits, type ResolvedLimits, resolveLimits } from './limits.ts'
import { resolveShaping, type Shaping } from './shaping.ts'

/** What an option must be, as said in a message, and the test of it. */
export type OptionRule = readonly [expected: string, test: (value: unknown) => boolean]

const isString = (value: unknown): boolean => typeof value === 'string'
const isFunction = (value: unknown): boolean => typeof value === 'function'

/** The options `functionUrl` and `serve` share, besides `limits` and `shaping`. */
const SHARED: Record<string, OptionRule> = {
  functionName: ['a string', isString],
  functionVersion: ['a string', isString],
  memoryLimitInMB: ['a string', isString],
  region: ['a string', isString],
  log: ['a function', isFunction],
  onInvocation: ['a function', isFunction],
}

/**
 * Checks the options of `functionUrl` or `serve` (`own` adds or overrides rules) when they are given, not at the
 * first request, and resolves their limits and shaping: a misspelt option or limit would otherwise be ignored
 * and the test pass for the wrong reason.
 *
 * @example
 * checkOptions('functionUrl', { limits: { timeoutMs: 1000 } }).limits.timeoutMs // 1000
 */
export function checkOptions(
  where: string,
  options: unknown,
  own: Record<string, OptionRule> = {},
): { limits: ResolvedLimits; shaping: Shaping | undefined } {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${where}: options must be an object, got ${describeValue(options)}.`)
  }
  const rules = { ...SHARED, ...own }
  for (const [key, value] of Object.entries(options)) {
    if (key === 'limits' || key === 'shaping') continue
    // hasOwn: 'toString' and friends must not resolve through the prototype.
    const rule = Object.hasOwn(rules, key) ? rules[key] : undefined
    if (rule === undefined) {
      const hint = Object.hasOwn(DEFAULT_LIMITS, key) ? ` ${key} is a limit: pass limits: { ${key} }.` : ''
      throw new TypeError(
        `${where}: unknown option '${key}'.${hint} Known options: ${[...Object.keys(rules), 'limits', 'shaping'].join(', ')}.`,
      )
    }
    if (value !== undefined && !rule[1](value)) {
      throw new TypeError(`${where}: ${key} must be ${rule[0]}, got ${describeValue(value)}.`)
    }
  }
  const { limits, shaping } = options as { limits?: unknown; shaping?: unknown }
  return {
    limits: resolveLimits(limits as Limits | undefined, where),
    shaping: resolveShaping(shaping as Shaping | undefined, where),
  }
}
