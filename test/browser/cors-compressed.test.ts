/**
 * A compressed body from another origin, read by a real page: the loopback server is another origin than the
 * page's, and serves gzip (as a CDN in front of a function would) exposing what README asks for, but not
 * Content-Encoding. Chromium then shows the compressed Content-Length (CORS safelists it) and hides the coding.
 */
import { expect, it } from 'vitest'
import { isNetworkError, type Progress, sluice } from '../../src/index.ts'
import { encode } from '../support/chunking.ts'
import { base64, FAST, type Script, scripted } from '../support/scripted.ts'

const EXPOSE = 'x-sluice-end, x-amzn-remapped-content-length, content-range, accept-ranges, etag'
const rows = Array.from({ length: 2000 }, (_, i) => ({ i, name: `row ${i}`, pad: 'x'.repeat(40) }))

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
