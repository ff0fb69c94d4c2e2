import { bytesToBase64 } from './base64.ts'
import { randomId } from './ids.ts'
import type { FunctionUrlEvent } from './types.ts'

/**
 * The parts of an HTTP request that a function URL event is made of, independent of where the request came from
 * (a `node:http` server or an intercepted web `Request`).
 */
export interface EventInput {
  method: string
  /** The full request URL; its host becomes `domainName` when no `host` header is given. */
  url: string | URL
  /**
   * The request target (path and query) as the client sent it, which becomes `rawPath` and `rawQueryString`
   * untouched: `url` is parsed by WHATWG rules, which resolve `..` and percent-encode `'` and `"` in the query.
   * Default: the path and query of `url`.
   */
  target?: string | undefined
  /** Header pairs as received, names in any case, repeated names allowed. */
  headers: Iterable<readonly [string, string]>
  /** The request body; `undefined` or empty when there is none. */
  body?: Uint8Array | undefined
  /** Default `'127.0.0.1'`. */
  sourceIp?: string | undefined
  /** Default `'HTTP/1.1'`. */
  protocol?: string | undefined
  /** Default a random UUID. */
  requestId?: string | undefined
  /** The request time in milliseconds since the epoch; default now. */
  timeEpoch?: number | undefined
}

// A form body is not among them: a function URL sends `application/x-www-form-urlencoded` as base64 (AWS's own
// function URL deck names JSON and text/* as the types passed as text; LocalStack's recorded rule agrees), and a
// handler that reads it as text works here only to fail on AWS.
const textTypes =
  /^(text\/|application\/(json|xml|javascript|ecmascript|yaml|x-yaml|graphql)\b)|[+](json|xml)\b/i

/**
 * Whether a function URL passes a body of this content type as plain text rather than base64.
 *
 * @example
 * isTextContentType('application/json; charset=utf-8') // true
 * isTextContentType('image/png') // false
 */
export function isTextContentType(contentType: string | undefined): boolean {
  return contentType !== undefined && textTypes.test(contentType.trim())
}

/**
 * Headers about the client's connection to the service, which ends there: the function never sees them (a real
 * function URL's events have no `connection`, even from HTTP/1.1 clients that send one).
 */
const connectionHeaders = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
])

const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/**
 * Formats a time the way `requestContext.time` carries it: `dd/MMM/yyyy:HH:mm:ss +0000`.
 *
 * @example
 * formatRequestTime(Date.UTC(2026, 10, 28, 9, 5, 1)) // '28/Nov/2026:09:05:01 +0000'
 */
export function formatRequestTime(timeEpoch: number): string {
  const d = new Date(timeEpoch)
  const two = (n: number) => String(n).padStart(2, '0')
  return `${two(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`
}

/**
 * Builds the payload-format-2.0 event a function URL gives the function for one request.
 *
 * `rawPath` and `rawQueryString` are the request target as sent (split at its first `?`), neither decoded nor
 * normalised; `queryStringParameters` are the query's decoded values. Headers are lower-cased and repeated ones
 * joined with commas; `cookie` headers become `cookies`; the headers of the client's connection (`connection`,
 * `keep-alive`, `transfer-encoding`, …) are left out; the `x-forwarded-for`, `-proto` and `-port` headers the
 * service adds are added unless the request has them; the body is text for textual content types and base64
 * otherwise, as the service does, and base64 too when it is not valid UTF-8, which text could not carry.
 *
 * @example
 * const event = buildEvent({ method: 'POST', url: 'http://127.0.0.1:3000/report?month=10', headers: [['content-type', 'application/json']], body })
 * event.rawPath // '/report'
 */
export function buildEvent(input: EventInput): FunctionUrlEvent {
  const url = new URL(input.url)
  const sourceIp = input.sourceIp ?? '127.0.0.1'
  const received = new Map<string, string>()
  const cookies: string[] = []
  for (const [rawName, value] of input.headers) {
    const name = rawName.toLowerCase()
    if (connectionHeaders.has(name)) continue
    if (name === 'cookie') {
      for (const cookie of value.split(';')) if (cookie.trim() !== '') cookies.push(cookie.trim())
      continue
    }
    join(received, name, value)
  }
  addForwarded(received, url, sourceIp)
  const headers = Object.fromEntries(received)
  const domainName = received.get('host') ?? url.host
  const hostname = domainName.replace(/:\d+$/, '')
  // A function URL's first label is its URL id; a bare address (the emulator on 127.0.0.1) has none.
  const label = /^[\d.]+$|^\[/.test(hostname) ? 'local' : (hostname.split('.')[0] ?? hostname)
  const timeEpoch = input.timeEpoch ?? Date.now()
  const target = input.target ?? url.pathname + url.search
  const mark = target.indexOf('?')
  const rawPath = mark === -1 ? target : target.slice(0, mark)
  const rawQueryString = mark === -1 ? '' : target.slice(mark + 1)
  const event: FunctionUrlEvent = {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    headers,
    requestContext: {
      accountId: 'anonymous',
      apiId: label,
      domainName,
      domainPrefix: label,
      http: {
        method: input.method.toUpperCase(),
        path: rawPath,
        protocol: input.protocol ?? 'HTTP/1.1',
        sourceIp,
        userAgent: received.get('user-agent') ?? '',
      },
      requestId: input.requestId ?? randomId(),
      routeKey: '$default',
      stage: '$default',
      time: formatRequestTime(timeEpoch),
      timeEpoch,
    },
    isBase64Encoded: false,
  }
  if (cookies.length > 0) event.cookies = cookies
  if (rawQueryString !== '') {
    const query = new Map<string, string>()
    for (const [name, value] of new URLSearchParams(rawQueryString)) join(query, name, value)
    event.queryStringParameters = Object.fromEntries(query)
  }
  if (input.body !== undefined && input.body.length > 0) {
    const text = isTextContentType(received.get('content-type')) ? utf8OrUndefined(input.body) : undefined
    if (text !== undefined) {
      event.body = text
    } else {
      event.body = bytesToBase64(input.body)
      event.isBase64Encoded = true
    }
  }
  return event
}

/**
 * The body as text, or `undefined` when it is not valid UTF-8: decoded, its invalid bytes would become U+FFFD and
 * be lost, so such a body goes as base64 whatever its content type says. `ignoreBOM` keeps a leading byte-order
 * mark: by default TextDecoder drops it, 3 bytes of the client's body.
 */
function utf8OrUndefined(body: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { ignoreBOM: true, fatal: true }).decode(body)
  } catch {
    return undefined
  }
}

/**
 * Adds `value` under `name`, after a comma when the name repeats. A `Map`, because names are the client's: in a
 * plain object `constructor` or `toString` would find Object.prototype's members and `__proto__` would be lost.
 * `Object.fromEntries` then gives the handler a plain object with every name as an own property, like the
 * service's parsed JSON.
 */
function join(into: Map<string, string>, name: string, value: string): void {
  const earlier = into.get(name)
  into.set(name, earlier === undefined ? value : `${earlier},${value}`)
}

/**
 * Adds the headers with which the service tells the function about the client's connection (a function URL sits
 * behind its proxy), consistent with `requestContext.http.sourceIp` and the URL. A request that already carries
 * one (it came through another proxy) keeps its own.
 */
function addForwarded(headers: Map<string, string>, url: URL, sourceIp: string): void {
  const proto = url.protocol.slice(0, -1)
  const port = url.port === '' ? (proto === 'https' ? '443' : '80') : url.port
  for (const [name, value] of [
    ['x-forwarded-for', sourceIp],
    ['x-forwarded-proto', proto],
    ['x-forwarded-port', port],
  ] as const) {
    if (!headers.has(name)) headers.set(name, value)
  }
}
