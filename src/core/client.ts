import type { Input, KyInstance } from 'ky'
import ky, {
  isHTTPError as isKyHTTPError,
  isNetworkError as isKyNetworkError,
  isTimeoutError as isKyTimeoutError,
} from 'ky'
import { BodySource } from './body-source.ts'
import { HTTPError } from './errors/http-error.ts'
import { NetworkError } from './errors/network-error.ts'
import { TimeoutError } from './errors/timeout-error.ts'
import { checkDuration, type FromResponseOptions, resolveLimits, type SluiceOptions } from './options.ts'
import { ProgressTracker } from './progress.ts'
import { StreamResponse } from './stream-response.ts'

const EXCERPT_BYTES = 1024

/**
 * Requests `input` and resolves with a {@link StreamResponse} as soon as the response headers arrive (time to
 * first byte); rejects with `HTTPError` on a non-2xx status, `TimeoutError` (`phase: 'headers'`) or
 * `NetworkError`.
 *
 * @example
 * const res = await sluice('https://abc.lambda-url.eu-west-1.on.aws/report', { method: 'POST', json: { month } })
 * for await (const row of res.ndjson(Row)) table.append(row)
 */
export async function sluice(input: Input, options: SluiceOptions = {}): Promise<StreamResponse> {
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
    signal,
    ...kyOptions
  } = options
  const limits = resolveLimits({ maxBytes, maxLineBytes, maxEventBytes })
  const idle = checkDuration('idleTimeout', idleTimeout)
  const whole = checkDuration('totalTimeout', totalTimeout)
  const progress = new ProgressTracker(onProgress, progressInterval ?? 100)
  const abort = new AbortController()
  let expired: TimeoutError | undefined
  const where = String(input instanceof Request ? input.url : input)
  const timer =
    whole === undefined
      ? undefined
      : setTimeout(() => {
          expired = new TimeoutError('total', whole, where)
          abort.abort(expired)
        }, whole)
  const requestSignal = signal ? AbortSignal.any([signal, abort.signal]) : abort.signal
  let response: Response
  try {
    response = await instance(input, { ...kyOptions, signal: requestSignal })
  } catch (error) {
    if (timer !== undefined) clearTimeout(timer)
    progress.setState('error')
    if (expired) throw expired
    if (signal?.aborted) throw signal.reason
    throw await fromKyError(error, where, typeof kyOptions.timeout === 'number' ? kyOptions.timeout : 10_000)
  }
  const source = new BodySource({
    response,
    request: undefined,
    progress,
    signal: signal ?? undefined,
    abort,
    maxBytes: limits.maxBytes,
    total,
    idleTimeout: idle,
    expired: () => expired,
  })
  if (timer !== undefined) {
    // The total timeout bounds the logical stream: it is cleared once the body has been settled either way.
    const cancel = source.cancel.bind(source)
    source.cancel = (reason?: unknown) => {
      clearTimeout(timer)
      return cancel(reason)
    }
    const read = source.read.bind(source)
    source.read = async () => {
      try {
        const chunk = await read()
        if (chunk === undefined) clearTimeout(timer)
        return chunk
      } catch (error) {
        clearTimeout(timer)
        throw error
      }
    }
  }
  return new StreamResponse({ response, source, progress, limits })
}

/**
 * Wraps a `Response` obtained elsewhere (a framework's `fetch`, a service worker, a test) with sluice's
 * consumers, progress and completion checks. It cannot resume: it has no way to re-request.
 *
 * @example
 * const res = await fromResponse(await fetch(url))
 * for await (const line of res.lines()) console.log(line)
 */
export async function fromResponse(
  response: Response,
  options: FromResponseOptions = {},
): Promise<StreamResponse> {
  const limits = resolveLimits(options)
  if (!response.ok) throw await httpError(response, undefined)
  const progress = new ProgressTracker(options.onProgress, options.progressInterval ?? 100)
  const source = new BodySource({
    response,
    request: undefined,
    progress,
    signal: options.signal ?? undefined,
    abort: new AbortController(),
    maxBytes: limits.maxBytes,
    total: options.total,
    idleTimeout: checkDuration('idleTimeout', options.idleTimeout),
    expired: () => undefined,
  })
  return new StreamResponse({ response, source, progress, limits })
}

/** A `sluice` function with defaults baked in, and `.extend()` to derive another. */
export interface SluiceClient {
  (input: Input, options?: SluiceOptions): Promise<StreamResponse>
  /** A client whose defaults are these defaults merged with `overrides` (headers and hooks merge as in ky). */
  extend(overrides: SluiceOptions): SluiceClient
}

/**
 * A client with defaults, for example a ky instance whose hooks sign every request, reconnects included.
 *
 * @example
 * const api = createClient({ ky: ky.create({ prefix: 'https://abc.lambda-url.eu-west-1.on.aws' }), idleTimeout: 30_000 })
 * const res = await api('report')
 */
export function createClient(defaults: SluiceOptions = {}): SluiceClient {
  const { ky: instance = ky, ...rest } = defaults
  // ky merges headers, hooks and search params properly; sluice's own keys are shallow.
  const base: KyInstance = instance.extend(kyPart(rest))
  const own = sluicePart(rest)
  const client = (input: Input, options: SluiceOptions = {}): Promise<StreamResponse> => {
    const { ky: override, ...call } = options
    return sluice(input, { ...own, ...call, ky: override ?? base })
  }
  client.extend = (overrides: SluiceOptions): SluiceClient => {
    const { ky: override, ...more } = overrides
    return createClient({ ...own, ...sluicePart(more), ky: (override ?? base).extend(kyPart(more)) })
  }
  return client
}

const SLUICE_KEYS = [
  'onProgress',
  'progressInterval',
  'idleTimeout',
  'totalTimeout',
  'total',
  'maxBytes',
  'maxLineBytes',
  'maxEventBytes',
] as const

function sluicePart(options: SluiceOptions): SluiceOptions {
  const out: Record<string, unknown> = {}
  for (const key of SLUICE_KEYS) if (options[key] !== undefined) out[key] = options[key]
  return out as SluiceOptions
}

function kyPart(options: SluiceOptions): Omit<SluiceOptions, (typeof SLUICE_KEYS)[number] | 'ky'> {
  const out: Record<string, unknown> = { ...options }
  for (const key of SLUICE_KEYS) delete out[key]
  return out
}

async function fromKyError(error: unknown, where: string, timeout: number): Promise<unknown> {
  if (isKyHTTPError(error)) {
    const data: unknown = error.data
    const excerpt = typeof data === 'string' ? data : data === undefined ? '' : JSON.stringify(data)
    return new HTTPError(error.response, excerpt.slice(0, EXCERPT_BYTES), {
      request: error.request,
      cause: error,
    })
  }
  if (isKyTimeoutError(error)) {
    return new TimeoutError('headers', timeout, where, { request: error.request, cause: error })
  }
  const message = error instanceof Error ? error.message : String(error)
  if (isKyNetworkError(error) || error instanceof TypeError) {
    return new NetworkError(`Could not connect to ${where} (${message}). Check the URL and the network.`, 0, {
      cause: error,
    })
  }
  return error
}

/** An HTTPError for `response`, with a bounded excerpt of its body (at most 1 KiB is read). */
async function httpError(response: Response, request: Request | undefined): Promise<HTTPError> {
  let excerpt = ''
  if (response.body !== null) {
    const reader = response.body.getReader()
    const decoder = new TextDecoder()
    try {
      while (excerpt.length < EXCERPT_BYTES) {
        const { done, value } = await reader.read()
        if (done) break
        excerpt += decoder.decode(value, { stream: true })
      }
    } catch {
      // The excerpt is a courtesy; a body that fails to read leaves it short.
    } finally {
      reader.cancel().catch(() => {})
    }
  }
  return new HTTPError(response, excerpt.slice(0, EXCERPT_BYTES), { request })
}
