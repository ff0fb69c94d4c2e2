import { PRELUDE_CONTENT_TYPE } from './prelude.ts'
import type { ResponseMetadata, ResponseStream } from './types.ts'

/**
 * `awslambda.HttpResponseStream`: gives a streamed response its status, headers and cookies.
 *
 * Like the real runtime it sets the prelude content type and writes the JSON prelude and 8 NUL bytes lazily,
 * right before the first chunk (or at `end()` when there is none), so the function can still fail cleanly with a
 * 502 up to its first write.
 *
 * Known difference: the real runtime calls `_onBeforeFirstWrite` from `write()` only, so there `end()` without a
 * write sends no prelude (a 200 without the prelude's status and headers) and `end(chunk)` without a write sends
 * the chunk without it (a 502); see aws-lambda-nodejs-runtime-interface-client issue #97. Writing an empty chunk
 * first (`responseStream.write('')`) sends the prelude on both.
 *
 * @example
 * responseStream = HttpResponseStream.from(responseStream, { statusCode: 201, headers: { 'content-type': 'text/plain' } })
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
