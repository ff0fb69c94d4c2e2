// Shared by the option checks of sluice/mock and sluice/dev, so that their messages describe values alike.

/**
 * A short description of a value for error messages, which reads after "got" or "is": a string is quoted (so
 * `"5"` and `5` differ), `undefined`, `null`, numbers and booleans are written as they are, a bigint with its
 * `n`, anything else by its kind.
 *
 * @example
 * describeValue(null) // 'null'
 * describeValue('5') // '"5"'
 * describeValue([1]) // 'an array'
 */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'undefined':
      return 'undefined'
    case 'string':
      // Not between the halves of a surrogate pair (a high one, 0xD800–0xDBFF, is 54 once shifted).
      return JSON.stringify(
        value.length > 40 ? `${value.slice(0, 40 - +(value.charCodeAt(39) >> 10 === 54))}…` : value,
      )
    case 'number':
      // String(-0) is '0', which would hide the sign that made the value wrong.
      return Object.is(value, -0) ? '-0' : String(value)
    case 'boolean':
      return String(value)
    case 'bigint':
      return `${value}n`
    case 'symbol':
      return `a symbol (${value.toString()})`
    case 'function':
      return typeof value.name === 'string' && value.name !== '' ? `a function (${value.name})` : 'a function'
    default:
      if (value === null) return 'null'
      if (Array.isArray(value)) return 'an array'
      return `an object (${Object.prototype.toString.call(value).slice(8, -1)})`
  }
}
