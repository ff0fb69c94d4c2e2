import type { OptionRule } from '../runtime/check-options.ts'
import { describeValue } from '../runtime/describe-value.ts'
import { HTTP_TOKEN } from '../runtime/http-token.ts'
import { MAX_PADDING_BYTES } from './padding.ts'

// The helpers' options often come from configuration (environment variables are strings) or from JavaScript
// without types: a misspelt name or a string where a number belongs would otherwise be ignored, or read as
// "off", with no sign of it. Checked once per call, before anything is written, in a few comparisons per option.

/** The longest delay `setTimeout` keeps: a longer one fires at once (Node warns, and takes 1 ms). */
const MAX_TIMER_MS = 2_147_483_647

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null
const isString = (value: unknown): boolean => typeof value === 'string'
const isStringOrUndefined = (value: unknown): boolean => value === undefined || typeof value === 'string'
const isWhole = (value: unknown, min: number, max: number): boolean =>
  Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max

const isHeaders = (value: unknown): boolean => {
  if (value instanceof Headers) return true
  if (Array.isArray(value)) {
    return value.every((pair) => Array.isArray(pair) && pair.length === 2 && pair.every(isString))
  }
  return isObject(value) && Object.values(value).every(isString)
}

// The event's headers are a plain object: a `Headers` (a web Request's, what sluice/mock's `request` takes) has
// none of its names as properties, so its Range, Last-Event-ID and cursor would be ignored without a sign.
const isRequest = (value: unknown): boolean =>
  isObject(value) &&
  isObject(value.headers) &&
  !(value.headers instanceof Headers) &&
  isStringOrUndefined(value.rawQueryString) &&
  (value.queryStringParameters === undefined || isObject(value.queryStringParameters))

const sendsPreludes = (value: unknown): boolean =>
  (isObject(value) || typeof value === 'function') &&
  isObject((value as { HttpResponseStream?: unknown }).HttpResponseStream) &&
  typeof (value as { HttpResponseStream: { from?: unknown } }).HttpResponseStream.from === 'function'

const PADDING_RULES: Record<string, OptionRule> = {
  bytes: [
    `a whole number of bytes from 1 to ${MAX_PADDING_BYTES}`,
    (value) => isWhole(value, 1, MAX_PADDING_BYTES),
  ],
  idleMs: [
    `a number of milliseconds above 0, up to ${MAX_TIMER_MS}`,
    (value) => typeof value === 'number' && value > 0 && value <= MAX_TIMER_MS,
  ],
}

const RESPONSE: Record<string, OptionRule> = {
  statusCode: ['a whole number from 200 to 599', (value) => isWhole(value, 200, 599)],
  headers: [
    'a Headers object, an array of [name, value] pairs of strings, or an object of header names to strings',
    isHeaders,
  ],
  cookies: ['an array of Set-Cookie strings', (value) => Array.isArray(value) && value.every(isString)],
  request: ['the function-URL event (an object with headers)', isRequest],
  awslambda: ['the awslambda object (with HttpResponseStream.from), or leave it out', sendsPreludes],
  onRefusal: [
    'a function that takes the refusal report, or false',
    (value) => typeof value === 'function' || value === false,
  ],
}

const LENGTH: Record<string, OptionRule> = {
  length: [
    "the body's size in bytes, a non-negative whole number",
    (value) => isWhole(value, 0, Number.MAX_SAFE_INTEGER),
  ],
  etag: ['a string (quotes are added when missing)', isString],
  range: ['true or false', (value) => typeof value === 'boolean'],
}

const CURSOR: Record<string, OptionRule> = {
  cursorParam: ['a query parameter name, a non-empty string', (value) => isString(value) && value !== ''],
  cursorHeader: [
    'a header name, such as "x-sluice-cursor"',
    (value) => isString(value) && HTTP_TOKEN.test(value as string),
  ],
}

const PADDING: OptionRule = [
  'true, false, or { bytes, idleMs }',
  (value) => typeof value === 'boolean' || isObject(value),
]

/** The options of each helper, and what each must be. */
export const HELPER_OPTIONS: Record<
  'streamNdjson' | 'streamSse' | 'streamBytes',
  Record<string, OptionRule>
> = {
  streamNdjson: { ...RESPONSE, ...LENGTH, ...CURSOR, padding: PADDING },
  streamSse: {
    ...RESPONSE,
    ...CURSOR,
    heartbeatMs: [
      `a number of milliseconds from 0 (no heartbeat) to ${MAX_TIMER_MS}`,
      (value) => typeof value === 'number' && value >= 0 && value <= MAX_TIMER_MS,
    ],
    retry: [
      'a non-negative whole number of milliseconds',
      (value) => isWhole(value, 0, Number.MAX_SAFE_INTEGER),
    ],
    padding: PADDING,
  },
  streamBytes: { ...RESPONSE, ...LENGTH },
}

/** The options of `sluiceHandler` itself. */
export const HANDLER_OPTIONS: Record<string, OptionRule> = {
  awslambda: [
    'the awslambda object (with streamifyResponse and HttpResponseStream.from), or leave it out',
    (value) =>
      sendsPreludes(value) &&
      typeof (value as { streamifyResponse?: unknown }).streamifyResponse === 'function',
  ],
  highWaterMark: ['a positive whole number of bytes', (value) => isWhole(value, 1, Number.MAX_SAFE_INTEGER)],
}

/** How a message names what was given: `streamSse got`, or `the sluiceHandler callback returned`. */
export interface Subject {
  /** `streamSse got`, `the sluiceHandler callback returned`… */
  got: string
  /** A sentence for a name that is not an option here but means something (`request` in a callback's result). */
  hints?: Record<string, string>
  /** Whether options go with bodies (`sse`) rather than helpers (`streamSse`): a callback's result. */
  bodies?: boolean
}

/**
 * Throws a `TypeError` for the first option of `options` that `rules` do not know, or whose value is not what
 * its rule says (an `undefined` value is a missing option): the message names the helper, the option and the
 * value, and says what to pass. `skip` names keys that are not options (a callback result's bodies).
 */
export function checkOptions(
  subject: Subject,
  options: unknown,
  rules: Record<string, OptionRule>,
  skip: readonly string[] = [],
): void {
  if (options === undefined) return
  if (!isObject(options) || Array.isArray(options)) {
    throw new TypeError(
      `sluice/lambda: ${subject.got} options ${describeValue(options)}; pass an object, or leave them out.`,
    )
  }
  // The event itself in place of the options (`streamNdjson(stream, rows, event)`): its first key, `version`, would
  // be named as an unknown option, which says nothing of the slip.
  if (Object.hasOwn(options, 'requestContext') && Object.hasOwn(options, 'rawPath')) {
    throw new TypeError(
      `sluice/lambda: ${subject.got} the function-URL event as its options; pass it as { request: event }, beside the other options.`,
    )
  }
  checkEach(subject, options, rules, '', skip)
}

/** The loop of {@link checkOptions}, for the options and for `padding`'s own keys (named `padding.<key>`). */
function checkEach(
  subject: Subject,
  options: Record<string, unknown>,
  rules: Record<string, OptionRule>,
  prefix: string,
  skip: readonly string[],
): void {
  for (const key in options) {
    if (!Object.hasOwn(options, key) || skip.includes(key)) continue
    const rule = Object.hasOwn(rules, key) ? rules[key] : undefined
    if (rule === undefined) {
      throw new TypeError(
        unknown(
          subject,
          prefix + key,
          Object.keys(rules).map((name) => prefix + name),
        ),
      )
    }
    const value = options[key]
    if (value === undefined) continue
    if (!rule[1](value)) {
      throw new TypeError(
        `sluice/lambda: ${subject.got} ${describeValue(value)} for ${prefix}${key}; pass ${rule[0]}.`,
      )
    }
    if (prefix === '' && key === 'padding' && isObject(value))
      checkEach(subject, value, PADDING_RULES, 'padding.', [])
  }
}

function unknown(subject: Subject, key: string, known: string[]): string {
  const hints = subject.hints ?? {}
  const hint =
    (Object.hasOwn(hints, key) ? hints[key] : undefined) ??
    elsewhere(key, subject.bodies === true) ??
    nearest(key, known)
  return `sluice/lambda: ${subject.got} an unknown option ${quote(key)}.${hint === undefined ? '' : ` ${hint}`} Known options: ${known.join(', ')}.`
}

const BODY_OF: Record<string, string> = { streamNdjson: 'ndjson', streamSse: 'sse', streamBytes: 'bytes' }

/** Says which helpers take an option that this one does not (`heartbeatMs` given to `streamNdjson`). */
function elsewhere(key: string, bodies: boolean): string | undefined {
  const helpers = Object.entries(HELPER_OPTIONS).flatMap(([helper, rules]) =>
    Object.hasOwn(rules, key) ? [helper] : [],
  )
  if (helpers.length === 0) return undefined
  return bodies
    ? `${key} goes with ${helpers.map((helper) => BODY_OF[helper]).join(' or ')} only.`
    : `${key} is an option of ${helpers.join(' and ')} only.`
}

/** The known name a misspelling most likely means: the same but for case, or at most two edits away. */
function nearest(key: string, known: string[]): string | undefined {
  let best: string | undefined
  let bestDistance = 3
  for (const name of known) {
    const distance = name.toLowerCase() === key.toLowerCase() ? 0 : editDistance(key, name)
    if (distance < bestDistance) {
      best = name
      bestDistance = distance
    }
  }
  return best === undefined ? undefined : `Did you mean ${quote(best)}?`
}

/** Levenshtein distance, with a swap of two neighbours counting as one edit (`lenght` → `length`). */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3
  const rows: number[][] = []
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i]
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j)
        continue
      }
      const above = rows[i - 1]!
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min(above[j]! + 1, row[j - 1]! + 1, above[j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, rows[i - 2]![j - 2]! + 1)
      row.push(best)
    }
    rows.push(row)
  }
  return rows[a.length]![b.length]!
}

/** A name as a message quotes it: JSON, so that control characters and quotes show. */
function quote(key: string): string {
  return `'${JSON.stringify(key).slice(1, -1)}'`
}

/**
 * Throws a `TypeError` when NDJSON padding meets an option that needs the same bytes on every request or a
 * length known ahead: padding writes filler wherever the source pauses, which timing decides.
 */
export function checkPaddingFits(options: {
  padding?: unknown
  range?: unknown
  etag?: unknown
  length?: unknown
  headers?: unknown
}): void {
  if (options.padding === undefined || options.padding === false) return
  const clash: [string, string] | undefined =
    options.range === true
      ? ['range', 'which Range needs the same on every request']
      : options.etag !== undefined
        ? ['etag', 'which a strong ETag says are the same on every request (and it turns range on)']
        : options.length !== undefined
          ? ['length', 'which a declared length cannot count ahead']
          : new Headers(options.headers as HeadersInit | undefined).has('content-length')
            ? ['a content-length header', 'which a declared length cannot count ahead']
            : undefined
  if (clash === undefined) return
  throw new TypeError(
    `sluice/lambda: streamNdjson got both padding and ${clash[0]}, which cannot go together: padding writes filler wherever the source pauses, so its bytes depend on timing, ${clash[1]}; drop one of them (use a cursor to resume a padded body).`,
  )
}

/**
 * Throws a `TypeError` when an SSE body is given a `content-length` header while heartbeats (`beats`) or padding
 * are on: both are written whenever the source pauses, so timing decides the body's length, and a slow source would
 * have the body cut mid-stream by a `RangeError` (the length run past) after its `200` went out.
 */
export function checkSseLength(options: { padding?: unknown; headers?: unknown }, beats: boolean): void {
  const header = new Headers(options.headers as HeadersInit | undefined).get('content-length')
  const padded = options.padding !== undefined && options.padding !== false
  if (header === null || !(beats || padded)) return
  const [writer, verb] = beats ? ['heartbeats', 'are'] : ['padding', 'is']
  throw new TypeError(
    `sluice/lambda: streamSse got a content-length header (${JSON.stringify(header)}) with ${writer}, which cannot go together: ${writer} ${verb} written whenever the source pauses, so timing decides the length of an SSE body, which a declared length cannot count ahead; remove the header (the end marker proves the body complete).`,
  )
}
