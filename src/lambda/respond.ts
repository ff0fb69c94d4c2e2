import { finished as whenClosed } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { asError } from '../core/as-error.ts'
import { isBodiless, isRangeableStatus } from '../core/bodiless.ts'
import { ifRangeAllows, strongTag } from '../runtime/if-range.ts'
import { responseProblem } from '../runtime/prelude.ts'
import { END_MARKER_HEADER, endMarkerLine } from './marker.ts'
import type { LengthOptions, ResponseOptions } from './options.ts'
import { bounded, Refusal, type RefusalReport, reportRefusal } from './refusal.ts'
import { headerOf, isHead, rangeStartOf } from './request.ts'
import type { AnyResponseStream, Awslambda, HttpResponseMetadata, ResponseStream } from './types.ts'

/** What a helper tells the writer about its format. */
export interface BodyFormat {
  /** Helper name, for error messages. */
  helper: RefusalReport['helper']
  contentType: string
  /** Headers the format wants unless the caller set them (SSE's `cache-control`). */
  defaultHeaders?: Record<string, string>
  /** Whether the format's bytes can be deterministic; SSE heartbeats make them not. */
  rangeable: boolean
  /**
   * Lets go of the caller's source when the answer needs none of it, or the response stream closed before its end,
   * with that stream's error (see `releaseSource` in source.ts).
   */
  release?: (reason?: Error) => void
  /**
   * What a HEAD runs in place of reading the source: throws the {@link Refusal} (or `TypeError`) its GET would get
   * before the first byte, reading no more of the source than that needs. Default: nothing to refuse.
   */
  probe?: () => void | Promise<void>
}

const encoder = new TextEncoder()

/** Finds the object that sends the prelude, or says how to provide one. */
export function resolveAwsLambda<T extends Partial<Awslambda>>(given: T | undefined, helper: string): T {
  const found = given ?? (globalThis as unknown as { awslambda?: T }).awslambda
  if (found === undefined) {
    throw new Error(
      `sluice/lambda: ${helper} needs the awslambda global, which is missing; run it inside the Lambda Node.js runtime or sluice/dev, or pass { awslambda } in its options. In a test, call installAwslambdaGlobal() from sluice/mock before importing the handler module (with await import(): a static import runs first), or pass { awslambda } with the awslambda that sluice/mock exports.`,
    )
  }
  return found
}

function normaliseEtag(etag: string | undefined, helper: string): string | undefined {
  if (etag === undefined) return undefined
  // The weakness mark is case-sensitive (RFC 9110), but a lower-case one is surely meant as one.
  if (etag.startsWith('W/') || etag.startsWith('w/')) {
    throw new TypeError(
      `sluice/lambda: ${helper} got the weak ETag ${etag}, but byte ranges need a strong one; drop the W/ prefix only if the bytes are identical on every request.`,
    )
  }
  const opaque = etag.length >= 2 && etag.startsWith('"') && etag.endsWith('"') ? etag.slice(1, -1) : etag
  // What goes between the quotes (RFC 9110 §8.8.3): quoting `"v1` or `a b` as is would send no entity tag at all,
  // which If-Range never matches, so every resume would start over.
  if (!/^[\x21\x23-\x7e\x80-\xff]*$/.test(opaque)) {
    throw new TypeError(
      `sluice/lambda: ${helper} got the ETag ${JSON.stringify(etag)}, which is not one: an entity tag is visible ASCII characters other than a double quote, with or without the quotes around them.`,
    )
  }
  return `"${opaque}"`
}

/** A `content-length` header among the options' headers, as given. */
function lengthHeader(options: ResponseOptions): string | null {
  return new Headers(options.headers).get('content-length')
}

/**
 * The body length the options state — `length`, else a `content-length` header — as given (checked later). A
 * header is digits only (RFC 9110 §8.6): `0x1A` or `1e3` is not a length, whatever `Number()` makes of it.
 */
function statedLength(options: ResponseOptions & LengthOptions): number | undefined {
  if (options.length !== undefined) return options.length
  const header = lengthHeader(options)
  if (header === null) return undefined
  return /^\d+$/.test(header) ? Number(header) : Number.NaN
}

/**
 * Whether a body written with these options ends with the end-marker line: one with a body and no length to
 * declare (a length of 0 is proven by the marker too). A format whose content could read as that line when a cut
 * falls right after it writes it otherwise then (see `ndjsonLines`, `formatSseEvent`).
 */
export function endsWithMarker(options: ResponseOptions & LengthOptions): boolean {
  const stated = statedLength(options)
  return !isBodiless(options.statusCode ?? 200) && (stated === undefined || stated === 0)
}

/** The stated length (see {@link statedLength}), or a `RangeError` that says what was given when it is no length. */
function checkedLength(options: ResponseOptions & LengthOptions, helper: string): number | undefined {
  const length = statedLength(options)
  if (length === undefined || (Number.isSafeInteger(length) && length >= 0)) return length
  const got =
    options.length === undefined
      ? `a content-length header of ${JSON.stringify(lengthHeader(options))}`
      : `length ${length}`
  throw new RangeError(
    `sluice/lambda: ${helper} got ${got}; pass the body's size in bytes as a non-negative integer, or leave it out.`,
  )
}

/**
 * Writes `content` as the response body: status and headers go out with the first bytes, `Range` is answered
 * over a deterministic body, the length is declared or the end marker appended, and backpressure is honoured.
 *
 * The prelude waits for the first body bytes on purpose: an error before them can still fail the invocation
 * (the function URL answers 502) instead of becoming a 200 whose body is cut, and a {@link Refusal} is answered
 * with its own status (the promise then resolves: the request was answered), as is a `Range` past the end (416);
 * both are reported to `options.onRefusal` (by default a `console.warn` line). Every answer writes before it ends,
 * as the runtime sends the prelude from `write()` only: a bodiless one writes an empty chunk.
 *
 * A HEAD gets the head its GET would get, and no body, without the source being read (see `BodyFormat.probe`),
 * so at once: the service would drop the body, and producing it would cost the function the GET's time. Range is
 * defined for GET only (RFC 9110 §14.2): a HEAD's head is that of the full answer, never a 206 or 416. Any other
 * method is answered as a GET, a POST's Range too: sluice resumes a POST report by Range.
 */
export async function writeBody(
  given: AnyResponseStream,
  content: AsyncIterable<Uint8Array>,
  options: ResponseOptions & LengthOptions,
  format: BodyFormat,
): Promise<void> {
  const { helper } = format
  // sluice/mock's and sluice/dev's streams and runtime objects are typed without Node's types; in Node they are
  // the Writables and the awslambda that the Lambda runtime's types describe.
  const responseStream = given as ResponseStream
  const lambda = resolveAwsLambda(
    options.awslambda as Pick<Awslambda, 'HttpResponseStream'> | undefined,
    helper,
  )
  const etag = normaliseEtag(options.etag, helper)
  const headers: Record<string, string> = { ...format.defaultHeaders }
  const cookies = [...(options.cookies ?? [])]
  new Headers(options.headers).forEach((value, name) => {
    // The prelude's headers hold one value per name, so several Set-Cookie headers would collapse into the last:
    // a function URL response carries its cookies in the prelude's `cookies` instead.
    if (name === 'set-cookie') cookies.push(value)
    else headers[name] = value
  })
  delete headers['content-length']
  const statusCode = options.statusCode ?? 200
  // `Headers` refuses CR, LF and NUL in a header value, but not the other control characters, and a cookie is no
  // header here: the runtime would send neither, and the function URL would answer 502 once the body started.
  const problem = responseProblem(statusCode, Object.entries(headers), cookies)
  if (problem !== undefined) {
    throw new TypeError(
      `sluice/lambda: ${helper} cannot send its response: ${problem}; remove the character, or encode the value (such as with encodeURIComponent).`,
    )
  }
  // A 204, 205 or 304 has no body to measure, mark or range: its source must be empty, and only the headers go.
  const bodiless = isBodiless(statusCode)
  const stated = checkedLength(options, helper)
  const length = bodiless ? undefined : stated
  // An empty body can hang a function URL, so a zero length is proven by the marker line instead.
  const declared = length === 0 ? undefined : length
  // Kept on a bodiless status too: the function URL would send application/octet-stream in its place.
  headers['content-type'] ??= format.contentType
  // Range (and so Accept-Ranges) applies to the full answer's status only when it is a success with a body.
  const rangeable = format.rangeable && (options.range ?? etag !== undefined) && isRangeableStatus(statusCode)
  if (rangeable) headers['accept-ranges'] = 'bytes'
  if (etag !== undefined) headers.etag = etag
  const head = isHead(options.request)
  const requested = rangeable && !head ? rangeStartOf(options.request) : undefined
  // An ETag or Last-Modified passed in `headers` validates If-Range like the `etag` option does.
  const validators = { etag: etag ?? strongTag(headers.etag), lastModified: headers['last-modified'] }
  const start =
    requested !== undefined && ifRangeAllows(headerOf(options.request, 'if-range'), validators)
      ? requested
      : undefined

  const send = (metadata: HttpResponseMetadata): ResponseStream => {
    const prelude: HttpResponseMetadata = { ...metadata }
    if (cookies.length > 0) prelude.cookies = cookies
    return lambda.HttpResponseStream.from(responseStream, prelude)
  }
  // Every refusal is reported once its answer is written (or has failed to be): the client sees why, and the
  // function's log must say so too; a report that throws cannot keep the answer from the client.
  const answerRefusal = async (
    answer: () => Promise<void>,
    report: Omit<RefusalReport, 'helper'>,
  ): Promise<void> => {
    try {
      await answer()
    } finally {
      reportRefusal({ ...report, helper }, options.onRefusal)
    }
  }
  const unsatisfiable = async (total: number): Promise<void> => {
    const message = `Range not satisfiable: the body is ${total} bytes long.`
    const text = encoder.encode(`${message}\n`)
    const out = send({
      statusCode: 416,
      headers: {
        ...headers,
        'content-type': 'text/plain; charset=utf-8',
        'content-length': String(text.byteLength),
        'content-range': `bytes */${total}`,
      },
    })
    const range = headerOf(options.request, 'range')
    await answerRefusal(() => pipeline([text], out), {
      status: 416,
      message,
      asked: range === undefined ? {} : { range: bounded(range) },
    })
  }
  // A request the source cannot serve (a position it cannot start from) is answered, not failed: the caller's
  // headers (CORS, cookies) go too, so that a browser can read why, but none that describe the stream. The text
  // quotes the request's cursor or id: plain text, never sniffed as anything else.
  const refuse = async (refusal: Refusal): Promise<void> => {
    // A HEAD's 409 says the text's length, as its GET's does, and sends none of it.
    const text = encoder.encode(`${refusal.message}\n`)
    const { etag: _etag, 'accept-ranges': _ranges, ...rest } = headers
    const out = send({
      statusCode: refusal.status,
      headers: {
        ...rest,
        'content-type': 'text/plain; charset=utf-8',
        'x-content-type-options': 'nosniff',
        'content-length': String(text.byteLength),
      },
    })
    await answerRefusal(() => pipeline([head ? new Uint8Array(0) : text], out), {
      status: refusal.status,
      message: refusal.message,
      asked: refusal.asked,
    })
  }

  if (start !== undefined && length !== undefined && start >= length) {
    // Answered without reading the source, which would otherwise stay open: nothing will iterate it now.
    format.release?.()
    await unsatisfiable(length)
    return
  }

  const iterator = content[Symbol.asyncIterator]()
  // The response stream can close before its end (the handler destroys it, the runtime's connection fails) while the
  // source is idle: a pull that waited for the source would hold the helper, and what the source holds open (a file,
  // a connection), until the function's timeout. The source is released then, and the pull given up.
  let closed: Error | undefined
  let abandon: ((error: Error) => void) | undefined
  whenClosed(responseStream, (error) => {
    if (!error) return
    closed = error
    format.release?.(error)
    abandon?.(error)
  })
  const pull = (): Promise<IteratorResult<Uint8Array>> =>
    closed
      ? Promise.reject(closed)
      : new Promise((resolve, reject) => {
          abandon = reject
          iterator.next().then(resolve, reject)
        })
  let offset = 0
  const count = (chunk: Uint8Array): void => {
    offset += chunk.byteLength
    if (length !== undefined && offset > length) {
      throw new RangeError(
        `sluice/lambda: ${helper} produced more than the declared length of ${length} bytes; fix the length option or the source, or leave the length out to use the end marker.`,
      )
    }
  }
  const checkEnd = (): void => {
    if (length !== undefined && offset !== length) {
      throw new RangeError(
        `sluice/lambda: ${helper} produced ${offset} bytes but declared a length of ${length}; fix the length option or the source, or leave the length out to use the end marker.`,
      )
    }
  }

  // Pull until the first byte to send (past the range start), so that status and headers are still free.
  const skip = start ?? 0
  let first: Uint8Array | undefined
  let ended = false
  try {
    if (head) {
      await format.probe?.()
      format.release?.()
    } else
      for (;;) {
        const next = await pull()
        if (next.done) {
          ended = true
          checkEnd()
          break
        }
        const before = offset
        count(next.value)
        if (bodiless && offset > 0) {
          throw new TypeError(
            `sluice/lambda: ${helper} got a body for status ${statusCode}, which has none; pass an empty source ([]), or another status.`,
          )
        }
        if (offset > skip) {
          first = next.value.subarray(Math.max(0, skip - before))
          break
        }
      }
  } catch (error) {
    if (!ended) void iterator.return?.()?.catch(() => {})
    if (error instanceof Refusal) {
      await refuse(error)
      return
    }
    // The error is the promise's to report: with no pipeline listening yet, destroy() must not also raise an
    // unhandled 'error' event (a plain Writable in a unit test would crash the process).
    responseStream.once('error', () => {})
    responseStream.destroy(asError(error))
    throw error
  }
  if (start !== undefined && ended && offset <= start) {
    await unsatisfiable(offset)
    return
  }
  // A HEAD's head declares or marks the body its GET would send; a 204, 205 or 304 has none to.
  if (declared !== undefined) {
    headers['content-length'] = String(declared - skip)
    if (start !== undefined) headers['content-range'] = `bytes ${start}-${declared - 1}/${declared}`
  } else if (!bodiless) {
    headers[END_MARKER_HEADER] = 'marker'
    if (start !== undefined) headers['content-range'] = `bytes ${start}-*/*`
  }
  if (bodiless || head) {
    // The Lambda runtime writes the prelude from write() only, never from end(): without a write, the status and
    // headers would be lost (a 200 with default headers). An empty chunk sends the prelude and no body byte.
    await pipeline([new Uint8Array(0)], send({ statusCode, headers }))
    return
  }
  const out = send({ statusCode: start === undefined ? statusCode : 206, headers })

  async function* body(): AsyncGenerator<Uint8Array> {
    let finished = ended
    try {
      if (first !== undefined) yield first
      while (!finished) {
        const next = await pull()
        if (next.done) {
          finished = true
          checkEnd()
          break
        }
        count(next.value)
        if (next.value.byteLength > 0) yield next.value
      }
      if (declared === undefined) yield encoder.encode(endMarkerLine(offset))
    } catch (error) {
      // A refusal after the first byte (SSE's, once a heartbeat sent the 200) went out in-band before it was
      // thrown: reported as every refusal is, once its answer is written.
      if (error instanceof Refusal) {
        const { status, message, asked } = error
        reportRefusal({ status, message, helper, asked }, options.onRefusal)
      }
      throw error
    } finally {
      // The consumer stopped early (the stream failed): release the source too, without waiting on a pull given up
      // (see `pull`), which may never end.
      if (!finished) {
        const closing = iterator.return?.()
        if (closed === undefined) await closing
        else closing?.catch(() => {})
      }
    }
  }
  // pipeline waits for 'drain' between writes and destroys `out` with any error, so a failing source leaves
  // the client with a cut body (no marker), never a clean end.
  await pipeline(body(), out)
}
