import type { ChunkSource, SourceOrigin } from '../body-source.ts'
import { isSluiceError } from '../errors/sluice-error.ts'
import type { ProgressSink } from '../progress.ts'

/** Memory bounds for the decoders, in bytes; every buffer that grows with input has one. */
export interface Limits {
  /**
   * Longest line `lines()` and `ndjson()` accept, in bytes of the body: its LF or CRLF not counted, and an invalid
   * byte counted once, though its text is a U+FFFD (3 bytes of UTF-8). Default 8 MiB.
   */
  maxLineBytes: number
  /**
   * Largest single SSE event `events()` accepts: the bytes of the body that its data takes — the values of its
   * `data` lines and a byte for each line feed that joins them, an invalid byte counted once, though its text is a
   * U+FFFD — also for an event the body ends in. Field names, other fields and comments are not counted, but a
   * line of another field longer than twice the limit may be refused while it arrives in pieces (bounded memory).
   * Default 8 MiB.
   */
  maxEventBytes: number
  /** Largest body the whole-body helpers (`collect.*`) and any consumer accept. Default: no limit. */
  maxBytes: number
}

/** What a consumer reads from and reports to. */
export interface ConsumeContext {
  source: ChunkSource
  progress: ProgressSink
  limits: Limits
}

/**
 * Throws when `source` was stopped before its end (`cancel()`, `detach()`: an `AbortError`; the user's abort: its
 * reason): what a `collect` helper read until then is a part of the body, which must not pass for the whole.
 */
export function whole(source: ChunkSource, by: string): void {
  if (source.cancelled) {
    halt(source)
    throw new DOMException(`${by} was stopped before the end of the body.`, 'AbortError')
  }
}

/**
 * Ends a consumer whose source was stopped under it: quietly after `cancel()` or `detach()`, with the abort
 * reason after the user's signal aborted.
 */
export function halt(source: ChunkSource): undefined {
  if (source.abortReason !== undefined) throw source.abortReason
  return undefined
}

/**
 * Settles the progress state and the connection when a consumer stops: `done` after a proven end, `error`
 * when it threw, `cancelled` when the caller broke out early — in which case the body is cancelled, once.
 */
export async function settle(
  context: ConsumeContext,
  outcome: 'done' | 'error' | 'cancelled',
): Promise<void> {
  // The user's abort is a cancellation; sluice's own timeouts, delivered through the same signal, are errors.
  const reason = context.source.abortReason
  const userAbort = outcome === 'error' && reason !== undefined && !isSluiceError(reason)
  let told: void | Promise<void>
  try {
    told = context.progress.setState(userAbort ? 'cancelled' : outcome)
  } finally {
    // A listener that threw (now, or in an earlier report) fails the stream: the connection goes all the same.
    if (outcome !== 'done')
      await context.source.cancel(outcome === 'cancelled' ? 'The consumer stopped reading.' : undefined)
  }
  // An async listener's final report: its rejection is the end's, as a throw there is.
  await told
}

/**
 * Names the request and response of the body in which a consumer found `error` (a ParseError, a
 * ValidationError, a LimitError on a line), unless the error already names its own.
 */
export function inBody<E>(error: E, source: ChunkSource): E {
  if (isSluiceError(error) && error.request === undefined && error.response === undefined) {
    const context = source.context?.()
    const target = error as { request: Request | undefined; response: Response | undefined }
    target.request = context?.request
    target.response = context?.response
  }
  return error
}

/** What `untilStopped` settles with when the source was stopped first. */
export const STOPPED: unique symbol = Symbol('stopped')

/**
 * `promise` (an asynchronous schema's validation), or `STOPPED` once the source is stopped (`cancel()`, a break,
 * the user's abort) before it settles: the consumer then ends, rather than when a validation that may never
 * settle does.
 */
export function untilStopped<T>(promise: Promise<T>, source: ChunkSource): Promise<T | typeof STOPPED> {
  const onStop = source.onStop
  if (onStop === undefined) return promise
  return new Promise((resolve, reject) => {
    let off = (): void => {}
    // Stopped, it stops listening at once: the validation may never settle. Resolved in a later microtask, not
    // inside the cancel() that stops the source, which the consumer's end calls again.
    off = onStop.call(source, () => {
      off()
      queueMicrotask(() => resolve(STOPPED))
    })
    promise.then(
      (value) => {
        off()
        resolve(value)
      },
      (error: unknown) => {
        off()
        reject(error)
      },
    )
  })
}

const BODY_START: SourceOrigin = { offset: 0, lines: 0, records: 0 }

/** Where the consumer's first byte stands in the body; asked when an error is made, as a restart moves it. */
export function originOf(source: ChunkSource): () => SourceOrigin {
  return () => source.origin?.() ?? BODY_START
}
