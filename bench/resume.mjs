// npm run bench:resume — what resume and progress cost when nothing drops, and what a drop costs.
// 1. Each consumer with resume + onProgress enabled vs both disabled, same input, interleaved rounds.
// 2. A drop mid-body against a local server: the time from the drop to the next delivered byte, vs one round
//    trip and the backoff, vs a restart that downloads the delivered bytes again.
import { createServer } from 'node:http'
import { sluice } from '../src/index.ts'
import { chunk, ndjsonBody, responseOf, sseBody } from './inputs.mjs'

const MiB = 1024 * 1024
const quick = process.argv.includes('--quick')
const SIZE = (quick ? 8 : 32) * MiB
const ROUNDS = quick ? 3 : 7
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

const ndjsonChunks = chunk(ndjsonBody(SIZE, 200), [1024, 64 * 1024])
const sseChunks = chunk(sseBody(SIZE, 200), [1024, 64 * 1024])
const inputs = {
  bytes: ndjsonChunks,
  text: ndjsonChunks,
  lines: ndjsonChunks,
  ndjson: ndjsonChunks,
  events: sseChunks,
}

async function consume(kind, enabled) {
  const chunks = inputs[kind]
  const fetch = async () => {
    const response = responseOf(chunks, kind === 'bytes' ? 8 : 1)
    // What a resumable server announces: resume 'auto' then has a strategy (it is never used: nothing drops).
    return new Response(response.body, { headers: { 'accept-ranges': 'bytes', etag: '"v1"' } })
  }
  let reports = 0
  const options = enabled
    ? { fetch, retry: 0, resume: 'auto', onProgress: () => reports++ }
    : { fetch, retry: 0, resume: false }
  const res = await sluice('http://bench.invalid/body', options)
  let n = 0
  const consumer = kind === 'bytes' ? res.bytes() : kind === 'text' ? res.text() : res[kind]()
  for await (const _ of consumer) n++
  return n
}

const rows = []
for (const kind of Object.keys(inputs)) {
  const ratios = []
  for (let round = 0; round <= ROUNDS; round++) {
    const order = round % 2 ? [true, false] : [false, true]
    const t = {}
    for (const enabled of order) {
      globalThis.gc?.()
      const start = performance.now()
      await consume(kind, enabled)
      t[enabled] = performance.now() - start
    }
    if (round > 0) ratios.push(t.false / t.true)
  }
  rows.push(`| ${kind}() | ${median(ratios).toFixed(2)} |`)
}

// The drop: a deterministic body served with Range support; the first connection is cut after DROP bytes.
const BODY = new Uint8Array(16 * MiB).map((_, i) => i % 251)
const DROP = 12 * MiB
let dropNext = false
const server = createServer((req, res) => {
  const drop = dropNext
  dropNext = false
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '')
  const start = range ? Number(range[1]) : 0
  res.writeHead(range ? 206 : 200, {
    'accept-ranges': 'bytes',
    etag: '"body-v1"',
    'content-length': String(BODY.length - start),
    ...(range ? { 'content-range': `bytes ${start}-${BODY.length - 1}/${BODY.length}` } : {}),
  })
  const end = drop ? DROP : BODY.length
  res.write(BODY.subarray(start, end), () => {
    if (drop) res.destroy()
    else res.end()
  })
})
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
const url = `http://127.0.0.1:${server.address().port}/body`

// One round trip on this connection: time to the headers of a tiny request.
const rtts = []
for (let i = 0; i < 5; i++) {
  const start = performance.now()
  const r = await fetch(url, { headers: { range: `bytes=${BODY.length - 1}-` } })
  rtts.push(performance.now() - start)
  await r.arrayBuffer()
}
dropNext = true

const BACKOFF = 50
let dropAt
let gap
const res = await sluice(url, {
  retry: 0,
  resume: { backoff: { initial: BACKOFF, jitter: 0 } },
  onProgress: (p) => {
    if (p.state === 'reconnecting' && dropAt === undefined) dropAt = performance.now()
  },
  progressInterval: 0,
})
let total = 0
let first = true
for await (const piece of res.bytes()) {
  total += piece.length
  if (dropAt !== undefined && first) {
    gap = performance.now() - dropAt
    first = false
  }
}
// A restart re-downloads the bytes already delivered before it gets to new ones.
const restartStart = performance.now()
const again = await fetch(url)
const reader = again.body.getReader()
let seen = 0
while (seen < DROP) seen += (await reader.read()).value.length
const restart = performance.now() - restartStart
await reader.cancel()
server.close()

const out = [
  `### Resume and progress with no drops (${SIZE / MiB} MiB, 1–64 KiB chunks; bytes() 8 passes), median of ${ROUNDS} rounds`,
  '',
  '| consumer | speed with resume + onProgress, relative to both off |',
  '| --- | ---: |',
  ...rows,
  '',
  '### After a drop at 12 MiB of a 16 MiB body (loopback)',
  '',
  '| measure | ms |',
  '| --- | ---: |',
  `| one round trip (median of 5) | ${median(rtts).toFixed(1)} |`,
  `| backoff before the reconnect | ${BACKOFF} |`,
  `| drop → next delivered byte, with resume | ${gap?.toFixed(1)} |`,
  `| restart → first new byte (re-downloading 12 MiB on loopback) | ${restart.toFixed(1)} |`,
  // What the same restart costs behind a function URL: the first 6 MB at once, then about 2 MB/s.
  `| restart → first new byte at function-URL rates (6 MB burst, then 2 MB/s; computed) | ${(((DROP - 6e6) / 2e6) * 1000).toFixed(0)} |`,
  `| body delivered exactly | ${total === BODY.length ? 'yes' : `NO (${total})`} |`,
  '',
]
console.log(out.join('\n'))
