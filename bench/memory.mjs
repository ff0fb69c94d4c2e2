// Streams N MiB of NDJSON from a generator (never held in memory) through ndjson(), or through the hand-written
// loop for reference, and reports heap growth. The peak is mostly garbage the young generation has not collected
// yet — the reference row shows what any JavaScript consumer of the same body peaks at; run.mjs adds what is
// still live after each young-generation collection, from --trace-gc.
import { fromResponse } from '../src/index.ts'
import { handNdjson } from './consumers.mjs'
import { ndjsonBody } from './inputs.mjs'

const MiB = 1024 * 1024
const total = Number(process.argv[2] ?? 1024) * MiB
const reference = process.argv[3] === 'hand'
const block = ndjsonBody(4 * MiB, 200) // one 4 MiB block of whole records, repeated
const chunkSize = 16 * 1024
let sent = 0
let at = 0
const body = new ReadableStream({
  pull(controller) {
    if (sent >= total && at === 0) return controller.close()
    const piece = block.subarray(at, at + chunkSize)
    at = at + chunkSize >= block.length ? 0 : at + chunkSize
    sent += piece.length
    controller.enqueue(piece)
  },
})
globalThis.gc()
const before = process.memoryUsage().heapUsed
// For run.mjs, which runs this with --trace-gc: the collections between these lines are the streaming's.
console.log(`-- streaming from ${before}`)
let peak = before
let items = 0
const records = reference ? handNdjson(body) : (await fromResponse(new Response(body))).ndjson()
for await (const _ of records) {
  if (++items % 50_000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed)
}
console.log('-- streamed')
globalThis.gc()
const after = process.memoryUsage().heapUsed
const mb = (n) => `${(n / MiB).toFixed(1)} MiB`
const name = reference ? 'hand-written loop (reference)' : 'sluice ndjson()'
console.log(
  `| ${name} | ${mb(sent)} | ${items} | ${mb(before)} | ${mb(peak - before)} | ${mb(after - before)} |`,
)
