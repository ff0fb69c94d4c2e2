import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { assertFreshDist, root } from '../support/dist.ts'

// A Lambda function or a Node script is typically compiled with @types/node and no DOM lib (`@tsconfig/node22`:
// `lib: ["es2024"]`): the declarations of the entries that run there must not need the DOM's names. @types/node
// declares `Headers`, `Response`, `ReadableStream`… but not the DOM's aliases, such as `HeadersInit`.
// sluice/mock is not checked: msw's own declarations need the DOM lib.

const program = `
import { sluice, fromResponse } from 'sluice'
import { sluiceHandler, streamNdjson, streamSse, streamBytes } from 'sluice/lambda'
import { serve } from 'sluice/dev'
import { createPartialJsonParser } from 'sluice/partial-json'
import { mockStream } from 'sluice/mock/stream'

export const handler = sluiceHandler(() => ({ ndjson: [1, 2], headers: { 'cache-control': 'no-store' } }))
export const ndjson = (stream: Parameters<typeof streamNdjson>[0]) =>
  streamNdjson(stream, [1], { headers: [['x-a', 'b']] })
// @ts-expect-error headers are a Headers, pairs or a record: not a number (nor any)
export const wrong = (stream: Parameters<typeof streamNdjson>[0]) => streamNdjson(stream, [1], { headers: 42 })
export const mocked = fromResponse(mockStream(['a'], { headers: new Headers({ 'x-a': 'b' }) }))
export const used = [sluice, streamSse, streamBytes, serve, createPartialJsonParser]
`

it("the declarations of the entries that run in Node check without the DOM lib, with @types/node's globals", () => {
  assertFreshDist()
  const dir = mkdtempSync(join(tmpdir(), 'sluice-no-dom-'))
  try {
    mkdirSync(join(dir, 'node_modules'))
    symlinkSync(root, join(dir, 'node_modules/sluice'), 'dir')
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }))
    writeFileSync(join(dir, 'check.ts'), program)
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'es2023',
          module: 'nodenext',
          moduleResolution: 'nodenext',
          lib: ['es2024'],
          types: ['node'],
          typeRoots: [join(root, 'node_modules/@types')],
          strict: true,
          exactOptionalPropertyTypes: true,
          skipLibCheck: false,
          noEmit: true,
        },
        files: ['check.ts'],
      }),
    )
    const run = spawnSync(join(root, 'node_modules/.bin/tsc'), ['-p', dir], { encoding: 'utf8' })
    const errors = `${run.stdout}\n${run.stderr}`.split('\n').filter((line) => /error TS\d+:/.test(line))
    expect(errors).toEqual([])
    expect(run.status).toBe(0)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}, 60_000)
