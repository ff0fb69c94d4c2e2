// The workerd entry of the runtime matrix: esbuild bundles this file with the built package (dist/) and zod,
// and test/node/runtime-matrix.test.ts runs it in miniflare. `GET /?server=http://127.0.0.1:PORT` runs the smoke
// cases (cases.mjs) inside the worker, against that loopback server, and answers with the JSON report.
import { runCases } from './cases.mjs'

export default {
  async fetch(request) {
    const params = new URL(request.url).searchParams
    const server = params.get('server')
    if (!server) return new Response('missing ?server=', { status: 400 })
    const only = params.getAll('case')
    const report = await runCases(server, only.length ? { only } : {})
    return Response.json(report)
  },
}
