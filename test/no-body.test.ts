/**
 * A response with no content — a 204, 205 or 304, or the answer to a HEAD (RFC 9110 §6.4.1) — is an empty body
 * that is complete as it is: every consumer yields nothing and ends, progress ends `done` with nothing loaded,
 * and its headers (a HEAD's Content-Length, an end marker's announcement) describe another body, not this one.
 * A 204 is how a server tells an EventSource client to stop, on the first request as on a resume.
 *
 * Any other response without a body (`new Response(null)`) is an empty body, checked as any body is.
 */
import ky from 'ky'
import { describe, expect, it } from 'vitest'
import {
  END_MARKER_HEADER,
  fromResponse,
  isParseError,
  isTruncatedError,
  type Progress,
  type SluiceOptions,
  type StreamResponse,
  sluice,
} from '../src/index.ts'
import { collect, fetchWith, responseOf } from './support/streams.ts'

const URL_ = 'https://fn.example/events'

/** sluice() on a server that answers every request with `answer(request)`; the requests it saw. */
async function answered(
  answer: (request: Request) => Response,
  options: SluiceOptions = {},
): Promise<{ res: StreamResponse; seen: Progress[]; requests: Request[] }> {
  const seen: Progress[] = []
  const requests: Request[] = []
  const res = await sluice(URL_, {
    fetch: fetchWith((request) => {
      requests.push(request)
      return answer(request)
    }),
    retry: 0,
    onProgress: (p) => seen.push(p),
    progressInterval: 0,
    ...options,
  })
  return { res, seen, requests }
}

const noContent = (): Response => new Response(null, { status: 204 })

/** What each consumer delivers from a fresh response, by name. */
const CONSUMERS: Record<string, (res: StreamResponse) => Promise<unknown[]>> = {
  'bytes()': (res) => collect(res.bytes()),
  'text()': (res) => collect(res.text()),
  'lines()': (res) => collect(res.lines()),
  'ndjson()': (res) => collect(res.ndjson()),
  'events()': (res) => collect(res.events()),
  body: async (res) => {
    const chunks: unknown[] = []
    const reader = res.body.getReader()
    for (let next = await reader.read(); !next.done; next = await reader.read()) chunks.push(next.value)
    return chunks
  },
}

describe('a 204 on the first request', () => {
  it('resolves sluice() with the 204, whose body is empty', async () => {
    const { res } = await answered(noContent)
    expect(res.status).toBe(204)
    expect(res.ok).toBe(true)
    expect(await res.collect.text()).toBe('')
  })

  for (const [name, consume] of Object.entries(CONSUMERS)) {
    it(`${name} yields nothing and ends; progress ends done with nothing loaded`, async () => {
      const { res, seen } = await answered(noContent)
      expect(await consume(res)).toEqual([])
      expect(seen.at(-1)).toMatchObject({ state: 'done', loaded: 0, items: 0 })
      expect(res.progress).toMatchObject({ state: 'done', loaded: 0, total: 0, percent: 100 })
    })
  }

  it('collect.bytes() is empty', async () => {
    const { res } = await answered(noContent)
    expect((await res.collect.bytes()).byteLength).toBe(0)
  })

  it('collect.json() rejects with a ParseError saying the document is empty, as for an empty 200', async () => {
    const { res } = await answered(noContent)
    const error = await res.collect.json().catch((e: unknown) => e)
    expect(isParseError(error)).toBe(true)
    expect((error as Error).message).toMatch(/^The JSON document is empty/)
    const empty200 = await fromResponse(new Response(''))
    const expected = await empty200.collect.json().catch((e: unknown) => e)
    expect((error as Error).message).toBe((expected as Error).message)
  })

  it('json() delivers no snapshot, then it and its final reject with that ParseError', async () => {
    const { res } = await answered(noContent)
    const json = res.json()
    const snapshots: unknown[] = []
    const error = await (async () => {
      for await (const snapshot of json) snapshots.push(snapshot)
    })().catch((e: unknown) => e)
    expect(snapshots).toEqual([])
    expect(isParseError(error)).toBe(true)
    expect(isParseError(await json.final.catch((e: unknown) => e))).toBe(true)
  })

  it('checkpoint() after it asks again from the start, which the server may answer 204 again', async () => {
    const { res, requests } = await answered(noContent)
    await res.collect.text()
    const checkpoint = res.checkpoint()
    expect(checkpoint).toMatchObject({ url: URL_, method: 'GET', offset: 0, loaded: 0 })
    const again = await sluice(URL_, {
      resumeFrom: checkpoint,
      fetch: fetchWith((request) => {
        requests.push(request)
        return noContent()
      }),
    })
    expect(again.status).toBe(204)
    expect(await collect(again.events())).toEqual([])
    expect(requests).toHaveLength(2)
    expect(requests[1]!.headers.get('range')).toBeNull()
    expect(requests[1]!.headers.get('last-event-id')).toBeNull()
  })

  it('checkpoint() of a POST answered 204 refuses with a ResumeError that says why', async () => {
    const { res } = await answered(noContent, { method: 'POST', json: {} })
    await res.collect.text()
    expect(() => res.checkpoint()).toThrow(/cannot be checkpointed: .*POST is not sent again/)
  })

  it('ignores the `total` option and an end marker announcement: nothing is missing from no content', async () => {
    const { res } = await answered(
      () => new Response(null, { status: 204, headers: { [END_MARKER_HEADER]: 'marker' } }),
      { total: 100 },
    )
    expect(await collect(res.lines())).toEqual([])
    expect(res.progress).toMatchObject({ state: 'done', loaded: 0 })
  })
})

describe('other answers with no content', () => {
  it('a 205 is an empty, complete stream', async () => {
    const { res } = await answered(() => new Response(null, { status: 205 }))
    expect(await collect(res.lines())).toEqual([])
    expect(res.progress).toMatchObject({ state: 'done', loaded: 0 })
  })

  it('a 304 that a ky instance without throwHttpErrors lets through is an empty, complete stream', async () => {
    const { res } = await answered(() => new Response(null, { status: 304, headers: { etag: '"v1"' } }), {
      ky: ky.create({ throwHttpErrors: false }),
    })
    expect(res.status).toBe(304)
    expect(await collect(res.lines())).toEqual([])
    expect(res.progress).toMatchObject({ state: 'done', loaded: 0 })
  })

  it("a HEAD's answer is empty and complete, whatever its Content-Length and end marker say of a GET's body", async () => {
    const { res, requests } = await answered(
      () =>
        new Response(null, {
          headers: {
            'content-type': 'application/x-ndjson',
            'content-length': '1234',
            [END_MARKER_HEADER]: 'marker',
          },
        }),
      { method: 'HEAD' },
    )
    expect(requests[0]!.method).toBe('HEAD')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-length')).toBe('1234')
    expect(await collect(res.ndjson())).toEqual([])
    expect(res.progress).toMatchObject({ state: 'done', loaded: 0, total: 0, percent: 100 })
  })

  it("a HEAD's answer that carries a body anyway (a mock) delivers none of it, and releases it", async () => {
    let cancelled = false
    let pulls = 0
    const body = new ReadableStream<Uint8Array>({
      pull: (controller) => {
        if (pulls++ < 3) controller.enqueue(new TextEncoder().encode('not for a HEAD\n'))
        else controller.close()
      },
      cancel: () => {
        cancelled = true
      },
    })
    const { res } = await answered(() => new Response(body), { method: 'HEAD' })
    expect(await collect(res.lines())).toEqual([])
    expect(cancelled).toBe(true)
  })
})

describe('fromResponse() with no content', () => {
  it('a 204 is an empty, complete stream', async () => {
    const seen: Progress[] = []
    const res = await fromResponse(new Response(null, { status: 204 }), {
      onProgress: (p) => seen.push(p),
      progressInterval: 0,
    })
    expect(res.status).toBe(204)
    expect(await collect(res.events())).toEqual([])
    expect(seen.at(-1)).toMatchObject({ state: 'done', loaded: 0 })
  })

  it("a HEAD's answer, when `method` says so, is empty and complete whatever its Content-Length", async () => {
    const response = new Response(null, { headers: { 'content-length': '1234' } })
    const res = await fromResponse(response, { method: 'HEAD' })
    expect(await res.collect.text()).toBe('')
    expect(res.progress).toMatchObject({ state: 'done', loaded: 0 })
  })
})

describe('a 200 without a body (`new Response(null)`)', () => {
  it('is an empty body, which ends cleanly when nothing declares a length', async () => {
    const res = await fromResponse(new Response(null))
    expect(await res.collect.text()).toBe('')
    expect(res.progress).toMatchObject({ state: 'done', loaded: 0 })
  })

  it('is cut short of a length its headers declare: a TruncatedError, not a clean end', async () => {
    const res = await fromResponse(new Response(null, { headers: { 'content-length': '10' } }))
    const error = await res.collect.text().catch((e: unknown) => e)
    expect(isTruncatedError(error)).toBe(true)
    expect(res.progress.state).toBe('error')
  })
})

describe('a 204 to a resume', () => {
  /** An SSE stream with ids that drops inside its third event, then `again` for the reconnect. */
  const dropThenAnswer = (again: () => Response, headers: Record<string, string> = {}) =>
    answered(
      (request) =>
        request.headers.get('last-event-id') === null
          ? responseOf(['id: 1\ndata: a\n\nid: 2\ndata: b\n\nid: 3\nda'], {
              headers: { 'content-type': 'text/event-stream', ...headers },
              error: new TypeError('network error (scripted drop)'),
            })
          : again(),
      { resume: { backoff: { initial: 1, max: 5, jitter: 0 } } },
    )

  it('ends an SSE stream resumed by Last-Event-ID, whose length it does not give: no total, no percent', async () => {
    const { res, seen, requests } = await dropThenAnswer(noContent)
    expect((await collect(res.events())).map((e) => [e.id, e.data])).toEqual([
      ['1', 'a'],
      ['2', 'b'],
    ])
    expect(requests.map((r) => r.headers.get('last-event-id'))).toEqual([null, '2'])
    const last = seen.at(-1)!
    expect(last).toMatchObject({ state: 'done', attempt: 2, loaded: 38, items: 2 })
    // A 204 says nothing is left, not how long the body was (only a 416 with `bytes */N` does).
    expect(last.total).toBeUndefined()
    expect(last.percent).toBeUndefined()
    expect(res.progress.total).toBeUndefined()
  })

  it('ends a stream that announced an end marker: a 204 has no content, so it proves the end by itself', async () => {
    const { res, requests } = await dropThenAnswer(noContent, { [END_MARKER_HEADER]: 'marker' })
    expect((await collect(res.events())).map((e) => e.data)).toEqual(['a', 'b'])
    expect(requests).toHaveLength(2)
    expect(res.progress).toMatchObject({ state: 'done', attempt: 2 })
  })
})
