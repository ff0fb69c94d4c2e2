import { utf8Length } from '../core/decoders/utf8.ts'
import { buildEvent, type EventInput } from './event.ts'
import { type FunctionUrlResponse, serviceError } from './function-url-response.ts'
import type { FunctionUrlEvent } from './types.ts'

const ADVICE = 'so the function was not invoked; send less, or upload elsewhere and pass a reference.'

/**
 * The event a function URL invokes the function with for a request, or the 413 `RequestEntityTooLargeException`
 * it answers instead when the invoke payload is over `maxBytes` (`limits.maxRequestBytes`): the service holds the
 * event as JSON, in UTF-8 bytes, to its 6 MB, and a binary body is in it as base64, 4/3 its size. `'too-large'`
 * is a request whose body alone was over it (`readRequest` stopped reading there), and so its event.
 *
 * @example
 * const upload = { method: 'POST', url: 'http://127.0.0.1:3000/upload', headers: [], body: new Uint8Array(5e6) }
 * const event = requestEvent(upload, requestId, 6_291_456)
 * if ('status' in event) console.warn('413: 5 MB of binary is 6.7 MB as base64; the function is not invoked')
 */
export function requestEvent(
  input: EventInput | 'too-large',
  requestId: string,
  maxBytes: number,
): FunctionUrlEvent | FunctionUrlResponse {
  if (input === 'too-large') {
    return refusal(
      `The request body is larger than limits.maxRequestBytes (${maxBytes} bytes), ${ADVICE}`,
      requestId,
    )
  }
  const event = buildEvent({ ...input, requestId })
  if (maxBytes === Number.POSITIVE_INFINITY || utf8Length(JSON.stringify(event)) <= maxBytes) return event
  // The size is not told: it depends on the host the event names, which the emulator and the mock do not share.
  const body =
    event.body === undefined
      ? 'no body'
      : event.isBase64Encoded
        ? 'its binary body as base64, 4/3 its size'
        : 'its body as text'
  return refusal(
    `The request's event (the invoke payload: the request as JSON, ${body}, with its headers and request context) is larger than limits.maxRequestBytes (${maxBytes} bytes), ${ADVICE}`,
    requestId,
  )
}

function refusal(message: string, requestId: string): FunctionUrlResponse {
  return serviceError(413, 'RequestEntityTooLargeException', message, requestId)
}
