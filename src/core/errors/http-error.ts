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
  declare readonly response: Response

  constructor(response: Response, excerpt: string, context: Omit<ErrorContext, 'response'> = {}) {
    const reason = `${response.status}${response.statusText ? ` ${response.statusText}` : ''}`
    // The page's first 200 characters, without the blank lines around it (its final line feed, most often).
    const text = excerpt.trim()
    const body = text ? `: ${excerptOf(text, 200)}` : ''
    super(
      `Request to ${response.url || context.request?.url || 'the server'} failed with status ${reason}${body}`,
      {
        ...context,
        response,
      },
    )
    this.status = response.status
    this.excerpt = excerpt
  }
}

/** Whether `value` is an {@link HTTPError}, from any copy of sluice. @example if (isHTTPError(e)) e.status */
export const isHTTPError: (value: unknown) => value is HTTPError = guardFor<HTTPError>('HTTPError')
