import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cliServer, sizeOf, until } from '../support/cli-process.ts'

// A retry loop passes --resume to every run: against a stream that cannot be continued, each run must start
// over, never leave a partial file that looks complete, and never refuse a file that sluice get left unfinished.

const BODY = 'abcdefgh-and-the-rest-of-the-body\n'
const RECORDS = Array.from({ length: 6 }, (_, n) => `${JSON.stringify({ n })}\n`)

/** Whether the server sends whole bodies now; until then it sends a start and holds or cuts the rest. */
let healthy = false
/** Responses held open by the server, for the test to cut or release. */
/** The Range header of each request, newest last. */
const ranges: Array<string | undefined> = []

// No Accept-Ranges, no SSE ids: nothing a client can continue from.
function handle(req: IncomingMessage, res: ServerResponse): void {
  ranges.push(req.headers.range)
  if (req.url === '/records') {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' })
    if (healthy) res.end(RECORDS.join(''))
    else {
      res.write(RECORDS.slice(0, 3).join(''))
      held.push(res)
    }
    return
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream' })
  if (healthy) res.end(BODY)
  else {
    res.write(BODY.slice(0, 8))
    held.push(res)
  }
}

const site = cliServer(handle, 'sluice-get-restart-', () => {
  healthy = false
})
const { held, runs } = site

const { get } = runs

/** Runs `sluice get` while the server sends 8 bytes and then cuts the connection, once they are in `output`. */
async function cutRun(args: string[], output: string) {
  const run = get(args)
  await until(async () => (await sizeOf(output)) === 8 && held.length > 0, 'the first 8 bytes in the file')
  for (const res of held.splice(0)) res.destroy()
  return run.exit
}

describe('sluice get --resume in a retry loop, against a stream that cannot be continued', () => {
  it('starts over on each try after a failure, and the try that gets the whole body succeeds', async () => {
    const output = join(site.dir, 'loop.bin')
    const checkpointFile = `${output}.sluice-checkpoint.json`
    const args = [`${site.base}/bytes`, '-o', output, '--resume', '-q']

    const first = await cutRun(args, output)
    expect(first.code).toBe(1)
    // It says that the file is incomplete and what the next run does.
    expect(first.stderr).toMatch(/^sluice: The connection to [^\n]* dropped after 8 bytes of the body/)
    expect(first.stderr).toContain('It cannot be continued: the server offers neither byte ranges')
    expect(first.stderr).toContain(
      `${output} is incomplete (8 bytes): run again without --resume to start over`,
    )
    expect(first.stderr).not.toContain('resume.cursor')
    expect(await readFile(output, 'utf8')).toBe(BODY.slice(0, 8))
    expect(JSON.parse(await readFile(checkpointFile, 'utf8'))).toMatchObject({ restart: true })

    const second = await cutRun(args, output)
    expect(second.code).toBe(1)
    expect(second.stderr).not.toContain('Nothing to resume')
    expect(second.stderr).toContain(`${output} is incomplete (8 bytes)`)
    // Started over: asked for the whole body, not a range of it.
    expect(ranges.at(-1)).toBeUndefined()

    healthy = true
    const third = await get(args).exit
    expect(third.code, third.stderr).toBe(0)
    expect(await readFile(output, 'utf8')).toBe(BODY)
    expect(existsSync(checkpointFile)).toBe(false)
  })

  it('says it starts over when it does, unless quiet', async () => {
    const output = join(site.dir, 'noted.bin')
    expect((await cutRun([`${site.base}/bytes`, '-o', output, '-q'], output)).code).toBe(1)
    healthy = true
    const again = await get([`${site.base}/bytes`, '-o', output, '--resume']).exit
    expect(again.code, again.stderr).toBe(0)
    expect(again.stderr).toMatch(
      new RegExp(
        `^sluice: ${output.replaceAll('.', '\\.')} is an unfinished download that cannot be continued \\(the server offers neither[^\\n]*; starting over\\.\\n`,
      ),
    )
    expect(await readFile(output, 'utf8')).toBe(BODY)
  })

  it('starts over with --resume after Ctrl-C on an NDJSON stream that cannot be continued', async () => {
    const output = join(site.dir, 'records.ndjson')
    const args = [`${site.base}/records`, '--as', 'ndjson', '-o', output, '-q']
    const first = get(args)
    await until(async () => (await sizeOf(output)) === RECORDS.slice(0, 3).join('').length, 'three records')
    first.child.kill('SIGINT')
    const stopped = await first.exit
    expect({ code: stopped.code, signal: stopped.signal }).toEqual({ code: null, signal: 'SIGINT' })
    expect(stopped.stderr).toMatch(
      /^sluice: interrupted after \d+ bytes of output, which cannot be continued: the server offers neither/,
    )
    expect(stopped.stderr).toContain(`${output} is incomplete: run again without --resume to start over`)
    expect(JSON.parse(await readFile(`${output}.sluice-checkpoint.json`, 'utf8'))).toMatchObject({
      restart: true,
    })

    healthy = true
    const resumed = await get([...args, '--resume']).exit
    expect(resumed.code, resumed.stderr).toBe(0)
    // The whole stream once: the records of the first run were replaced, not kept twice.
    expect(await readFile(output, 'utf8')).toBe(RECORDS.join(''))
  })

  it('leaves word to start over from the first byte written, so --resume recovers even after kill -9', async () => {
    const output = join(site.dir, 'killed.bin')
    const first = get([`${site.base}/bytes`, '-o', output, '-q'])
    await until(async () => (await sizeOf(output)) === 8, 'the first 8 bytes in the file')
    first.child.kill('SIGKILL')
    await first.exit
    expect(JSON.parse(await readFile(`${output}.sluice-checkpoint.json`, 'utf8'))).toMatchObject({
      restart: true,
    })

    healthy = true
    const resumed = await get([`${site.base}/bytes`, '-o', output, '--resume', '-q']).exit
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(await readFile(output, 'utf8')).toBe(BODY)
  })

  it('still refuses to resume into a file that sluice get did not leave unfinished, and leaves it alone', async () => {
    const output = join(site.dir, 'mine.txt')
    await writeFile(output, 'not a download\n')
    const before = ranges.length
    const run = await get([`${site.base}/bytes`, '-o', output, '--resume', '-q']).exit
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(
      /^sluice: Nothing to resume: [^\n]* exists but has no checkpoint at [^\n]*, so it is not a download that sluice get left unfinished \(it completed, or another program wrote it\); run without --resume/,
    )
    expect(await readFile(output, 'utf8')).toBe('not a download\n')
    expect(ranges.length).toBe(before)
  })
})
