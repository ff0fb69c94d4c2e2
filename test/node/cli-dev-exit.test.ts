/**
 * `sluice dev` and a handler that calls `process.exit`: the process survives the call, fails the invocation
 * running (Runtime.ExitError), logs it, and serves on; a module that calls it while it loads still ends the
 * process, with status 1 and a line that says why; a handler's `process.exitCode` does not change how Ctrl-C
 * ends the process.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { cliRuns, until } from '../support/cli-process.ts'
import type { StartedProcess } from '../support/run-process.ts'

const dir = mkdtempSync(join(tmpdir(), 'sluice-dev-exit-'))
const runs = cliRuns()
afterEach(() => runs.killAll())
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const handler = join(dir, 'exiting-handler.mjs')
writeFileSync(
  handler,
  `export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  switch (event.rawPath) {
    case '/exit':
      process.exit(1)
      responseStream.end('ran on after process.exit')
      return
    case '/exit-after-end':
      setTimeout(() => process.exit(4), 1)
      break
    case '/exit-code':
      process.exitCode = 7
      break
  }
  responseStream.end('ok')
})
`,
)

/** `sluice dev` serving `module` on a free port, and its base URL once it is printed. */
async function startDev(module: string): Promise<{ started: StartedProcess; base: string }> {
  const started = runs.run(['dev', module, '--port', '0'])
  await until(() => started.stdout().includes('\n') || started.child.exitCode !== null, 'the URL')
  const base = /at (http:\/\/127\.0\.0\.1:\d+)\//.exec(started.stdout())?.[1]
  if (base === undefined) throw new Error(`sluice dev did not serve: ${started.stderr()}`)
  return { started, base }
}

async function servesOn(base: string, started: StartedProcess): Promise<void> {
  const next = await fetch(`${base}/`)
  expect(next.status).toBe(200)
  expect(await next.text()).toBe('ok')
  expect(started.child.exitCode).toBeNull()
}

describe('sluice dev and process.exit', () => {
  it('survives a handler that calls process.exit(1): a 502, a line in its log, and the next request served', async () => {
    const { started, base } = await startDev(handler)
    const response = await fetch(`${base}/exit`)
    expect(response.status).toBe(502)
    expect(((await response.json()) as { Message: string }).Message).toBe(
      'The function failed before it sent a response: the handler called process.exit(1) (Runtime.ExitError: Runtime exited with error: exit status 1)',
    )
    const requestId = response.headers.get('x-amzn-requestid')!
    await until(() => started.stderr().includes(requestId), 'the failure in the log')
    expect(started.stderr()).toBe(
      `sluice dev: ${requestId} failed: the handler called process.exit(1) (Runtime.ExitError: Runtime exited with error: exit status 1)\n`,
    )
    await servesOn(base, started)
  })

  it('logs a process.exit from a timer that outlived its invocation, and serves on', async () => {
    const { started, base } = await startDev(handler)
    expect(await (await fetch(`${base}/exit-after-end`)).text()).toBe('ok')
    await until(() => started.stderr().includes('\n'), 'the line in the log')
    expect(started.stderr()).toBe(
      'sluice dev: a handler called process.exit(4) (Runtime.ExitError: Runtime exited with error: exit status 4) while no invocation was running; serving on.\n',
    )
    await servesOn(base, started)
  })

  it('exits 1, saying why, when the handler module calls process.exit(0) while it loads', async () => {
    const module = join(dir, 'exits-while-loading.mjs')
    writeFileSync(
      module,
      `process.exit(0)
export const handler = awslambda.streamifyResponse(async (event, responseStream) => responseStream.end('ok'))
`,
    )
    const { code, stdout, stderr } = await runs.run(['dev', module, '--port', '0']).exit
    expect({ code, stdout }).toEqual({ code: 1, stdout: '' })
    expect(stderr).toBe(
      `sluice dev: The handler module ${module} could not be loaded: it called process.exit(0) (Runtime.ExitError: Runtime exited without providing a reason) while it loaded, which ends the process; throw an error instead, which says why the module cannot load.\n`,
    )
  })

  it('dies by SIGINT on Ctrl-C though a handler set process.exitCode', async () => {
    const { started, base } = await startDev(handler)
    expect(await (await fetch(`${base}/exit-code`)).text()).toBe('ok')
    started.child.kill('SIGINT')
    const { code, signal } = await started.exit
    expect({ code, signal }).toEqual({ code: null, signal: 'SIGINT' })
  })
})
