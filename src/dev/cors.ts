import type { IncomingHttpHeaders } from 'node:http'
import { HTTP_TOKEN } from '../runtime/http-token.ts'
import { describeValue } from '../runtime/index.ts'

/**
 * A function URL's CORS setting (the `Cors` of `AWS::Lambda::Url` and `CreateFunctionUrlConfig`, its keys in
 * camelCase), for {@link ServeOptions.cors}. As on the service, every list is empty, `maxAge` is unset and
 * credentials are not allowed unless given: an empty `allowOrigins` lets no page in.
 *
 * @example
 * serve('./handler.mjs', { cors: { allowOrigins: ['http://localhost:5173'], exposeHeaders: ['x-sluice-end'] } })
 */
export interface Cors {
  /** The origins that may call the function (`scheme://host[:port]`, no path), or `'*'` for any. */
  allowOrigins?: readonly string[] | undefined
  /** The methods a preflight allows, or `'*'` (`Access-Control-Allow-Methods`). */
  allowMethods?: readonly string[] | undefined
  /** The request headers a preflight allows, or `'*'` (`Access-Control-Allow-Headers`). */
  allowHeaders?: readonly string[] | undefined
  /** The response headers a page may read beyond the safelisted ones (`Access-Control-Expose-Headers`). */
  exposeHeaders?: readonly string[] | undefined
  /** How long, in seconds from 0 to 86400, a browser may keep a preflight's answer (`Access-Control-Max-Age`). */
  maxAge?: number | undefined
  /** Whether a page may send cookies and read the answer (`Access-Control-Allow-Credentials: true`). */
  allowCredentials?: boolean | undefined
}

const KEYS = [
  'allowOrigins',
  'allowMethods',
  'allowHeaders',
  'exposeHeaders',
  'maxAge',
  'allowCredentials',
] as const

/**
 * Whether `value` is an origin as a browser sends it in `Origin` (`http://localhost:5173`: scheme, host and
 * port, lower case, no path nor trailing slash), so that an origin that could never match is refused up front.
 *
 * @example
 * isOrigin('http://localhost:5173') // true; 'http://localhost:5173/' is not
 */
export function isOrigin(value: string): boolean {
  try {
    const origin = new URL(value).origin
    return origin !== 'null' && origin === value
  } catch {
    return false
  }
}

/**
 * Checks a {@link Cors} setting as `serve` gets it, with messages that name `where` and the setting: a misspelt
 * key (an AWS name in PascalCase, say) or an origin with a path would otherwise let no page in, silently.
 *
 * @example
 * checkCors({ allowOrigins: ['*'] }, 'serve') // returns it; { AllowOrigins: ['*'] } throws a TypeError
 */
export function checkCors(cors: unknown, where: string): Cors {
  if (typeof cors !== 'object' || cors === null || Array.isArray(cors)) {
    throw new TypeError(
      `${where}: cors must be an object such as { allowOrigins: ['http://localhost:5173'] }, got ${describeValue(cors)}.`,
    )
  }
  for (const [key, value] of Object.entries(cors)) {
    if (!(KEYS as readonly string[]).includes(key)) {
      const camel = key.charAt(0).toLowerCase() + key.slice(1)
      const hint = (KEYS as readonly string[]).includes(camel) ? ` Write it ${camel}, in camelCase.` : ''
      throw new TypeError(
        `${where}: unknown cors setting '${key}'.${hint} Known settings: ${KEYS.join(', ')}.`,
      )
    }
    if (value === undefined) continue
    const bad = (expected: string) =>
      new TypeError(`${where}: cors.${key} must be ${expected}, got ${describeValue(value)}.`)
    if (key === 'maxAge') {
      if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 86400)
        throw bad('a whole number of seconds from 0 to 86400')
    } else if (key === 'allowCredentials') {
      if (typeof value !== 'boolean') throw bad('a boolean')
    } else {
      const expected =
        key === 'allowOrigins'
          ? "an array of origins such as 'http://localhost:5173' (no path), or '*'"
          : key === 'allowMethods'
            ? "an array of methods such as 'GET', or '*'"
            : "an array of header names such as 'range', or '*'"
      if (!Array.isArray(value)) throw bad(expected)
      for (const item of value as unknown[]) {
        const valid =
          typeof item === 'string' &&
          (item === '*' || (key === 'allowOrigins' ? isOrigin(item) : HTTP_TOKEN.test(item)))
        if (!valid)
          throw new TypeError(`${where}: cors.${key} must be ${expected}; ${describeValue(item)} is not one.`)
      }
    }
  }
  return cors as Cors
}

/**
 * The headers a function URL with `cors` answers a CORS preflight with (an `OPTIONS` request with `Origin` and
 * `Access-Control-Request-Method`), or `undefined` for any other request, which the function gets. The service
 * answers a preflight itself, without invoking the function; an origin it does not allow gets no
 * `Access-Control-*` header, and the browser then refuses the request it was asking about.
 *
 * @example
 * preflightHeaders('OPTIONS', { origin: 'http://localhost:5173', 'access-control-request-method': 'GET' }, {
 *   allowOrigins: ['*'],
 * }) // [['vary', 'Origin'], ['access-control-allow-origin', '*']]
 */
export function preflightHeaders(
  method: string | undefined,
  headers: IncomingHttpHeaders,
  cors: Cors,
): Array<[string, string]> | undefined {
  const origin = headers.origin
  if (method !== 'OPTIONS' || origin === undefined || headers['access-control-request-method'] === undefined)
    return undefined
  const answer: Array<[string, string]> = [['vary', 'Origin']]
  const allowed = allowOrigin(origin, cors)
  if (allowed === undefined) return answer
  answer.push(['access-control-allow-origin', allowed])
  if (cors.allowMethods?.length) answer.push(['access-control-allow-methods', cors.allowMethods.join(',')])
  if (cors.allowHeaders?.length) answer.push(['access-control-allow-headers', cors.allowHeaders.join(',')])
  if (cors.maxAge !== undefined) answer.push(['access-control-max-age', String(cors.maxAge)])
  if (cors.allowCredentials === true) answer.push(['access-control-allow-credentials', 'true'])
  return answer
}

/**
 * The CORS headers a function URL with `cors` adds to the function's answer to a request from `origin`. They are
 * added to the function's own: a function that sends `Access-Control-Allow-Origin` too sends it twice, as through
 * the service, and a browser refuses that.
 *
 * @example
 * responseHeaders('http://localhost:5173', { allowOrigins: ['*'] }) // [['vary', 'Origin'], ['access-control-allow-origin', '*']]
 */
export function responseHeaders(origin: string | undefined, cors: Cors): Array<[string, string]> {
  const headers: Array<[string, string]> = [['vary', 'Origin']]
  const allowed = origin === undefined ? undefined : allowOrigin(origin, cors)
  if (allowed === undefined) return headers
  headers.push(['access-control-allow-origin', allowed])
  if (cors.exposeHeaders?.length)
    headers.push(['access-control-expose-headers', cors.exposeHeaders.join(',')])
  if (cors.allowCredentials === true) headers.push(['access-control-allow-credentials', 'true'])
  return headers
}

/**
 * The `Access-Control-Allow-Origin` for `origin`, or `undefined` when it is not allowed: `*` for any origin, but
 * the origin itself with credentials, which a browser never accepts `*` for.
 */
function allowOrigin(origin: string, cors: Cors): string | undefined {
  const origins = cors.allowOrigins ?? []
  if (origins.includes('*')) return cors.allowCredentials === true ? origin : '*'
  return origins.includes(origin.toLowerCase()) ? origin : undefined
}

/**
 * The CORS a function URL needs for a sluice client on `origins` (`['*']` for any), as `sluice dev --cors` sets it,
 * for {@link ServeOptions.cors} or as the setting to deploy with.
 *
 * Any method, the request headers a resume adds (a plain `Range: bytes=N-` is safelisted, `If-Range` and the others
 * are not) and the response headers sluice reads beyond the safelisted ones, without which a page takes no end,
 * total or validator from an answer. `serve()` checks the origins as it checks any `cors`.
 *
 * @example
 * serve('./handler.mjs', { cors: sluiceCors(['http://localhost:5173']) })
 */
export function sluiceCors(origins: readonly string[]): Cors {
  if (!Array.isArray(origins)) {
    throw new TypeError(
      `sluiceCors(): origins must be an array of origins, such as ['http://localhost:5173'], got ${describeValue(origins)}.`,
    )
  }
  return {
    allowOrigins: [...origins],
    allowMethods: ['*'],
    allowHeaders: ['content-type', 'range', 'if-range', 'last-event-id', 'x-sluice-cursor'],
    exposeHeaders: [
      'x-sluice-end',
      'x-amzn-remapped-content-length',
      'content-range',
      'accept-ranges',
      'etag',
      'content-encoding',
      'date',
      'retry-after',
    ],
  }
}
