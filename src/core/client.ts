import type { Input, KyInstance, Options as KyOptions, SearchParamsOption } from 'ky'
import ky, {
  isKyError,
  isHTTPError as isKyHTTPError,
  isNetworkError as isKyNetworkError,
  isTimeoutError as isKyTimeoutError,
  HTTPError as KyHTTPError,
  NetworkError as KyNetworkError,
  TimeoutError as KyTimeoutError,
  replaceOption,
} from 'ky'
import { BodySource, busyAnswer, gaveUp, withSaid } from './body-source.ts'
import { boundErrorBody, excerptFor, excerptOf, pageExcerpt } from './error-body.ts'
import { HTTPError, retriedClause } from './errors/http-error.ts'
import { clauseOf, NetworkError, reasonOf } from './errors/network-error.ts'
import { printableCause } from './errors/printable.ts'
import { ResumeError } from './errors/resume-error.ts'
import { isSluiceError } from './errors/sluice-error.ts'
import { TimeoutError } from './errors/timeout-error.ts'
import { headersOf } from './headers-of.ts'
import { headersTimeout, kyDefaults } from './ky-defaults.ts'
import { linkSignals } from './linked-signal.ts'
import { corsMayRefuse, isNetworkFailure, resumeFailed } from './network-failure.ts'
import {
  checkDuration,
  checkInterval,
  type FromResponseOptions,
  given,
  isRecord,
  known,
  must,
  resolveLimits,
  type SluiceOptions,
} from './options.ts'
import { ProgressTracker } from './progress.ts'
import { replayable } from './replay.ts'
import { type Checkpoint, openCheckpoint } from './resume/checkpoint.ts'
import {
  backoffDelay,
  type CursorRequest,
  mergeResume,
  type ResolvedResume,
  resolveResume,
  retryAfter,
  sleep,
} from './resume/options.ts'
import {
  type Acceptance,
  acceptResume,
  isRetryableStatus,
  type ResumeState,
  resumeRequest,
} from './resume/strategy.ts'
import { StreamResponse } from './stream-response.ts'
import { uncached } from './uncached.ts'
import { unref } from './unref.ts'
import { unusableAnswer } from './unusable-answer.ts'

/**
 * Requests `input` and resolves with a {@link StreamResponse} as soon as the response headers arrive (time to
 * first byte); rejects with `HTTPError` on a non-2xx status, `TimeoutError` (`phase: 'headers'`),
 * `NetworkError`, or the signal's abort reason.
 *
 * @example
 * const res = await sluice('https://abc.lambda-url.eu-west-1.on.aws/report', { method: 'POST', json: { month } })
 * for await (const row of res.ndjson(Row)) table.append(row)
 */
export function sluice(input: Input, options?: SluiceOptions): Promise<StreamResponse> {
  return sluiceWith(input, options)
}

/**
 * `sluice()`, with more signals that end the stream as its `signal` does (a client's defaults, useStream()'s own):
 * linked by sluice, rather than combined by the caller, they are let go with the stream (see `linkSignals`).
 */
export async function sluiceWith(
  input: Input,
  options: SluiceOptions = {},
  ...also: Array<AbortSignal | null | undefined>
): Promise<StreamResponse> {
  const { limits, idle, whole, interval, resume, checkpoint } = resolveOptions(options)
  const {
    ky: instance = ky,
    onProgress,
    progressInterval,
    idleTimeout,
    totalTimeout,
    total,
    maxBytes,
    maxLineBytes,
    maxEventBytes,
    resume: resumeOption,
    resumeFrom,
    signal: own,
    ...kyOptions
  } = options
  const defaults = kyDefaults(instance)
  // Merged name by name into the instance's (see byName): made once, for every request of the stream.
  const headers = kyOptions.headers && byName(kyOptions.headers)
  // A signal baked into the ky instance, or the Request's own, ends the logical stream as the call's does:
  // left to ky, it would only fail each request, and a drop it caused would read as the network's. Each is
  // followed from the request until the stream settles, then let go: the app may pass it to every request.
  const link = linkSignals([
    ...also,
    own,
    defaults.signal,
    input instanceof Request ? input.signal : undefined,
  ])
  const signal = link.signal
  let letGo = (): void => {}
  // A body or json in the client's defaults is sent as one passed to the call is.
  const next = replayable(
    input,
    { body: kyOptions.body ?? defaults.body, json: kyOptions.json ?? defaults.json },
    resume !== undefined,
  )
  const progress = new ProgressTracker(onProgress, interval)
  const prefix = kyOptions.prefix ?? defaults.prefix
  const base = kyOptions.baseUrl ?? defaults.baseUrl
  // Only a page (a browser's, a worker's) resolves a relative URL, against its own: elsewhere fetch would fail on
  // it with its bare "Failed to parse URL from /report", naming neither the cause nor the options that resolve it.
  const target = resolvedUrl(input, prefix, base)
  if (typeof input === 'string') {
    // (One with a scheme that fetch refuses is no relative URL: fetch's words say what is wrong with it.)
    if (!requestable(target) && !/^[a-z][\w+.-]*:/i.test(target))
      throw new TypeError(
        `The URL ${JSON.stringify(target)} is relative: outside a browser page nothing resolves it. Pass an absolute URL (https://…), or set ky's \`prefix\` or \`baseUrl\` to one: createClient({ prefix: 'https://…' }).`,
      )
  }
  // The URL of the Request ky sent, once there is one, is what messages and errors name; before (a hook that
  // throws or hangs), the one it will send to.
  let sent: Request | undefined
  const where = (): string => sent?.url ?? target
  // The requests sent for the first response, ky's retries included: an HTTPError after several says so, or a
  // function that fails would seem to have run once.
  let sends = 0
  const fetchOption = kyOptions.fetch ?? defaults.fetch
  const watchedFetch = async (request: Input, init?: RequestInit): Promise<Response> => {
    if (request instanceof Request) sent = request
    const response = await (fetchOption === undefined
      ? globalThis.fetch(request, init)
      : fetchOption(request, init))
    // Said here, naming the option: ky and the body source would fail on it reading a property of `undefined`.
    // The runtime's own fetch answers a no-cors request with an opaque Response, which ky lets through.
    const unusable = unusableAnswer(response)
    if (unusable !== undefined)
      throw new TypeError(
        fetchOption === undefined
          ? `fetch resolved to ${unusable}.`
          : `The \`fetch\` option resolved to ${unusable}; it must resolve to a fresh Response.`,
      )
    // Response.error() (type "error", status 0) stands for a network error, which fetch itself rejects with:
    // failed as one (ky's words, so that ky sees one too), never "status 0".
    if (response.type === 'error')
      throw new TypeError('network error', { cause: new Error('Response.error()') })
    return response
  }
  // What ky sends: the call's method (a call's own key wins, even when undefined), else the client's or
  // instance's default, else a Request's own, or GET; ky puts its options' method over the Request's. Checkpoints
  // name it, and whether a drop may be asked again from the start depends on it. (A method that is no string is
  // made one, as fetch makes it, rather than failing here on a method call.)
  const method = String(
    ('method' in kyOptions ? kyOptions.method : defaults.method) ??
      (input instanceof Request ? input.method : undefined) ??
      'GET',
  ).toUpperCase()
  // The cache mode the caller chose, which a request that continues the stream keeps too: the call's (its own key
  // wins, even when undefined), the client's or instance's, or one a Request was made with (`default` is none).
  const cache =
    'cache' in kyOptions
      ? kyOptions.cache
      : (defaults.cache ?? (input instanceof Request && input.cache !== 'default' ? input.cache : undefined))
  // The total timeout bounds the logical stream, reconnects included: one controller for all connections.
  const whole$ = new AbortController()
  let expired: TimeoutError | undefined
  // The first response, once its headers arrived: the logical stream's, as `res.status` is.
  let answered: Response | undefined
  // The body source, once made: a timeout while it waits to reconnect says for what, and after what. Before it,
  // the request of `resumeFrom` that meets a busy server or a failed connection says so too.
  let live: BodySource | undefined
  let asking: { cause: unknown; clause: string } | undefined
  const timer =
    whole === undefined
      ? undefined
      : setTimeout(() => {
          const waiting = live?.reconnecting() ?? asking
          const context = { request: sent, response: answered, cause: waiting?.cause }
          expired = new TimeoutError('total', whole, where(), context, waiting?.clause)
          whole$.abort(expired)
        }, whole)
  unref(timer)
  const stopTimer = (): void => {
    if (timer !== undefined) clearTimeout(timer)
    letGo()
  }
  // Only a body ky turns into an HTTPError is bounded: an instance made with `throwHttpErrors: false` streams
  // its non-2xx bodies as it would any other.
  const thrown = defaults.throwHttpErrors ?? true
  const boundIfThrown = (response: Response): Response =>
    (typeof thrown === 'function' ? thrown(response.status) : thrown) ? boundErrorBody(response) : response
  // A checkpoint taken before the first unit was delivered continues from nothing: it is asked again from the
  // start as a first request, which any version of the resource answers (Range from byte 0 with If-Range would
  // refuse a changed one, though not a byte of the old one was delivered).
  const fromNothing =
    checkpoint !== undefined &&
    checkpoint.offset === 0 &&
    checkpoint.lastEventId === undefined &&
    checkpoint.cursor === undefined &&
    checkpoint.partEnd === undefined
  // Progress goes on from the checkpoint's counts, also in the final report of a resume request that fails. (A
  // checkpoint from nothing starts the stream over, its counts too: its request is a first one, not a reconnect.)
  if (checkpoint !== undefined && !fromNothing) {
    progress.loaded = checkpoint.loaded
    progress.items = checkpoint.items
    progress.total = checkpoint.total
    progress.attempt = checkpoint.attempt
  }
  // An empty input is ky's `baseUrl` itself, its query included: a cursor's `?after=3` resolved against it would
  // replace that query whole. Given as the input, the baseUrl resolves against itself to the same URL.
  const baseIfEmpty = (input: Input): Input =>
    input === '' && !prefix && base !== undefined ? String(base) : input

  /** A request on `cut`, the signal that ends it (see `opening`, and a reconnect's below). */
  const request = async (
    extra: CursorRequest,
    cut: AbortSignal,
    retries: boolean,
    target?: Checkpoint,
  ): Promise<Response> => {
    // Stopped already (a signal given aborted): no hook runs and nothing is handed to a `fetch` option.
    cut.throwIfAborted()
    // ky sends a retry as a clone of its Request, whose signal Node's fetch (undici) stops following once
    // garbage collection takes the link: each attempt carries the signal itself, so that the user's abort, the
    // total timeout and the end of the connection reach a retry too.
    const attempt = async (input: Input, init?: RequestInit): Promise<Response> => {
      // A checkpoint for another method is refused before anything is sent (one for another URL on the answer,
      // which a redirect may bring to it).
      if (checkpoint !== undefined) checkTarget(checkpoint, undefined, input as Request, method)
      // The headers that continue the stream go as sluice set them, also over a beforeRequest hook's of the same
      // name, as over the call's, the client's or a Request's: a hook's own Range, Last-Event-ID or cursor would
      // ask again for what was delivered.
      for (const name in extra.headers) (input as Request).headers.set(name, extra.headers[name]!)
      const own = input instanceof Request ? input.signal : (init?.signal ?? undefined)
      if (retries) sends++
      const response = await watchedFetch(input, { ...init, signal: own ? AbortSignal.any([own, cut]) : cut })
      // Checked on the answer itself, before ky reads an error in it or asks again: an answer for another URL
      // refuses the checkpoint, whatever its status.
      if (target !== undefined) {
        try {
          checkTarget(target, response, sent, method)
        } catch (error) {
          response.body?.cancel().catch(() => {})
          throw error
        }
      }
      return response
    }
    // A cursor's search params go into the URL, in place of those of the same names (see withExtra).
    const cursor = extra.searchParams ?? {}
    const input = Object.keys(cursor).length === 0 ? next() : await withParams(baseIfEmpty(next()), cursor)
    return untilAborted(
      instance(input, {
        // A key given as `undefined` is ky's to take: unset, the instance's value gone (as ky's own call does).
        ...(kyOptions as KyOptions),
        ...(headers && { headers }),
        // A request without ky's retries continues the stream (a reconnect, or the request of `resumeFrom`): never
        // answered from an HTTP cache (see uncached).
        ...(retries ? {} : { retry: 0, throwHttpErrors: false, ...uncached(cache) }),
        ...withExtra(instance, kyOptions, extra),
        // ky reads an error body whole for its HTTPError, for as long as its timeout: one that keeps streaming
        // is read for a second instead, so that the error comes, with what arrived.
        fetch: retries ? (input, init) => attempt(input, init).then(boundIfThrown) : attempt,
        // In place of the instance's own (`cut` follows it): merged, ky would give it to AbortSignal.any().
        signal: replaceOption(cut),
      }).then(
        // A beforeRetry hook that returns `ky.stop` makes ky resolve with no response: nothing to stream.
        (response) =>
          response ??
          Promise.reject(
            new Error(
              `A beforeRetry hook returned ky.stop: ${where()} has no response to stream; throw an error instead.`,
            ),
          ),
      ),
      cut,
    )
  }

  const first = new AbortController()
  // Sluice's own signals only, combined once: Node 22 keeps memory for each AbortSignal.any() call for as long as
  // its sources live (nodejs/node#55351), and these live as long as the stream. A reconnect's connection is not
  // combined with them: the body source aborts it on the user's abort, the total timeout and a stop.
  const opening = AbortSignal.any([signal, whole$.signal, first.signal])
  let response: Response
  // Requests made to continue from the checkpoint.
  let tries = 0
  letGo = link.hold()
  try {
    if (checkpoint === undefined) response = await request({}, opening, true)
    else if (fromNothing) response = await request({}, opening, true, checkpoint)
    else if (checkpoint.partEnd !== undefined && checkpoint.offset >= checkpoint.partEnd) {
      // Taken after the last byte of a part the caller asked for: nothing is left to ask for (bytes=N-(N-1) is
      // no range), as a 416 for exactly the bytes received would say of a whole body.
      response = new Response(null, {
        status: 416,
        headers: { 'content-range': `bytes */${checkpoint.offset}` },
      })
    } else {
      // A resume request that meets a busy server waits and asks again, as a reconnect does.
      const settings = resume ?? NO_RESUME
      for (;;) {
        const attempt = ++tries
        // The request that continues the stream is a reconnect, and so is each time it is asked again: one more
        // on the checkpoint's count.
        progress.attempt++
        const extra = checkpointRequest(checkpoint, settings)
        try {
          response = await request(extra, opening, false)
        } catch (error) {
          // A connection that fails is asked again too, as a reconnect is; not an abort, nor sluice's refusal,
          // nor what no network caused (a bug of a `fetch` option or hook fails the same way every time).
          const again = !signal?.aborted && !expired && !isSluiceError(error) && isNetworkFailure(error)
          if (!again) throw error
          const last = new NetworkError(
            `The resume request to ${where()}${resumeFailed(error, extra.headers, !checkpoint.plain, where())}`,
            checkpoint.offset,
            { request: sent, cause: error },
          )
          // Given up, as a reconnect whose connections keep failing is.
          if (attempt > settings.attempts)
            throw gaveUp(attempt, 'resume request', '', last, { request: sent })
          const delay = backoffDelay(settings, attempt)
          asking = {
            cause: last,
            clause: `waiting ${delay} ms to ask again for the resume request after a failed connection`,
          }
          await sleep(delay, opening)
          asking = undefined
          continue
        }
        if (!isRetryableStatus(response.status) || attempt > settings.attempts) break
        response.body?.cancel().catch(() => {})
        const after = retryAfter(response.headers)
        const delay = after ?? backoffDelay(settings, attempt)
        asking = {
          cause: busyAnswer(`The resume request to ${where()}`, response, undefined, checkpoint.offset, sent),
          clause: `waiting ${delay} ms${after === undefined ? '' : ' (Retry-After)'} to ask again for the resume request after a ${response.status} answer`,
        }
        await sleep(delay, opening)
        asking = undefined
      }
    }
  } catch (error) {
    stopTimer()
    // A retry ky gave up on (its timeout) may still wait for its headers: end it, and its connection.
    first.abort(error)
    // The user's abort is a cancellation, as it is once the body streams; sluice's own timeout is an error.
    progress.setState(signal?.aborted && !expired ? 'cancelled' : 'error')
    if (expired) throw expired
    if (signal?.aborted) throw signal.reason
    throw reworded(error, await fromKyError(error, where(), headersTimeout(kyOptions, defaults), sent, sends))
  }
  answered = response
  let resumed: { checkpoint: Checkpoint; acceptance: Acceptance; tries: number } | undefined
  // A checkpoint from nothing was checked on its answer, which starts the stream as a first one does.
  if (checkpoint !== undefined && !fromNothing) {
    try {
      resumed = {
        checkpoint,
        acceptance: acceptCheckpointAnswer(checkpoint, response, sent, method, resume, tries),
        tries,
      }
    } catch (error) {
      // An error page says why the resume request was refused: its excerpt goes into the message. It is read
      // while the user's signal and the total timeout stand, and either wins over the refusal.
      const excerpt = await pageExcerpt(response, opening)
      stopTimer()
      response.body?.cancel().catch(() => {})
      progress.setState(signal?.aborted && !expired ? 'cancelled' : 'error')
      if (expired) throw expired
      if (signal?.aborted) throw signal.reason
      // Only a busy status answered, up to `resume.attempts`: given up, as a reconnect's attempts are (a
      // checkpoint of another URL is still refused as such).
      if (isRetryableStatus(response.status) && (error as ResumeError).reason === 'not-resumable') {
        const last = busyAnswer(
          `The resume request to ${where()}`,
          response,
          excerpt,
          checkpoint.offset,
          sent,
        )
        throw gaveUp(tries, 'resume request', '', last, { request: sent })
      }
      throw error instanceof ResumeError ? withSaid(error, excerpt) : error
    }
  }
  let source: BodySource
  try {
    source = new BodySource({
      response,
      // The Request ky sent last (this response's, then each reconnect's): errors of the body carry it.
      request: () => sent,
      method,
      progress,
      // The total timeout must also cut a wait between reconnects (a long Retry-After): reads and waits reject
      // with its TimeoutError as they do with the user's reason.
      signal: whole === undefined ? signal : AbortSignal.any([signal, whole$.signal]),
      hold: link.hold,
      connection: first,
      maxBytes: limits.maxBytes,
      total,
      idleTimeout: idle,
      expired: () => expired,
      resume,
      // On its own connection's signal, which the body source aborts (see `opening`).
      reconnect: (extra, connection) => request(extra, connection, false),
      resumed,
      onSettled: stopTimer,
    })
  } catch (error) {
    // A response that cannot be streamed (its body already read): nothing will settle the stream, so stop its
    // timer here. (A 204 or a HEAD's answer has no content: an empty stream, which the source settles itself.)
    stopTimer()
    response.body?.cancel().catch(() => {})
    progress.setState('error')
    throw error
  }
  live = source
  return new StreamResponse({ response, source, progress, limits, checkpoint: () => source.checkpoint() })
}

/**
 * `answer`, or a rejection with the reason of `signal` as soon as it aborts: ky awaits its hooks without watching
 * the signal, so a `beforeRequest` hook that never settles would outlast the user's abort and the total timeout.
 * An answer that comes after the abort is let go.
 */
function untilAborted(answer: Promise<Response>, signal: AbortSignal): Promise<Response> {
  const letGo = (): void => {
    answer.then(
      (late) => late.body?.cancel(signal.reason).catch(() => {}),
      () => {},
    )
  }
  if (signal.aborted) {
    letGo()
    return Promise.reject(signal.reason)
  }
  return new Promise((resolve, reject) => {
    const abort = (): void => {
      reject(signal.reason)
      letGo()
    }
    signal.addEventListener('abort', abort, { once: true })
    answer.then(
      (response) => {
        signal.removeEventListener('abort', abort)
        resolve(response)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', abort)
        reject(error)
      },
    )
  })
}

/**
 * Checks the options sluice can check before any request — at the call, and at createClient() and extend()
 * for defaults, rather than as a failure mid-stream — and resolves its own. `name` names the argument: one that
 * is no object (`sluice(url, 'POST')`) is refused rather than read as none.
 */
function resolveOptions(
  options: SluiceOptions | FromResponseOptions,
  name = "sluice()'s options",
  // fromResponse()'s: the only keys they take, checked before their values.
  names?: string,
) {
  must(isRecord(options), name, 'an object', options, TypeError)
  if (names) known(options, 'fromResponse()', names)
  const { ky: instance = ky, signal, timeout, total, totalTimeout, resumeFrom } = options as SluiceOptions
  must(
    typeof instance?.extend === 'function',
    '`ky`',
    'a ky instance (from `ky.create()` or `ky.extend()`)',
    instance,
    TypeError,
  )
  // The instance's headers are checked as the option's are: left to ky, a bad one fails in the runtime's words.
  headersOf(kyDefaults(instance).headers, "The `ky` instance's `headers`")
  // Duck-typed: a signal from another realm (a frame, a test environment) is no `instanceof AbortSignal` here.
  must(
    signal == null || (typeof signal.aborted === 'boolean' && typeof signal.addEventListener === 'function'),
    '`signal`',
    'an AbortSignal',
    signal,
    TypeError,
  )
  if (timeout !== false) checkDuration('timeout', timeout)
  must(
    total === undefined || (Number.isSafeInteger(total) && total >= 0),
    '`total`',
    'a whole number of bytes, 0 or more',
    total,
  )
  return {
    limits: resolveLimits(options),
    idle: checkDuration('idleTimeout', options.idleTimeout),
    whole: checkDuration('totalTimeout', totalTimeout),
    interval: checkInterval(options.progressInterval),
    resume: resolveResume(options.resume),
    checkpoint: resumeFrom === undefined ? undefined : openCheckpoint(resumeFrom),
  }
}

/** What a checkpoint knows of the stream, as the resume engine sees it. */
function checkpointState(checkpoint: Checkpoint): ResumeState {
  return {
    received: checkpoint.offset,
    etag: checkpoint.etag,
    lastModified: checkpoint.lastModified,
    strongDate: checkpoint.strongDate,
    length: checkpoint.length,
    plain: checkpoint.plain,
    contentType: checkpoint.contentType,
    marker: checkpoint.marker,
    acceptRanges: true,
    lastEventId: checkpoint.lastEventId,
    lastItem: undefined,
    delivered: checkpoint.offset > 0,
    partEnd: checkpoint.partEnd,
  }
}

/** The additions that continue a stream from a checkpoint: those a reconnect would send. */
function checkpointRequest(checkpoint: Checkpoint, resume: ResolvedResume): CursorRequest {
  if (checkpoint.strategy === 'cursor') return checkpoint.cursor ?? {}
  return resumeRequest(checkpoint.strategy, checkpointState(checkpoint), resume)
}

/** `resumeFrom` without `resume`: the checkpoint is honoured, and a busy server is not asked again. */
const NO_RESUME: ResolvedResume = {
  strategy: 'auto',
  attempts: 0,
  backoff: { initial: 0, max: 0, factor: 1, jitter: 0 },
  skipOnRestart: false,
  cursor: undefined,
}

function acceptCheckpointAnswer(
  checkpoint: Checkpoint,
  response: Response,
  request: Request | undefined,
  method: string,
  resume: ResolvedResume | undefined,
  tries: number,
): Acceptance {
  checkTarget(checkpoint, response, request, method, tries)
  const state = checkpointState(checkpoint)
  return acceptResume(checkpoint.strategy, response, state, resume ?? NO_RESUME, tries, undefined, request)
}

/**
 * Refuses a checkpoint taken for another URL or method than the request that `response` answers; before an answer
 * (`response` undefined), for another method only.
 */
function checkTarget(
  checkpoint: Checkpoint,
  response: Response | undefined,
  request: Request | undefined,
  method: string,
  tries = 0,
): void {
  // The Request sent names the URL after `prefix` or `baseUrl`, as a checkpoint does; the response's own, after a
  // redirect, matches too. A `fetch` option's or a mock's Response has none, and none was sent for a part that was
  // complete already: the checkpoint's URL then stands.
  const url = request?.url ?? checkpoint.url
  // A cursor puts its position in the query, by the names it sets; the rest of the query names the resource, as the
  // path does (`?month=10` is another report than `?month=11`): compared with the checkpoint's position in both.
  const params = checkpoint.cursor?.searchParams
  const at = (url: string): string => (params ? setInUrl(url, params) : url)
  if (
    checkpoint.method.toUpperCase() !== method.toUpperCase() ||
    (response && at(url) !== at(checkpoint.url) && !(response.url && at(response.url) === at(checkpoint.url)))
  ) {
    throw new ResumeError(
      'invalid-checkpoint',
      `The checkpoint passed as \`resumeFrom\` was taken for ${checkpoint.method} ${checkpoint.url}, not for ${method} ${url}; call sluice() with the same method and URL, or drop \`resumeFrom\` to start over.`,
      tries,
      { request, response, answered: !!response },
    )
  }
}

/**
 * ky options with a resume strategy's headers and search params added. A cursor's search params replace those
 * of the same names, as its headers do: ky would append them to the instance's and the call's, and a server that
 * reads the first `after` would start over. `withParams` puts them in the URL; the same names are taken out of
 * what ky adds.
 */
function withExtra(
  instance: KyInstance,
  options: SluiceOptions,
  extra: CursorRequest,
): { headers?: NonNullable<KyOptions['headers']>; searchParams?: SearchParamsOption } {
  const out: { headers?: NonNullable<KyOptions['headers']>; searchParams?: SearchParamsOption } = {}
  if (extra.headers !== undefined) {
    // ky's replaceOption() (see byName): its value, replacing as it did.
    const given = options.headers as { value?: unknown } | undefined
    const marked = replaced(given)
    const headers = new Headers((marked ? given!.value : given) as HeadersInit | undefined)
    for (const [name, value] of Object.entries(extra.headers)) headers.set(name, value)
    out.headers = marked ? replaceOption(headers) : headers
  }
  if (extra.searchParams !== undefined) {
    // The instance's defaults and the call's, merged as ky merges them (a default an extend() set to
    // `undefined` included); ky is told to take what is left of them as it is.
    const call = 'searchParams' in options ? { searchParams: options.searchParams } : {}
    const merged = kyDefaults(instance.extend(call)).searchParams
    if (merged !== undefined) out.searchParams = replaceOption(withoutNames(merged, extra.searchParams))
  }
  return out
}

/** ky's `searchParams` without the parameters that `cursor` sets. */
function withoutNames(params: SearchParamsOption, cursor: Record<string, string>): SearchParamsOption {
  const names = Object.keys(cursor)
  if (typeof params === 'object' && !Array.isArray(params) && !(params instanceof URLSearchParams)) {
    // Deleted, not set to `undefined`: ky would then take the name out of the URL, the cursor's value with it.
    const out = { ...params }
    for (const name of names) delete out[name]
    return out
  }
  const out = new URLSearchParams(params as ConstructorParameters<typeof URLSearchParams>[0])
  // ky marks on its merged params the names an extend() removed, which it then takes out of the input URL.
  for (const mark of Object.getOwnPropertySymbols(params)) {
    Object.assign(out, { [mark]: (params as unknown as Record<symbol, unknown>)[mark] })
  }
  for (const name of names) out.delete(name)
  return out
}

/**
 * `input` with `params` set in its URL. A Request is copied with its body read: a Request whose body is a stream
 * can be given another URL no other way.
 */
async function withParams(input: Input, params: Record<string, string>): Promise<Input> {
  if (typeof input === 'string') return setInUrl(input, params)
  if (input instanceof URL) return new URL(setInUrl(input.href, params))
  const init: Record<string, unknown> = {
    body: input.body === null ? null : await input.arrayBuffer(),
    // A navigation's mode cannot be given to a new Request; the fetch standard copies it as 'same-origin'.
    mode: input.mode === 'navigate' ? 'same-origin' : input.mode,
  }
  for (const key of REQUEST_INIT) init[key] = input[key]
  return new Request(setInUrl(input.url, params), init)
}

/** What a Request holds that a new one is made with, besides its URL, body and mode. */
const REQUEST_INIT = [
  'method',
  'headers',
  'cache',
  'credentials',
  'integrity',
  'keepalive',
  'redirect',
  'referrer',
  'referrerPolicy',
] as const

/**
 * `url` (absolute or not) with `params` set in its query: those of the same names replaced, the others kept as
 * written (names decoded as a server decodes them: `a%62=1` and `ab=1` name the same parameter).
 */
function setInUrl(url: string, params: Record<string, string>): string {
  const [, path, query = '', hash] = /^([^?#]*)(?:\?([^#]*))?(.*)$/s.exec(url) ?? ['', url, '', '']
  const kept = query
    .split('&')
    .filter(
      (pair) => pair !== '' && !Object.hasOwn(params, new URLSearchParams(pair).keys().next().value ?? ''),
    )
  return `${path}?${[...kept, new URLSearchParams(params)].join('&')}${hash}`
}

/**
 * Wraps a `Response` obtained elsewhere (a framework's `fetch`, a service worker, a test) with sluice's
 * consumers, progress and completion checks. It resumes after a drop only when `options.request` says how to
 * re-request the resource (the strategy's headers and search params are passed to it); without it, a drop ends
 * the stream with its error.
 *
 * @example
 * const res = await fromResponse(await fetch(url), {
 *   url,
 *   // Optional: lets a drop resume (by Range or Last-Event-ID, whose headers sluice passes here).
 *   request: ({ headers, signal }) => fetch(url, { headers, signal }),
 * })
 * for await (const line of res.lines()) console.log(line)
 */
export async function fromResponse(
  response: Response,
  options: FromResponseOptions = {},
): Promise<StreamResponse> {
  // Said first, naming the function: a locked body would fail with the runtime's bare "ReadableStream is
  // locked", and a value that is no Response with a property read of it.
  const unusable = unusableAnswer(response)
  if (unusable !== undefined) throw new TypeError(`fromResponse() got ${unusable}.`)
  // Checked whether or not there is a `request` to resume with: a wrong value fails here, never silently. Its
  // options are sluice's alone: one of sluice()'s (`totalTimeout`, `headers`) would do nothing here.
  const { limits, idle, interval, resume } = resolveOptions(
    options,
    "fromResponse()'s options",
    'onProgress progressInterval idleTimeout total maxBytes maxLineBytes maxEventBytes signal resume request url method',
  )
  const { request, url } = options
  must(
    request === undefined || typeof request === 'function',
    '`request`',
    'a function ({ headers, searchParams, signal }) => Promise<Response>',
    request,
    TypeError,
  )
  // Checked as fetch checks them, at the call: a URL only a browser resolves (`/report`) would otherwise fail
  // later with the runtime's bare words, naming neither the option nor the value.
  must(url === undefined || requestable(url), '`url`', 'an absolute URL', url, TypeError)
  must(
    options.method === undefined || requestable('http://h', options.method),
    '`method`',
    'an HTTP method',
    options.method,
    TypeError,
  )
  const method = (options.method ?? 'GET').toUpperCase()
  // What the response answered, when the caller says: checkpoints and errors name it. A reconnect's Request is
  // not seen here (the caller's function sends it), so errors name one with its URL and what sluice asked for.
  const named = (extra: CursorRequest = {}): Request | undefined =>
    url === undefined
      ? undefined
      : new Request(extra.searchParams === undefined ? url : setInUrl(url, extra.searchParams), {
          method,
          headers: extra.headers ?? {},
        })
  let sent = named()
  const { signal } = options
  const progress = new ProgressTracker(options.onProgress, interval)
  if (!response.ok) {
    // The error page is read while the signal stands: an abort, before or during that read, wins over it, and
    // ends as a cancellation, as it does for sluice().
    const error = await httpError(response, sent, signal ?? undefined)
    progress.setState(signal?.aborted ? 'cancelled' : 'error')
    if (signal?.aborted) throw signal.reason
    throw error
  }
  const source = new BodySource({
    response,
    request: () => sent,
    method,
    progress,
    signal: signal ?? undefined,
    connection: new AbortController(),
    maxBytes: limits.maxBytes,
    total: options.total,
    idleTimeout: idle,
    expired: () => undefined,
    // Without `request` a drop is not resumed (no `reconnect`), but `checkpoint()` still follows `resume`: its
    // strategy and cursor say how `sluice(url, { resumeFrom })` continues.
    resume,
    reconnect:
      request === undefined
        ? undefined
        : (extra, signal) => {
            sent = named(extra)
            return request({ headers: extra.headers ?? {}, searchParams: extra.searchParams ?? {}, signal })
          },
    // The caller's `request` fetches without ky: its network failures come as the runtime's bare TypeErrors.
    rawReconnect: true,
  })
  return new StreamResponse({
    response,
    url: sent?.url,
    source,
    progress,
    limits,
    checkpoint: () => source.checkpoint(),
  })
}

/**
 * The URL ky sends `input` to: a string resolved against `prefix` or `base` (a `baseUrl`) as ky resolves it, a URL
 * or a Request as it is; as written when that fails.
 */
function resolvedUrl(input: Input, prefix: unknown, base: string | URL | undefined): string {
  if (typeof input !== 'string') return String(input instanceof Request ? input.url : input)
  const url = prefix ? `${String(prefix).replace(/\/+$/, '')}/${input.replace(/^\/+/, '')}` : input
  try {
    return new URL(url, base ? new Request(base).url : undefined).href
  } catch {
    return url
  }
}

/** Whether `new Request(url, { method })` accepts `url` (a string or URL) and `method` (a string). */
function requestable(url: unknown, method: unknown = 'GET'): boolean {
  try {
    return (
      (typeof url === 'string' || url instanceof URL) &&
      typeof method === 'string' &&
      !!new Request(url, { method })
    )
  } catch {
    return false
  }
}

/** A `sluice` function with defaults baked in, and `.extend()` to derive another. */
export interface SluiceClient {
  (input: Input, options?: SluiceOptions): Promise<StreamResponse>
  /**
   * A client whose defaults are these defaults merged with `overrides` (headers and hooks merge as in ky). A
   * `ky` instance among them adds its options to the client's, as if they were given here: see `ky`. As in ky,
   * `overrides` may be a function of the client's defaults — its ky options as ky holds them (a ky instance's
   * included, headers as a `Headers` object) beside sluice's own — whose result is merged as an object given
   * here is: spread back in whole, the hooks would run twice.
   *
   * @example
   * const users = api.extend((parent) => ({ prefix: `${parent.prefix}/users` }))
   */
  extend(overrides?: SluiceOptions | ((parent: SluiceOptions) => SluiceOptions)): SluiceClient
}

/**
 * A client with defaults, for example a ky instance whose hooks sign every request, reconnects included.
 *
 * @example
 * const api = createClient({ ky: ky.create({ prefix: 'https://abc.lambda-url.eu-west-1.on.aws' }), idleTimeout: 30_000 })
 * const res = await api('report')
 */
export function createClient(defaults: SluiceOptions = {}): SluiceClient {
  return clientWith(defaults, [])
}

/** createClient(), whose streams also end with `signals` (those of the clients it extends). */
function clientWith(defaults: SluiceOptions, signals: Array<AbortSignal | null | undefined>): SluiceClient {
  resolveOptions(defaults, "createClient()'s defaults")
  const { ky: instance = ky, ...rest } = defaults
  // ky merges headers, hooks and search params properly; sluice's own keys are shallow.
  const base: KyInstance = instance.extend(kyPart(rest))
  const own = sluicePart(rest)
  // A ky instance given to a call or to extend() is more specific than the client, as any option given there
  // is: its options go over the client's ky options, merged as ky's extend() merges them, instead of dropping
  // them (the client's prefix, headers, hooks). One merge per instance: a call may pass the same one each time.
  const merged = new WeakMap<KyInstance, KyInstance>()
  const over = (override: KyInstance | undefined): KyInstance => {
    if (override === undefined) return base
    let joined = merged.get(override)
    if (joined === undefined) {
      // A key the instance holds as `undefined` was never set: it must not unset the client's.
      joined = base.extend(given(kyDefaults(override)))
      merged.set(override, joined)
    }
    return joined
  }
  const client = async (input: Input, options: SluiceOptions = {}): Promise<StreamResponse> => {
    // Before the options are merged: a bad one is refused as sluice() refuses it, with a rejection.
    resolveOptions(options)
    const { ky: override, ...call } = options
    // An option given as `undefined` is not set: the client's default stands. Its signal does too, beside the
    // call's: both apply (as ky combines signals when extending).
    return sluiceWith(
      input,
      { ...own, ...given(call), resume: mergeResume(own.resume, call.resume), ky: over(override) },
      ...signals,
      own.signal,
    )
  }
  client.extend = (made: Parameters<SluiceClient['extend']>[0] = {}): SluiceClient => {
    // ky's function form: it gets the parent's defaults, and what it returns are the overrides.
    const overrides =
      typeof made === 'function' ? made({ ...kyDefaults(base), ...own } as SluiceOptions) : made
    resolveOptions(overrides, "extend()'s overrides")
    const { ky: override, ...more } = overrides
    const resume = mergeResume(own.resume, more.resume)
    return clientWith({ ...own, ...sluicePart(more), resume, ky: over(override).extend(kyPart(more)) }, [
      ...signals,
      own.signal,
    ])
  }
  return client
}

// `signal` is sluice's too: the logical stream must see it, and a ky instance would keep it to itself.
const SLUICE_KEYS = [
  'signal',
  'onProgress',
  'progressInterval',
  'idleTimeout',
  'totalTimeout',
  'total',
  'maxBytes',
  'maxLineBytes',
  'maxEventBytes',
  'resume',
  'resumeFrom',
] as const

function sluicePart(options: SluiceOptions): SluiceOptions {
  const out: Record<string, unknown> = {}
  for (const key of SLUICE_KEYS) if (options[key] !== undefined) out[key] = options[key]
  return out as SluiceOptions
}

function kyPart(options: SluiceOptions): KyOptions {
  // A key given as `undefined` is not set: ky would take it as set, and drop the parent's value.
  const out: Record<string, unknown> = { ...given(options) }
  for (const key of SLUICE_KEYS) delete out[key]
  // Even none: the client's headers are then a Headers object, into which a ky instance's given later merge too.
  out.headers = byName(out.headers)
  return out
}

/**
 * `headers` as a Headers object, which ky merges name by name: two plain objects it spreads, so `X-Key` and
 * `x-key` would both be sent, joined by a comma, and `x-key: undefined` would leave `X-Key`. An `undefined`
 * value reads "undefined" in a Headers object, which ky takes as a removal too. ky's `replaceOption()` (marked
 * with a symbol) is left as it is, its value checked all the same: a header fetch refuses is refused in the same
 * words whichever way it was given.
 */
function byName(headers: unknown): NonNullable<KyOptions['headers']> {
  if (!replaced(headers)) return headersOf(headers)
  headersOf((headers as { value: unknown }).value)
  return headers as NonNullable<KyOptions['headers']>
}

/** Whether `headers` is ky's `replaceOption()` of them, marked with a symbol. */
const replaced = (headers: unknown): boolean => !!headers && Object.getOwnPropertySymbols(headers).length > 0

/**
 * The sluice error for what ky threw before the headers. ky's errors carry the Request they were about, whose
 * URL is the one resolved against a `prefix` or `baseUrl`; `sent` is the last Request seen, for the errors that
 * carry none (a runtime's TypeError that ky did not recognise). A TypeError that is no network failure (an
 * invalid request, a bug of the `fetch` option) stays a TypeError, which names the URL and keeps it as `cause`.
 * `attempts`: the requests sent, ky's retries included, which the message of an HTTPError or a NetworkError counts.
 */
async function fromKyError(
  error: unknown,
  where: string,
  timeout: number,
  sent: Request | undefined,
  attempts: number,
): Promise<unknown> {
  if (isKyHTTPError(error)) {
    const data: unknown = error.data
    // A response sluice did not bound (an afterResponse hook's) left only ky's `data`: its first KiB, cut as a
    // body's is, in bytes and between characters.
    const excerpt =
      excerptFor(error.response) ??
      // (JSON.stringify(undefined) is undefined: a Response without a body, whose excerpt is '').
      (await excerptOf(new Response(typeof data === 'string' ? data : JSON.stringify(data))))
    return new HTTPError(error.response, excerpt, { request: error.request, cause: error, attempts })
  }
  if (isKyTimeoutError(error)) {
    return new TimeoutError('headers', timeout, error.request.url, { request: error.request, cause: error })
  }
  const request = isKyNetworkError(error) ? error.request : sent
  const url = request?.url ?? where
  // fetch rejects with a TypeError for a network failure, but also for an invalid request (a bad URL or header
  // value, a GET with a body), and a `fetch` option may for a bug of its own. The network's are those
  // isNetworkFailure recognises; the others are no connectivity problem: a TypeError that says so, with the
  // original as its cause.
  if (isNetworkFailure(error)) {
    // A browser fails a request its CORS refuses with the words of a network down.
    const reason = reasonOf(error)
    const cors = corsMayRefuse(reason, url) ? ", or the server's CORS" : ''
    return new NetworkError(
      `Could not connect to ${url} (${reason})${retriedClause(attempts)}. Check the URL and the network${cors}.`,
      0,
      { request, cause: error },
    )
  }
  if (error instanceof TypeError) {
    return new TypeError(`Requesting ${url} failed, not for a network error: ${clauseOf(error)}.`, {
      cause: error,
    })
  }
  return error
}

/**
 * `error`, sluice's for ky's `original`, with the message a `beforeError` hook gave ky's in place of ky's own (ky's
 * readme rewords an HTTPError with what the server said): the hook's words stand, in the error sluice promises,
 * printable as its own are.
 */
function reworded(original: unknown, error: unknown): unknown {
  // (An HTTPError of sluice's own, thrown by a `fetch` option, passes ky's guard by its name, without a request.)
  const request = (original as { request?: Request } | undefined)?.request
  if (error !== original && isKyError(original) && request) {
    const own = isKyHTTPError(original)
      ? new KyHTTPError(original.response, request, original.options)
      : isKyTimeoutError(original)
        ? new KyTimeoutError(request)
        : isKyNetworkError(original) && new KyNetworkError(request)
    if (own && own.message !== original.message) (error as Error).message = original.message
    // What a hook quoted, and ky's error kept as `cause` (which `console.error` prints too) with its status text.
    printableCause(error as Error)
    printableCause(original)
  }
  return error
}

/**
 * An HTTPError for `response`, with an excerpt of its body (see `excerptOf`); for a `Response.error()` (status
 * 0), the NetworkError it stands for.
 */
async function httpError(
  response: Response,
  request: Request | undefined,
  signal: AbortSignal | undefined,
): Promise<HTTPError | NetworkError> {
  if (response.type === 'error') {
    const message = `Request to ${request?.url ?? 'the server'} failed with a network error: Response.error().`
    return new NetworkError(message, 0, { request })
  }
  return new HTTPError(response, await excerptOf(response, signal), { request })
}
