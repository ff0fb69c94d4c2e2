/**
 * The usual front-end set-up: a page on its own origin (vitest's) streams from `sluice dev` on another port. With
 * the emulator's CORS (`sluice dev --cors <origin>`'s), the page reads the stream and resumes a drop by Range, whose
 * If-Range the browser first asks a preflight about; without it, Chromium refuses the answer.
 */
import { afterEach, expect, it } from 'vitest'
import { commands } from 'vitest/browser'
import { isNetworkError, sluice } from '../../src/index.ts'
import { FAST } from '../support/scripted.ts'

afterEach(() => commands.closeEmulators())

const LINES = Array.from({ length: 3000 }, (_, i) => `line ${i}`)

it("streams from the emulator on another origin with --cors's CORS, and resumes a drop by Range", async () => {
  const url = await commands.startRangedEmulator(location.origin)
  expect(new URL(url).origin).not.toBe(location.origin)
  const res = await sluice(url, { resume: { backoff: FAST } })
  const lines: string[] = []
  for await (const line of res.lines()) {
    lines.push(line)
    if (lines.length === 1) await commands.releaseDrop(url)
  }
  expect(lines).toEqual(LINES)
  // The reconnect reached the function (after its preflight, which the emulator answered) and asked for the rest
  // under the ETag the page could read; its 206's Content-Range was readable too, or sluice would have refused it.
  const asked = await commands.rangedEmulatorAsked(url)
  expect(asked).toHaveLength(2)
  expect(asked[0]).toEqual({ range: null, ifRange: null })
  expect(asked[1]?.range).toMatch(/^bytes=[1-9]\d*-$/)
  expect(asked[1]?.ifRange).toBe('"lines-v1"')
})

it('fails with an error that names CORS from the same emulator without it', async () => {
  const url = await commands.startRangedEmulator(null)
  const error = await sluice(url, { retry: 0 }).catch((e: unknown) => e)
  expect(isNetworkError(error)).toBe(true)
  expect((error as Error).message).toBe(
    `Could not connect to ${url} (Failed to fetch). Check the URL and the network, or the server's CORS.`,
  )
})
