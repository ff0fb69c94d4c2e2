import { afterEach, describe, expect, it } from 'vitest'
import { cli } from '../support/cli-process.ts'
import { fixture } from '../support/emulator.ts'
import { type StartedProcess, startProcess } from '../support/run-process.ts'

const started: StartedProcess[] = []

afterEach(async () => {
  for (const { child, exit } of started.splice(0)) {
    child.kill('SIGTERM')
    await exit
  }
})

/** Starts `sluice dev` on the time-zone fixture with `TZ` as given (unset for `undefined`); its URL once printed. */
async function serveWithTz(tz: string | undefined): Promise<string> {
  const env = { ...process.env }
  delete env.TZ
  if (tz !== undefined) env.TZ = tz
  const run = startProcess(process.execPath, [cli, 'dev', fixture('time-zone-handler.mjs'), '--port', '0'], {
    env,
  })
  started.push(run)
  return new Promise<string>((resolve, reject) => {
    const check = () => {
      const match = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(run.stdout())
      if (match) resolve(match[1]!)
    }
    run.child.stdout!.on('data', check)
    void run.exit.then((end) => reject(new Error(`sluice dev exited with ${end.code}: ${end.stderr}`)))
  })
}

describe('the time zone sluice dev runs a function in', () => {
  it("is Lambda's, TZ=:UTC, when the shell sets none, whatever the machine's own zone", async () => {
    const response = await fetch(await serveWithTz(undefined))
    expect(await response.json()).toEqual({ tz: ':UTC', zone: 'UTC', hour: 0 })
  })

  it("is the shell's TZ when it sets one, as a function configured with a TZ variable runs in it", async () => {
    const response = await fetch(await serveWithTz('Asia/Tokyo'))
    expect(await response.json()).toEqual({ tz: 'Asia/Tokyo', zone: 'Asia/Tokyo', hour: 9 })
  })
})
