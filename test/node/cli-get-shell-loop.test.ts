// `sluice get` in a shell's retry loop: Ctrl-C stops the loop, not the one download only. Bash (and other shells)
// stop a loop or a script on Ctrl-C only when the command in the foreground died by SIGINT; one that exited 130
// is taken to have used Ctrl-C for itself, and the loop goes on (https://www.cons.org/cracauer/sigint.html).
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { cli, cliServer, shellJob, shellWords, sizeOf, until } from '../support/cli-process.ts'

const BODY = Buffer.alloc(4096, 'x')
/** What each request gets before the rest is held. */
const START = 1024
let requests = 0

function handle(req: IncomingMessage, res: ServerResponse): void {
  requests++
  const from = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0)
  const headers = { 'accept-ranges': 'bytes', etag: '"loop"', 'content-type': 'application/octet-stream' }
  if (from === 0) res.writeHead(200, { ...headers, 'content-length': String(BODY.length) })
  else
    res.writeHead(206, {
      ...headers,
      'content-range': `bytes ${from}-${BODY.length - 1}/${BODY.length}`,
      'content-length': String(BODY.length - from),
    })
  res.write(BODY.subarray(from, from + START))
  site.held.push(res)
}

const site = cliServer(handle, 'sluice-get-loop-', () => {
  requests = 0
})

it('stops a shell retry loop on Ctrl-C, after the clean stop, instead of starting the download again', async () => {
  const output = join(site.dir, 'loop.bin')
  const command = [process.execPath, cli, 'get', `${site.base}/file`, '-o', output, '-q', '--resume']
  const shell = shellJob(`until ${shellWords(command)}; do :; done; echo 'loop over'`)
  const { exit } = shell
  try {
    await until(async () => requests === 1 && (await sizeOf(output)) === START, 'the first part in the file')
    shell.signal('SIGINT')
    // A loop that goes on sends a second request, which holds too: wait for that or for the loop to end.
    let again = false
    const second = until(
      () => requests > 1 || shell.child.exitCode !== null || shell.child.signalCode !== null,
      'the loop to end',
    )
    await Promise.race([exit, second.then(() => (again = requests > 1))])
    expect(again, shell.stderr).toBe(false)
    // Bash, which had Ctrl-C too, ends by it once its command did: its own shell would show 130.
    expect(await exit, shell.stderr).toEqual({ code: null, signal: 'SIGINT' })
    expect(shell.stdout).toBe('')
    expect(shell.stderr).toBe(
      `sluice: interrupted after ${START} bytes of output; run the same command with --resume to continue.\n`,
    )
    expect(requests).toBe(1)
    expect(existsSync(`${output}.sluice-checkpoint.json`)).toBe(true)
    expect(JSON.parse(await readFile(`${output}.sluice-checkpoint.json`, 'utf8'))).toMatchObject({
      outputBytes: START,
    })
  } finally {
    shell.stop()
  }
}, 30_000)
