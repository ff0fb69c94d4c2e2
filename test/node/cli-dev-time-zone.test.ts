import { describe, expect, it } from 'vitest'
import { devProcesses, servedUrl } from '../support/dev-processes.ts'
import { fixture } from '../support/emulator.ts'

const dev = devProcesses()

/** Starts `sluice dev` on the time-zone fixture with `TZ` as given (unset for `undefined`); its URL once printed. */
function serveWithTz(tz: string | undefined): Promise<string> {
  const env = { ...process.env }
  delete env.TZ
  if (tz !== undefined) env.TZ = tz
  return servedUrl(dev.run([fixture('time-zone-handler.mjs'), '--port', '0'], env))
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
