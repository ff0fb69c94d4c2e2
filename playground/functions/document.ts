// document — one growing JSON document (a title, a summary that grows, sections with nested fields), written
// slowly in small pieces so a client can render it as it fills in. Deterministic, with a declared length and
// Range support. A real Lambda handler.
import { streamBytes } from '../../src/lambda/index.ts'
import { DOCUMENT_TEXT, documentPieces, sleep } from './data.ts'
import { rangeStart } from './position.ts'

const encoder = new TextEncoder()

const ETAG = '"document-2026-10-v1"'

export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  // A resume asks for the rest (Range: bytes=N-): streamBytes makes the body again from its start and skips
  // what the client has, so those pieces are not paced — else a resume would wait as long as the stream ran.
  const from = rangeStart(event, ETAG)
  await streamBytes(
    responseStream,
    (async function* () {
      let made = 0
      for (const piece of documentPieces()) {
        made += encoder.encode(piece).byteLength
        if (made > from) await sleep(25)
        yield piece
      }
    })(),
    {
      request: event,
      length: new TextEncoder().encode(DOCUMENT_TEXT).byteLength,
      etag: ETAG,
      headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
    },
  )
})
