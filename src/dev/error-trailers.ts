import { HTTP_TOKEN } from '../runtime/http-token.ts'

/**
 * How a failure after the head shows on the wire: `'cut'`, the connection cut without the last chunk, or
 * `'trailers'`, the body ended cleanly with the error in HTTP trailers, as a function URL may end it.
 */
export type LateFailure = 'cut' | 'trailers'

/** The trailers the Lambda runtime API reports a streamed failure in, as the `Trailer` header declares them. */
export const ERROR_TRAILERS = 'Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body'

/**
 * The trailers that report `error`, as the Node.js runtime sends them: its type, and a base64 JSON body
 * `{ errorType, errorMessage, trace }`. The failures the service imposes go by the service's names (the emulator
 * words their messages itself, as `invoke` reads them), a handler's error by its `name`.
 *
 * @example
 * nodeResponse.addTrailers(errorTrailers(new Error('lost the database')))
 */
export function errorTrailers(error: unknown): Record<string, string> {
  const failure = error instanceof Error ? error : new Error(String(error))
  const { message } = failure
  const errorType = message.startsWith('Task timed out')
    ? 'Sandbox.Timedout'
    : message.startsWith('The response exceeded limits.maxResponseBytes')
      ? 'Function.ResponseSizeTooLarge'
      : // A name a trailer cannot carry (a space, a character beyond latin1) would make Node throw.
        HTTP_TOKEN.test(failure.name)
        ? failure.name
        : 'Error'
  const body = { errorType, errorMessage: message, trace: failure.stack?.split('\n') ?? [] }
  return {
    'Lambda-Runtime-Function-Error-Type': errorType,
    'Lambda-Runtime-Function-Error-Body': Buffer.from(JSON.stringify(body)).toString('base64'),
  }
}
