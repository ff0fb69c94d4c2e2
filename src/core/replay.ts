import type { Input } from 'ky'
import { ResumeError } from './errors/resume-error.ts'

/** The input of the next request of one logical stream: the first request, then each reconnect. */
export type Replay = () => Input

/**
 * The inputs for the requests of one logical stream, so that a reconnect sends the same body again. A
 * `Request`'s body can be read once, and a read `Request` can no longer be cloned: a copy is taken before the
 * first request, which sends the caller's own `Request`, and each later request sends a clone of that copy. A
 * body given in the options as a stream is read once too, and there is no copy to take of it without buffering
 * the whole upload: a second request throws a `ResumeError` (`not-resumable`) that says so, instead of a fetch
 * error that asking again would only repeat. `again` is false when no second request can happen (resume off):
 * then nothing is copied.
 *
 * @example
 * const next = replayable(request, {}, true)
 * await ky(next()) // the caller's Request
 * await ky(next()) // a clone of it, its body included
 */
export function replayable(
  input: Input,
  options: { body?: unknown; json?: unknown },
  again: boolean,
): Replay {
  // ky sends `json` instead of `body`, and either instead of a Request's own body.
  const body = options.json !== undefined ? undefined : options.body
  if (isRequest(input) && body == null && options.json === undefined) {
    if (input.bodyUsed) {
      throw new TypeError(
        `The body of the Request for ${input.method} ${input.url} was already read; pass a new Request, or the URL with the body in the options.`,
      )
    }
    if (!again || input.body === null) return () => input
    const spare = input.clone()
    let sent = 0
    return () => (sent++ === 0 ? input : spare.clone())
  }
  if (again && isOneShot(body)) {
    let sent = 0
    return () => {
      if (sent++ === 0) return input
      throw new ResumeError(
        'not-resumable',
        `The request body for ${String(isRequest(input) ? input.url : input)} is a stream, which is sent once and cannot be sent again to resume; pass it as a string, bytes, a Blob or FormData to make the stream resumable.`,
        // The connections made before this refused one.
        sent - 1,
      )
    }
  }
  return () => input
}

function isRequest(input: Input): input is Request {
  return typeof Request !== 'undefined' && input instanceof Request
}

/** A body that fetch reads as it sends: a ReadableStream, or (in Node) any async iterable. */
function isOneShot(body: unknown): boolean {
  return (
    typeof body === 'object' &&
    body !== null &&
    ((typeof ReadableStream !== 'undefined' && body instanceof ReadableStream) ||
      Symbol.asyncIterator in body)
  )
}
