import { afterEach, describe, expect, it } from 'vitest'
import { cli } from '../support/cli-process.ts'
import { drain, fixture } from '../support/emulator.ts'
import { type StartedProcess, startProcess } from '../support/run-process.ts'

const runs: StartedProcess[] = []

afterEach(async () => {
  for (const { child, exit } of runs.splice(0)) {
    child.kill('SIGTERM')
    await exit
  }
})

function run(args: string[]): StartedProcess {
  const started = startProcess(process.execPath, [cli, 'dev', ...args])
  runs.push(started)
  return started
}

/** Starts `sluice dev` on the sluice/lambda fixture with `args`; its URL once printed. */
function serve(args: string[]): Promise<string> {
  const served = run([fixture('lambda-handlers.mjs'), '--port', '0', ...args])
  return new Promise<string>((resolve, reject) => {
    const check = () => {
      const match = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(served.stdout())
      if (match) resolve(match[1]!)
    }
    served.child.stdout!.on('data', check)
    void served.exit.then((end) => reject(new Error(`sluice dev exited with ${end.code}: ${end.stderr}`)))
  })
}

describe('sluice dev --late-failure', () => {
  it('trailers: ends the body of a function that fails after its first byte cleanly, the error in trailers', async () => {
    const url = await serve(['--late-failure', 'trailers'])
    const response = await fetch(new URL('fail-after-first-byte', url))
    expect(response.headers.get('trailer')).toBe(
      'Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body',
    )
    expect(await drain(response)).toEqual({ bytes: '{"n":0}\n'.length, error: undefined })
  })

  it('cut, as without the flag: cuts the connection', async () => {
    const url = await serve(['--late-failure', 'cut'])
    const { error } = await drain(await fetch(new URL('fail-after-first-byte', url)))
    expect(error).toBeInstanceOf(TypeError)
  })

  it('exits 2 with the usage for another value', async () => {
    const { code, stderr } = await run([
      fixture('lambda-handlers.mjs'),
      '--port',
      '0',
      '--late-failure',
      'end',
    ]).exit
    expect(code).toBe(2)
    expect(stderr).toMatch(
      /^sluice dev: --late-failure takes cut or trailers; got end\.\n\nUsage: sluice dev/,
    )
  })

  it('is in the usage --help prints', async () => {
    const { code, stdout } = await run(['--help']).exit
    expect(code).toBe(0)
    expect(stdout).toMatch(
      /--late-failure trailers\s+end the body cleanly when the function fails after its first byte/,
    )
  })
})
