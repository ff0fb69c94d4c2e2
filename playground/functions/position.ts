// Reading the position a resuming request names (a Last-Event-ID, a cursor), and refusing one that names nothing
// the function has. Read leniently (`Number()`), `abc` is NaN and gives a proven-complete empty body, `1.5` or
// `-5` give rows and events that never existed, and an empty value skips the first; thrown, it would be a 502,
// which a resuming client asks again, a new invocation each time. The sluice/lambda helpers answer a position
// their source cannot start from with 409 and a line that says why; these functions do the same.
import { pipeline } from 'node:stream/promises'
import type { RequestLike, ResponseStream } from '../../src/lambda/index.ts'

/** `value` as a whole number from 0 to `max`, or `undefined` when it is anything else. */
export function wholeNumber(value: string, max: number): number | undefined {
  if (!/^\d{1,15}$/.test(value)) return undefined
  const n = Number(value)
  return n <= max ? n : undefined
}

/**
 * Where the body of a request answered with `etag` starts: the N of a `Range: bytes=N-` that the helpers honour
 * (If-Range, when sent, names this ETag), else 0. streamBytes and streamNdjson make a resumed body again from its
 * start and skip the bytes before N: a function that paces its source skips those pauses too, else a resume near
 * the end would wait as long as the whole stream ran before its first byte.
 */
export function rangeStart(request: RequestLike, etag: string): number {
  const match = /^\s*bytes\s*=\s*(\d+)\s*-\s*$/i.exec(request.headers.range ?? '')
  const ifRange = request.headers['if-range']?.trim()
  return match === null || (ifRange !== undefined && ifRange !== etag) ? 0 : Number(match[1])
}

/** Answers `409` with `message` as a line of plain text: the request is impossible, not the function failing. */
export async function refuse(responseStream: ResponseStream, message: string): Promise<void> {
  const out = awslambda.HttpResponseStream.from(responseStream, {
    statusCode: 409,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' },
  })
  await pipeline([`${message}\n`], out)
}
