// Streams N MiB of NDJSON through ndjson() from a generator (never held in memory) and reports heap growth.
import { fromResponse } from '../src/index.ts'
import { ndjsonBody } from './inputs.mjs'

const MiB = 1024 * 1024
const total = Number(process.argv[2] ?? 1024) * MiB
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
let peak = before
let items = 0
const res = await fromResponse(new Response(body))
for await (const _ of res.ndjson()) {
  if (++items % 50_000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed)
}
globalThis.gc()
const after = process.memoryUsage().heapUsed
console.log('### Memory: ndjson() over a generated body\n')
console.log('| body | records | heap before | peak growth | growth after GC |')
console.log('| ---: | ---: | ---: | ---: | ---: |')
const mb = (n) => `${(n / MiB).toFixed(1)} MiB`
console.log(`| ${mb(sent)} | ${items} | ${mb(before)} | ${mb(peak - before)} | ${mb(after - before)} |\n`)
