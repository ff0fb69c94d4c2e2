/**
 * A real CORS refusal in Chromium: the page's origin is not the test server's, and an answer without CORS headers
 * is refused with the same `Failed to fetch` as a network down (see test/client.test.ts for each runtime's words).
 */
import { expect, inject, it } from 'vitest'
import { isNetworkError, isResumeError, sluice } from '../../src/index.ts'
import { encode } from '../support/chunking.ts'
import { base64, FAST, scripted } from '../support/scripted.ts'

it("a request the server's CORS refuses says to check the server's CORS, not only the URL and the network", async () => {
  const target = `${inject('serverUrl')}/text?body=hello&cors=none`
  const error = await sluice(target, { retry: 0 }).catch((e: unknown) => e)
  expect(isNetworkError(error)).toBe(true)
  expect((error as Error).message).toBe(
    `Could not connect to ${target} (Failed to fetch). Check the URL and the network, or the server's CORS.`,
  )
})

/**
 * What a failed Range after a cross-origin answer also says: CORS may hide that its body is compressed, and a server
 * that cuts the compressed bytes fails the request with the same words (see cors-compressed.test.ts).
 */
const CUT =
  'If its body is content-encoded (hidden by CORS), the server may be cutting the encoded bytes: serve Range requests without Content-Encoding, or expose it.'

const lines = encode(Array.from({ length: 2000 }, (_, i) => `line ${i}\n`).join(''))

it('a reconnect whose added headers the CORS preflight refuses names them and Access-Control-Allow-Headers', async () => {
  // Range alone (`bytes=N-`) is safelisted; If-Range is not, so the reconnect needs a preflight the first did not.
  const { url, log, release } = await scripted({
    kind: 'range',
    body: base64(lines),
    etag: ['"v1"'],
    expose: '*',
    allowHeaders: 'content-type',
    attempts: [{ drop: 1000, release: true }],
  })
  const res = await sluice(url, { resume: { backoff: FAST, attempts: 2 } })
  const items = res.lines()[Symbol.asyncIterator]()
  expect((await items.next()).value).toBe('line 0')
  await release()
  const error = await (async () => {
    while (!(await items.next()).done);
  })().catch((e: unknown) => e)
  expect(isResumeError(error) && error.reason).toBe('attempts-exhausted')
  expect((error as Error).message).toBe(
    `Gave up after 2 reconnects to ${url}: Reconnecting to ${url} failed (Failed to fetch). Check the network, or that the server's CORS allows range, if-range (Access-Control-Allow-Headers). ${CUT} Try again later from the checkpoint, or allow more \`resume.attempts\`.`,
  )
  // The preflights were refused: no reconnect reached the server.
  expect((await log()).filter((e) => e.event === 'request')).toHaveLength(1)
})

it('so does a reconnect that sends Last-Event-ID', async () => {
  const events = Array.from({ length: 300 }, (_, i) => ({ id: String(i), data: `event ${i}` }))
  const { url, release } = await scripted({
    kind: 'sse',
    events,
    allowHeaders: 'content-type',
    attempts: [{ drop: 1000, release: true }],
  })
  const res = await sluice(url, { resume: { backoff: FAST, attempts: 1 } })
  const items = res.events()[Symbol.asyncIterator]()
  expect((await items.next()).value).toMatchObject({ id: '0' })
  await release()
  const error = await (async () => {
    while (!(await items.next()).done);
  })().catch((e: unknown) => e)
  expect(isResumeError(error) && error.message).toContain(
    "Check the network, or that the server's CORS allows last-event-id (Access-Control-Allow-Headers).",
  )
})

it('so does a resume request from a checkpoint', async () => {
  const { url } = await scripted({
    kind: 'range',
    body: base64(lines),
    etag: ['"v1"'],
    allowHeaders: 'content-type',
  })
  const res = await sluice(url, { resume: { backoff: FAST } })
  const items = res.lines()[Symbol.asyncIterator]()
  await items.next()
  const checkpoint = res.checkpoint()
  await items.return?.()
  const error = await sluice(url, { resumeFrom: checkpoint, resume: { backoff: FAST, attempts: 1 } }).catch(
    (e: unknown) => e,
  )
  expect(isResumeError(error) && error.message).toBe(
    `Gave up after 2 resume requests: The resume request to ${url} failed (Failed to fetch). Check the network, or that the server's CORS allows range, if-range (Access-Control-Allow-Headers). ${CUT} Try again later from the checkpoint, or allow more \`resume.attempts\`.`,
  )
})
