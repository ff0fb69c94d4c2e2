/**
 * Resuming an answer from another origin whose server compressed it without exposing Content-Encoding: a page
 * reads the decoded bytes and sees the compressed Content-Length. A drop before the page has read more than that
 * length asks `Range: bytes=<decoded offset>-`, which `fetch` sends with `Accept-Encoding: identity`, and a server
 * that honours it answers plain bytes whose complete length is not the one the page saw. The answers here are
 * made as a browser hands them (type "cors"); test/browser/cors-compressed.test.ts makes them over the network.
 */
import { describe, expect, it } from 'vitest'
import { type Checkpoint, isResumeError, type Progress, type StreamResponse, sluice } from '../src/index.ts'
import { droppedAfter } from './support/streams.ts'

const FAST = { initial: 1, max: 2, jitter: 0 }
const BODY = new TextEncoder().encode(
  Array.from({ length: 40 }, (_, i) => `${JSON.stringify({ n: i })}\n`).join(''),
)
const ROWS = Array.from({ length: 40 }, (_, n) => ({ n }))
/** The length the page sees on the first (compressed) answer: more than the drop's offset, less than the body. */
const COMPRESSED = 200
const DROP = 100

/** The checkpoint after `count` rows of `res.ndjson()`, as storage keeps it (JSON); the read then ends. */
async function checkpointAfter(res: StreamResponse, count: number): Promise<Checkpoint> {
  const rows = res.ndjson()[Symbol.asyncIterator]()
  for (let i = 0; i < count; i++) await rows.next()
  const checkpoint = JSON.parse(JSON.stringify(res.checkpoint())) as Checkpoint
  await rows.return?.()
  return checkpoint
}

/** `response` as a page gets an answer from another origin (type "cors"). */
function crossOrigin(response: Response): Response {
  Object.defineProperty(response, 'type', { value: 'cors' })
  return response
}

/**
 * A server behind a compressing proxy: the first answer is "compressed" (decoded, with the compressed length and
 * no visible coding) and drops after `DROP` bytes; a Range gets the plain rest as a 206. `etags`: the first
 * answer's and the part's ETag (nginx's gzip makes a strong one weak, Apache's mod_deflate appends `-gzip`).
 */
function behindProxy(
  etags: [string, string] | undefined,
  cors = true,
  contentRange = (start: number) => `bytes ${start}-${BODY.length - 1}/${BODY.length}`,
  more: Record<string, string> = {},
) {
  const seen: Request[] = []
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(input, init)
    seen.push(request)
    const range = /^bytes=(\d+)-$/.exec(request.headers.get('range') ?? '')
    const head = { 'content-type': 'application/x-ndjson', 'accept-ranges': 'bytes', ...more }
    let response: Response
    if (range === null) {
      response = new Response(droppedAfter(BODY, DROP), {
        headers: { ...head, 'content-length': String(COMPRESSED), ...(etags && { etag: etags[0] }) },
      })
    } else if (Number(range[1]) >= BODY.length) {
      response = new Response(null, { status: 416, headers: { 'content-range': `bytes */${BODY.length}` } })
    } else {
      const start = Number(range[1])
      response = new Response(BODY.slice(start), {
        status: 206,
        headers: {
          ...head,
          'content-range': contentRange(start),
          'content-length': String(BODY.length - start),
          ...(etags && { etag: etags[1] }),
        },
      })
    }
    return cors ? crossOrigin(response) : response
  }) as typeof globalThis.fetch
  return { fetch, seen }
}

const URL_ = 'https://cdn.example/rows'

/** What a failed Range says of a server that cuts its compressed body (the browser cannot decode the piece). */
const CUT =
  'If its body is content-encoded (hidden by CORS), the server may be cutting the encoded bytes: serve Range requests without Content-Encoding, or expose it.'

/** A fetch that fails as Chromium's does before the headers: for the network, CORS, or a piece it cannot decode. */
const REJECTING = (async () => Promise.reject(new TypeError('Failed to fetch'))) as typeof globalThis.fetch

describe('a Range that fails before its headers, after an answer whose coding CORS may hide', () => {
  // A server that cuts the compressed body answers with a piece Chromium cannot decode: it rejects the fetch with
  // `Failed to fetch`, as for a network failure (test/browser/cors-compressed.test.ts shows it for real).
  /** The proxy's first answer, then a rejection with `words` for every Range. */
  function failing(words: string) {
    const { fetch } = behindProxy(['W/"v1"', '"v1"'])
    let calls = 0
    return (async (input: RequestInfo | URL, init?: RequestInit) =>
      ++calls === 1 ? fetch(input, init) : Promise.reject(new TypeError(words))) as typeof globalThis.fetch
  }

  it('a browser’s words: the attempts run out, and the message names that cause too', async () => {
    const res = await sluice(URL_, {
      fetch: failing('Failed to fetch'),
      resume: { backoff: FAST, attempts: 1 },
    })
    const error = await Array.fromAsync(res.ndjson()).catch((e: unknown) => e)
    expect(isResumeError(error) && error.reason).toBe('attempts-exhausted')
    expect((error as Error).message).toBe(
      `Gave up after 1 reconnect to ${URL_}: Reconnecting to ${URL_} failed (Failed to fetch). Check the network, or that the server's CORS allows range (Access-Control-Allow-Headers). ${CUT} Try again later from the checkpoint, or allow more \`resume.attempts\`.`,
    )
  })

  it('the same for the request of a checkpoint taken before any Range answer gave the plain length', async () => {
    const res = await sluice(URL_, {
      fetch: behindProxy(['W/"v1"', '"v1"']).fetch,
      resume: { backoff: FAST },
    })
    const checkpoint = await checkpointAfter(res, 1)
    const error = await sluice(URL_, {
      fetch: REJECTING,
      resumeFrom: checkpoint,
      resume: { backoff: FAST, attempts: 1 },
    }).catch((e: unknown) => e)
    expect(isResumeError(error) && error.reason).toBe('attempts-exhausted')
    expect((error as Error).message).toContain(CUT)
  })

  it('Node’s words are no browser’s: no CORS, so no hidden coding either', async () => {
    const res = await sluice(URL_, { fetch: failing('fetch failed'), resume: { backoff: FAST, attempts: 1 } })
    const error = await Array.fromAsync(res.ndjson()).catch((e: unknown) => e)
    expect(isResumeError(error) && error.message).toBe(
      `Gave up after 1 reconnect to ${URL_}: Reconnecting to ${URL_} failed (fetch failed). Try again later from the checkpoint, or allow more \`resume.attempts\`.`,
    )
  })
})

describe('a drop before the hidden coding shows, answered with plain bytes of another length', () => {
  it('the same ETag, made weak on the compressed answer (nginx): the rest is spliced, and the total is the part’s', async () => {
    const { fetch, seen } = behindProxy(['W/"v1"', '"v1"'])
    const reports: Progress[] = []
    const res = await sluice(URL_, {
      fetch,
      resume: { backoff: FAST },
      onProgress: (p) => reports.push({ ...p }),
      progressInterval: 0,
    })
    expect(await Array.fromAsync(res.ndjson())).toEqual(ROWS)
    expect(res.progress).toMatchObject({ loaded: BODY.length, total: BODY.length, state: 'done' })
    // No total before the drop (the compressed length is never claimed), the part's complete length after it.
    const totals = new Set(reports.map((p) => p.total))
    expect([...totals]).toEqual([undefined, BODY.length])
    // A weak tag is no If-Range validator (RFC 9110 §13.1.5): the Range goes alone.
    expect(seen.map((r) => [r.headers.get('range'), r.headers.get('if-range')])).toEqual([
      [null, null],
      [`bytes=${DROP}-`, null],
    ])
  })

  it('a checkpoint taken after the splice keeps the plain length, which a same-origin resume finds again', async () => {
    const { fetch } = behindProxy(['W/"v1"', '"v1"'])
    const res = await sluice(URL_, { fetch, resume: { backoff: FAST } })
    const checkpoint = await checkpointAfter(res, 15)
    expect(checkpoint.length).toBe(BODY.length)
    const again = await sluice(URL_, {
      fetch: behindProxy(['"v1"', '"v1"'], false).fetch,
      resumeFrom: checkpoint,
    })
    expect(await Array.fromAsync(again.ndjson())).toEqual(ROWS.slice(15))
  })

  it('a checkpoint taken before the drop (resumeFrom) is continued the same way', async () => {
    const { fetch } = behindProxy(['W/"v1"', '"v1"'])
    const res = await sluice(URL_, { fetch, resume: { backoff: FAST } })
    const checkpoint = await checkpointAfter(res, 1)
    expect(checkpoint.length).toBe(COMPRESSED)
    const again = await sluice(URL_, { fetch, resumeFrom: checkpoint })
    expect(await Array.fromAsync(again.ndjson())).toEqual(ROWS.slice(1))
    expect(again.progress).toMatchObject({ total: BODY.length, state: 'done' })
  })

  it('a checkpoint taken before the drop, answered by the whole plain body: skipped to, not taken as running past the compressed length', async () => {
    const { fetch } = behindProxy(['W/"v1"', '"v1"'])
    const res = await sluice(URL_, { fetch, resume: { backoff: FAST } })
    const checkpoint = await checkpointAfter(res, 1)
    // A server that ignores Range: the whole body, plain, with its own length.
    const whole = (async () =>
      crossOrigin(
        new Response(BODY, {
          headers: {
            'content-type': 'application/x-ndjson',
            'content-length': String(BODY.length),
            etag: '"v1"',
          },
        }),
      )) as typeof globalThis.fetch
    const again = await sluice(URL_, {
      fetch: whole,
      resumeFrom: checkpoint,
      resume: { skipOnRestart: true },
    })
    expect(await Array.fromAsync(again.ndjson())).toEqual(ROWS.slice(1))
    expect(again.progress).toMatchObject({ loaded: BODY.length, state: 'done' })
  })

  // A Last-Modified vouches for no splice in place of the ETag: a page sees it, but not the Date that could make it
  // strong (RFC 9110 §8.8.2.2), which CORS hides; a weak validator cannot say the bytes at an offset are the same.
  const modified = { 'last-modified': 'Tue, 01 Dec 2026 00:00:00 GMT' }
  for (const [name, etags, more] of [
    ['another ETag (Apache’s mod_deflate appends -gzip)', ['"v1-gzip"', '"v1"'], {}],
    ['no ETag', undefined, {}],
    ['no ETag, the same Last-Modified on both', undefined, modified],
  ] as const) {
    it(`${name}: refused as another version, or a coding CORS hides`, async () => {
      const { fetch, seen } = behindProxy(etags && [...etags], true, undefined, more)
      const res = await sluice(URL_, { fetch, resume: { backoff: FAST } })
      const got: unknown[] = []
      const error = await (async () => {
        for await (const row of res.ndjson()) got.push(row)
      })().catch((e: unknown) => e)
      expect(isResumeError(error) && error.reason).toBe('validator-changed')
      expect((error as Error).message).toMatch(
        /^The resource changed between attempts \(.+\), or is content-encoded \(hidden by CORS\); the bytes already delivered may belong to another version, so the stream cannot be resumed\.$/,
      )
      expect((error as Error).message).toContain(
        etags ? 'ETag "v1-gzip" became "v1"' : 'its length 200 became',
      )
      expect(got).toEqual(ROWS.slice(0, got.length))
      expect(seen).toHaveLength(2)
    })
  }

  it('from the same origin, a length that changed under the same ETag is another version, as before', async () => {
    const { fetch } = behindProxy(['"v1"', '"v1"'], false)
    const res = await sluice(URL_, { fetch, resume: { backoff: FAST } })
    const error = await Array.fromAsync(res.ndjson()).catch((e: unknown) => e)
    expect(isResumeError(error) && error.message).toBe(
      `The resource changed between attempts (its length ${COMPRESSED} became ${BODY.length} bytes); the bytes already delivered belong to another version, so the stream cannot be resumed.`,
    )
  })

  for (const [name, contentRange] of [
    ['bytes N-*/*', (start: number) => `bytes ${start}-*/*`],
    ['bytes N-M/*', (start: number) => `bytes ${start}-${BODY.length - 1}/*`],
  ] as const) {
    it(`an open part (${name}) is read to its end: the compressed length the page saw declares none`, async () => {
      const { fetch, seen } = behindProxy(['W/"v1"', '"v1"'], true, contentRange)
      const res = await sluice(URL_, { fetch, resume: { backoff: FAST } })
      expect(await Array.fromAsync(res.ndjson())).toEqual(ROWS)
      expect(res.progress).toMatchObject({ loaded: BODY.length, state: 'done' })
      // A part that does not say the body's length may not be all of it: the rest is asked for, and is none.
      const rest = name === 'bytes N-M/*' ? [`bytes=${BODY.length}-`] : []
      expect(seen.map((r) => r.headers.get('range'))).toEqual([null, `bytes=${DROP}-`, ...rest])
    })

    it(`an open part (${name}) answering a checkpoint taken before the drop is read to its end too`, async () => {
      const { fetch } = behindProxy(['W/"v1"', '"v1"'], true, contentRange)
      const res = await sluice(URL_, { fetch, resume: { backoff: FAST } })
      const checkpoint = await checkpointAfter(res, 1)
      expect(checkpoint.length).toBe(COMPRESSED)
      const again = await sluice(URL_, { fetch, resumeFrom: checkpoint })
      expect(await Array.fromAsync(again.ndjson())).toEqual(ROWS.slice(1))
      expect(again.progress).toMatchObject({ loaded: BODY.length, state: 'done' })
    })
  }

  describe('after the splice, which gave the plain length', () => {
    /**
     * The proxy's server, which drops the first answer after `DROP` bytes and the part after `again`; the part
     * after that says a complete length of `length`.
     */
    function twice(again: number, length = BODY.length) {
      const seen: string[] = []
      const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
        const request = new Request(input, init)
        const range = request.headers.get('range')
        seen.push(range ?? 'whole')
        const head = { 'content-type': 'application/x-ndjson', 'accept-ranges': 'bytes' }
        if (range === null) {
          return crossOrigin(
            new Response(droppedAfter(BODY, DROP), {
              headers: { ...head, 'content-length': String(COMPRESSED), etag: 'W/"v1"' },
            }),
          )
        }
        const start = Number(/^bytes=(\d+)-$/.exec(range)![1])
        const last = seen.length === 3 ? length : BODY.length
        const body = seen.length === 2 ? partThenDrop(start, again) : BODY.slice(start)
        return crossOrigin(
          new Response(body, {
            status: 206,
            headers: { ...head, 'content-range': `bytes ${start}-${last - 1}/${last}`, etag: '"v1"' },
          }),
        )
      }) as typeof globalThis.fetch
      return { fetch, seen }
    }

    /** BODY from `start` to `end`, then a failure like a dropped connection. */
    function partThenDrop(start: number, end: number): ReadableStream<Uint8Array> {
      let sent = false
      return new ReadableStream<Uint8Array>(
        {
          pull(controller) {
            if (sent) return controller.error(new TypeError('network error (scripted drop)'))
            controller.enqueue(BODY.slice(start, end))
            sent = true
          },
        },
        { highWaterMark: 0 },
      )
    }

    it('a second drop is spliced as any: the total stays the plain length, and the end is proven there', async () => {
      const { fetch, seen } = twice(250)
      const reports: Progress[] = []
      const res = await sluice(URL_, {
        fetch,
        resume: { backoff: FAST },
        onProgress: (p) => reports.push({ ...p }),
        progressInterval: 0,
      })
      expect(await Array.fromAsync(res.ndjson())).toEqual(ROWS)
      expect(seen).toEqual(['whole', `bytes=${DROP}-`, 'bytes=250-'])
      expect(res.progress).toMatchObject({ loaded: BODY.length, total: BODY.length, state: 'done' })
      expect([...new Set(reports.map((p) => p.total))]).toEqual([undefined, BODY.length])
    })

    it('a checkpoint after the second drop keeps the plain length, and a cross-origin resumeFrom ends there', async () => {
      const { fetch } = twice(250)
      const res = await sluice(URL_, { fetch, resume: { backoff: FAST } })
      const checkpoint = await checkpointAfter(res, 32)
      expect(checkpoint.length).toBe(BODY.length)
      const again = await sluice(URL_, {
        fetch: twice(330).fetch,
        resumeFrom: checkpoint,
        resume: { backoff: FAST },
      })
      expect(await Array.fromAsync(again.ndjson())).toEqual(ROWS.slice(32))
      expect(again.progress).toMatchObject({ loaded: BODY.length, total: BODY.length, state: 'done' })
    })

    /** A checkpoint of the spliced stream, taken after 15 rows and read back from storage. */
    async function splicedCheckpoint(): Promise<Checkpoint> {
      const res = await sluice(URL_, {
        fetch: behindProxy(['W/"v1"', '"v1"']).fetch,
        resume: { backoff: FAST },
      })
      const checkpoint = await checkpointAfter(res, 15)
      expect(checkpoint).toMatchObject({ length: BODY.length, plain: true })
      return checkpoint
    }

    /** Cross-origin parts from the Range's start: the n-th gets `answers[n]`'s Content-Range and length of body. */
    function parts(answers: { contentRange: (start: number) => string; upTo?: number }[]) {
      const seen: string[] = []
      const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
        const range = new Request(input, init).headers.get('range') ?? ''
        seen.push(range)
        const start = Number(/^bytes=(\d+)-$/.exec(range)![1])
        const { contentRange, upTo = BODY.length } = answers[seen.length - 1]!
        return crossOrigin(
          new Response(BODY.slice(start, upTo), {
            status: 206,
            headers: {
              'content-type': 'application/x-ndjson',
              'content-range': contentRange(start),
              etag: '"v1"',
            },
          }),
        )
      }) as typeof globalThis.fetch
      return { fetch, seen }
    }

    it('its checkpoint, continued from another origin by a part of another complete length under the same ETag: another version', async () => {
      const checkpoint = await splicedCheckpoint()
      const longer = BODY.length + 50
      const { fetch } = parts([{ contentRange: (start) => `bytes ${start}-${longer - 1}/${longer}` }])
      const error = await sluice(URL_, { fetch, resumeFrom: checkpoint }).catch((e: unknown) => e)
      expect(isResumeError(error) && error.message).toBe(
        `The resource changed since the checkpoint (its length ${BODY.length} became ${longer} bytes); the bytes already delivered belong to another version, so the stream cannot be resumed.`,
      )
    })

    it('its checkpoint, continued from another origin by an open part that ends early: the plain length proves it cut', async () => {
      const checkpoint = await splicedCheckpoint()
      const { fetch, seen } = parts([
        { contentRange: (start) => `bytes ${start}-*/*`, upTo: 250 },
        { contentRange: (start) => `bytes ${start}-${BODY.length - 1}/${BODY.length}` },
      ])
      const again = await sluice(URL_, { fetch, resumeFrom: checkpoint, resume: { backoff: FAST } })
      expect(await Array.fromAsync(again.ndjson())).toEqual(ROWS.slice(15))
      expect(seen).toEqual([`bytes=${checkpoint.offset}-`, 'bytes=250-'])
      expect(again.progress).toMatchObject({ loaded: BODY.length, total: BODY.length, state: 'done' })
    })

    it('its checkpoint, continued from another origin by an open part, then by a part of another complete length: another version', async () => {
      const checkpoint = await splicedCheckpoint()
      const longer = BODY.length + 50
      const { fetch, seen } = parts([
        { contentRange: (start) => `bytes ${start}-*/*`, upTo: 250 },
        { contentRange: (start) => `bytes ${start}-${longer - 1}/${longer}` },
      ])
      const again = await sluice(URL_, { fetch, resumeFrom: checkpoint, resume: { backoff: FAST } })
      const error = await Array.fromAsync(again.ndjson()).catch((e: unknown) => e)
      expect(isResumeError(error) && error.message).toBe(
        `The resource changed between attempts (its length ${BODY.length} became ${longer} bytes); the bytes already delivered belong to another version, so the stream cannot be resumed.`,
      )
      expect(seen).toEqual([`bytes=${checkpoint.offset}-`, 'bytes=250-'])
    })

    it('a Range that then fails with a browser’s words does not name a server that cuts compressed bytes', async () => {
      const { fetch } = twice(250)
      let calls = 0
      const failing = (async (input: RequestInfo | URL, init?: RequestInit) =>
        ++calls <= 2
          ? fetch(input, init)
          : Promise.reject(new TypeError('Failed to fetch'))) as typeof globalThis.fetch
      const res = await sluice(URL_, { fetch: failing, resume: { backoff: FAST, attempts: 2 } })
      const error = await Array.fromAsync(res.ndjson()).catch((e: unknown) => e)
      expect(isResumeError(error) && error.reason).toBe('attempts-exhausted')
      expect((error as Error).message).toContain(
        `Reconnecting to ${URL_} failed (Failed to fetch). Check the network`,
      )
      expect((error as Error).message).not.toContain(CUT)
    })

    it('nor does a checkpoint after the splice, whose resume request fails so', async () => {
      const checkpoint = await splicedCheckpoint()
      const error = await sluice(URL_, {
        fetch: REJECTING,
        resumeFrom: checkpoint,
        resume: { backoff: FAST, attempts: 1 },
      }).catch((e: unknown) => e)
      expect(isResumeError(error) && error.reason).toBe('attempts-exhausted')
      expect((error as Error).message).not.toContain(CUT)
    })

    it('a later part of another complete length, under the same ETag, is another version: no coding counted either', async () => {
      const { fetch, seen } = twice(250, BODY.length + 50)
      const res = await sluice(URL_, { fetch, resume: { backoff: FAST } })
      const got: unknown[] = []
      const error = await (async () => {
        for await (const row of res.ndjson()) got.push(row)
      })().catch((e: unknown) => e)
      expect(isResumeError(error) && error.reason).toBe('validator-changed')
      expect((error as Error).message).toBe(
        `The resource changed between attempts (its length ${BODY.length} became ${BODY.length + 50} bytes); the bytes already delivered belong to another version, so the stream cannot be resumed.`,
      )
      expect(got).toEqual(ROWS.slice(0, got.length))
      expect(seen).toEqual(['whole', `bytes=${DROP}-`, 'bytes=250-'])
    })
  })
})
