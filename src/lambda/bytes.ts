import { checkOptions, HELPER_OPTIONS } from './check-options.ts'
import type { LengthOptions, ResponseOptions, Source } from './options.ts'
import { writeBody } from './respond.ts'
import { iterableOf, releasedOnFailure, releaseSource, sourceToRead } from './source.ts'
import type { AnyResponseStream } from './types.ts'

/**
 * What {@link streamBytes} writes: one string or byte array (its length is then declared for you), or a
 * sequence of them — a generator, a Node `Readable`, a web `ReadableStream`. Strings are written as UTF-8.
 *
 * @example
 * const source: BytesSource = createReadStream('report.csv')
 */
export type BytesSource = string | Uint8Array | Source<string | Uint8Array>

/**
 * Options of {@link streamBytes}: response and length/range options.
 *
 * @example
 * const { size, mtimeMs } = await stat(path)
 * const options: BytesOptions = { length: size, etag: `"${size}-${mtimeMs}"`, request: event }
 */
export interface BytesOptions extends ResponseOptions, LengthOptions {}

const encoder = new TextEncoder()

function toBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk
  if (typeof chunk === 'string') return encoder.encode(chunk)
  throw new TypeError(
    `sluice/lambda: streamBytes got a chunk of type ${typeof chunk}; yield strings or Uint8Array (Buffer) chunks.`,
  )
}

// Bytes are written as they are, so one ambiguity of the end marker stays: a body that holds, starting at its byte
// K, the line `{"$sluice":"end","bytes":K}\n` reads as complete to a client when a cut falls right after that line.
// NDJSON and SSE write such a line another way (see ndjsonLines, formatSseEvent); raw bytes cannot be, and scanning
// them would only find what no real file holds by chance. Pass `length` to prove a body by its size instead.
async function* chunksOf(source: BytesSource): AsyncGenerator<Uint8Array> {
  // Strings and byte arrays are iterable too, but by character and by number: they are one chunk each.
  if (typeof source === 'string' || source instanceof Uint8Array) {
    yield toBytes(source)
    return
  }
  for await (const chunk of sourceToRead(source, 'streamBytes', false)) yield toBytes(chunk)
}

/**
 * Writes bytes from `source` (`application/octet-stream` unless a `content-type` header is given), declaring
 * the length when it is known (always for a single string or byte array) and ending with the end marker
 * otherwise.
 *
 * With `etag` (or `range: true`) over a deterministic source, `Range: bytes=N-` is answered with 206 and the
 * body from byte N, and `If-Range` with another ETag gets the full 200. Resolves when the last byte is handed to
 * the runtime; if the source throws, the response is cut (no marker) and the promise rejects with that error. An
 * unknown option, or one of the wrong type, rejects with a `TypeError` that says what to pass, before anything is
 * written, and the source is released (a Node stream destroyed, a web stream cancelled).
 *
 * @example
 * export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
 *   const { size, mtimeMs } = await stat(path)
 *   await streamBytes(responseStream, createReadStream(path), {
 *     request: event, length: size, etag: `"${size}-${mtimeMs}"`, headers: { 'content-type': 'text/csv' },
 *   })
 * })
 */
export async function streamBytes(
  responseStream: AnyResponseStream,
  source: BytesSource,
  options: BytesOptions = {},
): Promise<void> {
  await releasedOnFailure(source, async () => {
    checkOptions({ got: 'streamBytes got' }, options, HELPER_OPTIONS.streamBytes)
    const whole =
      typeof source === 'string' ? encoder.encode(source) : source instanceof Uint8Array ? source : undefined
    const resolved: BytesOptions =
      whole !== undefined && options.length === undefined ? { ...options, length: whole.byteLength } : options
    await writeBody(responseStream, chunksOf(whole ?? source), resolved, {
      helper: 'streamBytes',
      contentType: 'application/octet-stream',
      rangeable: true,
      release: (reason) => releaseSource(source, reason),
      probe: () => {
        if (typeof source !== 'string' && !(source instanceof Uint8Array))
          iterableOf(source, 'streamBytes', false)
      },
    })
  })
}
