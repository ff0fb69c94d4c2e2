import { END_MARKER_HEADER } from '../end-marker.ts'
import { ResumeError } from '../errors/resume-error.ts'
import type { ErrorContext } from '../errors/sluice-error.ts'
import { idToHeader } from './event-id-header.ts'
import type { CursorRequest, ResolvedResume, ResumeStrategy } from './options.ts'

/** What the resume engine knows when it has to reconnect. */
export interface ResumeState {
  /** Bytes of the logical body received from the network so far (the Range offset). */
  received: number
  /** Validators of the first response, for `If-Range`. */
  etag: string | undefined
  lastModified: string | undefined
  /**
   * Whether `lastModified` is a strong validator (RFC 9110 §8.8.2.2: the first answer's `Date` is 60 s or more after
   * it), which alone may go in `If-Range` as a date.
   */
  strongDate?: boolean | undefined
  /** The complete length of the representation, as the server declared it (not `options.total`). */
  length: number | undefined
  /**
   * Whether `length` is a Range answer's, which fetch asks for uncoded: from another origin too, a change of it is
   * another version's.
   */
  plain?: boolean | undefined
  acceptRanges: boolean
  /** The first response's content coding, if any: Range cannot continue an encoded body. */
  encoding?: string | undefined
  /** The first response's media type (without parameters): an answer of another type is not the stream. */
  contentType?: string | undefined
  /** Whether the stream announced an end marker: an answer that does not cannot prove its end. */
  marker?: boolean | undefined
  /** The last SSE event id the consumer saw, when it reads events. */
  lastEventId: string | undefined
  /** The last item the consumer was given, when it reads records or events. */
  lastItem: { value: unknown } | undefined
  /** A checkpoint's cursor request, for as long as no item was given since. */
  cursor?: CursorRequest | undefined
  /** Whether the consumer has been given anything yet. */
  delivered: boolean
  /**
   * Where a part the caller asked for with its own bounded Range ends (exclusive): a resume asks for no more,
   * and refuses an answer that goes past it.
   */
  partEnd?: number | undefined
}

/** The strategy for this drop, or why there is none. */
export function pickStrategy(
  resume: ResolvedResume,
  state: ResumeState,
): { strategy: ResumeStrategy } | { none: string } {
  if (resume.strategy !== 'auto') return { strategy: resume.strategy }
  if (state.lastEventId !== undefined) return { strategy: 'last-event-id' }
  if (state.acceptRanges && state.encoding === undefined) return { strategy: 'range' }
  if (resume.cursor !== undefined) return { strategy: 'cursor' }
  const ranges =
    state.acceptRanges && state.encoding !== undefined
      ? `its body is content-encoded (${state.encoding}), which byte ranges cannot continue`
      : 'the server announces no `Accept-Ranges: bytes`'
  // Not "sends no ids": an empty `id:` ends the id in force (WHATWG), and a stream that sent ids may have none.
  return { none: `${ranges}, no SSE event id is in force, and no \`resume.cursor\` was given` }
}

/** The headers and search params that ask for the rest of the stream. */
export function resumeRequest(
  strategy: ResumeStrategy,
  state: ResumeState,
  resume: ResolvedResume,
): CursorRequest {
  switch (strategy) {
    case 'range': {
      const last = state.partEnd === undefined ? '' : String(state.partEnd - 1)
      const headers: Record<string, string> = { range: `bytes=${state.received}-${last}` }
      const validator = ifRange(state.etag, state.strongDate ? state.lastModified : undefined)
      if (validator !== undefined) headers['if-range'] = validator
      return { headers }
    }
    case 'last-event-id': {
      const id = state.lastEventId
      // Any id the stream can give goes: the parser keeps none with a NUL, and a line break ends its line.
      return id === undefined ? {} : { headers: { 'last-event-id': idToHeader(id) } }
    }
    case 'cursor':
      if (state.lastItem === undefined) return state.cursor ?? {}
      if (resume.cursor === undefined) {
        throw new ResumeError(
          'not-resumable',
          'The cursor strategy needs `resume.cursor`: (lastItem) => ({ searchParams, headers }).',
          0,
        )
      }
      return resume.cursor(state.lastItem.value)
  }
}

/** What to do with the answer to a resume request. */
export type Acceptance =
  /**
   * Bytes continue exactly where they stopped; `end` is the absolute end of the body, when declared. `partEnd`:
   * where a part ends that does not say the body's length (`bytes N-M/*`), which is not the body's end: a clean
   * end there asks for the rest, which a `416 bytes *\/M` may prove there is none of.
   */
  | { kind: 'continue'; end: number | undefined; partEnd?: number }
  /** A full body that is known to be the same: discard the first `bytes`, then continue. */
  | { kind: 'skip'; bytes: number }
  /** A fresh stream that starts at a unit boundary after the last delivered item: decoders start over. */
  | { kind: 'restart' }
  /**
   * Nothing was missing after all. `lengthKnown`: the answer gave the body's length (a `416` with
   * `bytes *\/N`), so what was delivered is the total.
   */
  | { kind: 'complete'; lengthKnown: boolean }

/** Checks the answer to a resume request; a refusal is a `ResumeError` that says why. */
export function acceptResume(
  strategy: ResumeStrategy,
  response: Response,
  state: ResumeState,
  resume: ResolvedResume,
  attempts: number,
  cause?: unknown,
  request?: Request,
): Acceptance {
  // A refusal keeps the drop that started the resume as its cause, and names the request it answers.
  const context = { request, response, cause, answered: true }
  const { status } = response
  if (status >= 200 && status < 300) {
    const mismatch = answerMismatch(state, response)
    if (mismatch !== undefined) {
      throw new ResumeError(
        'not-resumable',
        `The server answered the resume request with ${mismatch}; the stream cannot be continued.`,
        attempts,
        context,
      )
    }
  }
  if (strategy !== 'range') {
    if (status === 204) return { kind: 'complete', lengthKnown: false }
    if (status >= 200 && status < 300) return { kind: 'restart' }
    throw refusal(response, attempts, context)
  }
  const offset = state.received
  // The Range that was sent, as the messages name it: a bounded part's end included.
  const asked = `bytes=${offset}-${state.partEnd === undefined ? '' : state.partEnd - 1}`
  const changed = (change: string): ResumeError =>
    new ResumeError(
      'validator-changed',
      // Without a drop, the request is a checkpoint's (`resumeFrom`): nothing was attempted before it here. From
      // another origin, what changed may be the coding alone, which CORS hides (see representationChange), until
      // a Range answer (uncoded) gave the length.
      `The resource changed ${cause ? 'between attempts' : 'since the checkpoint'} (${change})${hidesCoding(response, state) ? ', or is content-encoded (hidden by CORS); the bytes already delivered may' : '; the bytes already delivered'} belong to another version, so the stream cannot be resumed.`,
      attempts,
      context,
    )
  if (status === 200 || status === 206) {
    const change = representationChange(state, response, representationLength(response))
    if (change !== undefined) throw changed(change)
  }
  if (status === 206) {
    const header = response.headers.get('content-range')
    const range = parseContentRange(header)
    if (range === undefined || range.start !== offset) {
      const why = range === undefined ? 'which is not a byte range' : `which does not start at ${offset}`
      throw new ResumeError(
        'range-mismatch',
        `The server answered Range ${asked} with ${header === null ? 'a 206 without a Content-Range header' : `Content-Range "${header}", ${why}`}; the stream cannot be spliced.`,
        attempts,
        context,
      )
    }
    const { partEnd } = state
    if (partEnd !== undefined && (range.end ?? range.total ?? Number.POSITIVE_INFINITY) > partEnd) {
      throw new ResumeError(
        'range-mismatch',
        `The server answered Range ${asked} with Content-Range "${header}", which goes past byte ${partEnd - 1}, the end of the part asked for.`,
        attempts,
        context,
      )
    }
    // A shorter part than asked for is not the end: the rest is asked for again, as after a drop. A part that
    // does not say the whole's length (`bytes N-M/*`) does not shorten the length declared before, nor end a
    // body of unknown length — nor, from another origin, end where a length no Range answer gave says: it may be
    // a compressed Content-Length (see representationChange).
    const end = partEnd ?? range.total ?? (hidesCoding(response, state) ? undefined : state.length)
    return end === undefined && range.end !== undefined
      ? { kind: 'continue', end, partEnd: range.end }
      : { kind: 'continue', end }
  }
  if (status === 416) {
    const range = /^bytes \*\/(\d+)$/i.exec(response.headers.get('content-range')?.trim() ?? '')
    if (range && Number(range[1]) === offset) {
      // The end of the same version only: a server that lost or replaced the body says so of any offset asked.
      // Its length must be the one declared before, unless a coding CORS hides may have counted that one, which
      // then declared no end (declared-length.ts). An end marker announced and not received is no reason to refuse:
      // sluice/lambda answers a Range at the end of a marked body so (an empty one, or one cut right before its
      // marker). A part the caller asked for, reached to its end, needs no proof (client.ts answers so).
      if (state.partEnd === undefined || offset < state.partEnd) {
        const change = representationChange(
          state,
          response,
          hidesCoding(response, state) ? undefined : offset,
        )
        if (change !== undefined) throw changed(change)
      }
      return { kind: 'complete', lengthKnown: true }
    }
    throw new ResumeError(
      'range-not-satisfiable',
      `The server refused Range ${asked} (416${range ? `, its body has ${range[1]} bytes` : ''}); the resource changed or the offset is wrong.`,
      attempts,
      context,
    )
  }
  if (status === 200) {
    if (state.partEnd !== undefined) {
      throw new ResumeError(
        'range-ignored',
        `The server answered Range ${asked} with the full body (200) instead of 206; the part asked for cannot be continued from it.`,
        attempts,
        context,
      )
    }
    // From byte 0 the whole body is the rest: nothing delivered is skipped or spliced.
    if (resume.skipOnRestart || offset === 0) return { kind: 'skip', bytes: offset }
    throw new ResumeError(
      'range-ignored',
      `The server answered Range ${asked} with the full body (200) instead of 206. If the body is deterministic, set \`resume.skipOnRestart: true\` to skip the bytes already delivered.`,
      attempts,
      context,
    )
  }
  throw refusal(response, attempts, context)
}

/** Whether a failed resume answer is worth another attempt (the server is busy or failing for now). */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500
}

function refusal(
  response: Response,
  attempts: number,
  context: ErrorContext & { answered: boolean },
): ResumeError {
  const { status } = response
  // A busy status (isRetryableStatus) is asked again, and never refused here: its attempts run out instead.
  const why =
    status === 401 || status === 403
      ? ', refusing its credentials: refresh them in a `beforeRequest` hook, which runs on every reconnect'
      : ''
  return new ResumeError(
    'not-resumable',
    `The server answered the resume request with status ${status}${why}; the stream cannot be continued.`,
    attempts,
    context,
  )
}

/** `bytes N-M/T`, `bytes N-M/*`, or sluice's `bytes N-*\/*` for a stream of unknown length; the unit in any case (RFC 9110 §14.1). */
export function parseContentRange(
  value: string | null,
): { start: number; end: number | undefined; total: number | undefined } | undefined {
  const match = /^bytes (\d+)-(\d+|\*)\/(\d+|\*)$/i.exec(value?.trim() ?? '')
  if (!match) return undefined
  const start = Number(match[1])
  const end = match[2] === '*' ? undefined : Number(match[2]) + 1
  // A last byte before the first is no range (RFC 9110 §14.4): an empty part would be asked for again forever.
  if (end !== undefined && end <= start) return undefined
  return { start, end, total: match[3] === '*' ? undefined : Number(match[3]) }
}

/**
 * The `If-Range` validator (RFC 9110 §13.1.5): a strong entity tag, or the date when there is no entity tag at
 * all — never a weak tag, nor a date beside one, nor a weak date (the caller passes only a strong one, see
 * `ResumeState.strongDate`). Without it the answer is still checked (`representationChange`).
 */
export function ifRange(etag: string | undefined, lastModified: string | undefined): string | undefined {
  if (etag !== undefined) return etag.startsWith('W/') ? undefined : etag
  return lastModified
}

/**
 * The complete length of the representation a response declares: a 206's `Content-Range` total, or for a
 * whole body a function URL's remapped length or the `Content-Length` of an unencoded body.
 */
export function representationLength(response: Response): number | undefined {
  // A part's lengths (Content-Length, and a function URL's remapped one) are the part's, not the whole's.
  if (response.status === 206) return parseContentRange(response.headers.get('content-range'))?.total
  const remapped = parseLength(response.headers.get('x-amzn-remapped-content-length'))
  if (remapped !== undefined) return remapped
  if (encodingOf(response) !== undefined) return undefined
  return parseLength(response.headers.get('content-length'))
}

/**
 * Whether a length may count a coding CORS hides: an answer from another origin, until a Range answer (which fetch
 * asks for uncoded) gave the plain length (`plain`).
 */
export const hidesCoding = (response: Response, state: { plain?: boolean | undefined }): boolean =>
  response.type === 'cors' && !state.plain

/** The response's content coding, if any (`identity` is none): its lengths and ranges are not the body's. */
export function encodingOf(response: Response): string | undefined {
  const encoding = response.headers.get('content-encoding')?.trim().toLowerCase()
  return encoding === undefined || encoding === '' || encoding === 'identity' ? undefined : encoding
}

/**
 * How the answer to a range request shows another version than the bytes delivered so far, if it does: a
 * different entity tag (weak or strong), modification date or complete length. A server that honours
 * `If-Range` answers a changed resource with 200 and the new validators, which this catches too. From another
 * origin, the first answer's length may have counted a coding CORS hid (declared-length.ts), and a Range comes
 * back plain (fetch asks it with `Accept-Encoding: identity`), with the same entity tag, made weak by nginx's gzip:
 * that tag, on both, says the same version, whose complete length is the answer's. Once a Range answer gave the
 * length, no coding counted it: a change is another version's, from any origin. `length`: the complete length the
 * answer gives (`representationLength`, or a 416's `bytes *\/N`: its Content-Length is its text's).
 */
function representationChange(
  state: ResumeState,
  response: Response,
  length: number | undefined,
): string | undefined {
  const etag = response.headers.get('etag') ?? undefined
  if (state.etag !== undefined && etag !== undefined && opaque(etag) !== opaque(state.etag))
    return `ETag ${state.etag} became ${etag}`
  const lastModified = response.headers.get('last-modified') ?? undefined
  if (state.lastModified !== undefined && lastModified !== undefined && lastModified !== state.lastModified)
    return `Last-Modified ${state.lastModified} became ${lastModified}`
  if (
    state.length !== undefined &&
    length !== undefined &&
    length !== state.length &&
    !(hidesCoding(response, state) && state.etag && etag)
  )
    return `its length ${state.length} became ${length} bytes`
  return undefined
}

/**
 * How a 2xx answer to a resume request is not the stream it would continue, if it is not: another media type
 * (a sign-in or error page), or no end marker where the stream announced one, so that its end could not be
 * proven.
 */
function answerMismatch(state: ResumeState, response: Response): string | undefined {
  const type = mediaType(response.headers.get('content-type'))
  if (state.contentType !== undefined && type !== undefined && type !== state.contentType)
    return `${type}, not the ${state.contentType} of the stream it would continue`
  if (
    state.marker === true &&
    response.headers.get(END_MARKER_HEADER) !== 'marker' &&
    response.status !== 204
  )
    return `a body that announces no end marker (${END_MARKER_HEADER}), where the stream had one to prove its end`
  return undefined
}

/** `text/event-stream` of `text/event-stream; charset=utf-8`, lower-cased. */
export function mediaType(value: string | null): string | undefined {
  const type = value?.split(';', 1)[0]?.trim().toLowerCase()
  return type === undefined || type === '' ? undefined : type
}

/** An entity tag without its weakness mark: `W/"a"` and `"a"` name the same version, weakly compared. */
function opaque(etag: string): string {
  return etag.startsWith('W/') ? etag.slice(2) : etag
}

export function parseLength(value: string | null): number | undefined {
  if (value === null || !/^\d+$/.test(value.trim())) return undefined
  return Number(value)
}
