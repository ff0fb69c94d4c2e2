import { writeFile } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cliServer, sizeOf, until } from '../support/cli-process.ts'

// A count of one is said in the singular (`1 byte`), any other in the plural (`0 bytes`, `2 bytes`).

const BODY = 'abcdefghij'

/**
 * `/ranged/<n>`: a body that can be continued (Accept-Ranges, a strong ETag) and `/plain/<n>`: one that cannot;
 * both send their first n bytes and hold the rest, until the test cuts them.
 */
function handle(req: IncomingMessage, res: ServerResponse): void {
  const [, kind, n] = /^\/(ranged|plain)\/(\d+)$/.exec(req.url ?? '') ?? []
  if (kind === undefined) {
    res.writeHead(404).end()
    return
  }
  res.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': String(BODY.length),
    ...(kind === 'ranged' ? { 'accept-ranges': 'bytes', etag: '"v1"' } : {}),
  })
  res.write(BODY.slice(0, Number(n)))
  held.push(res)
}

const site = cliServer(handle, 'sluice-get-plurals-')
const { held, runs } = site

/** Starts `sluice get` of `path` into a new file, and waits until its first `n` bytes are in it. */
async function started(path: string, n: number, name: string) {
  const output = join(site.dir, name)
  const run = runs.get([`${site.base}${path}`, '-o', output])
  await until(async () => (await sizeOf(output)) === n && held.length > 0, `the first ${n} bytes in the file`)
  return { output, run }
}

describe('sluice get says 1 byte, and 2 bytes', () => {
  for (const [n, bytes] of [
    [1, '1 byte'],
    [2, '2 bytes'],
  ] as const) {
    it(`when interrupted after ${bytes} of output`, async () => {
      const { run } = await started(`/ranged/${n}`, n, `interrupted-${n}.bin`)
      run.child.kill('SIGINT')
      const { code, signal, stderr } = await run.exit
      expect({ code, signal }, stderr).toEqual({ code: null, signal: 'SIGINT' })
      expect(stderr).toMatch(
        new RegExp(
          `(?:^|\n)sluice: interrupted after ${bytes} of output; run the same command with --resume to continue\\.\n$`,
        ),
      )
    })

    it(`when interrupted after ${bytes} of output that cannot be continued`, async () => {
      const { run } = await started(`/plain/${n}`, n, `interrupted-plain-${n}.bin`)
      run.child.kill('SIGINT')
      const { code, signal, stderr } = await run.exit
      expect({ code, signal }, stderr).toEqual({ code: null, signal: 'SIGINT' })
      expect(stderr).toMatch(
        new RegExp(`(?:^|\n)sluice: interrupted after ${bytes} of output, which cannot be continued`),
      )
    })

    it(`when a connection that cannot be continued dropped after ${bytes}, leaving the file incomplete`, async () => {
      const { output, run } = await started(`/plain/${n}`, n, `incomplete-${n}.bin`)
      for (const res of held.splice(0)) res.destroy()
      const { code, stderr } = await run.exit
      expect(code, stderr).toBe(1)
      const last = stderr.trimEnd().split('\n').at(-1)
      expect(last).toMatch(
        new RegExp(`^sluice: The connection to \\S+ dropped after ${bytes} of the body\\b`),
      )
      expect(last).toContain(
        `${output} is incomplete (${bytes}): run again without --resume to start over (with --resume, it starts over too).`,
      )
    })

    it(`when the file to resume has ${bytes}, fewer than its checkpoint accounts for`, async () => {
      const output = join(site.dir, `short-${n}.bin`)
      const url = `${site.base}/ranged/${n}`
      await writeFile(output, BODY.slice(0, n))
      const saved = { version: 1, as: 'bytes', url, method: 'GET', outputBytes: 5, checkpoint: {} }
      await writeFile(`${output}.sluice-checkpoint.json`, JSON.stringify(saved))
      const { code, stderr } = await runs.get([url, '-o', output, '--resume']).exit
      expect(code, stderr).toBe(1)
      expect(stderr).toBe(
        `sluice: Cannot resume: ${output} has ${bytes} but its checkpoint accounts for 5; run without --resume to download it again.\n`,
      )
    })
  }
})
