// document — one growing JSON document (a title, a summary that grows, sections with nested fields), written
// slowly in small pieces so a client can render it as it fills in. Deterministic, with a declared length and
// Range support. A real Lambda handler.
import { streamBytes } from '../../src/lambda/index.ts'
import { DOCUMENT_TEXT, documentPieces, sleep } from './data.ts'

export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  await streamBytes(
    responseStream,
    (async function* () {
      for (const piece of documentPieces()) {
        await sleep(25)
        yield piece
      }
    })(),
    {
      request: event,
      length: new TextEncoder().encode(DOCUMENT_TEXT).byteLength,
      etag: '"document-2026-10-v1"',
      headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
    },
  )
})
