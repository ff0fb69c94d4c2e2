/**
 * Each resume strategy against a real server on 127.0.0.1, and each refusal: a `ResumeError` whose `reason`
 * and message say why the stream could not be continued.
 */
import { describe, expect, it } from 'vitest'
import { type Checkpoint, fromResponse, isNetworkError, isTruncatedError, sluice } from '../src/index.ts'
import { concatBytes, encode } from './support/chunking.ts'
import { base64, FAST, type LogEntry, type Script, scripted } from './support/scripted.ts'
import { bodyOf, fetchWith, resumeError } from './support/streams.ts'

const LINES = ['première ligne — é', 'second 😀 line', '{"third":"中文"}', 'fourth\tline', 'fifth']
const BODY = encode(`${LINES.join('\r\n')}\r\n`)
/** Inside the 2-byte "è" of "première": a drop that splits a character and a line. */
const MID = 5

describe('range', () => {
  it('continues with Range and If-Range after a drop, and delivers every line once', async () => {
    const s = await scripted({
      kind: 'range',
      body: base64(BODY),
      etag: ['"v1"'],
      attempts: [{ drop: MID, release: true }],
    })
    // The drop waits until the client has read the bytes before it (else a loaded Chromium may lose them).
    const res = await sluice(s.url, {
      resume: { backoff: FAST },
      progressInterval: 0,
      onProgress: (p) => {
        if (p.loaded === MID && p.attempt === 1) void s.release()
      },
    })
    expect(await Array.fromAsync(res.lines())).toEqual(LINES)
    const requests = (await s.log()).filter((e) => e.event === 'request')
    expect(requests.map((r) => [r.range, r.ifRange])).toEqual([
      [null, null],
      [`bytes=${MID}-`, '"v1"'],
    ])
  })

  it("continues an SSE body at the byte after its own backoff: the stream's retry: is last-event-id's wait", async () => {
    // An hour: were it the wait, the test would time out long before the reconnect.
    const wire = 'retry: 3600000\nid: e0\ndata: alpha\n\nid: e1\ndata: βeta\n\n'
    const drop = wire.indexOf('βeta')
    const s = await scripted({ kind: 'range', body: base64(encode(wire)), attempts: [{ drop }] })
    // Chosen: with event ids, 'auto' would pick last-event-id.
    const res = await sluice(s.url, { resume: { backoff: FAST, strategy: 'range' } })
    const got = await Array.fromAsync(res.events())
    expect(got.map((e) => [e.id, e.data, e.retry])).toEqual([
      ['e0', 'alpha', 3_600_000],
      ['e1', 'βeta', 3_600_000],
    ])
    const requests = (await s.log()).filter((e) => e.event === 'request')
    expect(requests.map((r) => r.range)).toEqual([null, `bytes=${drop}-`])
  })

  it("refuses a 200 answer to a Range request with reason 'range-ignored', and says how to allow it", async () => {
    const s = await scripted({
      kind: 'range',
      body: base64(BODY),
      attempts: [{ drop: MID }, { answer: 'full' }],
    })
    const res = await sluice(s.url, { resume: { backoff: FAST } })
    const error = await resumeError(Array.fromAsync(res.lines()))
    expect(error.reason).toBe('range-ignored')
    expect(error.message).toMatch(/full body \(200\) instead of 206/)
    expect(error.message).toMatch(/skipOnRestart: true/)
    // The drop that started the resume is kept, as for every refusal.
    expect(isNetworkError(error.cause) && error.cause.message).toContain(`dropped after ${MID} bytes`)
    expect(error.response?.status).toBe(200)
    expect(res.progress.state).toBe('error')
  })

  it('with skipOnRestart, resumes from a 200 answer by discarding the bytes already delivered', async () => {
    const s = await scripted({
      kind: 'range',
      body: base64(BODY),
      attempts: [{ drop: MID }, { answer: 'full', drop: 30 }, { answer: 'full' }],
    })
    const res = await sluice(s.url, { resume: { backoff: FAST, skipOnRestart: true } })
    expect(await Array.fromAsync(res.lines())).toEqual(LINES)
    expect(res.progress).toMatchObject({ loaded: BODY.length, state: 'done', attempt: 3 })
  })

  it("refuses a resource whose ETag changed between attempts with reason 'validator-changed'", async () => {
    const s = await scripted({
      kind: 'range',
      body: base64(BODY),
      etag: ['"v1"', '"v2"'],
      attempts: [{ drop: MID }],
    })
    const res = await sluice(s.url, { resume: { backoff: FAST } })
    const error = await resumeError(Array.fromAsync(res.lines()))
    expect(error.reason).toBe('validator-changed')
    expect(error.message).toMatch(/^The resource changed between attempts \(ETag "v1" became "v2"\)/)
    expect((await s.log()).find((e) => e.range !== null && e.event === 'request')?.ifRange).toBe('"v1"')
  })

  it("refuses a 416 whose length is not what was received with reason 'range-not-satisfiable'", async () => {
    const s = await scripted({
      kind: 'range',
      body: base64(BODY),
      attempts: [{ drop: MID }, { answer: 416, total: 3 }],
    })
    const res = await sluice(s.url, { resume: { backoff: FAST } })
    const error = await resumeError(Array.fromAsync(res.lines()))
    expect(error.reason).toBe('range-not-satisfiable')
    expect(error.message).toContain(`refused Range bytes=${MID}- (416, its body has 3 bytes)`)
  })

  it('completes when a 416 says the body has exactly the bytes received (bytes */N)', async () => {
    // No declared length: the drop right after the last byte leaves the client unsure, the 416 settles it.
    const unterminated = encode(LINES.join('\n'))
    const s = await scripted({
      kind: 'range',
      body: base64(unterminated),
      length: false,
      attempts: [{ drop: unterminated.length }],
    })
    const res = await sluice(s.url, { resume: { backoff: FAST } })
    expect(await Array.fromAsync(res.lines())).toEqual(LINES)
    // The 416 gives the length, so the total is known at last and the end reads 100 %.
    expect(res.progress).toMatchObject({
      loaded: unterminated.length,
      total: unterminated.length,
      percent: 100,
      state: 'done',
    })
    const requests = (await s.log()).filter((e) => e.event === 'request')
    expect(requests.at(-1)?.range).toBe(`bytes=${unterminated.length}-`)
  })

  it('refuses a 200 with another Last-Modified, the answer If-Range gives a changed resource, even with skipOnRestart', async () => {
    const s = await scripted({
      kind: 'range',
      body: base64(BODY),
      lastModified: ['Mon, 01 Jan 2024 00:00:00 GMT', 'Tue, 02 Jan 2024 00:00:00 GMT'],
      attempts: [{ drop: MID }, { body: base64(encode('another version\n'.repeat(4))) }],
    })
    const res = await sluice(s.url, { resume: { backoff: FAST, skipOnRestart: true } })
    const error = await resumeError(Array.fromAsync(res.lines()))
    expect(error.reason).toBe('validator-changed')
    expect(error.message).toContain('Last-Modified Mon, 01 Jan 2024 00:00:00 GMT became Tue, 02 Jan 2024')
    const resumed = (await s.log()).filter((e) => e.event === 'request')[1]
    expect([resumed?.range, resumed?.ifRange]).toEqual([`bytes=${MID}-`, 'Mon, 01 Jan 2024 00:00:00 GMT'])
  })

  it("sends a Last-Modified as If-Range only beside the answer's Date, which a page sees from another origin only if exposed", async () => {
    const modified = 'Mon, 01 Jan 2024 00:00:00 GMT'
    // Node adds a Date to every answer: the date is then strong (RFC 9110 §8.8.2.2), unless the Date is hidden,
    // as CORS hides it from a page (the loopback server is another origin) when not exposed.
    const page = typeof document !== 'undefined'
    for (const [name, more, ifRange] of [
      ['no Date', { date: false }, null],
      [
        'a Date not exposed',
        { expose: 'accept-ranges, content-range, last-modified' },
        page ? null : modified,
      ],
    ] as const) {
      const s = await scripted({
        kind: 'range',
        body: base64(BODY),
        lastModified: [modified],
        attempts: [{ drop: MID, release: true }],
        ...more,
      })
      const res = await sluice(s.url, {
        resume: { backoff: FAST },
        progressInterval: 0,
        onProgress: (p) => {
          if (p.loaded === MID && p.attempt === 1) void s.release()
        },
      })
      expect(await Array.fromAsync(res.lines()), name).toEqual(LINES)
      const requests = (await s.log()).filter((e) => e.event === 'request')
      expect(
        requests.map((r) => [r.range, r.ifRange]),
        name,
      ).toEqual([
        [null, null],
        [`bytes=${MID}-`, ifRange],
      ])
    }
  })

  it("refuses a 206 whose complete length is not the first answer's, with no validator to go by", async () => {
    const longer = encode(`${LINES.join('\r\n')}\r\nsixth, added since\r\n`)
    const s = await scripted({
      kind: 'range',
      body: base64(BODY),
      attempts: [{ drop: MID }, { body: base64(longer) }],
    })
    const res = await sluice(s.url, { resume: { backoff: FAST } })
    const error = await resumeError(Array.fromAsync(res.lines()))
    expect(error.reason).toBe('validator-changed')
    expect(error.message).toContain(`its length ${BODY.length} became ${longer.length} bytes`)
  })

  it('sends no If-Range beside a weak ETag (neither the tag nor a date), and checks the answer instead', async () => {
    const s = await scripted({
      kind: 'range',
      body: base64(BODY),
      etag: ['W/"v1"'],
      lastModified: ['Mon, 01 Jan 2024 00:00:00 GMT'],
      attempts: [{ drop: MID }],
    })
    const res = await sluice(s.url, { resume: { backoff: FAST } })
    expect(await Array.fromAsync(res.lines())).toEqual(LINES)
    const requests = (await s.log()).filter((e) => e.event === 'request')
    expect(requests.map((r) => [r.range, r.ifRange])).toEqual([
      [null, null],
      [`bytes=${MID}-`, null],
    ])
  })

  it('compares entity tags weakly: W/"v1" and "v1" name the same version, and the stream continues', async () => {
    for (const [first, then] of [
      ['W/"v1"', '"v1"'],
      ['"v1"', 'W/"v1"'],
    ] as const) {
      const ranges: Array<[string | null, string | null]> = []
      const res = await sluice('https://fn.example/weak', {
        retry: 0,
        resume: { backoff: FAST },
        fetch: fetchWith((request) => {
          ranges.push([request.headers.get('range'), request.headers.get('if-range')])
          if (ranges.length === 1) {
            return new Response(bodyOf([encode('abcd')], { error: new TypeError('terminated') }).stream, {
              headers: { 'accept-ranges': 'bytes', 'content-length': '8', etag: first },
            })
          }
          return new Response('efgh', {
            status: 206,
            headers: { 'accept-ranges': 'bytes', 'content-range': 'bytes 4-7/8', etag: then },
          })
        }),
      })
      expect(await res.collect.text()).toBe('abcdefgh')
      expect(ranges).toEqual([
        [null, null],
        ['bytes=4-', first.startsWith('W/') ? null : first],
      ])
    }
  })

  it("refuses a 206 whose Content-Range starts elsewhere with reason 'range-mismatch'", async () => {
    const s = await scripted({
      kind: 'range',
      body: base64(BODY),
      attempts: [{ drop: MID }, { answer: 'mismatch' }],
    })
    const res = await sluice(s.url, { resume: { backoff: FAST } })
    const error = await resumeError(Array.fromAsync(res.lines()))
    expect(error.reason).toBe('range-mismatch')
    expect(error.message).toContain(`does not start at ${MID}`)
  })

  it("refuses a 206 that starts before the offset (bytes already delivered) with reason 'range-mismatch'", async () => {
    let n = 0
    const res = await sluice('https://fn.example/early', {
      retry: 0,
      resume: { backoff: FAST },
      fetch: fetchWith(() =>
        n++ === 0
          ? new Response(bodyOf([encode('abcd')], { error: new TypeError('terminated') }).stream, {
              headers: { 'accept-ranges': 'bytes', 'content-length': '8' },
            })
          : new Response('cdefgh', {
              status: 206,
              headers: { 'accept-ranges': 'bytes', 'content-range': 'bytes 2-7/8' },
            }),
      ),
    })
    let text = ''
    const error = await resumeError(
      (async () => {
        for await (const chunk of res.text()) text += chunk
      })(),
    )
    expect(text).toBe('abcd')
    expect(error.reason).toBe('range-mismatch')
    expect(error.message).toContain('Content-Range "bytes 2-7/8", which does not start at 4')
  })

  it('refuses a 206 whose Content-Range is not a byte range, saying so rather than naming a wrong start', async () => {
    let n = 0
    const fetch = fetchWith(() =>
      n++ === 0
        ? new Response(bodyOf([encode('one\ntw')], { error: new TypeError('terminated') }).stream, {
            headers: { 'accept-ranges': 'bytes' },
          })
        : new Response('o\n', { status: 206, headers: { 'content-range': 'items 6-7/8' } }),
    )
    const res = await sluice('https://example.test/lines', { fetch, resume: { backoff: FAST } })
    const error = await resumeError(Array.fromAsync(res.lines()))
    expect(error.reason).toBe('range-mismatch')
    expect(error.message).toContain('"items 6-7/8", which is not a byte range')
  })

  it('reports a drop it cannot resume as the drop itself, saying the server offers no Accept-Ranges, event ids or cursor', async () => {
    const s = await scripted({
      kind: 'range',
      body: base64(BODY),
      acceptRanges: false,
      attempts: [{ drop: 30 }],
    })
    const res = await sluice(s.url, { resume: { backoff: FAST } })
    const error = await Array.fromAsync(res.lines()).then(
      () => undefined,
      (caught: unknown) => caught as Error,
    )
    expect(error).toMatchObject({ name: 'NetworkError' })
    expect(error?.message).toContain('cannot be resumed')
    expect(error?.message).toContain('no `Accept-Ranges: bytes`')
    expect(error?.message).toContain('no SSE event id is in force')
    expect(error?.message).toContain('no `resume.cursor`')
    expect((await s.log()).filter((e) => e.event === 'request')).toHaveLength(1)
  })

  it('continues by Range a first answer that is a 206, which proves ranges though no Accept-Ranges says so', async () => {
    const s = await scripted({
      kind: 'range',
      body: base64(BODY),
      acceptRanges: false,
      etag: ['"v1"'],
      attempts: [{ drop: 30, release: true }],
    })
    const res = await sluice(s.url, {
      headers: { range: 'bytes=0-' },
      resume: { backoff: FAST },
      progressInterval: 0,
      onProgress: (p) => {
        if (p.loaded === 30 && p.attempt === 1) void s.release()
      },
    })
    expect(res.status).toBe(206)
    expect(await Array.fromAsync(res.lines())).toEqual(LINES)
    const requests = (await s.log()).filter((e) => e.event === 'request')
    expect(requests.map((r) => [r.range, r.ifRange])).toEqual([
      ['bytes=0-', null],
      ['bytes=30-', '"v1"'],
    ])
  })

  it('asks again from the start after a drop before the first line for a GET, never for a POST', async () => {
    const script: Script = {
      kind: 'range',
      body: base64(BODY),
      acceptRanges: false,
      attempts: [{ drop: MID }],
    }
    const get = await scripted(script)
    const lines = await Array.fromAsync((await sluice(get.url, { resume: { backoff: FAST } })).lines())
    expect(lines).toEqual(LINES)
    expect((await get.log()).filter((e) => e.event === 'request')).toHaveLength(2)

    // A server that offers no resume would run a POST twice: a second invocation, not a resume.
    const post = await scripted(script)
    const res = await sluice(post.url, { method: 'POST', json: { charge: 100 }, resume: { backoff: FAST } })
    const error = await Array.fromAsync(res.lines()).then(
      () => undefined,
      (caught: unknown) => caught as Error,
    )
    expect(error).toMatchObject({ name: 'NetworkError' })
    expect(error?.message).toContain('cannot be resumed')
    expect(error?.message).toContain('a POST is not sent again from the start, as it may not be idempotent')
    expect((await post.log()).filter((e) => e.event === 'request')).toHaveLength(1)
  })

  it('refuses a POST checkpoint before the first unit on a server that offers no resume: resumeFrom would run it again', async () => {
    const s = await scripted({ kind: 'range', body: base64(BODY), acceptRanges: false, chunk: 3, pace: 5 })
    const res = await sluice(s.url, { method: 'POST', json: { charge: 100 } })
    expect(() => res.checkpoint()).toThrow(
      /a POST is not sent again from the start, as it may not be idempotent/,
    )
    await res.cancel()
    const get = await sluice(s.url)
    expect(get.checkpoint()).toMatchObject({ offset: 0, method: 'GET' })
    await get.cancel()
  })

  it('keeps a body cut short of its announced end marker a TruncatedError when it cannot be resumed', async () => {
    const s = await scripted({
      kind: 'range',
      body: base64(BODY),
      acceptRanges: false,
      length: false,
      marker: true,
      attempts: [{ cut: BODY.length - 2 }],
    })
    const res = await sluice(s.url, { resume: { backoff: FAST } })
    const error = await Array.fromAsync(res.bytes()).then(
      () => undefined,
      (caught: unknown) => caught,
    )
    expect(isTruncatedError(error), String(error)).toBe(true)
    expect((error as Error).message).toContain('cannot be resumed')
  })
})

describe('range: a part the caller asked for with its own bounded Range', () => {
  const DIGITS = encode(Array.from({ length: 1000 }, (_, i) => String.fromCharCode(65 + (i % 26))).join(''))
  // In pieces, so that a checkpoint taken after the first chunk lands inside the part.
  const part = (attempts: NonNullable<Script['attempts']>) =>
    scripted({ kind: 'range', body: base64(DIGITS), etag: ['"v1"'], attempts, chunk: 100, pace: 1 })

  it('asks for the rest of the part only, and delivers exactly the part', async () => {
    const s = await part([{ drop: 700 }])
    const res = await sluice(s.url, { headers: { range: 'bytes=500-899' }, resume: { backoff: FAST } })
    expect(await res.collect.bytes()).toEqual(DIGITS.subarray(500, 900))
    expect(res.progress).toMatchObject({ loaded: 400, total: 400, percent: 100, state: 'done' })
    const requests = (await s.log()).filter((e) => e.event === 'request')
    expect(requests.map((r) => r.range)).toEqual(['bytes=500-899', 'bytes=700-899'])
  })

  it("refuses an answer that runs past the part with reason 'range-mismatch'", async () => {
    const s = await part([{ drop: 700 }, { answer: 'overshoot' }])
    const res = await sluice(s.url, { headers: { range: 'bytes=500-899' }, resume: { backoff: FAST } })
    const error = await resumeError(res.collect.bytes())
    expect(error.reason).toBe('range-mismatch')
    expect(error.message).toContain('goes past byte 899, the end of the part asked for')
  })

  it('names the Range it sent, end included, when the server refuses it (416)', async () => {
    const s = await part([{ drop: 700 }, { answer: 416, total: 600 }])
    const res = await sluice(s.url, { headers: { range: 'bytes=500-899' }, resume: { backoff: FAST } })
    const error = await resumeError(res.collect.bytes())
    expect(error.reason).toBe('range-not-satisfiable')
    expect(error.message).toContain('refused Range bytes=700-899 (416, its body has 600 bytes)')
  })

  it('a drop after the last byte of the part completes, with no request for an empty range', async () => {
    const s = await part([])
    // The connection fails after the part's last byte instead of ending cleanly.
    const failsAtTheEnd = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const response = await fetch(input, init)
      const reader = response.body!.getReader()
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const { done, value } = await reader.read()
          if (done) controller.error(new TypeError('terminated'))
          else controller.enqueue(value)
        },
      })
      return new Response(body, { status: response.status, headers: response.headers })
    }) as typeof fetch
    const res = await sluice(s.url, {
      headers: { range: 'bytes=500-899' },
      fetch: failsAtTheEnd,
      resume: { backoff: FAST },
    })
    expect(await res.collect.bytes()).toEqual(DIGITS.subarray(500, 900))
    expect((await s.log()).filter((e) => e.event === 'request')).toHaveLength(1)
  })

  it('a checkpoint taken after the last byte of the part resumes to nothing more, with no request', async () => {
    const s = await part([])
    const first = await sluice(s.url, { headers: { range: 'bytes=500-899' } })
    expect(await first.collect.bytes()).toEqual(DIGITS.subarray(500, 900))
    const checkpoint = JSON.parse(JSON.stringify(first.checkpoint())) as Checkpoint
    expect(checkpoint).toMatchObject({ offset: 900, partEnd: 900 })
    const rest = await (await sluice(s.url, { resumeFrom: checkpoint })).collect.bytes()
    expect(rest).toHaveLength(0)
    expect((await s.log()).filter((e) => e.event === 'request')).toHaveLength(1)
  })

  it('a checkpoint keeps the end of the part: resumeFrom asks for the rest of it only', async () => {
    // Paced so that the first read holds one 100-byte chunk, not the whole part (which leaves nothing to ask).
    const s = await scripted({ kind: 'range', body: base64(DIGITS), etag: ['"v1"'], chunk: 100, pace: 50 })
    const first = await sluice(s.url, { headers: { range: 'bytes=500-899' } })
    const reader = first.bytes()[Symbol.asyncIterator]()
    const head = await reader.next()
    const checkpoint = JSON.parse(JSON.stringify(first.checkpoint())) as Checkpoint
    await reader.return?.()
    expect(checkpoint.partEnd).toBe(900)
    const res = await sluice(s.url, { headers: { range: 'bytes=500-899' }, resumeFrom: checkpoint })
    const rest = await res.collect.bytes()
    expect(concatBytes([head.value as Uint8Array, rest])).toEqual(DIGITS.subarray(500, 900))
    const requests = (await s.log()).filter((e) => e.event === 'request')
    expect(requests.at(-1)?.range).toBe(`bytes=${checkpoint.offset}-899`)
  })

  /**
   * `bytes=0-9` of a body whose first answer (`bytes 0-9/<total>`) drops after `abcd`; `again` answers every
   * request after it. The ranges asked are in `ranges`.
   */
  const partThenAnswer = async (total: string, again: () => Response, skipOnRestart?: boolean) => {
    const ranges: Array<string | null> = []
    const res = await sluice('https://fn.example/part', {
      headers: { range: 'bytes=0-9' },
      resume: { backoff: FAST, skipOnRestart },
      retry: 0,
      fetch: fetchWith((request) => {
        ranges.push(request.headers.get('range'))
        if (ranges.length > 1) return again()
        const { stream } = bodyOf(['abcd'], { error: new TypeError('network error (scripted drop)') })
        return new Response(stream, {
          status: 206,
          headers: { 'accept-ranges': 'bytes', 'content-range': `bytes 0-9/${total}` },
        })
      }),
    })
    return { res, ranges }
  }

  it("refuses the full 200 as the rest of a part, even with skipOnRestart: 'range-ignored'", async () => {
    const { res } = await partThenAnswer(
      '20',
      () =>
        new Response('abcdefghijklmnopqrst', {
          headers: { 'accept-ranges': 'bytes', 'content-length': '20' },
        }),
      true,
    )
    let text = ''
    const error = await resumeError(
      (async () => {
        for await (const chunk of res.text()) text += chunk
      })(),
    )
    expect(text).toBe('abcd')
    expect(error.reason).toBe('range-ignored')
    expect(error.message).toContain('the part asked for cannot be continued from it')
  })

  it('takes an open-ended answer (bytes N-*/T) whose complete length T ends within the part', async () => {
    const { res, ranges } = await partThenAnswer(
      '*',
      () =>
        new Response('efghij', {
          status: 206,
          headers: { 'accept-ranges': 'bytes', 'content-range': 'bytes 4-*/10' },
        }),
    )
    expect(await res.collect.text()).toBe('abcdefghij')
    expect(ranges).toEqual(['bytes=0-9', 'bytes=4-9'])
  })

  it('stops a resumed part whose body runs past the end of the part: nothing past it is delivered', async () => {
    // Says it is bytes 4-9, and sends 10 bytes: 4 past the part.
    const { res, ranges } = await partThenAnswer(
      '20',
      () =>
        new Response('efghijKLMN', {
          status: 206,
          headers: { 'accept-ranges': 'bytes', 'content-range': 'bytes 4-9/20' },
        }),
    )
    const got: Uint8Array[] = []
    const error = await (async () => {
      for await (const chunk of res.bytes()) got.push(chunk)
    })().catch((e: unknown) => e)
    expect(ranges).toEqual(['bytes=0-9', 'bytes=4-9'])
    expect(new TextDecoder().decode(concatBytes(got))).toBe('abcd')
    expect(isTruncatedError(error)).toBe(true)
    expect((error as Error).message).toContain('14 bytes arrived where Content-Range declared 10')
  })
})

/**
 * Reads a scripted SSE stream's events with a backoff of no wait at all, and returns their ids, the request
 * after the drop, and how long after the drop it came.
 */
async function readWithoutBackoff(s: { url: string; log: () => Promise<LogEntry[]> }) {
  const res = await sluice(s.url, { resume: { backoff: { initial: 0, max: 0, jitter: 0 } } })
  const ids = (await Array.fromAsync(res.events())).map((e) => e.id)
  const log = await s.log()
  const drop = log.findIndex((e) => e.event === 'drop')
  const next = log.slice(drop).find((e) => e.event === 'request')!
  return { ids, next, gap: next.at - log[drop]!.at }
}

describe('last-event-id', () => {
  const events = ['alpha', 'βeta', 'γάμμα 😀', 'delta', 'epsilon'].map((data, i) => ({ id: `e${i}`, data }))
  const wire = (list: typeof events) => list.map((e) => `id: ${e.id}\ndata: ${e.data}\n\n`).join('')
  /** Inside the data of event e2, after e0 and e1 were delivered. */
  const INSIDE_E2 = encode(wire(events.slice(0, 2))).length + 14

  it('sends Last-Event-ID, discards the partial event and delivers no event twice', async () => {
    const s = await scripted({ kind: 'sse', events, attempts: [{ drop: INSIDE_E2 }] })
    const res = await sluice(s.url, { resume: { backoff: FAST } })
    const got = await Array.fromAsync(res.events())
    expect(got.map((e) => [e.id, e.data])).toEqual(events.map((e) => [e.id, e.data]))
    const requests = (await s.log()).filter((e) => e.event === 'request')
    expect(requests.map((r) => r.lastEventId)).toEqual([null, 'e1'])
  })

  it("waits the server's retry: before reconnecting, instead of the backoff", async () => {
    const retry = 300
    const s = await scripted({
      kind: 'sse',
      events: events.map((e, i) => (i === 0 ? { ...e, retry } : e)),
      attempts: [{ drop: INSIDE_E2 + `retry: ${retry}\n`.length }],
    })
    const { ids, next, gap } = await readWithoutBackoff(s)
    expect(ids).toEqual(events.map((e) => e.id))
    // The backoff asks for no wait at all; only the server's retry: explains this gap (a lower bound, never flaky).
    expect(gap).toBeGreaterThanOrEqual(retry)
    expect(next.lastEventId).toBe('e1')
  })

  it("waits a busy server's Retry-After rather than the stream's retry: after a 503", async () => {
    const s = await scripted({
      kind: 'sse',
      events: events.map((e, i) => (i === 0 ? { ...e, retry: 1 } : e)),
      attempts: [{ drop: INSIDE_E2 + 'retry: 1\n'.length }, { status: 503, headers: { 'retry-after': '1' } }],
    })
    const res = await sluice(s.url, { resume: { backoff: FAST } })
    const got = await Array.fromAsync(res.events())
    expect(got.map((e) => e.id)).toEqual(events.map((e) => e.id))
    const requests = (await s.log()).filter((e) => e.event === 'request')
    expect(requests.map((r) => r.lastEventId)).toEqual([null, 'e1', 'e1'])
    // The stream asks for 1 ms; only the server's Retry-After explains this gap (a lower bound, never flaky).
    expect(requests[2]!.at - requests[1]!.at).toBeGreaterThanOrEqual(1000)
  })
})

describe('last-event-id: the reconnection time', () => {
  const events = ['alpha', 'βeta', 'γάμμα 😀', 'delta'].map((data, i) => ({ id: `e${i}`, data }))
  const wire = (list: typeof events) => list.map((e) => `id: ${e.id}\ndata: ${e.data}\n\n`).join('')

  it('waits a retry: read in the event cut by the drop, after the last event delivered', async () => {
    const retry = 300
    // The drop comes inside e2, after its retry line: the line took effect when read (WHATWG).
    const drop = encode(wire(events.slice(0, 2))).length + `retry: ${retry}\nid: e2\nda`.length
    const s = await scripted({
      kind: 'sse',
      events: events.map((e, i) => (i === 2 ? { ...e, retry } : e)),
      attempts: [{ drop }],
    })
    const { ids, next, gap } = await readWithoutBackoff(s)
    expect(ids).toEqual(events.map((e) => e.id))
    expect(next.lastEventId).toBe('e1')
    expect(gap).toBeGreaterThanOrEqual(retry)
  })
})

describe('cursor', () => {
  const rows = Array.from({ length: 6 }, (_, i) => JSON.stringify({ i, name: `row ${i} — ${'é'.repeat(i)}` }))
  const after = (last: unknown) => ({ searchParams: { after: String((last as { i: number }).i) } })

  it('refuses to continue text() by a cursor once text was delivered: nothing says where, and it would repeat', async () => {
    // A body that hands out its first 30 bytes before it fails: over a socket, Chromium under load could drop
    // them unread with the connection, and then no text was delivered and the restart was right.
    const head = encode(`${rows.join('\n')}\n`).subarray(0, 30)
    let requests = 0
    const fetch = fetchWith(() => {
      requests++
      return new Response(bodyOf([head], { error: new TypeError('terminated') }).stream, {
        headers: { 'content-type': 'application/x-ndjson' },
      })
    })
    const res = await sluice('https://fn.test/rows', {
      fetch,
      resume: { strategy: 'cursor', cursor: after, backoff: FAST },
    })
    const texts: string[] = []
    const error = await (async () => {
      for await (const text of res.text()) texts.push(text)
    })().then(
      () => undefined,
      (caught: unknown) => caught as Error,
    )
    expect(texts.join('')).toBe(new TextDecoder().decode(head, { stream: true }))
    expect(error?.message).toContain('cannot be resumed')
    expect(error?.message).toContain('delivers no items (text or bytes)')
    expect(requests).toBe(1)
  })

  it('continues an NDJSON stream after the last delivered record with cursor(lastItem)', async () => {
    const inside =
      encode(
        rows
          .slice(0, 3)
          .map((r) => `${r}\n`)
          .join(''),
      ).length + 7
    const s = await scripted({
      kind: 'cursor',
      records: rows,
      format: 'ndjson',
      attempts: [{ drop: inside }],
    })
    const res = await sluice(s.url, { resume: { strategy: 'cursor', cursor: after, backoff: FAST } })
    expect(await Array.fromAsync(res.ndjson())).toEqual(rows.map((r) => JSON.parse(r) as unknown))
    const requests = (await s.log()).filter((e) => e.event === 'request')
    expect(requests.map((r) => r.search)).toEqual(['', '?after=2'])
  })

  it('continues an SSE stream without ids after the last delivered event with cursor(lastItem)', async () => {
    const inside =
      encode(
        rows
          .slice(0, 2)
          .map((r) => `data: ${r}\n\n`)
          .join(''),
      ).length + 9
    const s = await scripted({ kind: 'cursor', records: rows, format: 'sse', attempts: [{ drop: inside }] })
    const res = await sluice(s.url, {
      resume: { cursor: (last) => after((last as { data: unknown }).data), backoff: FAST },
    })
    const got = await Array.fromAsync(res.events({ json: true }))
    expect(got.map((e) => e.data)).toEqual(rows.map((r) => JSON.parse(r) as unknown))
    const requests = (await s.log()).filter((e) => e.event === 'request')
    expect(requests.map((r) => r.search)).toEqual(['', '?after=1'])
  })

  it('takes a key the cursor returns as undefined as absent: in the reconnect, and out of the checkpoint', async () => {
    const inside = encode(`${rows[0]}\n`).length + 3
    const s = await scripted({
      kind: 'cursor',
      records: rows,
      format: 'ndjson',
      attempts: [{ drop: inside }],
    })
    const cursor = (last: unknown) => ({
      searchParams: { after: String((last as { i: number }).i) },
      headers: undefined,
    })
    const res = await sluice(s.url, { resume: { strategy: 'cursor', cursor, backoff: FAST } })
    const items: unknown[] = []
    const checkpoints: Checkpoint[] = []
    for await (const row of res.ndjson()) {
      items.push(row)
      checkpoints.push(res.checkpoint())
    }
    expect(items).toEqual(rows.map((r) => JSON.parse(r) as unknown))
    expect((await s.log()).filter((e) => e.event === 'request').map((r) => r.search)).toEqual([
      '',
      '?after=0',
    ])
    const taken = checkpoints[0]?.cursor
    expect(taken).toEqual({ searchParams: { after: '0' } })
    expect(Object.keys(taken ?? {})).toEqual(['searchParams'])
  })
})

describe('fromResponse', () => {
  it('resumes a response obtained elsewhere when given `request`', async () => {
    const s = await scripted({ kind: 'range', body: base64(BODY), etag: ['"v1"'], attempts: [{ drop: MID }] })
    const res = await fromResponse(await fetch(s.url), {
      resume: { backoff: FAST },
      request: ({ headers, signal }) => fetch(s.url, { headers, signal }),
    })
    expect(await Array.fromAsync(res.lines())).toEqual(LINES)
    const requests = (await s.log()).filter((e) => e.event === 'request')
    expect(requests.map((r) => r.range)).toEqual([null, `bytes=${MID}-`])
  })

  it('without `request`, a drop fails with an error that says to pass `request`', async () => {
    const s = await scripted({ kind: 'range', body: base64(BODY), attempts: [{ drop: MID }] })
    const res = await fromResponse(await fetch(s.url))
    const error = await Array.fromAsync(res.lines()).catch((e: unknown) => e)
    expect(error).toMatchObject({ name: 'NetworkError' })
    expect((error as Error).message).toContain('pass `request` to fromResponse()')
  })

  it('without `request`, checkpoint() still follows `resume`: its cursor goes into the checkpoint', async () => {
    const after = (last: unknown) => ({ searchParams: { after: String((last as { i: number }).i) } })
    const res = await fromResponse(new Response('{"i":1}\n{"i":2}\n{"i":3}\n'), {
      url: 'https://fn.example/rows',
      resume: { strategy: 'cursor', cursor: after },
    })
    const rows = res.ndjson()[Symbol.asyncIterator]()
    expect((await rows.next()).value).toEqual({ i: 1 })
    const checkpoint = JSON.parse(JSON.stringify(res.checkpoint())) as Checkpoint
    await rows.return?.()
    expect(checkpoint).toMatchObject({
      url: 'https://fn.example/rows',
      strategy: 'cursor',
      cursor: { searchParams: { after: '1' } },
    })
    // What sluice() then sends for it: the rest, after the record delivered.
    const asked: string[] = []
    const rest = await sluice('https://fn.example/rows', {
      resumeFrom: checkpoint,
      resume: { strategy: 'cursor', cursor: after },
      fetch: fetchWith((request) => {
        asked.push(request.url)
        return new Response('{"i":2}\n{"i":3}\n')
      }),
    })
    expect(await Array.fromAsync(rest.ndjson())).toEqual([{ i: 2 }, { i: 3 }])
    expect(asked).toEqual(['https://fn.example/rows?after=1'])
  })
})
