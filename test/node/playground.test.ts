import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ANSWER_TEXT,
  ANSWER_TOKENS,
  binaryChunks,
  DOCUMENT,
  REPORT_ROWS,
  type ReportRow,
  reportRow,
} from '../../playground/functions/data.ts'
import { type Playground, startPlayground } from '../../playground/server.ts'
import { isSluiceError, sluice } from '../../src/index.ts'

const BINARY_BYTES = 1_000_000

function sha256(parts: Iterable<Uint8Array>): string {
  const hash = createHash('sha256')
  for (const part of parts) hash.update(part)
  return hash.digest('hex')
}

it('puts back the environment variables its options set, once closed', async () => {
  const before = process.env.PLAYGROUND_PACE
  const playground = await startPlayground({ port: 0, pace: 0, log: false })
  expect(process.env.PLAYGROUND_PACE).toBe('0')
  await playground.close()
  expect(process.env.PLAYGROUND_PACE).toBe(before)
})

describe('playground, flat out', () => {
  let playground: Playground
  const fn = (name: string) => new URL(`/fn/${name}`, playground.url).href

  beforeAll(async () => {
    playground = await startPlayground({
      port: 0,
      binaryBytes: BINARY_BYTES,
      shaping: false,
      pace: 0,
      log: false,
    })
  })
  afterAll(() => playground.close())

  it('serves the page, its stylesheet and the bundled app', async () => {
    const page = await fetch(playground.url)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toMatch(/text\/html/)
    const html = await page.text()
    expect(html).toContain('<script type="module" src="app.js">')
    for (const name of ['tokens', 'report', 'document', 'binary']) expect(html).toContain(`data-fn="${name}"`)

    const bundle = await fetch(new URL('/app.js', playground.url))
    expect(bundle.status).toBe(200)
    expect(bundle.headers.get('content-type')).toMatch(/javascript/)
    const code = await bundle.text()
    expect(code).toContain('Cut the connection')
    expect(code).toContain('/control/cut?name=')
    expect(code).not.toMatch(/^import .* from ['"]/m) // bundled: no bare imports left for the browser

    expect((await fetch(new URL('/style.css', playground.url))).status).toBe(200)
    expect((await fetch(new URL('/nope', playground.url))).status).toBe(404)
    expect((await fetch(new URL('/fn/nope', playground.url))).status).toBe(404)
  })

  it('streams the 100 000-row report exactly, with its declared total', async () => {
    const res = await sluice(fn('report'))
    expect(res.headers.get('accept-ranges')).toBe('bytes')
    const rows = await Array.fromAsync(res.ndjson<ReportRow>())
    expect(rows).toHaveLength(REPORT_ROWS)
    for (let i = 0; i < rows.length; i++) {
      if (JSON.stringify(rows[i]) !== JSON.stringify(reportRow(i + 1))) {
        expect.fail(`row ${i + 1} differs: ${JSON.stringify(rows[i])}`)
      }
    }
    const { loaded, total, percent, state, items } = res.progress
    expect({ state, percent, items, complete: total === loaded }).toEqual({
      state: 'done',
      percent: 100,
      items: REPORT_ROWS,
      complete: true,
    })
  })

  it('passes Range and cursors through the proxy', async () => {
    const whole = await (await fetch(fn('report'))).arrayBuffer()
    const ranged = await fetch(fn('report'), { headers: { range: `bytes=${whole.byteLength - 300}-` } })
    expect(ranged.status).toBe(206)
    expect(new Uint8Array(await ranged.arrayBuffer())).toEqual(new Uint8Array(whole.slice(-300)))

    const res = await sluice(`${fn('report')}?cursor=${REPORT_ROWS - 2}`)
    expect(await Array.fromAsync(res.ndjson())).toEqual([reportRow(REPORT_ROWS - 1), reportRow(REPORT_ROWS)])
  })

  it('proxies /fn/<name>/<path> to that function, even a path that starts with //', async () => {
    // `//host/…` is a network-path reference: resolved against the emulator's URL, it names another host, and
    // the playground would proxy to any server (here: its own page server, which has no such header).
    const res = await fetch(
      new URL(`/fn/report//${new URL(playground.url).host}/style.css`, playground.url),
      {
        method: 'HEAD',
      },
    )
    expect(res.status).toBe(200)
    expect(res.headers.get('etag')).toBe('"report-2026-10-v1"')
  })

  it('continues the report after a cursor sent in the x-sluice-cursor header, ended by the marker', async () => {
    const res = await sluice(fn('report'), { headers: { 'x-sluice-cursor': String(REPORT_ROWS - 2) } })
    // The rest of the report is not the whole: no length is declared for it, the end marker proves it instead.
    expect(res.headers.get('x-amzn-remapped-content-length')).toBeNull()
    expect(await Array.fromAsync(res.ndjson())).toEqual([reportRow(REPORT_ROWS - 1), reportRow(REPORT_ROWS)])
    expect(res.progress.state).toBe('done')
  })

  it('streams the tokens over SSE, each with an id, ending at [DONE]', async () => {
    const res = await sluice(fn('tokens'))
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/)
    const events = await Array.fromAsync(res.events({ json: true, until: '[DONE]' }))
    expect(events.map((event) => event.id)).toEqual(ANSWER_TOKENS.map((_, i) => String(i)))
    expect(events.map((event) => (event.data as { text: string }).text).join('')).toBe(ANSWER_TEXT)
    expect(ANSWER_TOKENS.length).toBeGreaterThan(250)
  })

  it('passes Last-Event-ID through the proxy', async () => {
    const last = ANSWER_TOKENS.length - 3
    const res = await sluice(fn('tokens'), { headers: { 'last-event-id': String(last) } })
    const events = await Array.fromAsync(res.events({ json: true, until: '[DONE]' }))
    expect(events.map((event) => (event.data as { text: string }).text)).toEqual(
      ANSWER_TOKENS.slice(last + 1),
    )
  })

  it('refuses a Last-Event-ID that names no event with 409, not a 502 or made-up events', async () => {
    // A 502 is asked again by a resuming client; `1.5` streamed ids 2.5, 3.5… with empty data.
    for (const id of ['abc', '1.5', '-5', '0x10', String(ANSWER_TOKENS.length + 1)]) {
      const res = await fetch(fn('tokens'), { headers: { 'last-event-id': id } })
      expect({ id, status: res.status }).toEqual({ id, status: 409 })
      expect(await res.text()).toContain(`Last-Event-ID ${JSON.stringify(id)} is not the id of an event`)
    }
    // The [DONE] event's id is a position still: after it, nothing is left.
    const done = await sluice(fn('tokens'), { headers: { 'last-event-id': String(ANSWER_TOKENS.length) } })
    expect(await Array.fromAsync(done.events())).toEqual([])
  })

  it('refuses a cursor that names no row with 409, not a complete empty report or made-up rows', async () => {
    for (const cursor of ['abc', '1.5', '-5', String(REPORT_ROWS + 1)]) {
      const res = await fetch(`${fn('report')}?cursor=${encodeURIComponent(cursor)}`)
      expect({ cursor, status: res.status }).toEqual({ cursor, status: 409 })
      expect(await res.text()).toContain(`cursor ${JSON.stringify(cursor)} is not the id of a row`)
    }
    // The last row's id is a position still: after it, nothing is left.
    const end = await sluice(`${fn('report')}?cursor=${REPORT_ROWS}`)
    expect(await Array.fromAsync(end.ndjson())).toEqual([])
  })

  it('streams the tokens from the first on an empty Last-Event-ID, which names no event', async () => {
    const res = await fetch(fn('tokens'), { headers: { 'last-event-id': '' } })
    expect(res.status).toBe(200)
    const ids = [...(await res.text()).matchAll(/^id: (\d+)$/gm)].map((match) => Number(match[1]))
    expect(ids).toEqual([...ANSWER_TOKENS.keys(), ANSWER_TOKENS.length])
  })

  it('streams the growing document to exactly the expected object', async () => {
    const res = await sluice(fn('document'))
    expect(await res.collect.json()).toEqual(DOCUMENT)
  })

  it('streams the binary file with its declared length and exact bytes', async () => {
    const res = await sluice(fn('binary'))
    expect(res.headers.get('x-amzn-remapped-content-length')).toBe(String(BINARY_BYTES))
    const bytes = await res.collect.bytes()
    expect(bytes.length).toBe(BINARY_BYTES)
    expect(sha256([bytes])).toBe(sha256(binaryChunks(BINARY_BYTES)))
    expect(res.progress).toMatchObject({
      loaded: BINARY_BYTES,
      total: BINARY_BYTES,
      percent: 100,
      state: 'done',
    })
  })
})

describe('playground, cut the connection', () => {
  let playground: Playground
  const fn = (name: string) => new URL(`/fn/${name}`, playground.url).href
  const cut = async (name: string) => {
    const answer = await fetch(new URL(`/control/cut?name=${name}`, playground.url), { method: 'POST' })
    expect(answer.status).toBe(200)
    return ((await answer.json()) as { cut: number }).cut
  }

  beforeAll(async () => {
    // Real pace and shaping: the streams are still running when the cut comes.
    playground = await startPlayground({ port: 0, binaryBytes: 8_000_000, pace: 1, log: false })
  })
  afterAll(() => playground.close())

  it('resumes the tokens after a cut with Last-Event-ID: every token exactly once', async () => {
    const res = await sluice(fn('tokens'), { resume: { backoff: { initial: 10 } } })
    const seen: string[] = []
    for await (const event of res.events({ json: true, until: '[DONE]' })) {
      seen.push((event.data as { text: string }).text)
      if (seen.length === 3) expect(await cut('tokens')).toBe(1)
    }
    expect(seen).toEqual(ANSWER_TOKENS)
    expect(res.progress).toMatchObject({ attempt: 2, state: 'done' })
  }, 30_000)

  it('resumes the binary after a cut with Range: the exact bytes, loaded equal to the length', async () => {
    const res = await sluice(fn('binary'), { resume: { backoff: { initial: 10 } } })
    const parts: Uint8Array[] = []
    let loaded = 0
    for await (const chunk of res.bytes()) {
      parts.push(chunk)
      loaded += chunk.length
      if (loaded >= 1_000_000 && loaded - chunk.length < 1_000_000) await cut('binary')
    }
    expect(loaded).toBe(8_000_000)
    expect(sha256(parts)).toBe(sha256(binaryChunks(8_000_000)))
    expect(res.progress).toMatchObject({
      loaded: 8_000_000,
      total: 8_000_000,
      percent: 100,
      attempt: 2,
      state: 'done',
    })
  }, 60_000)

  it('without resume, a cut is an error the client sees, never a clean end', async () => {
    const res = await sluice(fn('binary'), { resume: false })
    let loaded = 0
    const error = await (async () => {
      for await (const chunk of res.bytes()) {
        loaded += chunk.length
        if (loaded >= 1_000_000 && loaded - chunk.length < 1_000_000) await cut('binary')
      }
    })().then(
      () => undefined,
      (caught: unknown) => caught,
    )
    expect(isSluiceError(error), String(error)).toBe(true)
    expect((error as Error).name).toMatch(/^(NetworkError|TruncatedError)$/)
    expect(loaded).toBeLessThan(8_000_000)
  })

  it('answers a cut of an unknown function with 404 and counts 0 when idle', async () => {
    expect(await cut('report')).toBe(0)
    const answer = await fetch(new URL('/control/cut?name=nope', playground.url), { method: 'POST' })
    expect(answer.status).toBe(404)
  })

  it('answers a cut asked with GET with 405 and the method it takes', async () => {
    const answer = await fetch(new URL('/control/cut?name=report', playground.url))
    expect([answer.status, answer.headers.get('allow')]).toEqual([405, 'POST'])
  })
})
