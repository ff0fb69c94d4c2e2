import { describe, expect, it } from 'vitest'
import { devProcesses, servedUrl } from '../support/dev-processes.ts'
import { drain, fixture } from '../support/emulator.ts'

const { run } = devProcesses()

/** Starts `sluice dev` on the sluice/lambda fixture with `args`; its URL once printed. */
const serve = (args: string[]): Promise<string> =>
  servedUrl(run([fixture('lambda-handlers.mjs'), '--port', '0', ...args]))

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
