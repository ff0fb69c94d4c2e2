// binary — a large file of deterministic bytes (50 MB by default, `PLAYGROUND_BINARY_BYTES` overrides it), with a
// declared length, a strong ETag and Range support. A real Lambda handler. A HEAD gets the head a GET gets without
// the file being made: streamBytes reads no source for a HEAD.
import { streamBytes } from '../../src/lambda/index.ts'
import { binaryByteLength, binaryChunks } from './data.ts'

export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  const length = binaryByteLength()
  const etag = `"binary-${length}-v1"`
  const headers = {
    'content-type': 'application/octet-stream',
    'content-disposition': 'attachment; filename="sluice-demo.bin"',
  }
  await streamBytes(responseStream, binaryChunks(length), { request: event, length, etag, headers })
})
