/**
 * A compressed body from another origin, read by a real page: the loopback server is another origin than the
 * page's, and serves gzip (as a CDN in front of a function would) exposing what README asks for, but not
 * Content-Encoding. Chromium then shows the compressed Content-Length (CORS safelists it) and hides the coding.
 */
import { expect, it } from 'vitest'
import { isNetworkError, isResumeError, type Progress, type StreamResponse, sluice } from '../../src/index.ts'
import { encode } from '../support/chunking.ts'
import { base64, FAST, type Script, scripted } from '../support/scripted.ts'

const EXPOSE = 'x-sluice-end, x-amzn-remapped-content-length, content-range, accept-ranges, etag'
const rows = Array.from({ length: 2000 }, (_, i) => ({ i, name: `row ${i}`, pad: 'x'.repeat(40) }))

/** The rows as the plain body carries them: its length in bytes. */
const PLAIN = encode(rows.map((v) => `${JSON.stringify(v)}\n`).join('')).length

/** The rows `res.ndjson()` gives: the first before `release` lets the held answer go (and drop), the rest after. */
async function readAcross(res: StreamResponse, release: () => Promise<unknown>): Promise<unknown[]> {
  const items = res.ndjson()[Symbol.asyncIterator]()
  const got = [(await items.next()).value]
  await release()
  for (let next = await items.next(); !next.done; next = await items.next()) got.push(next.value)
  return got
}

/** `values` as NDJSON, served gzip-compressed and resumable by Range, exposing `EXPOSE` unless `more` says. */
function served(values: unknown[], more: Partial<Script> = {}) {
  const body = encode(values.map((v) => `${JSON.stringify(v)}\n`).join(''))
  return scripted({ kind: 'range', body: base64(body), gzip: true, expose: EXPOSE, etag: ['"v1"'], ...more })
}

it('the page sees the compressed Content-Length, and no Content-Encoding', async () => {
  const { url } = await served(rows)
  const response = await fetch(url)
  expect(response.type).toBe('cors')
  expect(response.headers.has('content-encoding')).toBe(false)
  expect(Number(response.headers.get('content-length'))).toBeLessThan((await response.bytes()).length)
})

it('a body that decodes to more than its Content-Length is read whole, and no report claims a total', async () => {
  const { url, log } = await served(rows)
  const seen: Progress[] = []
  const res = await sluice(url, {
    resume: { backoff: FAST },
    onProgress: (p) => seen.push({ ...p }),
    progressInterval: 0,
  })
  expect(await Array.fromAsync(res.ndjson())).toEqual(rows)
  expect(res.progress).toMatchObject({ items: rows.length, state: 'done' })
  expect(seen.filter((p) => p.total !== undefined || p.percent !== undefined)).toEqual([])
  expect((await log()).filter((e) => e.event === 'request')).toHaveLength(1)
})

it('a body that decodes to less than its Content-Length ends cleanly: nothing is asked for by Range', async () => {
  const { url, log } = await served([{ i: 1 }])
  const res = await sluice(url, { resume: { backoff: FAST } })
  expect(await Array.fromAsync(res.ndjson())).toEqual([{ i: 1 }])
  expect(res.progress).toMatchObject({ loaded: 8, state: 'done' })
  expect(res.progress.total).toBeUndefined()
  expect((await log()).map((e) => [e.event, e.range])).toEqual([
    ['request', null],
    ['end', undefined],
  ])
})

it('with Content-Encoding exposed too, a drop is not continued by Range, and the error says why', async () => {
  const { url, log, release } = await served(rows, {
    expose: `${EXPOSE}, content-encoding`,
    attempts: [{ drop: 5000, release: true }],
  })
  const res = await sluice(url, { resume: { backoff: FAST } })
  const items = res.ndjson()[Symbol.asyncIterator]()
  expect((await items.next()).value).toEqual(rows[0])
  await release()
  let error: unknown
  try {
    while (!(await items.next()).done);
  } catch (e) {
    error = e
  }
  expect(isNetworkError(error) && error.message).toContain(
    'content-encoded (gzip), which byte ranges cannot continue',
  )
  expect((await log()).filter((e) => e.event === 'request')).toHaveLength(1)
})

it('with Content-Encoding hidden, a drop after more bytes than its Content-Length is not continued by Range', async () => {
  const { url, log, release } = await served(rows, { attempts: [{ drop: 5000, release: true }] })
  let length = Number.POSITIVE_INFINITY
  let released = false
  const res = await sluice(url, {
    resume: { backoff: FAST },
    progressInterval: 0,
    // The drop comes once the page decoded more than the compressed Content-Length (the loopback server sent more).
    onProgress: (p) => {
      if (p.loaded > length && !released) {
        released = true
        void release()
      }
    },
  })
  length = Number(res.headers.get('content-length'))
  const got: unknown[] = []
  const error = await (async () => {
    for await (const row of res.ndjson()) got.push(row)
  })().then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(isNetworkError(error) && error.message).toContain(
    'content-encoded (hidden by CORS), which byte ranges cannot continue',
  )
  expect(got).toEqual(rows.slice(0, got.length))
  expect((await log()).filter((e) => e.event === 'request')).toHaveLength(1)
})

it('with Content-Encoding hidden and no Content-Length, a server that negotiates continues a drop with plain bytes', async () => {
  // fetch asks a Range with `Accept-Encoding: identity`: the rest comes uncompressed, at the decoded offset.
  const { url, log, release } = await served(rows, {
    negotiate: true,
    length: false,
    attempts: [{ drop: 3000, release: true }],
  })
  const res = await sluice(url, { resume: { backoff: FAST } })
  const got = await readAcross(res, release)
  expect(got).toEqual(rows)
  const requests = (await log()).filter((e) => e.event === 'request')
  expect(requests.map((e) => e.acceptEncoding === 'identity' && e.range !== null)).toEqual([false, true])
})

it('with Content-Encoding hidden, a drop before the coding shows is continued by plain bytes under the same ETag', async () => {
  // nginx's gzip makes a strong ETag weak on the compressed answer; the plain part has the strong one.
  const { url, log, release } = await served(rows, {
    negotiate: true,
    etag: ['W/"v1"', '"v1"'],
    attempts: [{ drop: 300, release: true }],
  })
  const res = await sluice(url, { resume: { backoff: FAST } })
  const got = await readAcross(res, release)
  expect(got).toEqual(rows)
  // The part's complete length, the plain one, is the total and the end it proved.
  expect(res.progress).toMatchObject({ loaded: PLAIN, total: PLAIN, state: 'done' })
  const requests = (await log()).filter((e) => e.event === 'request')
  // A weak ETag is no If-Range validator: the Range goes alone, and fetch asks it for identity.
  expect(requests.map((e) => [e.range !== null, e.ifRange, e.acceptEncoding === 'identity'])).toEqual([
    [false, null, false],
    [true, null, true],
  ])
})

it('with Content-Encoding hidden, a drop before the coding shows is continued by an open part (bytes N-*/*) to its end', async () => {
  // The compressed Content-Length the page saw is no end for the plain bytes: the part is read whole.
  const { url, log, release } = await served(rows, {
    negotiate: true,
    etag: ['W/"v1"', '"v1"'],
    attempts: [{ drop: 300, release: true }, { length: false }],
  })
  const res = await sluice(url, { resume: { backoff: FAST } })
  const got = await readAcross(res, release)
  expect(got).toEqual(rows)
  expect(res.progress).toMatchObject({ loaded: PLAIN, state: 'done' })
  const requests = (await log()).filter((e) => e.event === 'request')
  expect(requests.map((e) => e.range !== null)).toEqual([false, true])
})

it('with Content-Encoding hidden, a drop before the coding shows gets plain bytes under another ETag: refused, naming the coding', async () => {
  // Apache's mod_deflate appends -gzip to the compressed answer's ETag.
  const { url, log, release } = await served(rows, {
    negotiate: true,
    etag: ['"v1-gzip"', '"v1"'],
    attempts: [{ drop: 300, release: true }],
  })
  const res = await sluice(url, { resume: { backoff: FAST } })
  const items = res.ndjson()[Symbol.asyncIterator]()
  expect((await items.next()).value).toEqual(rows[0])
  await release()
  const error = await (async () => {
    while (!(await items.next()).done);
  })().catch((e: unknown) => e)
  expect(isResumeError(error) && error.reason).toBe('validator-changed')
  expect((error as Error).message).toContain(
    '(ETag "v1-gzip" became "v1"), or is content-encoded (hidden by CORS); the bytes already delivered may belong to another version',
  )
  expect((await log()).filter((e) => e.event === 'request')).toHaveLength(2)
})

it('with Content-Encoding hidden, a server that cuts its compressed body by Range gets Failed to fetch until the attempts run out, and the error names that cause', async () => {
  // The piece cannot be decoded, and Chromium rejects the fetch before its headers: nothing tells it from a network
  // failure (not the error, nor Resource Timing, which shows another origin's failures all alike), so each attempt
  // is spent, and the message names this cause beside the network's and CORS's.
  const { url, log, release } = await served(rows, { attempts: [{ drop: 300, release: true }] })
  const res = await sluice(url, { resume: { attempts: 2, backoff: FAST } })
  const items = res.ndjson()[Symbol.asyncIterator]()
  expect((await items.next()).value).toEqual(rows[0])
  await release()
  const error = await (async () => {
    while (!(await items.next()).done);
  })().catch((e: unknown) => e)
  expect(isResumeError(error) && [error.reason, error.attempts]).toEqual(['attempts-exhausted', 2])
  expect((error as Error).message).toContain(
    "failed (Failed to fetch). Check the network, or that the server's CORS allows range, if-range (Access-Control-Allow-Headers). If its body is content-encoded (hidden by CORS), the server may be cutting the encoded bytes: serve Range requests without Content-Encoding, or expose it. Try again later",
  )
  const requests = (await log()).filter((e) => e.event === 'request')
  expect(requests.map((e) => e.range !== null && e.acceptEncoding === 'identity')).toEqual([
    false,
    true,
    true,
  ])
})
