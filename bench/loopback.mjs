// bytes() and ndjson() over a real HTTP response (node:http on 127.0.0.1, read with fetch), next to the same
// loops without sluice: what the per-chunk costs of the in-memory races amount to once the bytes come from a
// socket. Node only; interleaved rounds, ratios per round, medians reported.
import { createServer } from 'node:http'
import { fromResponse } from '../src/index.ts'
import { handNdjson } from './consumers.mjs'
import { ndjsonBody } from './inputs.mjs'

const MiB = 1024 * 1024
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

export async function runLoopback({ sizeMiB, rounds }) {
  const body = ndjsonBody(sizeMiB * MiB, 200)
  const server = createServer(async (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/x-ndjson', 'content-length': body.length })
    // 64 KiB writes, waiting for 'drain' like any streaming server.
    for (let at = 0; at < body.length; at += 64 * 1024) {
      if (!response.write(body.subarray(at, at + 64 * 1024))) {
        await new Promise((resolve) => response.once('drain', resolve))
      }
    }
    response.end()
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${server.address().port}/`
  const count = async (iterable, size) => {
    let n = 0
    for await (const item of iterable) n += size(item)
    return n
  }
  const races = {
    'bytes()': {
      baseline: 'raw for await',
      impls: {
        sluice: async () => count((await fromResponse(await fetch(url))).bytes(), (c) => c.length),
        'raw for await': async () => count((await fetch(url)).body, (c) => c.length),
      },
    },
    'ndjson()': {
      baseline: 'hand-written loop',
      impls: {
        sluice: async () => count((await fromResponse(await fetch(url))).ndjson(), () => 1),
        'hand-written loop': async () => count(handNdjson((await fetch(url)).body), () => 1),
      },
    },
  }
  const rows = []
  try {
    for (const [race, { baseline, impls }] of Object.entries(races)) {
      const ratios = Object.fromEntries(Object.keys(impls).map((name) => [name, []]))
      const times = Object.fromEntries(Object.keys(impls).map((name) => [name, []]))
      const checks = {}
      for (let round = 0; round < rounds + 1; round++) {
        const order = round % 2 ? Object.keys(impls).reverse() : Object.keys(impls)
        const roundTimes = {}
        for (const name of order) {
          const start = performance.now()
          checks[name] = await impls[name]()
          roundTimes[name] = performance.now() - start
        }
        if (round === 0) continue // warm-up
        for (const name of order) {
          times[name].push(roundTimes[name])
          ratios[name].push(roundTimes[baseline] / roundTimes[name])
        }
      }
      for (const name of Object.keys(impls)) {
        const mbps = (body.length / MiB / (median(times[name]) / 1000)).toFixed(0)
        const same = checks[name] === checks[baseline] ? 'yes' : `NO (${checks[name]} vs ${checks[baseline]})`
        rows.push(`| ${race} | ${name} | ${mbps} | ${median(ratios[name]).toFixed(2)} | ${same} |`)
      }
    }
  } finally {
    server.close()
  }
  return [
    `### Over a real HTTP response (${sizeMiB} MiB of 200 B records, node:http on 127.0.0.1, fetch; median of ${rounds} rounds)`,
    '',
    '| consumer | implementation | MiB/s | × baseline | same output |',
    '| --- | --- | ---: | ---: | --- |',
    ...rows,
    '',
  ].join('\n')
}
