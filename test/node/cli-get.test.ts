import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type DevServer, serve } from '../../src/dev/index.ts'
import { sluiceHandler } from '../../src/lambda/index.ts'
import { installAwslambdaGlobal } from '../../src/runtime/index.ts'
import { cli, cliRuns, sizeOf, until } from '../support/cli-process.ts'
import { startProcess } from '../support/run-process.ts'

/** A deterministic 6 MiB body: about three seconds at the shaped 2 MiB/s, long enough to interrupt. */
const SIZE = 6 * 1024 * 1024
const source = (() => {
  const bytes = new Uint8Array(SIZE)
  let x = 2026
  for (let i = 0; i < SIZE; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0
    bytes[i] = x >>> 24
  }
  return bytes
})()
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

async function* fileChunks(): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < SIZE; at += 64 * 1024) yield source.subarray(at, at + 64 * 1024)
}

/** 4 000 records of about 1 KiB: a multi-MB NDJSON report (few writes: the emulator paces each one). */
const RECORDS = 4000
const record = (n: number) => ({ n, name: `row ${n}`, even: n % 2 === 0, note: 'x'.repeat(1000 + (n % 7)) })
const expectedNdjson = Array.from({ length: RECORDS }, (_, n) => `${JSON.stringify(record(n))}\n`).join('')

let release: () => void = () => {}

/** What reached the handler, newest last. */
const requests: Array<{ path: string; method: string; headers: Record<string, string | undefined> }> = []

// sluiceHandler takes the runtime object when it is built: the emulator's, as the service would provide it.
const uninstall = installAwslambdaGlobal()
const handler = sluiceHandler(async (event) => {
  requests.push({
    path: event.rawPath,
    method: event.requestContext.http.method,
    headers: event.headers,
  })
  switch (event.rawPath) {
    case '/file':
      return { bytes: fileChunks(), length: SIZE, etag: '"file-v1"' }
    case '/report':
      return {
        ndjson: (function* () {
          for (let n = 0; n < RECORDS; n++) yield record(n)
        })(),
        etag: '"report-v1"',
      }
    case '/tokens':
      return {
        sse: (lastId) =>
          ['The', ' quick', ' brown', ' fox']
            .map((data, i) => ({ id: String(i), data }))
            .slice(lastId === undefined ? 0 : Number(lastId) + 1),
        heartbeatMs: 0,
      }
    case '/gated': {
      const gate = new Promise<void>((resolve) => {
        release = resolve
      })
      return {
        ndjson: (async function* () {
          yield { first: true }
          await gate
          yield { last: true }
        })(),
        // A declared length, not the end marker: the client holds back the last 64 bytes of a marked body.
        length: 29,
      }
    }
    case '/echo':
      return {
        bytes: JSON.stringify({
          method: event.requestContext.http.method,
          headers: event.headers,
          body: event.body,
        }),
        headers: { 'content-type': 'application/json' },
      }
    case '/hostile':
      // An error page that would retitle and clear the terminal, then forge a line of sluice's own.
      return {
        bytes: '\x1b]0;owned\x07\x1b[2J\rsluice: done: 4 records\x9b31m.',
        statusCode: 500,
        headers: { 'content-type': 'text/plain' },
      }
    default:
      return {
        bytes: `No route ${event.rawPath}.\n`,
        statusCode: 404,
        headers: { 'content-type': 'text/plain' },
      }
  }
})
uninstall()

let server: DevServer
let dir: string
const url = (path: string): string => new URL(path, server.url).href
const runs = cliRuns()

beforeAll(async () => {
  server = await serve(handler, {
    log: false,
    shaping: { burstBytes: 256 * 1024, bytesPerSecond: 2 * 1024 * 1024 },
  })
  dir = await mkdtemp(join(tmpdir(), 'sluice-get-'))
})

afterEach(() => {
  runs.killAll()
})

afterAll(async () => {
  await server?.close()
  await rm(dir, { recursive: true, force: true })
})

const { get } = runs

describe('sluice get', () => {
  it('streams the bytes to a file, equal to the source byte for byte, and leaves no checkpoint behind', async () => {
    const output = join(dir, 'whole.bin')
    const { code, stderr } = await get([url('/file'), '-o', output, '--quiet']).exit
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(sha256(await readFile(output))).toBe(sha256(source))
    expect(existsSync(`${output}.sluice-checkpoint.json`)).toBe(false)
  }, 20_000)

  it('writes each record to standard output as it arrives, before the stream ends', async () => {
    const run = get([url('/gated'), '--as', 'ndjson', '--quiet'])
    // The handler holds its last record until the first one is seen on standard output.
    await until(() => run.stdout().includes('\n'), 'the first record')
    expect(run.stdout()).toBe('{"first":true}\n')
    release()
    const { code, stdout } = await run.exit
    expect(code).toBe(0)
    expect(stdout).toBe('{"first":true}\n{"last":true}\n')
  }, 20_000)

  it('prints one compact JSON record per line with --as ndjson', async () => {
    const { code, stdout } = await get([url('/report'), '--as', 'ndjson', '-q']).exit
    expect(code).toBe(0)
    expect(stdout).toBe(expectedNdjson)
  }, 20_000)

  it('prints one JSON {id, event, data} per server-sent event with --as sse', async () => {
    const { code, stdout } = await get([url('/tokens'), '--as', 'sse', '-q']).exit
    expect(code).toBe(0)
    expect(
      stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line)),
    ).toEqual([
      { id: '0', event: 'message', data: 'The' },
      { id: '1', event: 'message', data: ' quick' },
      { id: '2', event: 'message', data: ' brown' },
      { id: '3', event: 'message', data: ' fox' },
    ])
  })

  it('prints the lines of the body with --as lines, and the complete document with --as json', async () => {
    const lines = await get([url('/tokens'), '--as', 'lines', '-q']).exit
    expect(lines.stdout.split('\n').slice(0, 3)).toEqual(['id: 0', 'data: The', ''])
    const json = await get([url('/echo'), '--as', 'json', '-q']).exit
    expect(json.code).toBe(0)
    expect(json.stdout.endsWith('}\n')).toBe(true)
    expect(JSON.parse(json.stdout)).toMatchObject({ method: 'GET' })
  })

  it('sends the method, the headers and the JSON body given with -X, -H and -d', async () => {
    const { code, stdout } = await get([
      url('/echo'),
      '-X',
      'PUT',
      '-d',
      '{"a":1}',
      '-H',
      'X-Trace: abc',
      '--header',
      'Authorization: Bearer t0k3n',
      '-q',
    ]).exit
    expect(code).toBe(0)
    const echo = JSON.parse(stdout)
    expect(echo.method).toBe('PUT')
    expect(echo.body).toBe('{"a":1}')
    expect(echo.headers).toMatchObject({
      'x-trace': 'abc',
      authorization: 'Bearer t0k3n',
      'content-type': 'application/json',
    })
  })

  it('posts the JSON body when -d is given without -X', async () => {
    const { stdout } = await get([url('/echo'), '-d', '{"month":"2026-10"}', '-q']).exit
    expect(JSON.parse(stdout)).toMatchObject({ method: 'POST', body: '{"month":"2026-10"}' })
  })

  it('stops cleanly on SIGINT with a checkpoint at the bytes written, and --resume finishes the file', async () => {
    const output = join(dir, 'resumed.bin')
    const checkpointFile = `${output}.sluice-checkpoint.json`
    const first = get([url('/file'), '-o', output])
    await until(
      async () => existsSync(checkpointFile) && (await sizeOf(output)) >= 512 * 1024,
      'the download to be under way',
    )
    first.child.kill('SIGINT')
    const stopped = await first.exit
    expect({ code: stopped.code, signal: stopped.signal }).toEqual({ code: null, signal: 'SIGINT' })
    expect(stopped.stderr).toMatch(
      /interrupted after \d+ bytes of output; run the same command with --resume/,
    )

    const saved = JSON.parse(await readFile(checkpointFile, 'utf8'))
    const partial = await readFile(output)
    expect(partial.length).toBeLessThan(SIZE)
    expect(saved.outputBytes).toBe(partial.length)
    expect(saved.checkpoint.offset).toBe(partial.length)
    expect(sha256(partial)).toBe(sha256(source.subarray(0, partial.length)))

    const resumed = await get([url('/file'), '-o', output, '--resume']).exit
    expect(resumed.code).toBe(0)
    expect(resumed.stderr).toContain(`resuming at byte ${partial.length} of ${SIZE}`)
    expect(requests.at(-1)?.headers.range).toBe(`bytes=${partial.length}-`)
    expect(sha256(await readFile(output))).toBe(sha256(source))
    expect(existsSync(checkpointFile)).toBe(false)
  }, 30_000)

  it('resumes after a stop before the first byte was written, when no output file exists yet', async () => {
    // Headers at once, the body only once released: Ctrl-C lands between the two.
    let gate = Promise.withResolvers<void>()
    let asked = Promise.withResolvers<void>()
    const body = Buffer.from('late but whole\n')
    const late = createServer((req, res) => {
      asked.resolve()
      const start = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? Number.NaN)
      const headers = { 'accept-ranges': 'bytes', etag: '"late"' }
      if (Number.isInteger(start)) {
        res.writeHead(206, {
          ...headers,
          'content-range': `bytes ${start}-${body.length - 1}/${body.length}`,
          'content-length': String(body.length - start),
        })
      } else res.writeHead(200, { ...headers, 'content-length': String(body.length) })
      res.flushHeaders()
      void gate.promise.then(() => res.end(body.subarray(Number.isInteger(start) ? start : 0)))
    })
    await new Promise<void>((resolve) => late.listen(0, '127.0.0.1', resolve))
    try {
      const address = late.address() as AddressInfo
      const lateUrl = `http://127.0.0.1:${address.port}/late`
      const output = join(dir, 'late.bin')
      const first = get([lateUrl, '-o', output])
      await asked.promise
      await new Promise((resolve) => setTimeout(resolve, 300))
      first.child.kill('SIGINT')
      expect((await first.exit).signal).toBe('SIGINT')
      expect(existsSync(output)).toBe(false)
      gate.resolve()
      gate = Promise.withResolvers<void>()
      gate.resolve()
      asked = Promise.withResolvers<void>()
      const resumed = await get([lateUrl, '-o', output, '--resume']).exit
      expect(resumed.code, resumed.stderr).toBe(0)
      expect(await readFile(output, 'utf8')).toBe('late but whole\n')
    } finally {
      late.closeAllConnections()
      await new Promise((resolve) => late.close(resolve))
    }
  }, 30_000)

  /**
   * `sluice get /report --as ndjson --quiet` and `args`, running `act` as `sluice get` takes its SIGTERM listener
   * away (a preload): the moment it is done and hands signals to the bin.
   */
  async function reportWhenListenersGo(act: string, args: string[]) {
    const preload = join(
      dir,
      `when-listeners-go-${createHash('sha1').update(act).digest('hex').slice(0, 8)}.mjs`,
    )
    await writeFile(
      preload,
      `process.on('removeListener', (event) => {\n  if (event === 'SIGTERM') ${act}\n})\n`,
    )
    const started = startProcess(process.execPath, [
      '--import',
      pathToFileURL(preload).href,
      cli,
      'get',
      url('/report'),
      '--as',
      'ndjson',
      '--quiet',
      ...args,
    ])
    return started.exit
  }

  for (const into of ['a file', 'standard output'] as const) {
    it(`exits with the outcome on a signal that comes after the download into ${into} finished, as the process closes`, async () => {
      // The process sends itself SIGTERM the moment `sluice get` takes its signal listeners away, done: what is
      // left is closing connections, and the signal's default action would report a finished download as
      // interrupted. Standard output (a pipe here) still gets every byte.
      const output = join(dir, 'done-then-signalled.ndjson')
      const { code, signal, stderr, stdout } = await reportWhenListenersGo(
        "setImmediate(() => process.kill(process.pid, 'SIGTERM'))",
        into === 'a file' ? ['-o', output] : [],
      )
      expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: '' })
      if (into === 'a file') {
        expect(await readFile(output, 'utf8')).toBe(expectedNdjson)
        expect(existsSync(`${output}.sluice-checkpoint.json`)).toBe(false)
      } else expect(stdout).toBe(expectedNdjson)
    }, 30_000)
  }

  it('exits with the outcome on a signal that comes as `sluice get` takes its signal listeners away, done', async () => {
    // A Ctrl-C sent as `sluice get` takes its listeners away (after its Ctrl-C one, at its SIGTERM one), before the
    // command has returned: a signal with no listener then would have its default action, reporting the finished
    // download as interrupted.
    const output = join(dir, 'done-as-signalled.ndjson')
    const { code, signal, stderr } = await reportWhenListenersGo("process.kill(process.pid, 'SIGINT')", [
      '-o',
      output,
    ])
    expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: '' })
    expect(await readFile(output, 'utf8')).toBe(expectedNdjson)
    expect(existsSync(`${output}.sluice-checkpoint.json`)).toBe(false)
  }, 30_000)

  it('writes to a device such as /dev/null without a checkpoint, and a SIGINT still stops it', async () => {
    const asked = requests.length
    const run = get([url('/file'), '-o', '/dev/null'])
    // Once the request is out, its Ctrl-C handler is in place; a fixed sleep may end before a slow start.
    await until(() => requests.length > asked, 'the request')
    await new Promise((resolve) => setTimeout(resolve, 300))
    run.child.kill('SIGINT')
    const stopped = await run.exit
    expect({ code: stopped.code, signal: stopped.signal }, stopped.stderr).toEqual({
      code: null,
      signal: 'SIGINT',
    })
    expect(stopped.stderr).not.toContain('EINVAL')
    expect(existsSync('/dev/null.sluice-checkpoint.json')).toBe(false)
  }, 30_000)

  it('goes on when its checkpoint cannot be saved, saying so, and finishes the file', async () => {
    const output = join(dir, 'no-checkpoint.bin')
    const done = await get([url('/file'), '-o', output, '--checkpoint', join(dir, 'missing', 'cp.json')]).exit
    expect(done.code, done.stderr).toBe(0)
    expect(done.stderr).toContain('could not save the checkpoint')
    expect(sha256(await readFile(output))).toBe(sha256(source))
  }, 30_000)

  it('fails before it sends anything when the directory of -o is not there', async () => {
    const asked = requests.length
    const output = join(dir, 'no-such-dir', 'out.bin')
    const { code, stderr } = await get([url('/file'), '-X', 'POST', '-o', output]).exit
    expect(code).toBe(1)
    expect(stderr).toContain(
      `sluice: cannot write ${output}: the directory ${join(dir, 'no-such-dir')} does not exist; create it, or pass another -o.\n`,
    )
    expect(stderr).not.toContain('checkpoint')
    expect(requests.length).toBe(asked)
    expect(existsSync(join(dir, 'no-such-dir'))).toBe(false)
  })

  it('fails before it sends anything when the directory of -o is a file, or under one, naming the file', async () => {
    const asked = requests.length
    const file = join(dir, 'a-file')
    await writeFile(file, 'kept')
    for (const output of [join(file, 'out.bin'), join(file, 'sub', 'out.bin')]) {
      const { code, stderr } = await get([url('/file'), '-o', output]).exit
      expect(code).toBe(1)
      expect(stderr).toContain(
        `sluice: cannot write ${output}: ${file} is not a directory; pass another -o.\n`,
      )
    }
    expect(requests.length).toBe(asked)
    expect(await readFile(file, 'utf8')).toBe('kept')
  })

  it('fails before it sends anything when -o names a directory, with --resume too', async () => {
    const asked = requests.length
    const folder = join(dir, 'a-folder')
    await mkdir(folder)
    for (const resume of [[], ['--resume']]) {
      const { code, stderr } = await get([url('/echo'), '-d', '{}', '-o', folder, ...resume]).exit
      expect(code).toBe(1)
      expect(stderr).toBe(
        `sluice: cannot write ${folder}: it is a directory; pass the name of a file in it with -o.\n`,
      )
    }
    expect(requests.length).toBe(asked)
    expect(existsSync(`${folder}.sluice-checkpoint.json`)).toBe(false)
  })

  it('says only that it could not open an -o it cannot create, leaving nothing beside it', async () => {
    // A link into a directory that is not there: the directory of -o is, so the file fails only when opened.
    const output = join(dir, 'dangling.bin')
    await symlink(join(dir, 'no-such-dir', 'target.bin'), output)
    const { code, stderr } = await get([url('/echo'), '-o', output]).exit
    expect(code).toBe(1)
    expect(stderr).toBe(
      `sluice: ENOENT: no such file or directory, open '${output}' (could not write ${output}).\n`,
    )
    expect(existsSync(`${output}.sluice-checkpoint.json`)).toBe(false)
  })

  it('removes the checkpoint it saved before a save failed, once the file is complete', async () => {
    // Left beside a complete file, a later --resume would cut the file back to it and fetch the rest again.
    const output = join(dir, 'save-fails.bin')
    const checkpointFile = `${output}.sluice-checkpoint.json`
    const run = get([url('/file'), '-o', output])
    let stderr = ''
    run.child.stderr!.on('data', (chunk: string) => {
      stderr += chunk
    })
    const saved = async (): Promise<{ outputBytes?: number }> =>
      JSON.parse(await readFile(checkpointFile, 'utf8').catch(() => '{}'))
    await until(async () => ((await saved()).outputBytes ?? 0) > 0, 'a checkpoint while downloading')
    // A directory where the next save writes its temporary file: that save fails, as on a full disk.
    const blocker = `${checkpointFile}.${run.child.pid}.tmp`
    await mkdir(blocker)
    await until(() => stderr.includes('could not save the checkpoint'), 'a failed save')
    await rm(blocker, { recursive: true })
    const { code } = await run.exit
    expect(code, stderr).toBe(0)
    expect(sha256(await readFile(output))).toBe(sha256(source))
    expect(existsSync(checkpointFile)).toBe(false)
  }, 30_000)

  it('resumes NDJSON at a record boundary: no record lost or written twice', async () => {
    const output = join(dir, 'report.ndjson')
    const checkpointFile = join(dir, 'report.checkpoint.json')
    const args = [url('/report'), '--as', 'ndjson', '-o', output, '--checkpoint', checkpointFile, '-q']
    const first = get(args)
    await until(
      async () => existsSync(checkpointFile) && (await sizeOf(output)) >= 512 * 1024,
      'the download to be under way',
    )
    first.child.kill('SIGINT')
    expect((await first.exit).signal).toBe('SIGINT')
    const partial = await readFile(output, 'utf8')
    expect(partial.endsWith('\n')).toBe(true)
    expect(expectedNdjson.startsWith(partial)).toBe(true)
    expect(partial.length).toBeLessThan(expectedNdjson.length)

    // Not quiet: the summary counts the records of the whole download and those of this run, each said as such,
    // and the request that continued the download, a reconnect of this run.
    const resumed = await get([...args.filter((arg) => arg !== '-q'), '--resume']).exit
    expect(resumed.code).toBe(0)
    expect(await readFile(output, 'utf8')).toBe(expectedNdjson)
    expect(existsSync(checkpointFile)).toBe(false)
    const before = partial.split('\n').length - 1
    expect(resumed.stderr.trimEnd().split('\n').at(-1)).toMatch(
      new RegExp(
        `^sluice: done: [\\d.]+ MiB, ${RECORDS} records in all; this run: [\\d.]+ (KiB|MiB), ${RECORDS - before} records in [\\d.]+m?s \\([\\d.]+ (B|KiB|MiB)/s\\), 1 reconnect$`,
      ),
    )
  }, 30_000)

  it('prints plain progress lines on standard error when it is not a TTY, and nothing with --quiet', async () => {
    const loud = await get([url('/file'), '-o', join(dir, 'loud.bin')]).exit
    expect(loud.code).toBe(0)
    const lines = loud.stderr.trimEnd().split('\n')
    expect(lines.length).toBeGreaterThanOrEqual(2)
    expect(lines[0]).toMatch(/^sluice: [\d.]+ (KiB|MiB) of 6\.0 MiB \([\d.]+%\), [\d.]+ (B|KiB|MiB)\/s/)
    expect(lines.at(-1)).toMatch(/^sluice: done: 6\.0 MiB in [\d.]+s/)
    expect(loud.stderr).not.toContain('\r')

    const quiet = await get([url('/file'), '-o', join(dir, 'quiet.bin'), '--quiet']).exit
    expect(quiet.code).toBe(0)
    expect(quiet.stderr).toBe('')
  }, 30_000)

  it('finishes the download, exit 0, when the reader of standard error goes away, as with 2>&1 | head -1', async () => {
    // Progress is advice: the next line after the reader left fails to be written, and that must not stop the
    // download.
    const output = join(dir, 'stderr-gone.bin')
    const run = get([url('/file'), '-o', output])
    await new Promise((resolve) => run.child.stderr!.once('data', resolve))
    run.child.stderr!.destroy()
    const { code, signal } = await run.exit
    expect({ code, signal }).toEqual({ code: 0, signal: null })
    expect(sha256(await readFile(output))).toBe(sha256(source))
    expect(existsSync(`${output}.sluice-checkpoint.json`)).toBe(false)
  }, 30_000)

  it('draws one progress bar redrawn in place when standard error is a terminal', async () => {
    // `script` runs the CLI on a pseudo-terminal, as a person at a shell would; stdout goes to a file.
    const output = join(dir, 'tty.bin')
    const { code, screen } = await onTerminal([url('/file'), '-o', output])
    expect(code).toBe(0)
    // Redrawn in place: carriage return + erase line, a bar, the percent, and the total of the body.
    expect(screen).toContain('\r\x1b[2K')
    expect(screen).toMatch(/\d+(\.\d+)?\s?%/)
    expect(screen).toContain('6.0 MiB')
    expect((await stat(output)).size).toBe(6 * 1024 * 1024)
  }, 30_000)

  it('draws no progress when the body itself goes to the terminal, where the bar would be drawn into it', async () => {
    // Standard output and standard error on one pseudo-terminal: the bar, redrawn with a carriage return and an
    // erase, would sit at the start of the line the next event is written on, or erase a line in progress.
    const { code, screen } = await onTerminal([url('/tokens'), '--as', 'sse'])
    expect(code).toBe(0)
    expect(screen).not.toContain('\x1b[2K')
    expect(screen.split('\r\n').filter(Boolean)).toEqual([
      '{"id":"0","event":"message","data":"The"}',
      '{"id":"1","event":"message","data":" quick"}',
      '{"id":"2","event":"message","data":" brown"}',
      '{"id":"3","event":"message","data":" fox"}',
    ])
  }, 30_000)

  it('exits 1 with a one-line reason on an HTTP error, and writes no file', async () => {
    const output = join(dir, 'missing.bin')
    const { code, stderr, stdout } = await get([url('/missing'), '-o', output]).exit
    expect(code).toBe(1)
    expect(stdout).toBe('')
    expect(stderr).toMatch(/^sluice: .*status 404 Not Found: No route \/missing\.\n$/)
    expect(existsSync(output)).toBe(false)
  })

  it('exits 1 with a one-line reason when the server cannot be reached or the URL is not one', async () => {
    const refused = await get(['http://127.0.0.1:1/nothing-listens-here']).exit
    expect(refused.code).toBe(1)
    // ky's retry tried the GET 3 times: said with the flag that tries one.
    expect(refused.stderr).toMatch(
      /^sluice: Could not connect to http:\/\/127\.0\.0\.1:1\/[^\n]* after 3 attempts \(--retry 0 sends one\)\. Check the URL and the network\.\n$/,
    )
    const malformed = await get(['not a url']).exit
    expect(malformed.code).toBe(1)
    expect(malformed.stderr).toMatch(/^sluice: not a url is not an http\(s\) URL[^\n]*\n$/)
  })

  it('shows the control characters of an error page escaped, never sending them to the terminal', async () => {
    const { code, stderr } = await get([url('/hostile')]).exit
    expect(code).toBe(1)
    // ky's retry sent the GET 3 times: said with the flag that sends one, not the library's `retry` option.
    expect(stderr).toBe(
      `sluice: Request to ${url('/hostile')} failed with status 500 Internal Server Error after 3 attempts (--retry 0 sends one): \\u001b]0;owned\\u0007\\u001b[2J\\u000dsluice: done: 4 records\\u009b31m.\n`,
    )
  })

  it('--retry sets how many times a failing GET is sent again: 0 sends it once, and the message counts no attempts', async () => {
    const sent = () => requests.filter((request) => request.path === '/hostile').length
    const before = sent()
    const once = await get([url('/hostile'), '--retry', '0']).exit
    expect(once.code).toBe(1)
    expect(sent() - before).toBe(1)
    expect(once.stderr).toMatch(/failed with status 500 Internal Server Error: \\u001b/)
    const twice = await get([url('/hostile'), '--retry', '1']).exit
    expect(sent() - before).toBe(3)
    expect(twice.stderr).toContain('500 Internal Server Error after 2 attempts (--retry 0 sends one):')
  })

  it('exits 2 with the usage on an unknown option, a missing URL or a bad --as', async () => {
    const unknown = await get([url('/file'), '--frobnicate']).exit
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toMatch(/^sluice: unknown option --frobnicate\.\n\nUsage: sluice get <url>/)
    const missing = await get([]).exit
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/^sluice: pass the URL to get\./)
    const mode = await get([url('/file'), '--as', 'xml']).exit
    expect(mode.code).toBe(2)
    expect(mode.stderr).toMatch(/^sluice: --as takes bytes, text, lines, ndjson, sse, json; got xml\./)
    const getBody = await get([url('/echo'), '-X', 'GET', '-d', '{}']).exit
    expect(getBody.code).toBe(2)
    expect(getBody.stderr).toMatch(/^sluice: -d sends a body, which a GET request cannot carry/)
    const noName = await get([url('/file'), '-o', '']).exit
    expect(noName.code).toBe(2)
    expect(noName.stderr).toMatch(/^sluice: -o takes a file name/)
    // An option given no value is named by its long form, as sluice dev names its own.
    const bare = await get([url('/file'), '-o']).exit
    expect(bare.code).toBe(2)
    expect(bare.stderr).toMatch(/^sluice: option --output needs a value\.\n\nUsage: sluice get <url>/)
  })

  it('exits 2 naming the flag for a timeout past the longest timer, a method fetch refuses, or a header value it cannot send', async () => {
    const usage = /\n\nUsage: sluice get <url>/
    const long = await get([url('/file'), '--timeout', '3000000000']).exit
    expect(long.code).toBe(2)
    expect(long.stderr).toMatch(
      /^sluice: --timeout takes a whole number of milliseconds from 1 to 2147483647 \(about 24\.8 days\); got 3000000000\.\n/,
    )
    expect(long.stderr).toMatch(usage)
    const connect = await get([url('/file'), '-X', 'connect']).exit
    expect(connect.code).toBe(2)
    expect(connect.stderr).toMatch(
      /^sluice: -X CONNECT cannot be sent: fetch refuses the methods CONNECT, TRACE and TRACK; use another, such as GET or POST\.\n/,
    )
    expect(connect.stderr).toMatch(usage)
    const cr = await get([url('/file'), '-H', 'X-Token: abc\rdef']).exit
    expect(cr.code).toBe(2)
    expect(cr.stderr).toMatch(
      /^sluice: the -H value of X-Token, "abc\\rdef", contains a carriage return \(\\r\), which a header value cannot carry; remove it\.\n/,
    )
    expect(cr.stderr).toMatch(usage)
  })

  it('writes to standard output with -o -, creating no file named -', async () => {
    const { code, stdout, stderr } = await startProcess(
      process.execPath,
      [cli, 'get', url('/echo'), '-o', '-', '-q'],
      { cwd: dir },
    ).exit
    expect(code, stderr).toBe(0)
    expect(JSON.parse(stdout)).toMatchObject({ method: 'GET' })
    expect(existsSync(join(dir, '-'))).toBe(false)
  })

  it('reads the JSON body from standard input with -d @-', async () => {
    const child = spawn(process.execPath, [cli, 'get', url('/echo'), '-d', '@-', '-q'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    child.stdin.end('{"from":"stdin"}')
    let stdout = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
    })
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    expect(code).toBe(0)
    expect(JSON.parse(stdout)).toMatchObject({ method: 'POST', body: '{"from":"stdin"}' })
  })

  it('exits 2 saying what is wrong for a second URL, --resume or --checkpoint without a file, --resume with --as json, or a --timeout of 0', async () => {
    const cases: Array<[string[], RegExp]> = [
      [
        [url('/file'), url('/report')],
        /^sluice: pass exactly one URL; got also http:\S+\/report\.\n\nUsage: sluice get/,
      ],
      [
        [url('/file'), '--resume'],
        /^sluice: --resume continues a download into a file: pass -o <file> too\.\n\nUsage/,
      ],
      [
        [url('/file'), '--checkpoint', join(dir, 'cp.json')],
        /^sluice: --checkpoint keeps the checkpoint of a download into a file: pass -o <file> too\.\n\nUsage/,
      ],
      [
        [url('/echo'), '--as', 'json', '-o', join(dir, 'doc.json'), '--resume'],
        /^sluice: --as json writes nothing until the document is complete, so there is nothing to resume\.\n\nUsage/,
      ],
      [
        [url('/file'), '--timeout', '0'],
        /^sluice: --timeout takes a whole number of milliseconds from 1 to 2147483647 /,
      ],
    ]
    for (const [args, message] of cases) {
      const { code, stdout, stderr } = await get([...args, '-q']).exit
      expect(code, stderr).toBe(2)
      expect(stdout).toBe('')
      expect(stderr).toMatch(message)
    }
    // Five processes, one after the other: a loaded machine took over the 30 s default.
  }, 90_000)

  it('refuses a --checkpoint that names the output file, which the checkpoint would replace and delete', async () => {
    // Once done, removing the checkpoint would remove the output: exit 0 and no file.
    const output = join(dir, 'same.bin')
    const cases = [
      ['-o', output, '--checkpoint', output],
      ['-o', output, '--checkpoint', join(dir, '.', 'same.bin'), '--resume'],
    ]
    for (const args of cases) {
      const { code, stdout, stderr } = await get([url('/file'), ...args, '-q']).exit
      expect(code, stderr).toBe(2)
      expect(stdout).toBe('')
      expect(stderr).toMatch(/^sluice: --checkpoint names the output file; .*\n\nUsage: sluice get/)
      expect(existsSync(output)).toBe(false)
    }
  })

  it('keeps its checkpoint up to date while downloading, so --resume continues after kill -9', async () => {
    const output = join(dir, 'killed.bin')
    const checkpointFile = `${output}.sluice-checkpoint.json`
    const saved = async (): Promise<{ outputBytes?: number }> =>
      JSON.parse(await readFile(checkpointFile, 'utf8').catch(() => '{}'))
    const first = get([url('/file'), '-o', output, '-q'])
    await until(async () => ((await saved()).outputBytes ?? 0) > 0, 'a checkpoint while downloading')
    first.child.kill('SIGKILL')
    await first.exit
    const { outputBytes } = await saved()
    expect(outputBytes).toBeLessThan(SIZE)

    const resumed = await get([url('/file'), '-o', output, '--resume', '-q']).exit
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(requests.at(-1)?.headers.range).toBe(`bytes=${outputBytes}-`)
    expect(sha256(await readFile(output))).toBe(sha256(source))
    expect(existsSync(checkpointFile)).toBe(false)
  }, 30_000)

  it('stops quietly and exits 0 when the reader of standard output goes away, as with | head', async () => {
    const run = get([url('/report'), '--as', 'ndjson', '-q'])
    await until(() => run.stdout().length > 0, 'the first record')
    run.child.stdout!.destroy()
    const { code, stderr } = await run.exit
    expect(stderr).toBe('')
    expect(code).toBe(0)
  }, 20_000)

  it('prints its options with --help, and the top-level help lists it', async () => {
    const help = await get(['--help']).exit
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/^Usage: sluice get <url> \[options\]/)
    for (const flag of ['--method', '--header', '--data', '--as', '--output', '--resume', '--checkpoint'])
      expect(help.stdout).toContain(flag)
    // The statuses as a shell shows them: after a signal the process dies by it, so no code is exited with.
    expect(help.stdout.replace(/\s+/g, ' ')).toContain(
      'Exit status, as $? shows it: 0 done (or the reader of standard output went away, as with | head), 1 the request, the stream or the output failed, 2 bad usage, 130 stopped by Ctrl-C (143 by SIGTERM, 129 by SIGHUP): it stops cleanly, then dies by that signal, so that a shell loop or script stops too.',
    )
    const top = spawn(process.execPath, [cli, '--help'], { stdio: ['ignore', 'pipe', 'ignore'] })
    let text = ''
    top.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk
    })
    await new Promise((resolve) => top.on('close', resolve))
    expect(text).toMatch(/^\s+get\s+stream a URL/m)
  })
})

/**
 * Runs `sluice get args` on a pseudo-terminal (`script`), as a person at a shell would, its standard output and
 * standard error both on it: what the terminal was sent, and the exit code.
 */
async function onTerminal(args: string[]): Promise<{ code: number | null; screen: string }> {
  const command = [process.execPath, cli, 'get', ...args].map((part) => `'${part}'`).join(' ')
  const child = spawn('script', ['-qfec', command, '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let screen = ''
  child.stdout.on('data', (data: Buffer) => {
    screen += data.toString()
  })
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  return { code, screen }
}
