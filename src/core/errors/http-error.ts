import { excerptOf } from './parse-error.ts'
import { type ErrorContext, guardFor, SluiceError } from './sluice-error.ts'

/**
 * The server answered with a non-2xx status. `excerpt` holds the start of the body (at most 1 KiB), so the
 * reason the server gave is visible without reading the body again.
 *
 * @example
 * catch (error) { if (isHTTPError(error) && error.status === 401) await refreshToken() }
 */
export class HTTPError extends SluiceError {
  override readonly name = 'HTTPError' as const
  readonly code = 'ERR_HTTP' as const
  /** The HTTP status of the response. */
  readonly status: number
  /** The start of the response body, decoded as text; empty when there was none. */
  readonly excerpt: string
  /**
   * The requests sent before this answer was given up on, ky's `retry` included (by ky's default, a GET answered
   * 408, 429, 500, 502, 503 or 504 is sent 3 times): more than one is said in the message. 1 for `fromResponse()`.
   */
  readonly attempts: number
  declare readonly response: Response

  constructor(
    response: Response,
    excerpt: string,
    { attempts = 1, ...context }: Omit<ErrorContext, 'response'> & { attempts?: number } = {},
  ) {
    const reason = `${response.status}${response.statusText ? ` ${response.statusText}` : ''}`
    // The page's first 200 characters, without the blank lines around it (its final line feed, most often).
    const text = excerpt.trim()
    const body = text ? `: ${excerptOf(text, 200)}` : ''
    super(
      `Request to ${response.url || context.request?.url || 'the server'} failed with status ${reason}${retriedClause(attempts)}${body}`,
      {
        ...context,
        response,
      },
    )
    this.status = response.status
    this.excerpt = excerpt
    this.attempts = attempts
  }
}

/**
 * What an HTTPError's message says of `attempts` requests: nothing for one; for more, how many, and how to send
 * one — a function that fails would otherwise seem to have been called once, and have run three times.
 */
export function retriedClause(attempts: number): string {
  return attempts > 1 ? ` after ${attempts} attempts (ky's \`retry\`; set \`retry: 0\` to send one)` : ''
}

/** Whether `value` is an {@link HTTPError}, from any copy of sluice. @example if (isHTTPError(e)) e.status */
export const isHTTPError: (value: unknown) => value is HTTPError = guardFor<HTTPError>('HTTPError')
