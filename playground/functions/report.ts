// report — a 100 000-row NDJSON report of deterministic rows. Resumes two ways: `Range: bytes=N-` (the body is
// the same bytes on every request, announced with a strong ETag) or `?cursor=<last id>`. A real Lambda handler.
import { streamNdjson } from '../../src/lambda/index.ts'
import { REPORT_ROWS, reportByteLength, reportRows, sleep } from './data.ts'
import { rangeStart, refuse, wholeNumber } from './position.ts'

const ETAG = '"report-2026-10-v1"'

/**
 * The rows after `after`, fetched like pages from a database: a short pause every 1000 rows — but none among the
 * rows before byte `from` of the body, which a resume by Range makes again only to skip them.
 */
async function* pages(after: number, from: number): AsyncGenerator<unknown> {
  let count = 0
  let made = 0
  for (const row of reportRows(after)) {
    // The end of the row's line in the body, counted until past `from` (ASCII only: characters = bytes).
    if (made <= from) made += JSON.stringify(row).length + 1
    if (++count % 1000 === 0 && made > from) await sleep(10)
    yield row
  }
}

export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  // Where streamNdjson reads the cursor from: `?cursor=` first, then the `x-sluice-cursor` header. It is the id
  // of the last row the client has (0 for none); an empty one names no row and starts from the first.
  const cursor = event.queryStringParameters?.cursor ?? event.headers['x-sluice-cursor']
  if (cursor && wholeNumber(cursor, REPORT_ROWS) === undefined) {
    return refuse(
      responseStream,
      `cursor ${JSON.stringify(cursor.slice(0, 200))} is not the id of a row of this report (0 to ${REPORT_ROWS}).`,
    )
  }
  const from = rangeStart(event, ETAG)
  await streamNdjson(responseStream, (after) => pages(after ? Number(after) : 0, from), {
    request: event,
    etag: ETAG,
    // The full report's length is known, so the client sees a total (percent, ETA) and proves completion by
    // it; a cursor request is a different body, proven by the end marker instead.
    ...(cursor ? {} : { length: reportByteLength() }),
    headers: { 'cache-control': 'no-store' },
  })
})
