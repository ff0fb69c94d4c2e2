// Runs the smoke cases (cases.mjs) over the built package in whatever runtime executes this file:
//   node test/smoke/smoke.mjs http://127.0.0.1:PORT          (Node 22: test/smoke/node22/node_modules/.bin/node)
//   deno run -A --node-modules-dir=manual test/smoke/smoke.mjs http://127.0.0.1:PORT
//   bun test/smoke/smoke.mjs http://127.0.0.1:PORT
// The server is test/smoke/server.ts (test/node/runtime-matrix.test.ts starts it). Prints one line
// `SMOKE {json report}` and exits 1 when a case failed. Optional case names after the URL run only those.
import { runCases } from './cases.mjs'

const args = globalThis.Deno ? globalThis.Deno.args : globalThis.process.argv.slice(2)
const [baseUrl, ...only] = args
if (!baseUrl) {
  console.error('usage: smoke.mjs <server url> [case name…]')
  globalThis.process?.exit?.(2)
  globalThis.Deno?.exit(2)
}
const report = await runCases(baseUrl, only.length ? { only } : {})
console.log(`SMOKE ${JSON.stringify(report)}`)
const failed = report.results.some((result) => !result.ok)
if (globalThis.Deno) globalThis.Deno.exit(failed ? 1 : 0)
else globalThis.process.exit(failed ? 1 : 0)
