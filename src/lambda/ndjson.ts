import { unlikeMarker } from '../core/end-marker.ts'
import { checkOptions, checkPaddingFits, HELPER_OPTIONS } from './check-options.ts'
import type { CursorOptions, LengthOptions, ResponseOptions, ResumableSource } from './options.ts'
import { NDJSON_FILLER, type PaddingOptions, withPadding } from './padding.ts'
import { cursorOf } from './request.ts'
import { endsWithMarker, writeBody } from './respond.ts'
import {
  iterableOf,
  plainSource,
  type Reading,
  readingOf,
  releasedOnFailure,
  sourceToRead,
} from './source.ts'
import type { AnyResponseStream } from './types.ts'

/**
 * Options of {@link streamNdjson}: response, length/range and cursor options, and padding.
 *
 * @example
 * const options: NdjsonOptions = { request: event, etag: '"rows-v1"', cursorParam: 'after' }
 */
export interface NdjsonOptions extends ResponseOptions, LengthOptions, CursorOptions {
  /**
   * Push a small write out of the runtime, which can hold back writes until tens of KB have accumulated: after a
   * write followed by `idleMs` without another, top what was written up to `bytes` with lines of spaces, which
   * sluice's `ndjson()` skips (as does any reader that skips blank lines). Costs up to `bytes` per pause, and
   * makes the bytes depend on timing: it cannot go with `range`, `etag` or `length` (a `TypeError`). `true`
   * takes the defaults (16 KiB, 50 ms). Default `false`.
   *
   * @example
   * await streamNdjson(responseStream, (cursor) => db.rowsAfter(cursor), { request: event, padding: true })
   */
  padding?: boolean | PaddingOptions | undefined
}

const encoder = new TextEncoder()

async function* ndjsonLines(
  source: ResumableSource<unknown>,
  options: NdjsonOptions,
  reading: Reading,
): AsyncGenerator<Uint8Array> {
  const cursor = cursorOf(options.request, options)
  // What a function source returns is released as the source is, once taken for one (see `readingOf`).
  const items =
    typeof source === 'function'
      ? sourceToRead(reading.use(source(cursor)), 'streamNdjson', true)
      : sourceToRead(plainSource(source, cursor, 'streamNdjson', options), 'streamNdjson', false)
  // Only a body that ends with the marker needs it; a declared length is counted on JSON.stringify's bytes.
  const marked = endsWithMarker(options)
  let index = 0
  for await (const item of items) {
    let json = JSON.stringify(item)
    if (json === undefined) {
      throw new TypeError(
        `sluice/lambda: streamNdjson got item ${index} (${typeof item}), which JSON cannot represent; yield objects, arrays, strings, numbers, booleans or null.`,
      )
    }
    // A record that reads as the marker line goes with a space after its brace: the same value, no marker.
    if (marked) json = unlikeMarker(json)
    index++
    yield encoder.encode(`${json}\n`)
  }
}

/**
 * Writes each item of `source` as one line of JSON (`application/x-ndjson`), then the end marker, or declares
 * the length when `options.length` is given.
 *
 * A function source is called with the request's cursor (`?cursor=` or `x-sluice-cursor` by default) and
 * yields the items after it; a plain iterable cannot start after a cursor, so a request that carries one is
 * answered `409` with a text body that says so (a status clients do not ask again, instead of the items it has
 * again). With `etag` (or `range: true`) over a deterministic source, `Range: bytes=N-` is answered with 206 and
 * the body from byte N. An item that would serialise exactly as the end-marker line is written with a space after
 * its `{` when the marker is used (the same JSON value). Resolves when the last byte is handed to the runtime; if
 * the source throws, the response is cut (no marker) and the promise rejects with that error. With `padding`, a
 * row written after a pause reaches the client at once, not with the next tens of KB (see
 * {@link NdjsonOptions.padding}). An unknown option, or one of the wrong type, rejects with a `TypeError` that
 * says what to pass, before anything is written, and the source is released (a Node stream destroyed, a web stream
 * cancelled).
 *
 * @example
 * export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
 *   await streamNdjson(responseStream, (cursor) => db.rowsAfter(cursor), { request: event })
 * })
 */
export async function streamNdjson<T>(
  responseStream: AnyResponseStream,
  source: ResumableSource<T>,
  options: NdjsonOptions = {},
): Promise<void> {
  await releasedOnFailure(source, async () => {
    checkOptions({ got: 'streamNdjson got' }, options, HELPER_OPTIONS.streamNdjson)
    checkPaddingFits(options)
    const reading = readingOf(source)
    const lines = withPadding(ndjsonLines(source, options, reading), options.padding, NDJSON_FILLER)
    await writeBody(responseStream, lines, options, {
      helper: 'streamNdjson',
      contentType: 'application/x-ndjson',
      rangeable: true,
      release: reading.release,
      // A HEAD calls no function source; a plain one gets its GET's 409 for a cursor.
      probe: () => {
        if (typeof source !== 'function')
          iterableOf(
            plainSource(source, cursorOf(options.request, options), 'streamNdjson', options),
            'streamNdjson',
            false,
          )
      },
    })
  })
}
