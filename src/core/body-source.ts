import { END_MARKER_HEADER, EndMarkerTrap } from './end-marker.ts'
import { LimitError } from './errors/limit-error.ts'
import { NetworkError } from './errors/network-error.ts'
import type { SluiceError } from './errors/sluice-error.ts'
import { TimeoutError } from './errors/timeout-error.ts'
import { TruncatedError } from './errors/truncated-error.ts'
import type { ProgressTracker } from './progress.ts'

/** The logical body as consumers see it: chunks until a proven end, then `undefined`. */
export interface ChunkSource {
  /** The next chunk; `undefined` at the end. Rejects with a sluice error, or the abort reason. */
  read(): Promise<Uint8Array | undefined>
  /** Stops reading and releases the connection. Idempotent. */
  cancel(reason?: unknown): Promise<void>
  /**
   * Whether `cancel()` stopped the source before its end: a read then returns `undefined`, which consumers
   * must not take for the end of the body (a partial line is not a line).
   */
  readonly cancelled?: boolean
}

/** What a body source needs to know about the request it reads. */
export interface SourceInit {
  response: Response
  request: Request | undefined
  progress: ProgressTracker
  /** The user's signal: its abort reason is what a read rejects with. */
  signal: AbortSignal | undefined
  /** Aborts the fetch underneath (idle and total timeouts use it). */
  abort: AbortController
  maxBytes: number
  /** `options.total`: a declared length from the caller. */
  total: number | undefined
  idleTimeout: number | undefined
  /** Set when the total timeout fired; reads then reject with it. */
  expired: () => TimeoutError | undefined
}

/**
 * Reads one response body on the hot path — a plain reader loop, no stream layers — counting bytes for
 * progress, enforcing `maxBytes` and the idle timeout, and proving completion: a body that ends short of its
 * declared length, or without the end marker its server announced, is a {@link TruncatedError}, never a clean end.
 */
export class BodySource implements ChunkSource {
  readonly #init: SourceInit
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>
  readonly #expected: number | undefined
  readonly #marker: EndMarkerTrap | undefined
  readonly #where: string
  /** Bytes delivered. */
  offset = 0
  cancelled = false
  #finished = false
  #waitingSince: number | undefined
  #watchdog: ReturnType<typeof setTimeout> | undefined
  #idleFired: TimeoutError | undefined
  #onAbort: (() => void) | undefined

  constructor(init: SourceInit) {
    this.#init = init
    const { response } = init
    if (response.body === null)
      throw new TypeError(`The response from ${response.url} has no body to stream.`)
    if (response.bodyUsed) throw new TypeError('The response body was already read; pass a fresh Response.')
    this.#reader = response.body.getReader()
    this.#where = response.url || init.request?.url || 'the response'
    this.#expected = expectedLength(response, init.total)
    if (init.progress.total === undefined && this.#expected !== undefined)
      init.progress.total = this.#expected
    if (response.headers.get(END_MARKER_HEADER) === 'marker') this.#marker = new EndMarkerTrap()
    // The user's signal must stop a body that no fetch of ours reads (fromResponse, an injected fetch that
    // ignores signals): cancel the reader, and let the pending or next read reject with the reason.
    const { signal } = init
    if (signal !== undefined) {
      if (signal.aborted) this.#reader.cancel(signal.reason).catch(() => {})
      else {
        this.#onAbort = () => void this.#reader.cancel(signal.reason).catch(() => {})
        signal.addEventListener('abort', this.#onAbort, { once: true })
      }
    }
  }

  async read(): Promise<Uint8Array | undefined> {
    for (;;) {
      if (this.#finished) return undefined
      const idle = this.#init.idleTimeout
      if (idle !== undefined) this.#arm(idle)
      let result: ReadableStreamReadResult<Uint8Array>
      try {
        result = await this.#reader.read()
      } catch (error) {
        throw this.#fail(this.#classify(error))
      } finally {
        this.#waitingSince = undefined
      }
      if (this.#idleFired) throw this.#fail(this.#idleFired)
      const expired = this.#init.expired()
      if (expired) throw this.#fail(expired)
      const signal = this.#init.signal
      if (signal?.aborted && !this.#finished) throw this.#fail(signal.reason)
      if (result.done) {
        if (this.#finished) return undefined
        return this.#end()
      }
      let chunk = result.value
      if (this.#marker !== undefined) {
        chunk = this.#marker.push(chunk)
        if (chunk.length === 0) continue
      }
      this.#count(chunk.length)
      return chunk
    }
  }

  async cancel(reason?: unknown): Promise<void> {
    if (this.#finished) return
    this.#finished = true
    this.cancelled = true
    this.#disarm()
    await this.#reader.cancel(reason).catch(() => {})
  }

  #count(n: number): void {
    this.offset += n
    if (this.offset > this.#init.maxBytes) {
      throw this.#fail(new LimitError('maxBytes', this.#init.maxBytes, `The body of ${this.#where}`))
    }
    this.#init.progress.bytes(n)
  }

  #end(): Uint8Array | undefined {
    let rest: Uint8Array | undefined
    // A declared length counts the marker line too: it was received, only not delivered.
    let markerBytes = 0
    if (this.#marker !== undefined) {
      const held = this.#marker.held
      const { rest: bytes, proven } = this.#marker.end(this.offset)
      if (!proven) {
        throw this.#fail(
          new TruncatedError(
            `The body of ${this.#where} ended after ${this.offset + held} bytes without the end marker its server announced (${END_MARKER_HEADER}); the stream was cut. Enable \`resume\` to continue it.`,
            this.offset + held,
            this.#expected,
            this.#context(),
          ),
        )
      }
      if (bytes.length > 0) rest = bytes
      markerBytes = held - bytes.length
    }
    if (rest !== undefined) this.#count(rest.length)
    const expected = this.#expected
    if (expected !== undefined && this.offset + markerBytes < expected) {
      throw this.#fail(
        new TruncatedError(
          `The body of ${this.#where} ended after ${this.offset} of ${expected} bytes; the stream was cut. Enable \`resume\` to continue it.`,
          this.offset,
          expected,
          this.#context(),
        ),
      )
    }
    this.#finished = true
    this.#disarm()
    return rest
  }

  #classify(error: unknown): SluiceError | unknown {
    if (this.#idleFired) return this.#idleFired
    const expired = this.#init.expired()
    if (expired) return expired
    const signal = this.#init.signal
    if (signal?.aborted) return signal.reason
    const message = error instanceof Error ? error.message : String(error)
    return new NetworkError(
      `The connection to ${this.#where} dropped after ${this.offset} bytes of the body (${message}). Enable \`resume\` to continue such streams.`,
      this.offset,
      { ...this.#context(), cause: error },
    )
  }

  #fail(error: unknown): unknown {
    this.#finished = true
    this.#disarm()
    this.#reader.cancel(error).catch(() => {})
    return error
  }

  #context(): { request: Request | undefined; response: Response } {
    return { request: this.#init.request, response: this.#init.response }
  }

  // One timer per silence, not per chunk: it re-arms itself for the time left while reads keep succeeding.
  #arm(idle: number): void {
    this.#waitingSince = Date.now()
    if (this.#watchdog !== undefined) return
    const check = (): void => {
      this.#watchdog = undefined
      if (this.#finished) return
      const since = this.#waitingSince
      if (since === undefined) return
      const left = idle - (Date.now() - since)
      if (left > 0) {
        this.#watchdog = setTimeout(check, left)
        return
      }
      this.#idleFired = new TimeoutError('idle', idle, this.#where, this.#context())
      this.#init.abort.abort(this.#idleFired)
      this.#reader.cancel(this.#idleFired).catch(() => {})
    }
    this.#watchdog = setTimeout(check, idle)
  }

  #disarm(): void {
    if (this.#watchdog !== undefined) clearTimeout(this.#watchdog)
    this.#watchdog = undefined
    if (this.#onAbort !== undefined) this.#init.signal?.removeEventListener('abort', this.#onAbort)
    this.#onAbort = undefined
  }
}

/**
 * The length a complete body must have, if anyone declared it. Content-Length is ignored for encoded bodies:
 * the bytes a client reads are decoded and would never match it.
 */
export function expectedLength(response: Response, declared: number | undefined): number | undefined {
  if (declared !== undefined) return declared
  const remapped = parseLength(response.headers.get('x-amzn-remapped-content-length'))
  if (remapped !== undefined) return remapped
  const encoding = response.headers.get('content-encoding')
  if (encoding !== null && encoding !== 'identity') return undefined
  const range = response.headers.get('content-range')
  if (range !== null) {
    const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(range.trim())
    if (match) return Number(match[2]) - Number(match[1]) + 1
  }
  return parseLength(response.headers.get('content-length'))
}

function parseLength(value: string | null): number | undefined {
  if (value === null || !/^\d+$/.test(value.trim())) return undefined
  return Number(value)
}
