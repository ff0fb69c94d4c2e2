// binary — a large file of deterministic bytes (50 MB by default, `PLAYGROUND_BINARY_BYTES` overrides), with a
// declared length, a strong ETag and Range support. A real Lambda handler.
import { streamBytes } from '../../src/lambda/index.ts'
import { binaryByteLength, binaryChunks } from './data.ts'

export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  const length = binaryByteLength()
  await streamBytes(responseStream, binaryChunks(length), {
    request: event,
    length,
    etag: `"binary-${length}-v1"`,
    headers: {
      'content-type': 'application/octet-stream',
      'content-disposition': 'attachment; filename="sluice-demo.bin"',
    },
  })
})
