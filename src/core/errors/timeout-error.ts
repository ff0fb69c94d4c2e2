import { type ErrorContext, guardFor, SluiceError } from './sluice-error.ts'

/** Which timeout fired: waiting for headers, waiting between chunks, or for the whole logical stream. */
export type TimeoutPhase = 'headers' | 'idle' | 'total'

/**
 * A timeout fired. `phase` says which: `headers` (the `timeout` option, to the first response's headers),
 * `idle` (`idleTimeout`, silence between chunks) or `total` (`totalTimeout`, the whole logical stream).
 *
 * @example
 * catch (error) { if (isTimeoutError(error) && error.phase === 'idle') console.log('server went quiet') }
 */
export class TimeoutError extends SluiceError {
  override readonly name = 'TimeoutError' as const
  readonly code = 'ERR_TIMEOUT' as const
  readonly phase: TimeoutPhase
  /** The limit that was exceeded, in milliseconds. */
  readonly timeoutMs: number

  /**
   * `waiting`: for `total`, what the stream was waiting for when it fired (a reconnect, and after what), whose
   * failure is `context.cause`: raising the limit may not help, when a server asked for an hour's wait.
   */
  constructor(
    phase: TimeoutPhase,
    timeoutMs: number,
    where: string,
    context: ErrorContext = {},
    waiting?: string,
  ) {
    const what = {
      headers: `No response headers arrived within ${timeoutMs} ms`,
      idle: `The body of ${where} was silent for ${timeoutMs} ms`,
      total: `The stream did not complete within ${timeoutMs} ms`,
    }[phase]
    const hint = {
      headers:
        "raise `timeout` (or a ky instance's `totalTimeout`, when it set the bound) if the server is slow to start",
      idle: 'raise `idleTimeout`, or make the server send heartbeats',
      total: waiting ? 'continue later from the checkpoint, or raise `totalTimeout`' : 'raise `totalTimeout`',
    }[phase]
    const during = waiting ? ` while ${waiting} (see \`cause\`)` : ''
    super(`${what}${phase === 'idle' ? '' : ` (${where})`}${during}; ${hint}.`, context)
    this.phase = phase
    this.timeoutMs = timeoutMs
  }
}

/** Whether `value` is a {@link TimeoutError}, from any copy of sluice. @example if (isTimeoutError(e)) e.phase */
export const isTimeoutError: (value: unknown) => value is TimeoutError =
  guardFor<TimeoutError>('TimeoutError')
