// `sluice get` writing to standard output that its reader does not take (`| less`, the reader not reading): the
// CLI's output waits in its process. Standard output is a FIFO here that the test fills to the brim before the run,
// so that everything the CLI writes waits, for as long as the test does not read.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { closeSync, constants, openSync, readSync, writeSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { expect, it } from 'vitest'
import { cli, cliServer, until } from '../support/cli-process.ts'

const BODY = Buffer.from('0123456789'.repeat(100))
/** What `/long` sends before it holds the rest: more than standard output's buffer takes. */
const LONG_START = 256 * 1024

function handle(req: IncomingMessage, res: ServerResponse): void {
  if (req.url === '/held') {
    // The first part, then the rest held: the CLI waits for the body, its output for the reader.
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': String(2 * BODY.length),
    })
    res.write(BODY)
    site.held.push(res)
    return
  }
  if (req.url === '/long') {
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': String(2 * LONG_START),
    })
    res.write(Buffer.alloc(LONG_START, 'x'))
    site.held.push(res)
    return
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(BODY.length) })
  res.end(BODY)
}

const site = cliServer(handle, 'sluice-get-stalled-')
let fifos = 0

/** A FIFO full to the brim, with a reader that takes nothing until `drain()`. */
function stalledPipe(): { writer: number; drain: () => Buffer; eof: () => boolean; close: () => void } {
  const path = join(site.dir, `stdout-${fifos++}.fifo`)
  execFileSync('mkfifo', [path])
  const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK)
  const filler = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK)
  let filled = 0
  // Pages first, then single bytes: not a byte of room is left.
  for (const size of [4096, 1])
    try {
      for (;;) filled += writeSync(filler, Buffer.alloc(size))
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'EAGAIN') throw error
    }
  const writer = openSync(path, constants.O_WRONLY)
  closeSync(filler)
  const taken: Buffer[] = []
  let ended = false
  let closed = false
  return {
    writer,
    /** Everything the pipe holds now; what follows the filling, so far. */
    drain() {
      const chunk = Buffer.alloc(64 * 1024)
      for (;;) {
        let n: number
        try {
          n = readSync(reader, chunk)
        } catch (error) {
          if ((error as { code?: unknown }).code === 'EAGAIN') break
          throw error
        }
        if (n === 0) {
          ended = true
          break
        }
        taken.push(Buffer.from(chunk.subarray(0, n)))
      }
      return Buffer.concat(taken).subarray(filled)
    },
    eof: () => ended,
    close() {
      if (!closed) closeSync(reader)
      closed = true
    },
  }
}

/**
 * Runs `sluice get` with its standard output into `pipe`. A preload writes to standard error `[took SIGNAL]` once
 * the process has handled a signal, so that the test sends the next only then; at each write to standard output
 * `[stdout write]`, or `[stdout full]` when the write asks its writer to wait for `drain`; and `[run over]` once
 * `sluice get` has returned, its signal listeners taken away: a signal then is the bin's alone to handle.
 */
async function getInto(pipe: ReturnType<typeof stalledPipe>, args: string[]) {
  const preload = join(site.dir, 'signal-taken.mjs')
  await writeFile(
    preload,
    `const emit = process.emit
process.emit = function (event, ...rest) {
  const result = emit.call(this, event, ...rest)
  if (typeof event === 'string' && event.startsWith('SIG')) process.stderr.write(\`[took \${event}]\\n\`)
  return result
}
process.on('removeListener', (event) => {
  if (event === 'SIGINT') setImmediate(() => process.stderr.write('[run over]\\n'))
})
const write = process.stdout.write
process.stdout.write = function (...args) {
  const more = write.apply(this, args)
  process.stderr.write(more ? '[stdout write]\\n' : '[stdout full]\\n')
  return more
}
`,
  )
  const child = spawn(process.execPath, ['--import', pathToFileURL(preload).href, cli, 'get', ...args], {
    stdio: ['ignore', pipe.writer, 'pipe'],
  })
  closeSync(pipe.writer)
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  )
  return { child, exit, stderr: () => stderr }
}

const running = (child: ChildProcess): boolean => child.exitCode === null && child.signalCode === null

/** Runs `sluice get` into a stalled pipe for `test`, then kills what is left of it and closes the pipe. */
async function stalledRun(
  args: string[],
  test: (run: Awaited<ReturnType<typeof getInto>>, pipe: ReturnType<typeof stalledPipe>) => Promise<void>,
): Promise<void> {
  const pipe = stalledPipe()
  const run = await getInto(pipe, args)
  try {
    await test(run, pipe)
  } finally {
    if (running(run.child)) run.child.kill('SIGKILL')
    pipe.close()
  }
}

for (const signals of [['SIGINT', 'SIGINT'], ['SIGTERM', 'SIGINT'], ['SIGHUP']] as const) {
  it(`exits 0 on ${signals.join(' then ')} once the download finished, its output still waiting for the reader`, async () => {
    await stalledRun([`${site.base}/body`], async (run, pipe) => {
      await until(() => run.stderr().includes('[run over]'), 'the download to finish')
      expect(run.stderr()).toContain('sluice: done: 1000 B')
      for (const [i, signal] of signals.entries()) {
        run.child.kill(signal)
        await until(
          () => run.stderr().split('[took SIG').length > i + 1 || !running(run.child),
          `${signal} to be handled`,
        )
      }
      // The reader reads again: whatever the process still has to write reaches it, and it ends.
      await until(() => {
        pipe.drain()
        return pipe.eof()
      }, 'the output to end')
      const { code, signal } = await run.exit
      expect({ code, signal }, run.stderr()).toEqual({ code: 0, signal: null })
      // One signal waits for the output to be taken; a second one ends the process at once.
      if (signals.length === 1) expect(pipe.drain().equals(BODY)).toBe(true)
    })
  }, 30_000)
}

it('dies by SIGINT on Ctrl-C when the reader of standard output goes away while the output waits for it', async () => {
  // `sluice get URL | less`, Ctrl-C (which less survives), then q: the broken pipe that follows is no reason to
  // report the interrupted download as done.
  await stalledRun([`${site.base}/long`, '-q'], async (run, pipe) => {
    await until(() => run.stderr().includes('[stdout full]'), 'the output to wait for its reader')
    run.child.kill('SIGINT')
    await until(() => run.stderr().includes('[took SIGINT]'), 'SIGINT to be handled')
    pipe.close()
    const { code, signal } = await run.exit
    expect({ code, signal }, run.stderr()).toEqual({ code: null, signal: 'SIGINT' })
    expect(run.stderr()).toMatch(/^sluice: interrupted after \d+ bytes of output\.$/m)
  })
}, 30_000)

it('dies by SIGINT at a second Ctrl-C after the first stopped the download, its output still waiting for the reader', async () => {
  // The first Ctrl-C stops the download, which had handed its output on; the process then waits for the reader to
  // take it. A second one, as during the download, ends it at once.
  await stalledRun([`${site.base}/held`, '-q'], async (run) => {
    await until(() => run.stderr().includes('[stdout write]'), 'the first part to be written')
    run.child.kill('SIGINT')
    await until(() => run.stderr().includes('[run over]'), 'the stop')
    expect(run.stderr()).toContain('sluice: interrupted after 1000 bytes of output.')
    run.child.kill('SIGINT')
    await until(() => !running(run.child), 'the process to end')
    const { code, signal } = await run.exit
    expect({ code, signal }, run.stderr()).toEqual({ code: null, signal: 'SIGINT' })
  })
}, 30_000)

it('dies by SIGINT after Ctrl-C only once the reader took everything written before it, its output waiting', async () => {
  // The clean stop hands its output on; the signal that ends the process then must not cut it off.
  await stalledRun([`${site.base}/held`, '-q'], async (run, pipe) => {
    await until(() => run.stderr().includes('[stdout write]'), 'the first part to be written')
    run.child.kill('SIGINT')
    await until(() => run.stderr().includes('[run over]'), 'the stop')
    expect(run.stderr()).toContain('sluice: interrupted after 1000 bytes of output.')
    // The reader reads again: what was written reaches it, and only then does the process end.
    await until(() => {
      pipe.drain()
      return pipe.eof()
    }, 'the output to end')
    const { code, signal } = await run.exit
    expect({ code, signal }, run.stderr()).toEqual({ code: null, signal: 'SIGINT' })
    expect(pipe.drain().equals(BODY)).toBe(true)
  })
}, 30_000)

it('dies by SIGINT at a second Ctrl-C while the first stop waits for the reader to take the output', async () => {
  // The stop waits for standard output to drain, its listeners still in place: the second Ctrl-C is theirs.
  await stalledRun([`${site.base}/long`, '-q'], async (run) => {
    await until(() => run.stderr().includes('[stdout full]'), 'the output to wait for its reader')
    run.child.kill('SIGINT')
    await until(() => run.stderr().includes('[took SIGINT]'), 'SIGINT to be handled')
    expect(run.stderr()).not.toContain('[run over]')
    run.child.kill('SIGINT')
    const { code, signal } = await run.exit
    expect({ code, signal }, run.stderr()).toEqual({ code: null, signal: 'SIGINT' })
  })
}, 30_000)
