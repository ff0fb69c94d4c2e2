import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { build } from 'esbuild'
import { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { cases, runCases, type SmokeReport } from '../smoke/cases.mjs'
import { type SmokeServer, startSmokeServer } from '../smoke/server.ts'
import { assertFreshDist, root } from '../support/dist.ts'
import { type ProcessRun, runProcess } from '../support/run-process.ts'

// The runtime matrix: the smoke cases of test/smoke/cases.mjs, over the BUILT package (dist/), in every runtime
// sluice claims beyond the vitest projects: Node 22 (the lowest supported), Node 26 (the newest LTS), Deno and
// Bun (test/smoke/smoke.mjs), and real workerd through miniflare (test/smoke/worker.mjs bundled by esbuild), plus
// this Node 24 in-process.
// Every runtime's binary comes from a devDependency; one that is missing or cannot run fails its test with the
// reason: nothing here is skipped.

const expectedNames = cases.map((c) => c.name)
const smokeScript = join(root, 'test/smoke/smoke.mjs')
let server: SmokeServer

beforeAll(async () => {
  assertFreshDist()
  server = await startSmokeServer({ refusingUrl: inject('refusingUrl') })
})

afterAll(async () => {
  await server?.close()
})

type Run = ProcessRun

function run(
  command: string,
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 45_000,
): Promise<Run> {
  return runProcess(command, args, { cwd: root, env, timeoutMs })
}

function parseReport(label: string, result: Run): SmokeReport {
  const line = result.stdout.split('\n').find((l) => l.startsWith('SMOKE '))
  if (!line) {
    throw new Error(
      `${label} printed no SMOKE report (exit ${result.code ?? result.signal}).\nstdout:\n${result.stdout.slice(-2000)}\nstderr:\n${result.stderr.slice(-4000)}`,
    )
  }
  return JSON.parse(line.slice('SMOKE '.length)) as SmokeReport
}

/** Asserts that `report` ran every case of cases.mjs, in order, and that all passed. */
function expectAllPassed(label: string, report: SmokeReport): void {
  expect(
    report.results.map((r) => r.name),
    `${label} ran a different list of cases`,
  ).toEqual(expectedNames)
  const failed = report.results
    .filter((r) => !r.ok)
    .map((r) => `  ✗ ${r.name}: ${r.error}\n${(r.stack ?? '').split('\n').slice(1, 6).join('\n')}`)
  expect(failed, `${label}: ${failed.length} case(s) failed:\n${failed.join('\n')}`).toEqual([])
}

/** The binary at `relative` (from the repository root), or a failure that says which devDependency brings it. */
function binary(relative: string, installedBy: string): string {
  const path = join(root, relative)
  if (!existsSync(path)) {
    throw new Error(
      `${relative} is missing: it comes from ${installedBy}, with its install script allowed in package.json "allowScripts". Run \`npm ci\`.`,
    )
  }
  return path
}

describe('runtime matrix: the smoke cases over the built package', () => {
  it('has named cases', () => {
    expect(expectedNames.length).toBeGreaterThanOrEqual(10)
    expect(new Set(expectedNames).size, 'case names must be unique').toBe(expectedNames.length)
  })

  it('the Node running the suite (24 here), in process', async () => {
    const report = await runCases(server.url)
    expect(report.runtime).toBe('node')
    expectAllPassed(`Node ${process.version}`, report)
  })

  it.each([
    ['22', 'the lowest supported version'],
    ['26', 'the newest LTS'],
  ])('Node %s, %s', async (major) => {
    const node = binary(
      `test/smoke/node${major}/node_modules/.bin/node`,
      `the devDependency "sluice-smoke-node${major}" (file:test/smoke/node${major}, which depends on node@${major})`,
    )
    const report = parseReport(`Node ${major}`, await run(node, [smokeScript, server.url]))
    expect(report.runtime).toBe('node')
    expect(report.version.split('.')[0]).toBe(major)
    expectAllPassed(`Node ${report.version}`, report)
  })

  it('Deno', async () => {
    const deno = binary('node_modules/.bin/deno', 'the devDependency "deno"')
    // manual: resolve bare specifiers from the existing node_modules; never install, never write deno.lock.
    const args = ['run', '-A', '--node-modules-dir=manual', '--no-lock', smokeScript, server.url]
    const report = parseReport(
      'Deno',
      await run(deno, args, { DENO_NO_UPDATE_CHECK: '1', DENO_NO_PROMPT: '1' }),
    )
    expect(report.runtime).toBe('deno')
    expectAllPassed(`Deno ${report.version}`, report)
  })

  it('Bun', async () => {
    const bun = binary('node_modules/.bin/bun', 'the devDependency "bun"')
    const report = parseReport('Bun', await run(bun, [smokeScript, server.url], { DO_NOT_TRACK: '1' }))
    expect(report.runtime).toBe('bun')
    expectAllPassed(`Bun ${report.version}`, report)
  })

  // 2024-11-10 is the last compatibility date whose Request refuses any `cache` ("not implemented"): a reconnect,
  // which sluice sends with `no-store` where the runtime takes it, must still be sent there.
  it.each(['2026-07-01', '2024-11-10'])(
    'workerd (miniflare, compatibility date %s), without Node globals',
    async (date) => {
      // platform 'browser' with the worker conditions: a `node:` import anywhere in what the core entry pulls in
      // fails the bundle ("Could not resolve"), and the metafile is checked as well.
      const bundle = await build({
        entryPoints: [join(root, 'test/smoke/worker.mjs')],
        bundle: true,
        format: 'esm',
        platform: 'browser',
        conditions: ['workerd', 'worker', 'browser'],
        target: 'es2023',
        write: false,
        metafile: true,
        logLevel: 'silent',
      })
      const inputs = Object.keys(bundle.metafile.inputs)
      expect(
        inputs.some((path) => path.endsWith('dist/index.js')),
        'the worker must bundle dist/index.js',
      ).toBe(true)
      const nodeImports = Object.values(bundle.metafile.inputs).flatMap((input) =>
        input.imports.filter((i) => i.path.startsWith('node:')).map((i) => i.path),
      )
      expect(nodeImports, 'node: imports in the worker bundle').toEqual([])

      const mf = new Miniflare({
        modules: true,
        script: bundle.outputFiles[0]!.text,
        compatibilityDate: date,
      })
      try {
        const response = await mf.dispatchFetch(`http://localhost/?server=${encodeURIComponent(server.url)}`)
        const text = await response.text()
        expect(response.status, `workerd answered ${response.status}: ${text.slice(0, 2000)}`).toBe(200)
        const report = JSON.parse(text) as SmokeReport
        expect(report.runtime).toBe('workerd')
        // Real isolation, unlike vitest's edge-runtime environment: no Node globals to lean on.
        expect(report.globals).toEqual({ process: 'undefined', Buffer: 'undefined' })
        expectAllPassed(`workerd (${date})`, report)
      } finally {
        await mf.dispose()
      }
    },
  )
})
