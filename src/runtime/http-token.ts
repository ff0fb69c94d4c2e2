/**
 * A header name (an RFC 9110 token): letters, digits and ``!#$%&'*+-.^_`|~``, at least one.
 *
 * @example
 * HTTP_TOKEN.test('x-sluice-cursor') // true
 */
export const HTTP_TOKEN: RegExp = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
