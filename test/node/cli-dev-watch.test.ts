// `sluice dev --watch`: a module is loaded once per process, so without it a server keeps serving the code it
// started with, however the file changes.
import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { cli, shellJob, shellWords, until } from '../support/cli-process.ts'
import { type StartedProcess, startProcess } from '../support/run-process.ts'

const started: StartedProcess[] = []
const dirs: string[] = []

afterEach(async () => {
  for (const { child } of started.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })))
})

/** A handler module that answers `text`, in a module it imports, so that a change there counts too. */
async function writeHandler(dir: string, text: string): Promise<void> {
  await writeFile(join(dir, 'answer.mjs'), `export const answer = ${JSON.stringify(text)}\n`)
}

async function handlerDir(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-dev-watch-'))
  dirs.push(dir)
  await writeHandler(dir, text)
  await writeFile(
    join(dir, 'handler.mjs'),
    `import { answer } from './answer.mjs'
export const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
  responseStream.write(answer)
  responseStream.end()
})
`,
  )
  return dir
}

/** `sluice dev --watch` on the handler in `dir`, on a free port. */
const watchArgs = (dir: string): string[] => [cli, 'dev', join(dir, 'handler.mjs'), '--port', '0', '--watch']

/** The URLs `sluice dev` has printed so far, the latest last. */
const urls = (stdout: string): string[] =>
  [...stdout.matchAll(/at (http:\/\/127\.0\.0\.1:\d+\/)/g)].map((match) => match[1]!)

/** The processes whose parent is `pid`, from /proc. */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        // After the command, which may hold spaces and parentheses: ") state ppid …".
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid
      } catch {
        return false // gone meanwhile
      }
    })
    .map(Number)
}

/**
 * Saves `text` to `file` as `sed -i` and editors' "safe write" do: written to a new file, then renamed over it.
 * Node's own watch mode followed the file it watched to where it was replaced, and missed every later such save.
 */
function replaceFile(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text)
  renameSync(`${file}.tmp`, file)
}

const handlerAnswering = (expression: string): string => `import { answer } from './answer.mjs'
export const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
  responseStream.write(${expression})
  responseStream.end()
})
`

/**
 * Waits until the server last started answers `text`: a restart takes a process start and a module load, slow on a
 * loaded machine, hence the generous deadline.
 */
async function served(run: StartedProcess, text: string): Promise<void> {
  const deadline = Date.now() + 30_000
  let last = ''
  while (Date.now() < deadline) {
    const url = urls(run.stdout()).at(-1)
    if (url !== undefined) {
      last = await fetch(url).then(
        (response) => response.text(),
        (error: Error) => `(${error.message})`,
      )
      if (last === text) return
    }
    if (run.child.exitCode !== null) break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(
    `The server did not come to answer ${JSON.stringify(text)} (last ${JSON.stringify(last)}).\nstdout: ${run.stdout()}\nstderr: ${run.stderr()}`,
  )
}

/**
 * Calls `save` at once and then about every half second until `done`: the watcher learns of a module from the server
 * once it has loaded it, which may come after a first save.
 */
async function saveUntil(done: () => boolean, save: () => unknown, what: string): Promise<void> {
  let polls = 0
  await until(async () => {
    if (done()) return true
    if (polls++ % 50 === 0) await save()
    return false
  }, what)
}

/** `sluice dev --watch` on a fresh handler directory, once it serves `first`. */
async function watching(): Promise<{ dir: string; run: StartedProcess }> {
  const dir = await handlerDir('first')
  const run = startProcess(process.execPath, watchArgs(dir))
  started.push(run)
  await served(run, 'first')
  return { dir, run }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('sluice dev --watch', () => {
  it('serves the code as it is after the handler module, or one it imports, changed', async () => {
    const dir = await handlerDir('first')
    const run = startProcess(process.execPath, watchArgs(dir))
    started.push(run)
    await until(() => urls(run.stdout()).length === 1, `the URL (stderr: ${run.stderr()})`)
    expect(await (await fetch(urls(run.stdout())[0]!)).text()).toBe('first')
    // Written again until the restart shows: Node's watcher learns of each module from the child once it is loaded,
    // which may come after the URL was printed.
    await saveUntil(
      () => urls(run.stdout()).length === 2,
      () => writeHandler(dir, 'second'),
      'the URL after the restart',
    )
    expect(await (await fetch(urls(run.stdout())[1]!)).text()).toBe('second')
    // A signal to the process alone stops the server it watches, and the process dies by it.
    run.child.kill('SIGTERM')
    expect(await run.exit).toMatchObject({ code: null, signal: 'SIGTERM' })
    await expect(fetch(urls(run.stdout())[1]!)).rejects.toThrow()
  }, 30_000)

  it('stops a script on Ctrl-C instead of going on as after a success', async () => {
    const dir = await handlerDir('first')
    const dev = [process.execPath, ...watchArgs(dir)]
    const shell = shellJob(`${shellWords(dev)} && echo 'next command'`)
    try {
      await until(() => urls(shell.stdout).length === 1, 'the URL')
      shell.signal('SIGINT')
      expect(await shell.exit, shell.stderr).toEqual({ code: null, signal: 'SIGINT' })
      expect(shell.stdout).not.toContain('next command')
      await expect(fetch(urls(shell.stdout)[0]!)).rejects.toThrow()
    } finally {
      shell.stop()
    }
  }, 30_000)

  it('dies by a Ctrl-C that it takes only after it saw the watcher end', async () => {
    // On a loaded machine the thread that takes this process's Ctrl-C may run after the exit of the watcher, which
    // had the same Ctrl-C: here the watcher has it first, alone, and this process once the watcher is gone.
    const dir = await handlerDir('first')
    const run = startProcess(process.execPath, watchArgs(dir))
    started.push(run)
    await until(() => urls(run.stdout()).length === 1, `the URL (stderr: ${run.stderr()})`)
    const [watcher] = childrenOf(run.child.pid!)
    expect(watcher).toBeDefined()
    process.kill(watcher!, 'SIGINT')
    // Reaped, so this process has seen its exit; and a moment later, when it has taken the exit for its outcome.
    await until(() => !alive(watcher!), 'the watcher gone')
    await new Promise((resolve) => setTimeout(resolve, 300))
    run.child.kill('SIGINT')
    expect(await run.exit).toMatchObject({ code: null, signal: 'SIGINT' })
  }, 30_000)

  it('serves the new code after each save that replaces the handler module, the second one too', async () => {
    const { dir, run } = await watching()
    const handler = join(dir, 'handler.mjs')
    replaceFile(handler, handlerAnswering("answer + ' (edited)'"))
    await served(run, 'first (edited)')
    expect(run.stdout()).toContain(`sluice dev: restarting after ${handler} changed\n`)
    // Node's watch mode served the first edit, then kept this one's predecessor.
    replaceFile(handler, handlerAnswering("answer + ' (edited again)'"))
    await served(run, 'first (edited again)')
    expect(urls(run.stdout())).toHaveLength(3)
  }, 60_000)

  it('restarts when a module the handler imports is saved by replacing it, again and again', async () => {
    const { dir, run } = await watching()
    for (const text of ['second', 'third']) {
      replaceFile(join(dir, 'answer.mjs'), `export const answer = ${JSON.stringify(text)}\n`)
      await served(run, text)
    }
  }, 60_000)

  it('restarts when a module the handler imports lazily, on its first request, is saved', async () => {
    const { dir, run } = await watching()
    const lazy = join(dir, 'lazy.mjs')
    writeFileSync(lazy, 'export const answer = "lazy"\n')
    replaceFile(
      join(dir, 'handler.mjs'),
      `export const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
  const { answer } = await import('./lazy.mjs')
  responseStream.write(answer)
  responseStream.end()
})
`,
    )
    // The restarted server has not loaded lazy.mjs until a request runs the handler: then it reports it.
    await served(run, 'lazy')
    // Saved until a restart says it saw the save: the report of the lazy import may reach the watcher after the
    // answer did. (Not until the new URL: on a loaded machine, saves that kept coming would restart the server
    // again before it is up.)
    const restarted = `sluice dev: restarting after ${lazy} changed\n`
    let saves = 0
    let saved = ''
    await saveUntil(
      () => run.stdout().includes(restarted),
      () => {
        saved = `lazy, save ${++saves}`
        replaceFile(lazy, `export const answer = ${JSON.stringify(saved)}\n`)
      },
      'a restart after lazy.mjs was saved',
    )
    await served(run, saved)
  }, 60_000)

  it('watches the handler module alone on a Node without module.registerHooks, and restarts when it is saved', async () => {
    const dir = await handlerDir('first')
    // Node before 22.15 has no registerHooks: the server then reports no files, and the watcher watches what it
    // was given. The preload, in the watcher's execArgv, reaches the server it starts too.
    const preload = join(dir, 'no-register-hooks.mjs')
    await writeFile(
      preload,
      `import module from 'node:module'
module.registerHooks = undefined
module.syncBuiltinESMExports()
`,
    )
    const run = startProcess(process.execPath, ['--import', pathToFileURL(preload).href, ...watchArgs(dir)])
    started.push(run)
    await served(run, 'first')
    replaceFile(join(dir, 'handler.mjs'), handlerAnswering("answer + ' (edited)'"))
    await served(run, 'first (edited)')
    // What the handler imports goes unseen there, as the README says.
    await writeHandler(dir, 'second')
    await new Promise((resolve) => setTimeout(resolve, 1500))
    expect(run.stdout()).toContain('restarting after')
    expect(urls(run.stdout())).toHaveLength(2)
  }, 60_000)

  it('reports an edit that does not load, and serves the next one that does', async () => {
    const { dir, run } = await watching()
    const answer = join(dir, 'answer.mjs')
    replaceFile(answer, 'export const answer = (\n')
    await until(
      () => run.stderr().includes('starting again when'),
      `the failure reported (stderr: ${run.stderr()})`,
    )
    expect(run.stderr()).toContain(`could not be loaded: Unexpected end of input at ${answer}:2`)
    expect(run.child.exitCode).toBeNull()
    // In place this time.
    await writeHandler(dir, 'fixed')
    await served(run, 'fixed')
  }, 60_000)

  it('does not restart for a save that changes nothing', async () => {
    const { dir, run } = await watching()
    await writeHandler(dir, 'first')
    // A restart notice would come about 100 ms after the save; on a very slow machine this may pass without proving.
    await new Promise((resolve) => setTimeout(resolve, 1500))
    expect(run.stdout()).not.toContain('restarting')
    replaceFile(join(dir, 'answer.mjs'), 'export const answer = "second"\n')
    await served(run, 'second')
  }, 60_000)

  it('exits 1 when the port is taken, since no edit frees it', async () => {
    const dir = await handlerDir('first')
    const taken = createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    try {
      const port = String((taken.address() as { port: number }).port)
      const args = watchArgs(dir).map((arg) => (arg === '0' ? port : arg))
      const run = startProcess(process.execPath, args)
      started.push(run)
      const { code, stderr } = await run.exit
      expect({ code, stderr }).toEqual({
        code: 1,
        stderr: `sluice dev: port ${port} on 127.0.0.1 is already in use; pass another --port, or --port 0 for a free one.\n`,
      })
    } finally {
      taken.close()
    }
  }, 30_000)

  it('leaves no server behind when it is killed', async () => {
    const { run } = await watching()
    const [server] = childrenOf(run.child.pid!)
    expect(server).toBeDefined()
    run.child.kill('SIGKILL')
    await until(() => !alive(server!), 'the server gone')
  }, 60_000)
})
