import { afterEach } from 'vitest'
import { cli } from './cli-process.ts'
import { type StartedProcess, startProcess } from './run-process.ts'

/**
 * Starts `sluice dev` processes for a test file, each ended with SIGTERM, and awaited, after the test that started
 * it; `env` replaces the environment of that one.
 *
 * @example
 * const dev = devProcesses()
 * const url = await servedUrl(dev.run(['./handler.mjs', '--port', '0']))
 */
export function devProcesses(): { run(args: string[], env?: NodeJS.ProcessEnv): StartedProcess } {
  const started: StartedProcess[] = []
  afterEach(async () => {
    for (const { child, exit } of started.splice(0)) {
      child.kill('SIGTERM')
      await exit
    }
  })
  return {
    run(args, env) {
      const run = startProcess(process.execPath, [cli, 'dev', ...args], env === undefined ? {} : { env })
      started.push(run)
      return run
    },
  }
}

/** The URL `sluice dev` prints once it serves; a rejection with what it printed on standard error if it exits first. */
export function servedUrl(run: StartedProcess): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const check = () => {
      const match = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(run.stdout())
      if (match) resolve(match[1]!)
    }
    run.child.stdout!.on('data', check)
    check()
    void run.exit.then((end) => reject(new Error(`sluice dev exited with ${end.code}: ${end.stderr}`)))
  })
}
