import type { ChildProcess } from 'node:child_process'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { type StartedProcess, startProcess } from './run-process.ts'

/** The CLI's entry. Node 24 strips the types of src/cli/index.ts itself, so the bin runs from source without a build. */
export const cli: string = fileURLToPath(new URL('../../src/cli/index.ts', import.meta.url))

/** Starts `sluice` commands and keeps their processes, so that `killAll()` ends what a test left running. */
export function cliRuns(): {
  run(args: string[]): StartedProcess
  get(args: string[]): StartedProcess
  killAll(): void
} {
  const children: ChildProcess[] = []
  const run = (args: string[]): StartedProcess => {
    const started = startProcess(process.execPath, [cli, ...args])
    children.push(started.child)
    return started
  }
  return {
    run,
    get: (args) => run(['get', ...args]),
    killAll() {
      for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
    },
  }
}

/** Polls `condition` every 10 ms, for at most 10 s. */
export async function until(condition: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await condition()) return
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error(`Timed out waiting for ${what}.`)
}

/** The size of the file at `path`, 0 when there is none. */
export const sizeOf = async (path: string): Promise<number> =>
  (await stat(path).catch(() => undefined))?.size ?? 0

/**
 * A CLI test file's loopback server (`handle` on 127.0.0.1) and temporary directory, started before its tests
 * and removed after them. After each test, `reset` runs, the responses the handler put in `held` are cut, and
 * the `sluice` processes still running are killed.
 */
export function cliServer(
  handle: (req: IncomingMessage, res: ServerResponse) => void,
  prefix: string,
  reset: () => void = () => {},
): { readonly base: string; readonly dir: string; held: ServerResponse[]; runs: ReturnType<typeof cliRuns> } {
  const server = createServer(handle)
  const site = { base: '', dir: '', held: [] as ServerResponse[], runs: cliRuns() }
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    site.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    site.dir = await mkdtemp(join(tmpdir(), prefix))
  })
  afterEach(() => {
    reset()
    for (const res of site.held.splice(0)) res.destroy()
    site.runs.killAll()
  })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    await rm(site.dir, { recursive: true, force: true })
  })
  return site
}

/** `words` as one shell word each, for a `bash -c` script. */
export const shellWords = (words: readonly string[]): string =>
  words.map((word) => `'${word.replaceAll("'", `'\\''`)}'`).join(' ')

/**
 * `bash -c script` in its own process group, as a terminal's foreground job: `signal()` sends to every process in
 * it, as Ctrl-C does; `stop()` kills what is left. `exit` is how bash ended.
 */
export function shellJob(script: string): {
  readonly child: ChildProcess
  readonly stdout: string
  readonly stderr: string
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  signal(name: NodeJS.Signals): void
  stop(): void
} {
  const started = startProcess('bash', ['-c', script], { detached: true })
  const { child } = started
  return {
    child,
    get stdout() {
      return started.stdout()
    },
    get stderr() {
      return started.stderr()
    },
    exit: started.exit.then(({ code, signal }) => ({ code, signal })),
    signal: (name) => process.kill(-child.pid!, name),
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL')
    },
  }
}
