import { HTTP_TOKEN } from './http-token.ts'
import type { ResponseMetadata } from './types.ts'

/**
 * The content type that tells a function URL the body starts with a JSON prelude and 8 NUL bytes.
 *
 * @example
 * if (contentType === PRELUDE_CONTENT_TYPE) decoder = createPreludeDecoder()
 */
export const PRELUDE_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response'

/** Bytes of NUL that end the prelude. */
const DELIMITER_LENGTH = 8

/**
 * How far the decoder looks for the delimiter before calling the prelude invalid; the service has a limit of
 * its own, and without one a body streamed under the prelude content type by mistake would buffer forever.
 * Default 64 KiB.
 */
export const MAX_PRELUDE_BYTES: number = 64 * 1024

/**
 * Encodes response metadata the way `HttpResponseStream.from` sends it: JSON, then 8 NUL bytes.
 *
 * @example
 * encodePrelude({ statusCode: 201 }) // bytes of '{"statusCode":201}' + 8 × 0x00
 */
export function encodePrelude(metadata: ResponseMetadata): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(metadata))
  const out = new Uint8Array(json.length + DELIMITER_LENGTH)
  out.set(json)
  return out
}

/** The prelude, validated: what the function URL turns into the real status line and headers. */
export interface DecodedPrelude {
  statusCode: number
  headers: Array<[string, string]>
  cookies: string[]
}

/** One step of {@link PreludeDecoder}: still reading, done (with the body bytes after it), or invalid. */
export type PreludeStep =
  | { state: 'pending' }
  | { state: 'done'; prelude: DecodedPrelude; rest: Uint8Array }
  | { state: 'invalid'; reason: string }

/** An incremental decoder of the prelude at the start of a body. */
export interface PreludeDecoder {
  /** Feeds the next bytes of the body. */
  push(chunk: Uint8Array): PreludeStep
  /** Says the body ended; a prelude still pending is then invalid. */
  end(): PreludeStep
}

/**
 * Creates an incremental decoder for the prelude a function writes through `HttpResponseStream.from`.
 *
 * @example
 * const decoder = createPreludeDecoder()
 * const step = decoder.push(chunk)
 * if (step.state === 'done') send(step.prelude, step.rest)
 */
export function createPreludeDecoder(): PreludeDecoder {
  let buffered = new Uint8Array(0)
  let settled: PreludeStep | undefined
  return {
    push(chunk) {
      if (settled) return settled
      const joined = new Uint8Array(buffered.length + chunk.length)
      joined.set(buffered)
      joined.set(chunk, buffered.length)
      buffered = joined
      const at = findDelimiter(buffered)
      if (at === -1) {
        if (buffered.length > MAX_PRELUDE_BYTES) {
          settled = invalid(`no 8-NUL-byte delimiter in the first ${MAX_PRELUDE_BYTES} bytes`)
          return settled
        }
        return { state: 'pending' }
      }
      settled = parsePrelude(buffered.subarray(0, at), buffered.subarray(at + DELIMITER_LENGTH))
      return settled
    },
    end() {
      settled ??= invalid('the response ended before the 8 NUL bytes that close the prelude')
      return settled
    },
  }
}

function invalid(reason: string): PreludeStep {
  return { state: 'invalid', reason }
}

function findDelimiter(bytes: Uint8Array): number {
  let run = 0
  for (let i = 0; i < bytes.length; i++) {
    run = bytes[i] === 0 ? run + 1 : 0
    if (run === DELIMITER_LENGTH) return i - DELIMITER_LENGTH + 1
  }
  return -1
}

function parsePrelude(json: Uint8Array, rest: Uint8Array): PreludeStep {
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder().decode(json))
  } catch {
    return invalid('the prelude is not valid JSON')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return invalid('the prelude is not a JSON object')
  }
  const { statusCode = 200, headers = {}, cookies = [] } = value as Record<string, unknown>
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
    return invalid('headers is not an object of header names to values')
  }
  const headerList: Array<[string, string]> = []
  for (const [name, headerValue] of Object.entries(headers)) {
    if (
      typeof headerValue !== 'string' &&
      typeof headerValue !== 'number' &&
      typeof headerValue !== 'boolean'
    ) {
      return invalid(`header ${JSON.stringify(name)} has a value that is not a string`)
    }
    headerList.push([name.toLowerCase(), String(headerValue)])
  }
  if (!Array.isArray(cookies) || cookies.some((cookie) => typeof cookie !== 'string')) {
    return invalid('cookies is not an array of strings')
  }
  const problem = responseProblem(statusCode, headerList, cookies)
  if (problem !== undefined) return invalid(problem)
  return {
    state: 'done',
    prelude: { statusCode: statusCode as number, headers: headerList, cookies: cookies as string[] },
    rest,
  }
}

/** A header value (or cookie) that HTTP can carry: no CR, LF, NUL or other control character. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/

/**
 * Why a status, headers and cookies cannot be sent as an HTTP response, or `undefined` when they can: the
 * service answers 502 for them rather than send a broken response (a 1xx is not a final status).
 *
 * @example
 * responseProblem(103, [], []) // 'statusCode 103 is not a final HTTP status: it must be a whole number from 200 to 599'
 */
export function responseProblem(
  statusCode: unknown,
  headers: Iterable<readonly [string, string]>,
  cookies: readonly string[],
): string | undefined {
  if (
    typeof statusCode !== 'number' ||
    !Number.isInteger(statusCode) ||
    statusCode < 200 ||
    statusCode > 599
  ) {
    return `statusCode ${JSON.stringify(statusCode)} is not a final HTTP status: it must be a whole number from 200 to 599`
  }
  for (const [name, value] of headers) {
    if (!HTTP_TOKEN.test(name)) {
      return `header name ${JSON.stringify(name)} is not a valid HTTP header name (letters, digits and !#$%&'*+-.^_\`|~, no spaces)`
    }
    if (!FIELD_VALUE.test(value)) {
      return `header ${JSON.stringify(name)} has a value with CR, LF or another character that HTTP headers cannot carry`
    }
  }
  const cookie = cookies.find((cookie) => !FIELD_VALUE.test(cookie))
  if (cookie !== undefined) {
    return `cookie ${JSON.stringify(cookie)} has CR, LF or another character that HTTP headers cannot carry`
  }
  return undefined
}
