import { PRELUDE_CONTENT_TYPE } from './prelude.ts'
import type { ResponseMetadata, ResponseStream } from './types.ts'

/**
 * `awslambda.HttpResponseStream`: gives a streamed response its status, headers and cookies.
 *
 * As the real runtime, it sets the prelude content type and hands the stream an `_onBeforeFirstWrite` hook that
 * writes the JSON prelude and 8 NUL bytes right before the first `write()` — any write, an empty `write('')`
 * included — so the function can still fail cleanly with a 502 up to its first write.
 *
 * Only `write()` runs that hook (aws-lambda-nodejs-runtime-interface-client, src/ResponseStream.js: its `end` is
 * `origEnd(cb)`; issue #97), and the emulators copy that faithfully: `end()` with no write before it sends no
 * prelude, so the client gets a 200 with default headers, not the metadata's; `end(chunk)` with no write before
 * it sends the chunk without a prelude, which the service cannot parse (a 502). Write first —
 * `responseStream.write(chunk)` then `end()`, or `write('')` for an empty body — and the prelude goes out.
 *
 * @example
 * responseStream = HttpResponseStream.from(responseStream, { statusCode: 201, headers: { 'content-type': 'text/plain' } })
 * responseStream.write('created') // sends the prelude, then the chunk
 * responseStream.end()
 */
export const HttpResponseStream: {
  from<S extends ResponseStream>(responseStream: S, metadata: ResponseMetadata): S
} = {
  from(responseStream, metadata) {
    responseStream.setContentType(PRELUDE_CONTENT_TYPE)
    // JSON.stringify escapes control characters, so the prelude itself can never contain the NUL delimiter.
    const prelude = JSON.stringify(metadata)
    responseStream._onBeforeFirstWrite = (write) => {
      write(prelude)
      write(new Uint8Array(8))
    }
    return responseStream
  },
}
