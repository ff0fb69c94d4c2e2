import { existsSync, readFileSync } from 'node:fs'
import { appendFile, readFile, rm, writeFile } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { sluice } from '../../src/index.ts'
import { cli, cliServer, sizeOf, until } from '../support/cli-process.ts'
import { startProcess } from '../support/run-process.ts'

// The CLI's messages name its flags and say what to run next, not the library's option names.

const BODY = Buffer.from(Array.from({ length: 4096 }, (_, i) => `${i % 10}`).join(''))
/** The first part of the body each fresh request sends before it is held (or cut). */
const START = 1024

/** `hold`: a fresh request gets `held` bytes, then nothing (until the test cuts it); `whole`: everything. */
let mode: 'hold' | 'whole' = 'hold'
/** How much of the body a held fresh request gets: START, or 0 for a stop before the first byte. */
let holdAt = START
/** The ETag of the body: changing it is a new version of the resource. */
let version = 'v1'
/** Reconnects (Range requests) are answered 503 (`busy: try again later`) until this is set. */
let rangesWork = true
const seen: Array<{ path: string; range: string | undefined }> = []

function handle(req: IncomingMessage, res: ServerResponse): void {
  const path = new URL(req.url ?? '/', 'http://x').pathname
  seen.push({ path, range: req.headers.range })
  if (path === '/no-headers') {
    held.push(res)
    return
  }
  if (path.startsWith('/busy-then-silent')) {
    // 503 to the first request; the retries ky sends after it get no answer at all.
    if (seen.filter((request) => request.path === path).length === 1)
      res.writeHead(503, { 'retry-after': '0', 'content-type': 'text/plain' }).end('busy: try again later')
    else held.push(res)
    return
  }
  if (path === '/long-line') {
    // A record, then one line over the 8 MiB line limit, then another record.
    res.writeHead(200, { 'content-type': 'application/x-ndjson' })
    res.end(`{"n":1}\n"${'x'.repeat(9 * 2 ** 20)}"\n{"n":3}\n`)
    return
  }
  if (path === '/bad-record' || path === '/long-line-ranged') {
    // Resumable NDJSON (Range, a strong ETag) that no client reads past: a record that is not JSON, or a line over
    // the 8 MiB line limit.
    const body = Buffer.from(
      path === '/bad-record'
        ? '{"n":1}\n{"n":2,}\n{"n":3}\n'
        : `{"n":1}\n"${'x'.repeat(9 * 2 ** 20)}"\n{"n":3}\n`,
    )
    const from = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0)
    const headers = { 'accept-ranges': 'bytes', etag: '"records"', 'content-type': 'application/x-ndjson' }
    if (from === 0) res.writeHead(200, { ...headers, 'content-length': String(body.length) })
    else
      res.writeHead(206, {
        ...headers,
        'content-range': `bytes ${from}-${body.length - 1}/${body.length}`,
        'content-length': String(body.length - from),
      })
    res.end(body.subarray(from))
    return
  }
  if (path.startsWith('/typed/')) {
    // Two records, or two events, under the media type named in the path (`/typed/application/x-ndjson`).
    const type = decodeURIComponent(path.slice('/typed/'.length))
    res.writeHead(200, { 'content-type': type })
    res.end(type.startsWith('text/event-stream') ? 'data: a\n\ndata: b\n\n' : '{"n":1}\n{"n":2}\n')
    return
  }
  if (path === '/silent') {
    // No Accept-Ranges, no SSE ids: a stall cannot be continued.
    res.writeHead(200, { 'content-type': 'application/octet-stream' })
    res.write('abc')
    held.push(res)
    return
  }
  if (path === '/events') {
    // Two events with ids, held; asked with Last-Event-ID, the one after them.
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    if (req.headers['last-event-id'] === '1') res.end('id: 2\ndata: c\n\n')
    else {
      res.write('id: 0\ndata: a\n\nid: 1\ndata: b\n\n')
      held.push(res)
    }
    return
  }
  if (path.startsWith('/marked')) {
    // A body that announces the end marker, then ends cleanly without it: a cut that only the marker reveals.
    // `/marked-ranged` also answers Range requests, with 100 more bytes each time, never the end.
    const ranged = path === '/marked-ranged'
    const marked = {
      'content-type': 'application/octet-stream',
      'x-sluice-end': 'marker',
      ...(ranged ? { 'accept-ranges': 'bytes', etag: '"marked"' } : {}),
    }
    const from = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? Number.NaN)
    if (ranged && Number.isInteger(from)) {
      res.writeHead(206, { ...marked, 'content-range': `bytes ${from}-${BODY.length - 1}/${BODY.length}` })
      res.end(BODY.subarray(from, from + 100))
      return
    }
    res.writeHead(200, marked)
    res.end(BODY.subarray(0, START))
    return
  }
  // Everything else: a ranged body with a strong ETag.
  const headers = {
    'accept-ranges': 'bytes',
    etag: `"${version}"`,
    'content-type': 'application/octet-stream',
  }
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '')
  if (range) {
    if (!rangesWork) {
      res.writeHead(503, { 'retry-after': '0', 'content-type': 'text/plain' })
      res.end('busy: try again later')
      return
    }
    const from = Number(range[1])
    res.writeHead(206, {
      ...headers,
      'content-range': `bytes ${from}-${BODY.length - 1}/${BODY.length}`,
      'content-length': String(BODY.length - from),
    })
    res.end(BODY.subarray(from))
    return
  }
  res.writeHead(200, { ...headers, 'content-length': String(BODY.length) })
  if (mode === 'whole') res.end(BODY)
  else {
    res.flushHeaders()
    res.write(BODY.subarray(0, holdAt))
    held.push(res)
  }
}

const site = cliServer(handle, 'sluice-get-messages-', () => {
  mode = 'hold'
  holdAt = START
  version = 'v1'
  rangesWork = true
})
const { held, runs } = site

const { run, get } = runs

/** The library's option names, which mean nothing on the command line. */
const LIBRARY_NAMES =
  /`(timeout|idleTimeout|totalTimeout|resumeFrom|resume\.[a-zA-Z]+|maxLineBytes|maxEventBytes|maxBytes|maxDepth)`/

/** Starts a download of `/file` into `output`, and interrupts it once the first part is in the file. */
async function interruptedDownload(output: string): Promise<void> {
  const first = get([`${site.base}/file`, '-o', output, '-q'])
  await until(async () => (await sizeOf(output)) === START, 'the first part in the file')
  first.child.kill('SIGINT')
  const { code, signal } = await first.exit
  expect({ code, signal }).toEqual({ code: null, signal: 'SIGINT' })
  expect(JSON.parse(await readFile(`${output}.sluice-checkpoint.json`, 'utf8'))).toMatchObject({
    outputBytes: START,
  })
}

describe('sluice get messages', () => {
  it('names --timeout when the headers do not arrive in time', async () => {
    const { code, stderr } = await get([`${site.base}/no-headers`, '--timeout', '300', '-q']).exit
    expect(code).toBe(1)
    expect(stderr).toMatch(
      /^sluice: No response headers arrived from [^\n]*\/no-headers within 300 ms; if the server is slow to start, pass a longer --timeout <ms>\.\n$/,
    )
    expect(stderr).not.toMatch(LIBRARY_NAMES)
  })

  it('says which line is over the line limit, in its own terms, and how to save the body anyway', async () => {
    for (const as of ['lines', 'ndjson']) {
      const { code, stdout, stderr } = await get([`${site.base}/long-line`, '--as', as, '-q']).exit
      expect(code).toBe(1)
      expect(stdout).toBe('{"n":1}\n')
      expect(stderr).toMatch(
        /^sluice: Line 2 of [^\n]*\/long-line is longer than the line limit of 8388608 bytes \(8 MiB\), so the output stops before it; use --as bytes \(with -o <file> to write a file\) to save the body as it is\.\n$/,
      )
      expect(stderr).not.toMatch(LIBRARY_NAMES)
      expect(stderr).not.toMatch(/maxLineBytes/)
    }
  })

  it('does not say that --resume continues past a line over the limit or a record that is not JSON', async () => {
    // The checkpoint stands before what stopped the output, and a resume stops there again, every time.
    for (const path of ['/long-line-ranged', '/bad-record']) {
      const output = join(site.dir, `stuck-${path.slice(1)}.ndjson`)
      for (const resume of [[], ['--resume']]) {
        const args = [`${site.base}${path}`, '--as', 'ndjson', '-o', output, ...resume, '-q']
        const { code, stderr } = await get(args).exit
        expect(code, stderr).toBe(1)
        expect(stderr).not.toContain('--resume to continue')
        expect(stderr).toMatch(
          /\. --resume would stop at the same place: what stops it is in the body, not the connection\.\n$/,
        )
        expect(await readFile(output, 'utf8')).toBe('{"n":1}\n')
      }
    }
  })

  it('names the --as mode that reads the body, when its Content-Type names another than the one that failed', async () => {
    for (const [type, as, mode] of [
      ['application/x-ndjson', 'json', 'ndjson'],
      ['application/jsonl; charset=utf-8', 'json', 'ndjson'],
      ['text/event-stream', 'ndjson', 'sse'],
    ] as const) {
      const { code, stderr } = await get([`${site.base}/typed/${type}`, '--as', as, '-q']).exit
      expect(code, type).toBe(1)
      expect(stderr, type).toMatch(
        new RegExp(
          `^sluice: [^\n]* at line \\d+, byte \\d+: [^\n]*\\. The response is ${type.split(';')[0]}: use --as ${mode}\\.\\n$`,
        ),
      )
    }
    // A media type that names no mode: no advice.
    const { code, stderr } = await get([`${site.base}/typed/text/plain`, '--as', 'json', '-q']).exit
    expect(code).toBe(1)
    expect(stderr).toMatch(/^sluice: Unexpected data after the JSON value at line 2, byte 8: [^\n]*"\.\n$/)
  })

  it('names --idle-timeout when the body goes silent, and says why it was not continued', async () => {
    const { code, stderr } = await get([`${site.base}/silent`, '--idle-timeout', '200', '-q']).exit
    expect(code).toBe(1)
    expect(stderr).toMatch(
      /^sluice: The body of [^\n]*\/silent was silent for 200 ms; pass a longer --idle-timeout <ms>, or make the server send heartbeats\. It cannot be continued: the server offers neither byte ranges \(Accept-Ranges: bytes\) nor SSE event ids\.\n$/,
    )
    expect(stderr).not.toMatch(LIBRARY_NAMES)
  })

  it('says that a body ended before its end marker, after how many bytes, and that it cannot be continued', async () => {
    const { code, stderr } = await get([`${site.base}/marked`, '-q']).exit
    expect(code).toBe(1)
    expect(stderr).toMatch(
      /^sluice: The body of [^\n]*\/marked ended after 1024 bytes without the end marker its server announced \(x-sluice-end: marker\), so it is incomplete: the connection was cut, or the server stopped early \(a function that failed or timed out after its first byte\)\. It cannot be continued: the server offers neither byte ranges \(Accept-Ranges: bytes\) nor SSE event ids\.\n$/,
    )
    expect(stderr).not.toMatch(LIBRARY_NAMES)
  })

  it('says what to run next for a file cut before its end marker that cannot be continued', async () => {
    const output = join(site.dir, 'marked.bin')
    const { code, stderr } = await get([`${site.base}/marked`, '-o', output, '-q']).exit
    expect(code).toBe(1)
    expect(stderr).toMatch(
      /^sluice: The body of [^\n]*\/marked ended after 1024 bytes without the end marker its server announced \(x-sluice-end: marker\), so it is incomplete: [^\n]*\. It cannot be continued: [^\n]*\. /,
    )
    expect(stderr).toContain(
      `${output} is incomplete (${START} bytes): run again without --resume to start over (with --resume, it starts over too).\n`,
    )
  })

  it('says how a download to standard output could have been continued, after the reconnects gave up', async () => {
    const { code, stderr } = await get([`${site.base}/marked-ranged`, '-q']).exit
    expect(code).toBe(1)
    expect(stderr).toMatch(
      /^sluice: Gave up after 5 reconnects to [^\n]*\/marked-ranged: The body of [^\n]*\/marked-ranged ended after 1524 of the 4096 bytes its server declared, and without the end marker its server announced \(x-sluice-end: marker\), so it is incomplete: [^\n]*\. Standard output cannot be continued: to continue such a download in a later run, write it to a file with -o <file> and run again with --resume\.\n$/,
    )
    expect(stderr).not.toMatch(LIBRARY_NAMES)
  })

  it('cuts the file back to what its checkpoint accounts for before resuming, so no byte is written twice', async () => {
    const output = join(site.dir, 'longer.bin')
    await interruptedDownload(output)
    // What a process killed after a write and before the next save leaves: bytes the checkpoint does not count.
    await appendFile(output, BODY.subarray(START, START + 100))
    const resumed = await get([`${site.base}/file`, '-o', output, '--resume', '-q']).exit
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(seen.at(-1)?.range).toBe(`bytes=${START}-`)
    expect(Buffer.compare(await readFile(output), BODY)).toBe(0)
  })

  it('says that the file to resume is not there, rather than that it has 0 bytes, when it was deleted', async () => {
    const output = join(site.dir, 'deleted.bin')
    await interruptedDownload(output)
    await rm(output)
    const checkpoint = await readFile(`${output}.sluice-checkpoint.json`, 'utf8')
    const asked = seen.length
    const resumed = await get([`${site.base}/file`, '-o', output, '--resume', '-q']).exit
    expect(resumed.code).toBe(1)
    expect(resumed.stderr).toBe(
      `sluice: Cannot resume: ${output} is not there (moved or deleted since its checkpoint was saved), but its checkpoint accounts for ${START} bytes of it; run without --resume to download it again.\n`,
    )
    expect(seen.length).toBe(asked)
    expect(existsSync(output)).toBe(false)
    expect(await readFile(`${output}.sluice-checkpoint.json`, 'utf8')).toBe(checkpoint)
  })

  it('refuses to resume into a file that was changed since its checkpoint, and leaves both as they are', async () => {
    const output = join(site.dir, 'replaced.bin')
    await interruptedDownload(output)
    // Another program wrote the same name since: cut and continued, it would be neither file.
    const other = Buffer.alloc(START + 500, 'x')
    await writeFile(output, other)
    const checkpoint = await readFile(`${output}.sluice-checkpoint.json`, 'utf8')
    const asked = seen.length
    const resumed = await get([`${site.base}/file`, '-o', output, '--resume', '-q']).exit
    expect(resumed.code).toBe(1)
    expect(resumed.stderr).toBe(
      `sluice: Cannot resume: ${output} was changed since its checkpoint was saved (its bytes before byte ${START} are not those it accounts for); run without --resume to download it again.\n`,
    )
    expect(seen.length).toBe(asked)
    expect(Buffer.compare(await readFile(output), other)).toBe(0)
    expect(await readFile(`${output}.sluice-checkpoint.json`, 'utf8')).toBe(checkpoint)
  })

  // SIGHUP: the terminal closed, or the SSH session it ran in dropped.
  for (const signal of ['SIGTERM', 'SIGHUP'] as const)
    it(`stops on ${signal} as on Ctrl-C, keeping the checkpoint, then dies by ${signal}`, async () => {
      const output = join(site.dir, `${signal}.bin`)
      const first = get([`${site.base}/file`, '-o', output, '-q'])
      await until(async () => (await sizeOf(output)) === START, 'the first part in the file')
      first.child.kill(signal)
      const stopped = await first.exit
      expect({ code: stopped.code, signal: stopped.signal }).toEqual({ code: null, signal })
      expect(stopped.stderr).toBe(
        `sluice: interrupted after ${START} bytes of output; run the same command with --resume to continue.\n`,
      )
      expect(JSON.parse(await readFile(`${output}.sluice-checkpoint.json`, 'utf8'))).toMatchObject({
        outputBytes: START,
      })
    })

  it('refuses to resume with another URL or method as a usage error, before any request, keeping the checkpoint', async () => {
    const output = join(site.dir, 'other-url.bin')
    await interruptedDownload(output)
    const checkpoint = await readFile(`${output}.sluice-checkpoint.json`, 'utf8')
    const requests = seen.length

    const url = await get([`${site.base}/another`, '-o', output, '--resume', '-q']).exit
    expect(url.code).toBe(2)
    expect(url.stderr).toMatch(
      /^sluice: the download in [^\n]* was started for GET [^\n]*\/file, not GET [^\n]*\/another; resume it with the same method and URL, or run without --resume to start over\.\n\nUsage: sluice get/,
    )
    const method = await get([`${site.base}/file`, '-X', 'POST', '-d', '{}', '-o', output, '--resume', '-q'])
      .exit
    expect(method.code).toBe(2)
    expect(method.stderr).toMatch(/^sluice: the download in [^\n]* was started for GET [^\n]*, not POST /)
    expect(seen.length).toBe(requests)
    expect(await readFile(`${output}.sluice-checkpoint.json`, 'utf8')).toBe(checkpoint)
    expect(await sizeOf(output)).toBe(START)
  })

  it('refuses another URL as a usage error with a checkpoint that does not name the command line’s URL', async () => {
    // A checkpoint file of an earlier version holds only the library's checkpoint: the client finds the mismatch.
    const output = join(site.dir, 'older.bin')
    const checkpointFile = `${output}.sluice-checkpoint.json`
    await interruptedDownload(output)
    const { url: _url, method: _method, ...older } = JSON.parse(await readFile(checkpointFile, 'utf8'))
    await writeFile(checkpointFile, JSON.stringify(older))

    const other = await get([`${site.base}/another`, '-o', output, '--resume', '-q']).exit
    expect(other.code).toBe(2)
    expect(other.stderr).toMatch(
      /^sluice: the download in [^\n]* was started for GET [^\n]*\/file, not GET [^\n]*\/another; resume it with the same method and URL, or run without --resume to start over\.\n\nUsage: sluice get/,
    )
    expect(other.stderr).not.toMatch(LIBRARY_NAMES)
    expect(existsSync(checkpointFile)).toBe(true)
  })

  it('says to start over when the resource changed since the checkpoint, and --resume then starts over', async () => {
    const output = join(site.dir, 'changed.bin')
    await interruptedDownload(output)
    version = 'v2'
    const changed = await get([`${site.base}/file`, '-o', output, '--resume', '-q']).exit
    expect(changed.code).toBe(1)
    expect(changed.stderr).toMatch(/^sluice: The resource changed since the checkpoint \(ETag/)
    expect(changed.stderr).toContain(
      `${output} is incomplete (${START} bytes): run again without --resume to start over`,
    )
    // The stale checkpoint is gone: a retry with --resume starts over instead of failing the same way.
    expect(JSON.parse(await readFile(`${output}.sluice-checkpoint.json`, 'utf8'))).toMatchObject({
      restart: true,
    })
    mode = 'whole'
    const again = await get([`${site.base}/file`, '-o', output, '--resume', '-q']).exit
    expect(again.code, again.stderr).toBe(0)
    expect(seen.at(-1)?.range).toBeUndefined()
    expect(Buffer.compare(await readFile(output), BODY)).toBe(0)
  })

  it('leaves an unfinished download as it was when a run without --resume is stopped before its first byte', async () => {
    const output = join(site.dir, 'kept.bin')
    const checkpointFile = `${output}.sluice-checkpoint.json`
    await interruptedDownload(output)
    const kept = await readFile(checkpointFile, 'utf8')

    holdAt = 0
    const fresh = get([`${site.base}/file`, '-o', output])
    // Progress is printed once the response has arrived; its body does not come.
    let progress = ''
    fresh.child.stderr!.on('data', (chunk: string) => {
      progress += chunk
    })
    await until(() => progress.includes('sluice: 0 B'), 'the response headers')
    fresh.child.kill('SIGINT')
    const stopped = await fresh.exit
    expect({ code: stopped.code, signal: stopped.signal }).toEqual({ code: null, signal: 'SIGINT' })
    expect(stopped.stderr).toMatch(/\nsluice: interrupted after 0 bytes of output\.\n$/)
    // It wrote nothing, so the checkpoint beside the file still describes it: --resume continues it.
    expect(await readFile(checkpointFile, 'utf8')).toBe(kept)
    expect(await sizeOf(output)).toBe(START)

    mode = 'whole'
    const resumed = await get([`${site.base}/file`, '-o', output, '--resume', '-q']).exit
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(seen.at(-1)?.range).toBe(`bytes=${START}-`)
    expect(Buffer.compare(await readFile(output), BODY)).toBe(0)
  })

  it('continues a checkpoint that accounts for no output as a fresh download, whatever version is served now', async () => {
    const output = join(site.dir, 'nothing-written.bin')
    // What the client had when stopped after the headers, before any byte of the body.
    holdAt = 0
    const res = await sluice(`${site.base}/file`)
    res.detach()
    const saved = { version: 1, as: 'bytes', url: `${site.base}/file`, method: 'GET', outputBytes: 0 }
    await writeFile(
      `${output}.sluice-checkpoint.json`,
      JSON.stringify({ ...saved, checkpoint: res.checkpoint() }),
    )

    // Nothing was written that another version could contradict: all of that version is the rest.
    version = 'v2'
    mode = 'whole'
    const resumed = await get([`${site.base}/file`, '-o', output, '--resume', '-q']).exit
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(seen.at(-1)?.range).toBeUndefined()
    expect(Buffer.compare(await readFile(output), BODY)).toBe(0)
    expect(existsSync(`${output}.sluice-checkpoint.json`)).toBe(false)
  })

  it('says after which event id a resumed event stream continues, not a byte of its last response', async () => {
    const output = join(site.dir, 'events.jsonl')
    const args = [`${site.base}/events`, '--as', 'sse', '-o', output]
    const first = get([...args, '-q'])
    await until(
      async () => (await readFile(output, 'utf8').catch(() => '')).split('\n').length === 3,
      'two events',
    )
    first.child.kill('SIGINT')
    expect((await first.exit).signal).toBe('SIGINT')

    const resumed = await get([...args, '--resume']).exit
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(resumed.stderr).toMatch(/^sluice: resuming after event id "1"\.\n/)
    expect(resumed.stderr).not.toContain('resuming at byte')
    expect(
      (await readFile(output, 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line).data),
    ).toEqual(['a', 'b', 'c'])
  })

  it('says that a checkpoint was kept and --resume continues, after giving up on reconnects', async () => {
    const output = join(site.dir, 'gave-up.bin')
    rangesWork = false
    const first = get([`${site.base}/file`, '-o', output, '-q'])
    await until(async () => (await sizeOf(output)) === START, 'the first part in the file')
    for (const res of held.splice(0)) res.destroy()
    const gaveUp = await first.exit
    expect(gaveUp.code).toBe(1)
    // In the CLI's words: the library's would be `Reconnecting to … got status 503 (the server said: "…")`.
    expect(gaveUp.stderr).toBe(
      `sluice: Gave up after 5 reconnects to ${site.base}/file: The server answered the request for the rest of ${site.base}/file with status 503; the server said: "busy: try again later". The checkpoint at ${output}.sluice-checkpoint.json was kept: run the same command with --resume to continue.\n`,
    )
    expect(gaveUp.stderr).not.toMatch(LIBRARY_NAMES)

    rangesWork = true
    const resumed = await get([`${site.base}/file`, '-o', output, '--resume', '-q']).exit
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(seen.at(-1)?.range).toBe(`bytes=${START}-`)
    expect(Buffer.compare(await readFile(output), BODY)).toBe(0)
  })
})

// ky sends a retry as a clone of its Request, whose signal Node's fetch lets go of once it is garbage-collected:
// neither ky's timeout nor the user's abort then reaches the retry, and its connection stays open. The process
// must end all the same.
describe('sluice get ends its process once it is done', () => {
  it('after --timeout, though the request ky retried after a 503 is still unanswered', async () => {
    const { code, stderr } = await get([`${site.base}/busy-then-silent/timeout`, '--timeout', '300', '-q'])
      .exit
    expect(code).toBe(1)
    expect(stderr).toMatch(/^sluice: No response headers arrived from [^\n]*\/timeout within 300 ms/)
  })

  it('after Ctrl-C while the request ky retried after a 503 waits for its headers', async () => {
    const run = get([`${site.base}/busy-then-silent/ctrl-c`, '-q'])
    await until(
      () => seen.filter((request) => request.path === '/busy-then-silent/ctrl-c').length === 2,
      'the retry',
    )
    run.child.kill('SIGINT')
    const { code, signal, stderr } = await run.exit
    expect({ code, signal }).toEqual({ code: null, signal: 'SIGINT' })
    expect(stderr).toBe('sluice: interrupted before the response arrived.\n')
  })
})

describe('sluice with no command', () => {
  it('prints the usage on standard error and exits 2; --help prints it on standard output and exits 0', async () => {
    const none = await run([]).exit
    expect(none.code).toBe(2)
    expect(none.stdout).toBe('')
    expect(none.stderr).toMatch(/^sluice: pass a command\.\n\nUsage: sluice <command>/)
    const help = await run(['--help']).exit
    expect(help.code).toBe(0)
    expect(help.stderr).toBe('')
    expect(help.stdout).toMatch(/^Usage: sluice <command>/)
    expect(help.stdout).toContain('sluice --version for the version')
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string
    }
    for (const flag of ['--version', '-v']) {
      expect(await run([flag]).exit, flag).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' })
    }
  })
})

describe('sluice on a Node.js older than 22.3', () => {
  /** `sluice get` on a dead port under a Node that says it is `version`, whatever runs the tests. */
  const runAs = (version: string) =>
    startProcess(process.execPath, [
      '--import',
      `data:text/javascript,Object.defineProperty(process.versions,'node',{value:'${version}'});Object.defineProperty(process,'version',{value:'v${version}'})`,
      cli,
      'get',
      'http://127.0.0.1:9/',
    ]).exit

  // Node 20 is what this machine's system node is; 22.2 lacks process.getBuiltinModule, which the emulator needs.
  it.each(['20.20.2', '22.2.0'])(
    'says which Node.js it needs and exits 1, before any command runs (%s)',
    async (version) => {
      const { code, stdout, stderr } = await runAs(version)
      expect(code).toBe(1)
      expect(stdout).toBe('')
      expect(stderr).toBe(`sluice: needs Node.js 22.3 or later, and this is v${version}.\n`)
    },
  )

  it('runs the command on 22.3', async () => {
    const { code, stderr } = await runAs('22.3.0')
    expect(stderr).not.toContain('needs Node.js')
    expect(code).not.toBe(0) // nothing listens on port 9: the download itself fails
  })
})
