/**
 * Where a body must end, as its server or caller declared it, in the coordinates of the representation: a
 * part's end from its Content-Range (a function URL renames a part's Content-Length to its remapped length,
 * which counts from the part's start), the end a checkpoint kept, and the rest of a shorter part asked for
 * again. A body that runs past that end fails and names who declared it.
 */
import { describe, expect, it } from 'vitest'
import {
  endMarkerLine,
  fromResponse,
  isResumeError,
  isTruncatedError,
  type Progress,
  sluice,
} from '../src/index.ts'
import { mockStream } from '../src/mock/index.ts'

const encoder = new TextEncoder()
const FAST = { initial: 1, max: 2, jitter: 0 }
const RECORDS = encoder.encode(Array.from({ length: 40 }, (_, i) => `${JSON.stringify({ n: i })}\n`).join(''))
const BASE = { 'content-type': 'application/x-ndjson', 'accept-ranges': 'bytes', etag: '"v1"' }

/** `bytes` in pieces of `size`, failing like a dropped connection after `dropAfter` bytes. */
function paced(
  bytes: Uint8Array,
  size: number,
  dropAfter = Number.POSITIVE_INFINITY,
): ReadableStream<Uint8Array> {
  let at = 0
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (at >= dropAfter) return controller.error(new TypeError('network error (scripted drop)'))
        if (at >= bytes.length) return controller.close()
        const end = Math.min(at + size, bytes.length, dropAfter)
        controller.enqueue(bytes.slice(at, end))
        at = end
      },
    },
    { highWaterMark: 0 },
  )
}

/** A fetch that answers the n-th request with `answer(request, n)`, and the requests it saw. */
function crafted(answer: (request: Request, n: number) => Response) {
  const seen: Request[] = []
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(input, init)
    seen.push(request)
    return answer(request, seen.length - 1)
  }) as typeof globalThis.fetch
  return { fetch, ranges: () => seen.map((r) => r.headers.get('range')) }
}

const rangeStart = (request: Request): number | undefined => {
  const match = /bytes=(\d+)-/.exec(request.headers.get('range') ?? '')
  return match ? Number(match[1]) : undefined
}

describe('a part the caller asked for, from a function URL (remapped length = the part’s length)', () => {
  const parts = Array.from({ length: 20 }, (_, n) => ({ n }))
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) =>
    mockStream(parts, {
      format: 'ndjson',
      contentLength: 'remapped',
      range: true,
      request: new Request(input, init),
    })) as typeof globalThis.fetch

  it('reads to its end, with its own length as the total', async () => {
    const whole = await (await sluice('https://fn.example/p', { fetch })).collect.text()
    const start = whole.indexOf('{"n":3}')
    const res = await sluice('https://fn.example/p', { fetch, headers: { range: `bytes=${start}-` } })
    expect(res.status).toBe(206)
    expect(res.headers.get('x-amzn-remapped-content-length')).toBe(String(whole.length - start))
    expect(await Array.fromAsync(res.ndjson())).toEqual(parts.slice(3))
    expect(res.progress).toMatchObject({
      loaded: whole.length - start,
      total: whole.length - start,
      state: 'done',
    })
  })

  it('a bounded part too', async () => {
    const { fetch } = crafted(
      () =>
        new Response(paced(RECORDS.slice(100, 200), 30), {
          status: 206,
          headers: {
            ...BASE,
            'x-amzn-remapped-content-length': '100',
            'content-range': `bytes 100-199/${RECORDS.length}`,
          },
        }),
    )
    const res = await sluice('https://fn.example/p', { fetch, headers: { range: 'bytes=100-199' } })
    expect(await res.collect.bytes()).toEqual(RECORDS.slice(100, 200))
    expect(res.progress).toMatchObject({ loaded: 100, total: 100, state: 'done' })
  })
})

describe('a part whose Content-Range gives no end (bytes N-*/*): its own length counts from its start', () => {
  for (const header of ['content-length', 'x-amzn-remapped-content-length']) {
    it(`${header} of the part`, async () => {
      const { fetch } = crafted(
        () =>
          new Response(paced(RECORDS.slice(100, 200), 30), {
            status: 206,
            headers: { ...BASE, [header]: '100', 'content-range': 'bytes 100-*/*' },
          }),
      )
      const res = await sluice('https://fn.example/p', { fetch, headers: { range: 'bytes=100-' } })
      expect(await res.collect.bytes()).toEqual(RECORDS.slice(100, 200))
      expect(res.progress).toMatchObject({ loaded: 100, state: 'done' })
    })
  }
})

describe('a reconnect answered by a shorter part than asked for', () => {
  // Whether the part says the whole's length (`/350`) or not (`/*`, the length declared before then stands).
  for (const [name, whole] of [
    ['the whole length', true],
    ['no whole length (bytes N-M/*)', false],
  ] as const) {
    it(`asks for the rest again until the representation's end, when the part says ${name}`, async () => {
      const length = RECORDS.length
      const { fetch, ranges } = crafted((request, n) => {
        const start = rangeStart(request)
        if (n === 0 || start === undefined)
          return new Response(paced(RECORDS, 50, 100), {
            headers: { ...BASE, 'content-length': String(length) },
          })
        const end = Math.min(start + 100, length)
        return new Response(paced(RECORDS.slice(start, end), 50), {
          status: 206,
          headers: { ...BASE, 'content-range': `bytes ${start}-${end - 1}/${whole ? length : '*'}` },
        })
      })
      const res = await sluice('https://fn.example/short', {
        fetch,
        resume: { strategy: 'range', attempts: 9, backoff: FAST },
      })
      expect(await Array.fromAsync(res.ndjson())).toHaveLength(40)
      expect(ranges()).toEqual([null, 'bytes=100-', 'bytes=200-', 'bytes=300-'])
      expect(res.progress).toMatchObject({ loaded: length, total: length, state: 'done' })
    })
  }
})

describe('a server that caps its parts', () => {
  const length = RECORDS.length
  /** Parts of at most `cap` bytes from where each request asks, the first answer `first`. */
  const capped = (cap: number, first: (request: Request) => Response | undefined, whole = true) =>
    crafted((request, n) => {
      const start = rangeStart(request) ?? 0
      const end = Math.min(start + cap, length)
      if (start >= length)
        return new Response('', { status: 416, headers: { ...BASE, 'content-range': `bytes */${length}` } })
      return (
        (n === 0 ? first(request) : undefined) ??
        new Response(paced(RECORDS.slice(start, end), 50), {
          status: 206,
          headers: { ...BASE, 'content-range': `bytes ${start}-${end - 1}/${whole ? length : '*'}` },
        })
      )
    })

  for (const [name, whole] of [
    ['the whole length', true],
    ['no whole length (bytes N-M/*)', false],
  ] as const) {
    it(`answering the caller's open Range (bytes=S-) with less, saying ${name}: the rest is asked for, not taken for the end`, async () => {
      const { fetch, ranges } = capped(60, () => undefined, whole)
      const res = await sluice('https://fn.example/capped', {
        fetch,
        headers: { range: 'bytes=0-' },
        resume: { backoff: FAST },
      })
      expect(await Array.fromAsync(res.ndjson())).toHaveLength(40)
      expect(ranges().slice(0, 4)).toEqual(['bytes=0-', 'bytes=60-', 'bytes=120-', 'bytes=180-'])
      expect(res.progress).toMatchObject({ loaded: length, state: 'done' })
    })
  }

  it('sends parts that are no reconnects: no attempt is spent on them, and none is reported', async () => {
    // After one drop, 5 parts of 60 bytes: each after the first would be a reconnect beyond the one allowed.
    const { fetch, ranges } = capped(
      60,
      () => new Response(paced(RECORDS, 50, 100), { headers: { ...BASE, 'content-length': String(length) } }),
    )
    const states: string[] = []
    const res = await sluice('https://fn.example/capped', {
      fetch,
      resume: { backoff: FAST, attempts: 1 },
      progressInterval: 0,
      onProgress: (p) => states.push(`${p.state} ${p.attempt}`),
    })
    expect(await Array.fromAsync(res.ndjson())).toHaveLength(40)
    expect(ranges()).toEqual([null, 'bytes=100-', 'bytes=160-', 'bytes=220-', 'bytes=280-', 'bytes=340-'])
    expect(res.progress).toMatchObject({ loaded: length, total: length, state: 'done', attempt: 2 })
    expect(states.filter((state) => state.startsWith('reconnecting'))).toEqual(['reconnecting 2'])
  })

  it('refuses an empty part (bytes N-(N-1)/T, no range at all) rather than ask for the rest after it again and again', async () => {
    const { fetch, ranges } = crafted((request, n) =>
      n === 0
        ? new Response(paced(RECORDS, 50, 100), { headers: { ...BASE, 'content-length': String(length) } })
        : // A bound on what a loop would ask: a busy answer, which spends the attempts.
          n > 5
          ? new Response('busy', { status: 503 })
          : new Response(paced(new Uint8Array(0), 50), {
              status: 206,
              headers: { ...BASE, 'content-range': `bytes ${rangeStart(request)}-99/${length}` },
            }),
    )
    const res = await sluice('https://fn.example/empty-part', { fetch, resume: { backoff: FAST } })
    const error = await Array.fromAsync(res.ndjson()).catch((e: unknown) => e)
    expect(isResumeError(error) && error.reason).toBe('range-mismatch')
    expect((error as Error).message).toContain('"bytes 100-99/350", which is not a byte range')
    expect(ranges()).toEqual([null, 'bytes=100-'])
  })
})

describe('after a reconnect, a body that runs past its end names who declared it', () => {
  it('Content-Range of the part, not the first answer’s header', async () => {
    const longer = new Uint8Array(RECORDS.length + 20).fill(0x20)
    longer.set(RECORDS)
    const length = RECORDS.length
    const { fetch } = crafted((request, n) => {
      const start = rangeStart(request)
      if (n === 0 || start === undefined)
        return new Response(paced(RECORDS, 50, 100), {
          headers: { ...BASE, 'x-amzn-remapped-content-length': String(length) },
        })
      // As a function URL answers: the part's Content-Length, renamed, beside the absolute Content-Range.
      return new Response(paced(longer.slice(start), 50), {
        status: 206,
        headers: {
          ...BASE,
          'x-amzn-remapped-content-length': String(length - start),
          'content-range': `bytes ${start}-${length - 1}/${length}`,
        },
      })
    })
    const res = await sluice('https://fn.example/over', {
      fetch,
      resume: { strategy: 'range', attempts: 2, backoff: FAST },
    })
    const error = await Array.fromAsync(res.lines()).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(isTruncatedError(error) && error.expected).toBe(length)
    expect(isTruncatedError(error) && error.message).toContain(`where Content-Range declared ${length}`)
  })
})

describe('resumeFrom keeps the end the stream had', () => {
  /** A checkpoint after 10 records of a first answer that declared `headers`, then resumeFrom. */
  async function resumed(
    answer: (start: number, n: number) => Response,
    firstHeaders: Record<string, string>,
    total?: number,
  ) {
    const { fetch, ranges } = crafted((request, n) => {
      const start = rangeStart(request)
      if (start === undefined)
        return new Response(paced(RECORDS, 40), { headers: { ...BASE, ...firstHeaders } })
      return answer(start, n)
    })
    const first = await sluice('https://fn.example/cp', { fetch, ...(total === undefined ? {} : { total }) })
    const it = first.ndjson()[Symbol.asyncIterator]()
    for (let i = 0; i < 10; i++) await it.next()
    const checkpoint = first.checkpoint()
    first.detach()
    const res = await sluice('https://fn.example/cp', {
      fetch,
      resumeFrom: checkpoint,
      resume: { strategy: 'range', attempts: 3, backoff: FAST },
      ...(total === undefined ? {} : { total }),
    })
    const items: unknown[] = []
    const error = await (async () => {
      for await (const item of res.ndjson()) items.push(item)
    })().then(
      () => undefined,
      (e: unknown) => e,
    )
    return { items, error, res, ranges }
  }
  const open = (bytes: Uint8Array, start: number) =>
    new Response(paced(bytes.slice(start), 40), {
      status: 206,
      headers: { ...BASE, 'content-range': `bytes ${start}-*/*` },
    })

  it('an open part cut short of the declared length is a drop, resumed to the end', async () => {
    const length = RECORDS.length
    const { items, error, res, ranges } = await resumed(
      (start, n) => open(n === 1 ? RECORDS.slice(0, length - 50) : RECORDS, start),
      { 'x-amzn-remapped-content-length': String(length) },
    )
    expect(error).toBeUndefined()
    expect(items).toHaveLength(30)
    expect(ranges()).toHaveLength(3)
    expect(res.progress).toMatchObject({ loaded: length, total: length, state: 'done' })
  })

  it('the `total` option: a longer body fails, naming it', async () => {
    const length = RECORDS.length
    const longer = new Uint8Array(length + 20).fill(0x20)
    longer.set(RECORDS)
    const { items, error } = await resumed((start) => open(longer, start), {}, length)
    expect(items.length).toBeLessThan(30)
    expect(isTruncatedError(error) && error.message).toContain(
      `where the \`total\` option declared ${length}`,
    )
  })

  it('the `total` option: a shorter body is not a clean end', async () => {
    const length = RECORDS.length
    const { error } = await resumed((start) => open(RECORDS.slice(0, length - 40), start), {}, length)
    expect(error).toBeInstanceOf(Error)
    expect(String((error as Error).message)).toContain(`of ${length} bytes; the stream was cut`)
  })
})

describe('a part that does not say the body length, when no length is known', () => {
  it('is not the end: the rest is asked for, and a 416 proves there is none', async () => {
    const text = encoder.encode('hello world\n')
    const ranged = { 'accept-ranges': 'bytes', etag: '"v1"' }
    const { fetch, ranges } = crafted((request, n) => {
      const start = rangeStart(request)
      if (n === 0 || start === undefined) return new Response(paced(text, 5, 5), { headers: ranged })
      if (start >= text.length)
        return new Response('', {
          status: 416,
          headers: { ...ranged, 'content-range': `bytes */${text.length}` },
        })
      // Two bytes at most per answer, each a part of unknown total.
      const end = Math.min(start + 2, text.length)
      return new Response(paced(text.slice(start, end), 2), {
        status: 206,
        headers: { ...ranged, 'content-range': `bytes ${start}-${end - 1}/*` },
      })
    })
    const res = await sluice('https://fn.example/parts', {
      fetch,
      resume: { strategy: 'range', attempts: 9, backoff: FAST },
    })
    expect(await res.collect.text()).toBe('hello world\n')
    expect(ranges()).toEqual([null, 'bytes=5-', 'bytes=7-', 'bytes=9-', 'bytes=11-', 'bytes=12-'])
    expect(res.progress.state).toBe('done')
  })
})

describe('at the proven end, loaded is the total', () => {
  const reports = () => {
    const seen: Progress[] = []
    return { seen, onProgress: (p: Progress) => seen.push(p), progressInterval: 0 }
  }

  it('with an end marker whose line a Content-Length counts', async () => {
    const text = encoder.encode('hello world\n')
    const whole = new Uint8Array([...text, ...encoder.encode(endMarkerLine(text.length))])
    const { seen, ...options } = reports()
    const res = await sluice('https://fn.example/marked', {
      ...options,
      fetch: async () =>
        new Response(new Uint8Array(whole), {
          headers: { 'content-length': String(whole.length), 'x-sluice-end': 'marker' },
        }),
    })
    expect(await res.collect.text()).toBe('hello world\n')
    expect(seen.at(-1)).toMatchObject({ state: 'done', loaded: 12, total: 12, percent: 100 })
  })

  it('after a restart cut between the CR and LF that ended an event', async () => {
    const first = 'id: 0\r\ndata: a\r\n\r\n'
    const second = 'id: 1\r\ndata: b\r\n\r\n'
    const body = encoder.encode(first + second)
    const sse = { 'content-type': 'text/event-stream' }
    const { fetch } = crafted((request) =>
      request.headers.get('last-event-id') === null
        ? new Response(paced(body, 64, first.length - 1), {
            headers: { ...sse, 'content-length': String(body.length) },
          })
        : new Response(encoder.encode(second), {
            headers: { ...sse, 'content-length': String(second.length) },
          }),
    )
    const { seen, ...options } = reports()
    const res = await sluice('https://fn.example/events', { ...options, fetch, resume: { backoff: FAST } })
    expect((await Array.fromAsync(res.events())).map((event) => event.id)).toEqual(['0', '1'])
    const last = seen.at(-1)!
    expect(last).toMatchObject({ state: 'done', percent: 100 })
    expect(last.total).toBe(last.loaded)
  })
})

describe('a body one byte short of its declared length', () => {
  it('is a cut, never a clean end', async () => {
    const length = RECORDS.length
    const fetch = (async () =>
      new Response(paced(RECORDS.slice(0, length - 1), 40), {
        headers: { ...BASE, 'x-amzn-remapped-content-length': String(length) },
      })) as typeof globalThis.fetch
    const res = await sluice('https://fn.example/one-short', { fetch, resume: false })
    const error = await Array.fromAsync(res.lines()).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(isTruncatedError(error) && error.message).toContain(`ended after ${length - 1} of ${length} bytes`)
  })
})

describe('a bounded part the caller asked for ends where its Content-Range says, not at the total', () => {
  it('one that runs past its range end fails, naming Content-Range and that end', async () => {
    // `bytes 100-199/…` but 120 bytes served: the part's end (200) is the limit, not the representation's.
    const { fetch } = crafted(
      () =>
        new Response(paced(RECORDS.slice(100, 220), 30), {
          status: 206,
          headers: { ...BASE, 'content-range': `bytes 100-199/${RECORDS.length}` },
        }),
    )
    const res = await sluice('https://fn.example/p', { fetch, headers: { range: 'bytes=100-199' } })
    const error = await res.collect.bytes().then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(isTruncatedError(error) && { received: error.received, expected: error.expected }).toEqual({
      received: 220,
      expected: 200,
    })
    expect(isTruncatedError(error) && error.message).toContain(
      '220 bytes arrived where Content-Range declared 200',
    )
  })
})

describe('a content-encoded 200: its stray Content-Range is ignored, like its Content-Length', () => {
  it('the decoded body, longer than the range says, ends cleanly with no total', async () => {
    const res = await fromResponse(
      new Response(paced(RECORDS.slice(0, 100), 30), {
        headers: { ...BASE, 'content-encoding': 'gzip', 'content-range': 'bytes 0-9/10' },
      }),
    )
    expect(await res.collect.bytes()).toEqual(RECORDS.slice(0, 100))
    expect(res.progress).toMatchObject({ loaded: 100, state: 'done' })
    expect(res.progress.total).toBeUndefined()
  })
})

describe('a whole (200) answer that sends a Content-Range: it has no meaning there (RFC 9110 §14.4)', () => {
  it.each([
    ['bytes 0-9/10', 6],
    ['bytes 100-199/200', 100],
  ])('%s over %i bytes and no Content-Length ends cleanly, with no total', async (contentRange, length) => {
    const res = await fromResponse(
      new Response(paced(RECORDS.slice(0, length), 4), {
        headers: { ...BASE, 'content-range': contentRange },
      }),
    )
    expect(await res.collect.bytes()).toEqual(RECORDS.slice(0, length))
    expect(res.progress).toMatchObject({ loaded: length, state: 'done' })
    expect(res.progress.total).toBeUndefined()
  })

  it('its Content-Length, not the Content-Range, says where it ends', async () => {
    const seen: Progress[] = []
    const res = await fromResponse(
      new Response(paced(RECORDS.slice(0, 100), 30), {
        headers: { ...BASE, 'content-length': '100', 'content-range': 'bytes 100-199/200' },
      }),
      { onProgress: (p) => seen.push(p), progressInterval: 0 },
    )
    expect(await res.collect.bytes()).toEqual(RECORDS.slice(0, 100))
    expect(new Set(seen.map((p) => p.total))).toEqual(new Set([100]))
    expect(res.progress).toMatchObject({ loaded: 100, total: 100, state: 'done' })
  })
})

describe('a bounded part the caller asked for, with the whole length as the `total` option', () => {
  it('a drop right after its last byte is its end: nothing is asked again', async () => {
    let requests = 0
    const res = await fromResponse(
      new Response(paced(RECORDS.slice(100, 200), 30, 100), {
        status: 206,
        headers: { ...BASE, 'content-range': `bytes 100-199/${RECORDS.length}` },
      }),
      {
        url: 'https://fn.example/p',
        total: RECORDS.length,
        resume: { strategy: 'range', attempts: 2, backoff: FAST },
        request: async () => {
          requests++
          return new Response(null, { status: 500 })
        },
      },
    )
    expect(await res.collect.bytes()).toEqual(RECORDS.slice(100, 200))
    expect(requests).toBe(0)
    expect(res.progress).toMatchObject({ loaded: 100, state: 'done' })
  })
})

describe('a part the caller asked for to the end of the body (bytes=N-)', () => {
  it('is continued with an open Range too, and its checkpoint names no part end', async () => {
    const length = RECORDS.length
    const { fetch, ranges } = crafted((request) => {
      const start = rangeStart(request) ?? 0
      return new Response(paced(RECORDS.slice(start), 40, start === 100 ? 40 : Number.POSITIVE_INFINITY), {
        status: 206,
        headers: { ...BASE, 'content-range': `bytes ${start}-${length - 1}/${length}` },
      })
    })
    const res = await sluice('https://fn.example/p', {
      fetch,
      headers: { range: 'bytes=100-' },
      resume: { strategy: 'range', attempts: 2, backoff: FAST },
    })
    expect(await res.collect.bytes()).toEqual(RECORDS.slice(100))
    expect(ranges()).toEqual(['bytes=100-', 'bytes=140-'])
    expect(res.checkpoint().partEnd).toBeUndefined()
  })
})

describe('a part the caller asked for, with the whole length as the `total` option: progress counts the part', () => {
  it('total is the part’s length, so percent follows what arrived and reaches 100 at the end only', async () => {
    const length = RECORDS.length
    const rest = RECORDS.slice(length - 100)
    const seen: Progress[] = []
    const res = await fromResponse(
      new Response(paced(rest, 50), {
        status: 206,
        headers: { ...BASE, 'content-range': `bytes ${length - 100}-${length - 1}/${length}` },
      }),
      { total: length, onProgress: (p) => seen.push(p), progressInterval: 0 },
    )
    expect(await res.collect.bytes()).toEqual(rest)
    expect(seen.map((p) => [p.loaded, p.total, p.percent, p.state])).toEqual([
      [0, 100, 0, 'streaming'],
      [50, 100, 50, 'streaming'],
      [100, 100, 99.99, 'streaming'],
      [100, 100, 100, 'done'],
    ])
  })
})

describe('the `total` option, with a reconnect answered by a part that does not say the body length', () => {
  it('a part that reaches the total is the end: nothing more is asked for', async () => {
    const length = RECORDS.length
    const ranges: Array<string | null> = []
    const res = await fromResponse(new Response(paced(RECORDS, 50, 100), { headers: BASE }), {
      url: 'https://fn.example/t',
      total: length,
      resume: { strategy: 'range', attempts: 3, backoff: FAST },
      request: async ({ headers }) => {
        ranges.push(new Headers(headers).get('range'))
        return new Response(paced(RECORDS.slice(100), 50), {
          status: 206,
          headers: { ...BASE, 'content-range': `bytes 100-${length - 1}/*` },
        })
      },
    })
    expect(await res.collect.bytes()).toEqual(RECORDS)
    expect(ranges).toEqual(['bytes=100-'])
    expect(res.progress).toMatchObject({ loaded: length, total: length, state: 'done' })
  })
})

describe('resumeFrom a checkpoint of a part the caller asked for (bytes=N-)', () => {
  it('keeps counting the part: the total stays the part’s length while the rest streams', async () => {
    const length = RECORDS.length
    const { fetch } = crafted((request) => {
      const start = rangeStart(request) ?? 0
      return new Response(paced(RECORDS.slice(start), 50), {
        status: 206,
        headers: { ...BASE, 'content-range': `bytes ${start}-${length - 1}/${length}` },
      })
    })
    const first = await sluice('https://fn.example/p', { fetch, headers: { range: 'bytes=100-' } })
    let checkpoint: ReturnType<typeof first.checkpoint> | undefined
    for await (const _ of first.lines()) {
      checkpoint = first.checkpoint()
      break
    }
    expect(checkpoint?.total).toBe(length - 100)
    const seen: Progress[] = []
    const res = await sluice('https://fn.example/p', {
      fetch,
      resumeFrom: checkpoint!,
      onProgress: (p) => seen.push(p),
      progressInterval: 0,
    })
    expect(await res.collect.bytes()).toEqual(RECORDS.slice(checkpoint!.offset))
    expect(new Set(seen.map((p) => p.total))).toEqual(new Set([length - 100]))
  })
})

describe('a length header that is not a whole number declares nothing', () => {
  for (const [name, value] of [
    ['Content-Length', ''],
    ['Content-Length', '1e3'],
    ['x-amzn-remapped-content-length', ''],
    ['x-amzn-remapped-content-length', '0x10'],
  ] as const) {
    it(`${name}: ${JSON.stringify(value)} — the body is read to its end, with no total`, async () => {
      const res = await fromResponse(new Response('abc\n', { headers: { [name]: value } }))
      expect(await res.collect.text()).toBe('abc\n')
      expect(res.progress).toMatchObject({ loaded: 4, state: 'done' })
      expect(res.progress.total).toBeUndefined()
    })
  }
})

/**
 * `response` as a browser hands an answer from another origin: of type "cors", with only the headers CORS lets a
 * page see. Content-Length is one of them; Content-Encoding is not, unless the server exposes it.
 */
function crossOrigin(response: Response): Response {
  Object.defineProperty(response, 'type', { value: 'cors' })
  return response
}

describe('a cross-origin answer (type "cors"): its Content-Length may count compressed bytes that CORS hides', () => {
  // As a page gets a gzip body through a CDN: decoded, with the compressed length and no Content-Encoding.
  const BIGGER = { ...BASE, 'content-length': '30' }
  const SMALLER = { ...BASE, 'content-length': String(RECORDS.length + 20) }

  it('a decoded body longer than its Content-Length is read whole, and no report claims a total', async () => {
    const seen: Progress[] = []
    const res = await fromResponse(crossOrigin(new Response(paced(RECORDS, 50), { headers: BIGGER })), {
      onProgress: (p) => seen.push({ ...p }),
      progressInterval: 0,
    })
    expect(await res.collect.bytes()).toEqual(RECORDS)
    expect(res.progress).toMatchObject({ loaded: RECORDS.length, state: 'done' })
    expect(seen.filter((p) => p.total !== undefined || p.percent !== undefined)).toEqual([])
  })

  it('a decoded body shorter than its Content-Length ends cleanly: nothing is asked for by Range', async () => {
    const { fetch, ranges } = crafted(() =>
      crossOrigin(new Response(paced(RECORDS, 50), { headers: SMALLER })),
    )
    const res = await sluice('https://cdn.example/rows', { fetch, resume: { backoff: FAST } })
    expect(await Array.fromAsync(res.ndjson())).toHaveLength(40)
    expect(res.progress).toMatchObject({ loaded: RECORDS.length, state: 'done' })
    expect(res.progress.total).toBeUndefined()
    expect(ranges()).toEqual([null])
  })

  it('the same answers from the same origin: Content-Length still proves the end, both ways', async () => {
    const longer = await fromResponse(new Response(paced(RECORDS, 50), { headers: BIGGER }))
    const overrun = await longer.collect.bytes().catch((e: unknown) => e)
    expect(isTruncatedError(overrun) && overrun.message).toContain('where Content-Length declared 30')
    const shorter = await fromResponse(new Response(paced(RECORDS, 50), { headers: SMALLER }))
    const cut = await shorter.collect.bytes().catch((e: unknown) => e)
    expect(isTruncatedError(cut) && cut.expected).toBe(RECORDS.length + 20)
  })

  it('the `total` option still gives the total', async () => {
    const res = await fromResponse(crossOrigin(new Response(paced(RECORDS, 50), { headers: BIGGER })), {
      total: RECORDS.length,
    })
    expect(await res.collect.bytes()).toEqual(RECORDS)
    expect(res.progress).toMatchObject({ loaded: RECORDS.length, total: RECORDS.length, percent: 100 })
  })
})
