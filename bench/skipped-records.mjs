// What a record skipped with `onInvalid` costs, by chunk size: the same 128 KiB of invalid records (NDJSON
// lines that are not JSON, SSE events whose data is not JSON) in 256 B, 4 KiB and 64 KiB chunks. Each skipped
// record's error names its line and byte offset; finding them must cost the distance from the previous one,
// not the size of the chunk, or a server sending keep-alive junk stalls the consumer (it took 583 µs per
// event in 64 KiB chunks before the decoders kept a cursor, 15 µs after).
//
//   npm run bench:skipped
import { fromResponse } from '../src/index.ts'
import { chunk, responseOf } from './inputs.mjs'

const encoder = new TextEncoder()
const SIZE = 128 * 1024
const bodies = {
  ndjson: encoder.encode('x\n'.repeat(SIZE / 2)),
  events: encoder.encode('data: x\n\n'.repeat(Math.floor(SIZE / 9))),
}
const sizes = [256, 4096, 65536]
const rounds = 3

console.log(
  `\nRecords skipped with onInvalid, ${SIZE / 1024} KiB of them (${process.version}), median of ${rounds} rounds\n`,
)
console.log('| consumer | chunks | records | µs per skipped record | × the 256 B chunks |')
console.log('| --- | ---: | ---: | ---: | ---: |')
for (const kind of ['ndjson', 'events']) {
  const perRecord = {}
  for (const size of sizes) {
    const times = []
    let skipped = 0
    for (let round = 0; round < rounds; round++) {
      skipped = 0
      const onInvalid = () => {
        skipped++
      }
      const res = await fromResponse(responseOf(chunk(bodies[kind], size)))
      const items =
        kind === 'ndjson' ? res.ndjson(undefined, { onInvalid }) : res.events({ json: true, onInvalid })
      const start = performance.now()
      for await (const _ of items) {
        // every record is invalid: nothing is delivered
      }
      times.push(((performance.now() - start) * 1000) / skipped)
    }
    perRecord[size] = times.sort((a, b) => a - b)[rounds >> 1]
    console.log(
      `| ${kind}() | ${size} B | ${skipped} | ${perRecord[size].toFixed(1)} | ${(perRecord[size] / perRecord[256]).toFixed(2)} |`,
    )
  }
}
