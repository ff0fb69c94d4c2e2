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
  checkRules(where, options, { ...SHARED, ...own }, ['limits', 'shaping'], (key) =>
    Object.hasOwn(DEFAULT_LIMITS, key) ? ` ${key} is a limit: pass limits: { ${key} }.` : '',
  )
  const { limits, shaping } = options as { limits?: unknown; shaping?: unknown }
  return {
    limits: resolveLimits(limits as Limits | undefined, where),
    shaping: resolveShaping(shaping as Shaping | undefined, where),
  }
}

/**
 * Throws a `TypeError` naming `where` unless `options` is an object whose every key has a rule its value meets
 * (`undefined` meaning not given), or is one of `checkedElsewhere`; `hint` adds to the message of an unknown key.
 *
 * @example
 * checkRules('server.close', { running: 'abort' }, { running: ["'finish' or 'abort'", (v) => v === 'abort' || v === 'finish'] })
 */
export function checkRules(
  where: string,
  options: unknown,
  rules: Record<string, OptionRule>,
  checkedElsewhere: readonly string[] = [],
  hint: (key: string) => string = () => '',
): void {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${where}: options must be an object, got ${describeValue(options)}.`)
  }
  for (const [key, value] of Object.entries(options)) {
    if (checkedElsewhere.includes(key)) continue
    // hasOwn: 'toString' and friends must not resolve through the prototype.
    const rule = Object.hasOwn(rules, key) ? rules[key] : undefined
    if (rule === undefined) {
      throw new TypeError(
        `${where}: unknown option '${key}'.${hint(key)} Known options: ${[...Object.keys(rules), ...checkedElsewhere].join(', ')}.`,
      )
    }
    if (value !== undefined && !rule[1](value)) {
      throw new TypeError(`${where}: ${key} must be ${rule[0]}, got ${describeValue(value)}.`)
    }
  }
}
