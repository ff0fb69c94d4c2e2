import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { cliServer } from '../support/cli-process.ts'

// An empty body is a complete download too: its output file exists, empty, as `curl -o` leaves one.

function handle(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '0' }).end()
}

const site = cliServer(handle, 'sluice-get-empty-body-')

it('writes an empty file for an empty body, and leaves no checkpoint behind', async () => {
  const output = join(site.dir, 'empty.bin')
  const { code, stdout, stderr } = await site.runs.get([`${site.base}/empty`, '-o', output, '-q']).exit
  expect(code, stderr).toBe(0)
  expect(stdout).toBe('')
  expect(await readFile(output)).toHaveLength(0)
  expect(existsSync(`${output}.sluice-checkpoint.json`)).toBe(false)
})
