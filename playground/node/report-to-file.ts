// Streams the 100 000-row report to a file, with a progress line on standard error.
//
//   npx node playground/node/report-to-file.ts [URL] [--out report.ndjson]
//
// Without a URL it starts its own emulator for playground/functions/report.ts. With one (the playground's
// http://127.0.0.1:5173/fn/report, or a deployed function URL) it streams from there.
import { createWriteStream } from 'node:fs'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { serve } from '../../src/dev/index.ts'
import { type Progress, sluice } from '../../src/index.ts'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { out: { type: 'string', default: 'report.ndjson' } },
})

const own =
  positionals[0] === undefined
    ? await serve(fileURLToPath(new URL('../functions/report.ts', import.meta.url)))
    : undefined
const url = positionals[0] ?? own!.url

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`
const line = (p: Progress) =>
  [
    `${mib(p.loaded)}${p.total !== undefined ? ` / ${mib(p.total)}` : ''}`,
    p.percent !== undefined ? `${p.percent.toFixed(1)}%` : undefined,
    `${mib(p.bytesPerSecond)}/s`,
    p.etaMs !== undefined && p.state === 'streaming' ? `ETA ${(p.etaMs / 1000).toFixed(0)}s` : undefined,
    p.state,
  ]
    .filter(Boolean)
    .join('  ')

try {
  const res = await sluice(url, {
    progressInterval: 200,
    onProgress: (p) => process.stderr.write(`\r${line(p).padEnd(60)}`),
  })
  // The body is proven complete (declared length or end marker) before the stream ends without an error.
  await pipeline(
    Readable.fromWeb(res.body as import('node:stream/web').ReadableStream),
    createWriteStream(values.out),
  )
  process.stderr.write(`\nwrote ${values.out} (${res.progress.loaded} bytes) from ${url}\n`)
} catch (error) {
  process.stderr.write(`\n${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`)
  process.exitCode = 1
} finally {
  await own?.close()
}
