import { describeValue } from './describe-value.ts'
import { responseProblem } from './prelude.ts'
import type { ResponseSink } from './response-sink.ts'

/**
 * Checks what a handler passes to `responseStream.setContentType`, as the runtime does when it sets it as a header
 * of its own request (Node's `setHeader` throws there): a value HTTP cannot carry fails the handler at the call,
 * before its first byte, instead of breaking the response later.
 *
 * @example
 * checkContentType('text/plain; charset=utf-8') // fine
 * checkContentType('text/plain\r\nx: y') // throws a TypeError
 */
export function checkContentType(contentType: unknown): void {
  if (typeof contentType !== 'string') {
    throw new TypeError(
      `setContentType: the content type must be a string, got ${describeValue(contentType)}; pass a media type such as 'text/plain; charset=utf-8'.`,
    )
  }
  if (responseProblem(200, [['content-type', contentType]], []) !== undefined) {
    throw new TypeError(
      `setContentType: the content type ${JSON.stringify(contentType)} has CR, LF or another character that HTTP headers cannot carry; pass a media type such as 'text/plain; charset=utf-8'.`,
    )
  }
}

/**
 * `responseStream.setContentType` for both response streams: refused once the stream has written (the prelude or
 * a chunk may have gone) or ended, checked as {@link checkContentType} checks it, then kept for the response.
 *
 * @example
 * setContentTypeOf(sink, 'text/plain', { started: false, ended: stream.writableEnded })
 */
export function setContentTypeOf(
  sink: ResponseSink,
  contentType: string,
  stream: { started: boolean; ended: boolean },
): void {
  if (stream.started || stream.ended) {
    throw new Error(
      `setContentType was called after ${stream.started ? 'the first write to the response stream' : 'the response stream ended'}; call it (or awslambda.HttpResponseStream.from) before writing.`,
    )
  }
  checkContentType(contentType)
  sink.contentType = contentType
}
