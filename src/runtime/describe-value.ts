// Shared by the option checks of sluice/mock and sluice/dev, so that their messages describe values alike.

/**
 * A short description of a value for error messages.
 *
 * @example
 * describeValue(null) // 'null'
 */
export function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value)
  if (typeof value === 'object') return `an object (${Object.prototype.toString.call(value).slice(8, -1)})`
  return `a ${typeof value}`
}
