// binary — a large file of deterministic bytes (50 MB by default, `PLAYGROUND_BINARY_BYTES` overrides it), with a
// declared length, a strong ETag and Range support. A real Lambda handler.
import { pipeline } from 'node:stream/promises'
import { streamBytes } from '../../src/lambda/index.ts'
import { binaryByteLength, binaryChunks } from './data.ts'

export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  const length = binaryByteLength()
  const etag = `"binary-${length}-v1"`
  const headers = {
    'content-type': 'application/octet-stream',
    'content-disposition': 'attachment; filename="sluice-demo.bin"',
  }
  if (event.requestContext.http.method === 'HEAD') {
    // The head GET would send, without making the file: its body would be dropped, and the head goes out only
    // once the function ends. No Range here: it is defined for GET only (RFC 9110 §14.2).
    const out = awslambda.HttpResponseStream.from(responseStream, {
      statusCode: 200,
      headers: { ...headers, 'accept-ranges': 'bytes', etag, 'content-length': String(length) },
    })
    // The runtime sends the prelude from a write, never from end(): an empty chunk sends it.
    await pipeline([new Uint8Array(0)], out)
    return
  }
  await streamBytes(responseStream, binaryChunks(length), { request: event, length, etag, headers })
})
