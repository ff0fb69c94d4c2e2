import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { cli, cliServer } from '../support/cli-process.ts'
import { startProcess } from '../support/run-process.ts'

// A write that fails (here a file size limit, `ulimit -f`; a full disk alike) leaves the file shorter than what
// was handed to it: the report names the write, and no checkpoint counts bytes the file never got.

const SIZE = 6 * 1024 * 1024
const source = Uint8Array.from({ length: SIZE }, (_, i) => (i * 31 + 7) & 0xff)
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')
const ranges: Array<string | undefined> = []
const PIECE = 64 * 1024
/** `ulimit -f 2048`: 2048 blocks of 1 KiB. */
const LIMIT = 2 * 1024 * 1024

/**
 * The body in 64 KiB pieces every 15 ms, slowing to one every 300 ms near 2 MiB: each piece there is written
 * with a checkpoint after it (one at most every 250 ms), and the one past the limit fails in that write.
 */
function handle(req: IncomingMessage, res: ServerResponse): void {
  ranges.push(req.headers.range)
  const start = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0)
  const headers = { 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes', etag: '"v1"' }
  res.writeHead(start === 0 ? 200 : 206, {
    ...headers,
    'content-length': String(SIZE - start),
    ...(start === 0 ? {} : { 'content-range': `bytes ${start}-${SIZE - 1}/${SIZE}` }),
  })
  const send = (at: number): void => {
    if (res.destroyed) return
    if (at >= SIZE) {
      res.end()
      return
    }
    res.write(source.subarray(at, Math.min(SIZE, at + PIECE)))
    const next = at + PIECE
    const near = next >= LIMIT - 2 * PIECE && next <= LIMIT + PIECE && start === 0
    setTimeout(() => send(next), near ? 300 : 15)
  }
  send(start)
}

const site = cliServer(handle, 'sluice-get-write-failure-')

it('reports the write that failed, keeps no checkpoint of bytes the file never got, and --resume completes the file', async () => {
  const output = join(site.dir, 'limited.bin')
  // 2048 blocks of 1 KiB: writes past 2 MiB fail with EFBIG (Node ignores the SIGXFSZ that comes with it).
  const limited = await startProcess('bash', [
    '-c',
    `ulimit -f 2048; exec "${process.execPath}" "${cli}" get "${site.base}/file" -o "${output}" -q`,
  ]).exit
  expect(limited.code, limited.stderr).toBe(1)
  expect(limited.stderr).toContain(`EFBIG: file too large, write (could not write ${output}).`)
  expect(limited.stderr).toMatch(/was kept: run the same command with --resume to continue\.\n$/)
  const kept = await readFile(output)
  expect(kept.length).toBeLessThanOrEqual(LIMIT)
  expect(sha256(kept)).toBe(sha256(source.subarray(0, kept.length)))

  const resumed = await startProcess(process.execPath, [
    cli,
    'get',
    `${site.base}/file`,
    '-o',
    output,
    '--resume',
    '-q',
  ]).exit
  expect(resumed.code, resumed.stderr).toBe(0)
  expect(sha256(await readFile(output))).toBe(sha256(source))
  expect(existsSync(`${output}.sluice-checkpoint.json`)).toBe(false)
  // From the last checkpoint saved before the failure, not from the start.
  expect(ranges).toEqual([undefined, expect.stringMatching(/^bytes=[1-9]\d*-$/)])
}, 30_000)
