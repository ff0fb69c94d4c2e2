import { isKyError, isTimeoutError as isKyTimeoutError } from 'ky'
import { said } from '../core/error-body.ts'
import { retriedClause } from '../core/errors/http-error.ts'
import { reasonOf } from '../core/errors/network-error.ts'
import {
  END_MARKER_HEADER,
  isHTTPError,
  isLimitError,
  isNetworkError,
  isParseError,
  isResumeError,
  isSluiceError,
  isTimeoutError,
  isTruncatedError,
  type LimitError,
  type NetworkError,
  type ResumeError,
  type StreamResponse,
  type TruncatedError,
} from '../index.ts'
import { count } from './count.ts'
import type { OutputMode } from './get-options.ts'

// The failures of `sluice get` in its own words: the library's messages name its options (`timeout`,
// `idleTimeout`, `resume.cursor`…), which are flags here or do not exist.

/**
 * Why a failure leaves the output past continuing, when it does: the checkpoint is stale or damaged, so the
 * next run must start over, whatever it is told.
 */
export function pastContinuing(error: unknown): string | undefined {
  // Continued, it would run past its length again: what the file holds is the start of a body no end proves.
  if (isTruncatedError(error) && error.expected !== undefined && error.received > error.expected)
    return 'the server sent more than the length it declared'
  if (!isResumeError(error)) return undefined
  switch (error.reason) {
    case 'validator-changed':
    case 'range-not-satisfiable':
      return 'the server no longer serves the version it started'
    case 'range-ignored':
    case 'range-mismatch':
      return 'the server no longer answers with the rest of it'
    case 'invalid-checkpoint':
      // With a response, the checkpoint is another request's (a usage mistake); without, it is damaged.
      return error.response === undefined ? 'its checkpoint is damaged' : undefined
    case 'not-resumable': {
      // A success that is not the rest (another media type, no end marker where the stream had one, no body)
      // will be the answer next time too; an error status (busy, credentials) may pass, and the checkpoint stays.
      // Other refusals (a reconnect that failed for a bug, a strategy the consumer cannot follow) carry the
      // stream's own response, not an answer.
      return error.answered && error.response?.ok
        ? 'the server now answers with another kind of body'
        : undefined
    }
    default:
      return undefined
  }
}

/**
 * The `--as` mode that reads a body of each media type, where another mode fails on it: a JSON document read
 * as NDJSON stops at its first line, NDJSON read as one document at its second record, SSE at its `data:`.
 */
const MODE_OF: ReadonlyArray<[RegExp, OutputMode]> = [
  [/^application\/(?:x-)?(?:ndjson|jsonl|json-lines|jsonlines)$/, 'ndjson'],
  [/^text\/event-stream$/, 'sse'],
  [/^application\/(?:[\w.+-]+\+)?json$/, 'json'],
]

/**
 * ` The response is application/x-ndjson: use --as ndjson.`, after a body that did not parse in the mode `as`
 * when its Content-Type names another mode; else ''.
 */
export function otherMode(error: unknown, as: OutputMode, res: StreamResponse | undefined): string {
  if (!isParseError(error) || res === undefined) return ''
  const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
  const mode = MODE_OF.find(([pattern]) => pattern.test(type))?.[1]
  return mode === undefined || mode === as ? '' : ` The response is ${type}: use --as ${mode}.`
}

/** Whether the failure is a dropped body (cut, silent, reset), which the library reconnects when it can. */
export function isDrop(error: unknown): boolean {
  return (
    (isNetworkError(error) && error.response !== undefined) ||
    // Not a body that ran past its declared length: asked for again, it would run past again.
    (isTruncatedError(error) && !(error.expected !== undefined && error.received > error.expected)) ||
    (isTimeoutError(error) && error.phase === 'idle')
  )
}

/** Whether the stream offers no way to take a checkpoint, so a drop could not be resumed either. */
export function refusesCheckpoints(res: StreamResponse): boolean {
  try {
    res.checkpoint()
    return false
  } catch (error) {
    return isResumeError(error)
  }
}

/** Why a stream cannot be continued, in the terms of HTTP rather than of the library's options. */
export function noWayToContinue(res: StreamResponse): string {
  const encoding = res.headers.get('content-encoding')
  if (encoding !== null && /\bbytes\b/i.test(res.headers.get('accept-ranges') ?? ''))
    return `the body is content-encoded (${encoding}), and byte ranges cannot continue an encoded body`
  if (/^text\/event-stream\b/i.test(res.headers.get('content-type') ?? ''))
    return 'the server sends no event ids to continue after (Last-Event-ID)'
  return 'the server offers neither byte ranges (Accept-Ranges: bytes) nor SSE event ids'
}

/** The clause of the library's messages that counts ky's retries (see `retriedClause`): its count. */
const RETRIED = new RegExp(retriedClause(2).replace(/[()`]/g, '\\$&').replace('2', '(\\d+)'))

/**
 * The reason of a failure in the CLI's words: the library's messages name its options (`timeout`,
 * `idleTimeout`, `resume.cursor`…), which are flags here or do not exist. `refused`: the stream cannot be
 * continued, which the caller says in its own sentence. `output`: the file written to, or `undefined` for
 * standard output, named by a write that failed (whose own message names no file).
 */
export function describe(error: unknown, url: string, refused: boolean, output?: string): string {
  if (!(error instanceof Error)) return String(error)
  const where = (isSluiceError(error) ? error.request?.url : undefined) ?? url
  if (isTimeoutError(error)) {
    switch (error.phase) {
      case 'headers':
        return `No response headers arrived from ${where} within ${error.timeoutMs} ms; if the server is slow to start, pass a longer --timeout <ms>.`
      case 'idle':
        return `The body of ${where} was silent for ${error.timeoutMs} ms; pass a longer --idle-timeout <ms>, or make the server send heartbeats.`
      case 'total':
        return `The download from ${where} did not complete within ${error.timeoutMs} ms.`
    }
  }
  if (isResumeError(error)) {
    const status = error.response?.status
    switch (error.reason) {
      case 'attempts-exhausted':
        return `Gave up after ${count(error.attempts, 'reconnect')} to ${where}: ${lastReconnect(error.cause, url)}`
      case 'range-ignored':
        return `The server answered the request for the rest of ${where} with the whole body (200) instead of the rest (206), so the bytes already written cannot be continued.`
      case 'invalid-checkpoint':
        return 'The checkpoint of this download was altered or damaged, so it cannot be trusted.'
      case 'not-resumable':
        if (status === 401 || status === 403)
          return `The server refused the credentials of the request for the rest of ${where} (status ${status}${serverSaid(error)}); pass valid ones with -H.`
        if (status !== undefined && (status < 200 || status >= 300)) return answeredWith(status, error, where)
        return error.message
      default:
        return error.message
    }
  }
  // A drop that could not be resumed: the library adds why in its own option names; the caller says it here.
  if (refused && isNetworkError(error)) return dropped(error, where)
  // Whether or not it was resumed: the library's message adds why not in its own option names.
  if (isTruncatedError(error)) return truncation(error, where)
  // The library's message says to raise an option that has no flag here.
  if (isLimitError(error)) return overLimit(error, where)
  // The library's message says to set ky's `retry`, which is --retry here (an HTTPError's, or a NetworkError's
  // before the headers).
  const retried = RETRIED.exec(error.message)
  if (retried && (isHTTPError(error) || isNetworkError(error)))
    return error.message.replace(retried[0], ` after ${retried[1]} attempts (--retry 0 sends one)`)
  const code = (error as { code?: unknown }).code
  // A failed write (a full disk) names no file: say which.
  if (!isSluiceError(error) && typeof code === 'string' && 'syscall' in error)
    return `${error.message} (could not write ${output ?? 'standard output'}).`
  return error.message
}

/**
 * Why the last reconnect failed, after which no more were made: the library words the failures of a reconnect
 * itself (no connection, an error status) as its own; here they are said as the request for the rest.
 */
function lastReconnect(cause: unknown, url: string): string {
  if (!isNetworkError(cause)) return describe(cause, url, false)
  const where = cause.request?.url ?? url
  const status = cause.response?.status
  if (status === undefined) {
    const failure = unwrapped(cause.cause)
    if (isKyTimeoutError(failure) && !isSluiceError(failure))
      return `No response headers arrived for the request for the rest of ${where} in time; if the server is slow to start, pass a longer --timeout <ms>.`
    return `The request for the rest of ${where} failed${cause.cause === undefined ? '' : ` (${reasonOf(failure)})`}.`
  }
  if (status < 200 || status >= 300) return answeredWith(status, cause, where)
  return dropped(cause, where)
}

/** A connection that dropped in the body, with the runtime's reason. */
function dropped(error: NetworkError, where: string): string {
  const cause = error.cause === undefined ? '' : ` (${reasonOf(unwrapped(error.cause))})`
  return `The connection to ${where} dropped after ${count(error.offset, 'byte')} of the body${cause}.`
}

/** An error status in answer to the request for the rest, with what the server said. */
function answeredWith(status: number, error: ResumeError | NetworkError, where: string): string {
  return `The server answered the request for the rest of ${where} with status ${status}${serverSaid(error)}.`
}

/** The runtime's own error inside ky's, which only restates the request (`Request failed …: GET url`). */
function unwrapped(error: unknown): unknown {
  let inner = error
  while (isKyError(inner) && !isSluiceError(inner) && inner.cause !== undefined) inner = inner.cause
  return inner
}

/**
 * What a body whose end could not be proven fell short of, in the terms of HTTP: the end marker its server
 * announced, the length it declared, or a part that did not say the length; and how many bytes arrived. The
 * caller says whether it can be continued and how.
 */
function truncation(error: TruncatedError, where: string): string {
  const { received, expected } = error
  const headers = error.response?.headers
  if (expected !== undefined && received > expected)
    return `The body of ${where} ran past its declared length: ${count(received, 'byte')} arrived where the server declared ${expected}, so the length is wrong or the body is not the one declared, and it cannot be proven complete.`
  const cut =
    'the connection was cut, or the server stopped early (a function that failed or timed out after its first byte)'
  const short = expected !== undefined && received < expected
  if (headers?.get(END_MARKER_HEADER) === 'marker')
    return `The body of ${where} ended after ${short ? `${received} of the ${count(expected, 'byte')} its server declared, and` : count(received, 'byte')} without the end marker its server announced (${END_MARKER_HEADER}: marker), so it is incomplete: ${cut}.`
  if (expected === undefined && /\/\*\s*$/.test(headers?.get('content-range') ?? ''))
    return `The answer for the rest of ${where} ended after byte ${received - 1} without saying the body's length (Content-Range: bytes …/*), so it cannot be told whether more follows.`
  if (short)
    return `The body of ${where} ended after ${received} of the ${count(expected, 'byte')} its server declared, so it is incomplete: ${cut}.`
  return `The body of ${where} ended after ${count(received, 'byte')}, before its end could be proven, so it may be incomplete: ${cut}.`
}

/**
 * What part of the body was over one of the library's limits (which have no flags), and how to get the body
 * anyway: as bytes, which have no limit.
 */
function overLimit(error: LimitError, where: string): string {
  // Where the part over the limit starts, when the library knows it.
  const { line, offset } = error
  const size = `${count(error.max, 'byte')}${error.max % 2 ** 20 === 0 ? ` (${error.max / 2 ** 20} MiB)` : ''}`
  const rescue = 'use --as bytes (with -o <file> to write a file) to save the body as it is'
  switch (error.limit) {
    case 'maxLineBytes':
      return `${line === undefined ? 'A line' : `Line ${line}`} of ${where} is longer than the line limit of ${size}, so the output stops before it; ${rescue}.`
    case 'maxEventBytes':
      return `An event of ${where}${offset === undefined ? '' : ` (starting at byte ${offset})`} is larger than the event limit of ${size}, so the output stops before it; ${rescue}.`
    case 'maxDepth':
      return `The JSON document of ${where} nests deeper than ${error.max} levels${offset === undefined ? '' : ` (at byte ${offset})`}, the most --as json reads; ${rescue}.`
    default:
      return `The body of ${where} is larger than the limit of ${size}; ${rescue}.`
  }
}

/** `; the server said: "…"`, as the library quotes the excerpt of the error page in its message, if any. */
function serverSaid(error: ResumeError | NetworkError): string {
  return error.excerpt === undefined ? '' : `; ${said(error.excerpt)}`
}
