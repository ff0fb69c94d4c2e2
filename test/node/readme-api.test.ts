import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

it("README's API index lists every export of every entry with its TSDoc summary", () => {
  const script = fileURLToPath(new URL('../../scripts/api-reference.mjs', import.meta.url))
  const run = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' })
  expect(run.stderr).toBe('')
  expect(run.status).toBe(0)
})
