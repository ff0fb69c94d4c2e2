// The runtime matrix's smoke cases: one list, run unchanged by Node 22, Deno, Bun (smoke.mjs) and workerd
// (worker.mjs), against the loopback server of server.ts. Plain JavaScript over the BUILT package (dist/), so
// what runs is what users get. To add a case (resume, say), add one entry to `cases`: every runtime runs it and
// test/node/runtime-matrix.test.ts checks that each runtime reports the same list, all passing.
import { z } from 'zod'
import {
  HTTPError,
  isHTTPError,
  isSluiceError,
  isTruncatedError,
  isValidationError,
  sluice,
  TruncatedError,
} from '../../dist/index.js'

/** Throws with `message` unless `condition` holds. */
function check(condition, message) {
  if (!condition) throw new Error(message)
}

async function sha256(text) {
  const data = typeof text === 'string' ? new TextEncoder().encode(text) : text
  const digest = await crypto.subtle.digest('SHA-256', data)
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('')
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Waits until the server reports that the socket of request `id` closed. */
async function serverSawClose(url, id, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const state = await (await fetch(url(`/state?id=${id}`))).json()
    if (state?.closed) return true
    if (Date.now() > deadline)
      throw new Error(`the server did not see request ${id}'s socket close within ${timeoutMs} ms`)
    await sleep(25)
  }
}

const Row = z.object({
  id: z.number().int().nonnegative(),
  name: z.string(),
  tags: z.array(z.union([z.string(), z.number()])),
})
const Delta = z.object({ i: z.number(), text: z.string() })
const Report = z.object({
  title: z.string(),
  items: z.array(z.object({ id: z.number(), label: z.string() })),
  done: z.literal(true),
})

/**
 * Each case gets `url(path)` (an absolute URL on the smoke server) and a unique `id`, and returns a small
 * JSON-serialisable detail for the report; it throws on any failure.
 */
export const cases = [
  {
    name: 'bytes',
    async run({ url }) {
      const size = 256 * 1024
      const res = await sluice(url(`/bytes?size=${size}&chunk=8191`))
      check(res.status === 200 && res.ok, `status ${res.status}`)
      const { received, chunks } = await readPattern(res)
      check(received === size, `received ${received} bytes, expected ${size}`)
      check(res.progress.loaded === size, `progress.loaded is ${res.progress.loaded}`)
      check(res.progress.state === 'done', `progress.state is ${res.progress.state}`)
      return { bytes: received, chunks }
    },
  },
  {
    name: 'bytes (fixed chunkSize)',
    async run({ url }) {
      const size = 100_000
      const res = await sluice(url(`/bytes?size=${size}&chunk=777`))
      const sizes = []
      for await (const chunk of res.bytes({ chunkSize: 16_384 })) sizes.push(chunk.length)
      check(
        sizes.slice(0, -1).every((n) => n === 16_384),
        `chunk sizes ${sizes.join(',')}`,
      )
      check(sizes.reduce((a, b) => a + b, 0) === size, 'wrong total')
      return { chunks: sizes.length }
    },
  },
  {
    name: 'text',
    async run({ url }) {
      // 1021-byte writes split multi-byte characters between chunks.
      const res = await sluice(url('/text?lines=1500&chunk=1021'))
      let text = ''
      let chunks = 0
      for await (const piece of res.text()) {
        check(typeof piece === 'string', 'a chunk is not a string')
        text += piece
        chunks++
      }
      check(!text.includes('\uFFFD'), 'the text has replacement characters: a UTF-8 sequence was broken')
      check(
        (await sha256(text)) === res.headers.get('x-smoke-sha256'),
        'the decoded text differs from the body',
      )
      return { chars: text.length, chunks }
    },
  },
  {
    name: 'lines',
    async run({ url }) {
      const res = await sluice(url('/text?lines=2000&chunk=509&eol=mixed&bom=1'))
      const lines = []
      for await (const line of res.lines()) lines.push(line)
      const expected = Number(res.headers.get('x-smoke-lines'))
      check(lines.length === expected, `${lines.length} lines, expected ${expected}`)
      check(!lines[0].startsWith('\uFEFF'), 'the BOM was not stripped')
      check(
        lines.every((line) => !line.includes('\r')),
        'a line kept a CR',
      )
      check((await sha256(lines.join('\n'))) === res.headers.get('x-smoke-lines-sha256'), 'the lines differ')
      return { lines: lines.length }
    },
  },
  {
    name: 'ndjson (zod schema, end marker)',
    async run({ url }) {
      const rows = 2000
      const res = await sluice(url(`/ndjson?rows=${rows}&chunk=1000&marker=end`))
      let next = 0
      for await (const row of res.ndjson(Row)) {
        check(row.id === next, `row ${next} has id ${JSON.stringify(row.id)}`)
        check(row.name === `row ${next}`, `row ${next} has name ${row.name}`)
        next++
      }
      check(next === rows, `${next} rows, expected ${rows} (the end marker must not be delivered)`)
      check(res.progress.items === rows, `progress.items is ${res.progress.items}`)
      return { rows: next }
    },
  },
  {
    name: 'ndjson (schema failure)',
    async run({ url }) {
      const res = await sluice(url('/ndjson?rows=50&bad=17'))
      let seen = 0
      try {
        for await (const _row of res.ndjson(Row)) seen++
      } catch (error) {
        check(isValidationError(error), `expected a ValidationError, got ${describe(error)}`)
        check(error.index === 17, `ValidationError.index is ${error.index}`)
        check(seen === 17, `${seen} rows before the error`)
        return { index: error.index, issues: error.issues.length }
      }
      throw new Error('the invalid row did not fail the stream')
    },
  },
  {
    name: 'events (SSE, schema, until [DONE])',
    async run({ url }) {
      const count = 500
      const res = await sluice(url(`/sse?events=${count}&chunk=333`))
      let next = 0
      for await (const event of res.events({ schema: Delta, until: '[DONE]' })) {
        check(event.event === 'delta', `event type ${event.event}`)
        check(event.id === String(next), `event ${next} has id ${event.id}`)
        check(
          event.data.i === next && event.data.text === `token ${next} ✓`,
          `event ${next} has the wrong data`,
        )
        next++
      }
      check(next === count, `${next} events, expected ${count}`)
      return { events: next }
    },
  },
  {
    name: 'json (partial snapshots, validated final)',
    async run({ url }) {
      const items = 6000
      const res = await sluice(url(`/json?items=${items}&chunk=2048`))
      const doc = res.json(Report)
      let snapshots = 0
      let partial = 0
      let previousItems = 0
      for await (const snapshot of doc) {
        snapshots++
        const n = snapshot.items?.length ?? 0
        check(n >= previousItems, 'items went backwards between snapshots')
        if (n < items) partial++
        previousItems = n
      }
      const final = await doc.final
      check(final.items.length === items && final.done === true, 'the final document is incomplete')
      check(final.items[items - 1].label === `item ${items - 1}`, 'the last item is wrong')
      check(
        snapshots > 1 && partial > 0,
        `${snapshots} snapshots, ${partial} partial: the document did not grow`,
      )
      return { snapshots, partial }
    },
  },
  {
    name: 'resume (Range after a drop mid-body)',
    async run({ url, id }) {
      const size = 256 * 1024
      const drop = 100_003 // inside a chunk, nowhere near a boundary
      const res = await sluice(url(`/bytes?size=${size}&chunk=8191&drop=${drop}&id=${id}`), {
        resume: { backoff: { initial: 1, jitter: 0 } },
      })
      const { received } = await readPattern(res)
      const requests = await (await fetch(url(`/requests?id=${id}`))).json()
      check(received === size, `received ${received} bytes, expected ${size}`)
      check(requests === 2, `${requests} requests: expected the first and one resume`)
      check(res.progress.attempt === 2, `progress.attempt is ${res.progress.attempt}`)
      check(
        res.progress.loaded === size,
        `progress.loaded is ${res.progress.loaded}, replayed bytes counted twice?`,
      )
      return { bytes: received, requests }
    },
  },
  {
    name: 'resume (a reconnect refused, then one that connects)',
    async run({ url, id }) {
      // Only a network failure is asked again: this runtime's own error for a refused connection must read as
      // one, or the stream ends at the first reconnect instead of making the second.
      const size = 256 * 1024
      const drop = 100_003
      const { url: refusing } = await (await fetch(url('/refusing'))).json()
      let connections = 0
      let refusal
      const res = await sluice(url(`/bytes?size=${size}&chunk=8191&drop=${drop}&id=${id}`), {
        resume: { attempts: 2, backoff: { initial: 1, jitter: 0 } },
        // The second connection, the first reconnect, goes where nothing listens; the others to the server.
        fetch: (request, init) => {
          if (++connections !== 2) return globalThis.fetch(request, init)
          return globalThis.fetch(refusing, { headers: request.headers, signal: request.signal }).then(
            () => {
              throw new Error(`${refusing} answered: nothing was meant to listen there`)
            },
            (error) => {
              refusal = error
              throw error
            },
          )
        },
      })
      const { received } = await readPattern(res)
      const requests = await (await fetch(url(`/requests?id=${id}`))).json()
      check(refusal !== undefined, 'the first reconnect was not refused')
      check(received === size, `received ${received} bytes, expected ${size}`)
      check(connections === 3, `${connections} connections: expected the first, the refused one and one more`)
      check(requests === 2, `${requests} requests reached the server: expected the first and the last`)
      check(res.progress.attempt === 3, `progress.attempt is ${res.progress.attempt}`)
      check(
        res.progress.loaded === size,
        `progress.loaded is ${res.progress.loaded}, replayed bytes counted twice?`,
      )
      // How this runtime words a refused connection, for the report.
      return { bytes: received, connections, requests, refusal: shapeOf(refusal) }
    },
  },
  {
    name: 'cancel (break; the server sees the socket close)',
    async run({ url, id }) {
      const res = await sluice(url(`/hang?id=${id}`))
      let rows = 0
      for await (const _row of res.ndjson()) {
        if (++rows === 3) break
      }
      await serverSawClose(url, id)
      return { rows, state: res.progress.state }
    },
  },
  {
    name: 'cancel (AbortSignal)',
    async run({ url, id }) {
      const controller = new AbortController()
      const res = await sluice(url(`/hang?id=${id}`), { signal: controller.signal })
      let rows = 0
      try {
        for await (const _row of res.ndjson()) {
          if (++rows === 2) controller.abort(new Error('smoke: stop'))
        }
        throw new Error('the aborted stream ended cleanly')
      } catch (error) {
        check(
          String(error?.message ?? error).includes('smoke: stop') || error?.name === 'AbortError',
          `got ${describe(error)}`,
        )
      }
      await serverSawClose(url, id)
      return { rows }
    },
  },
  {
    name: 'error: HTTP 503 → HTTPError',
    async run({ url }) {
      try {
        await sluice(url('/status?code=503'), { retry: 0 })
      } catch (error) {
        check(
          isHTTPError(error) && error instanceof HTTPError,
          `expected an HTTPError, got ${describe(error)}`,
        )
        check(isSluiceError(error) && error.code === 'ERR_HTTP', `code ${error.code}`)
        check(error.status === 503, `status ${error.status}`)
        check(error.excerpt.includes('status 503'), `excerpt ${JSON.stringify(error.excerpt)}`)
        return { status: error.status }
      }
      throw new Error('a 503 resolved')
    },
  },
  {
    name: 'error: missing end marker → TruncatedError',
    async run({ url }) {
      // The smoke server offers no way to resume this route: the cut stays what it is, resume on or off.
      const res = await sluice(url('/ndjson?rows=100&marker=cut'))
      let rows = 0
      try {
        for await (const _row of res.ndjson()) rows++
      } catch (error) {
        check(
          isTruncatedError(error) && error instanceof TruncatedError,
          `expected a TruncatedError, got ${describe(error)}`,
        )
        return { rows, received: error.received }
      }
      throw new Error('a body without its announced end marker ended cleanly')
    },
  },
]

/** Reads `res.bytes()` of a `/bytes` body, whose byte i is i % 251, and says which byte is wrong, if any. */
async function readPattern(res) {
  let received = 0
  let chunks = 0
  for await (const chunk of res.bytes()) {
    check(chunk instanceof Uint8Array, 'a chunk is not a Uint8Array')
    for (let i = 0; i < chunk.length; i++) {
      if (chunk[i] !== (received + i) % 251) throw new Error(`byte ${received + i} is wrong`)
    }
    received += chunk.length
    chunks++
  }
  return { received, chunks }
}

/** An error's name, message, `code`, `retryable` and cause, as JSON. */
function shapeOf(error, depth = 0) {
  if (!(error instanceof Error)) return String(error)
  const { code, retryable } = error
  return {
    name: error.name,
    message: error.message,
    ...(code === undefined ? {} : { code: String(code) }),
    ...(retryable === undefined ? {} : { retryable }),
    ...(error.cause === undefined || depth > 2 ? {} : { cause: shapeOf(error.cause, depth + 1) }),
  }
}

function describe(error) {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error)
}

/** Which runtime this is, and whether Node's globals leak into it. */
export function runtimeInfo() {
  const g = globalThis
  let runtime = 'unknown'
  let version = ''
  if (g.Deno?.version) [runtime, version] = ['deno', g.Deno.version.deno]
  else if (g.Bun?.version) [runtime, version] = ['bun', g.Bun.version]
  else if (g.navigator?.userAgent === 'Cloudflare-Workers') [runtime, version] = ['workerd', '']
  else if (g.process?.versions?.node) [runtime, version] = ['node', g.process.versions.node]
  return { runtime, version, globals: { process: typeof g.process, Buffer: typeof g.Buffer } }
}

/**
 * Runs every case (or those named in `only`) one after the other against `baseUrl`; never throws. Each case has
 * `timeoutMs` to finish.
 */
export async function runCases(baseUrl, { only, timeoutMs = 20_000 } = {}) {
  const started = Date.now()
  const results = []
  const tag = Math.random().toString(36).slice(2, 8)
  for (const [index, { name, run }] of cases.entries()) {
    if (only && !only.includes(name)) continue
    const id = `${tag}-${index}`
    const t0 = Date.now()
    let timer
    try {
      const detail = await Promise.race([
        run({ url: (path) => new URL(path, baseUrl).href, id }),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`the case did not finish within ${timeoutMs} ms`)),
            timeoutMs,
          )
        }),
      ])
      results.push({ name, ok: true, ms: Date.now() - t0, detail })
    } catch (error) {
      results.push({ name, ok: false, ms: Date.now() - t0, error: describe(error), stack: error?.stack })
    } finally {
      clearTimeout(timer)
    }
  }
  return { ...runtimeInfo(), ms: Date.now() - started, results }
}
