import type { ChildProcess } from 'node:child_process'
import { stat } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
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
