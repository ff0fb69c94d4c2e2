/**
 * An app passes one long-lived AbortSignal to every request. Node 22's `AbortSignal.any()` keeps memory for each
 * call that combined that signal alive for as long as the signal lives (nodejs/node#55351: a FinalizationRegistry
 * cell targeting the signal, about 380 bytes a request in all here), so sluice must never give it to
 * `AbortSignal.any()`, nor let ky do so: it follows the app's signal with a listener of its own (linkSignals),
 * removed when the stream settles. test/fixtures/long-lived-signal.ts runs thousands of requests under the Node 22
 * binary of the devDependency `sluice-smoke-node22`, ended each of the usual ways (read to the end, a break with a
 * total timeout, through a client with a default signal beside the call's, through a ky instance with a signal,
 * an HTTP error), and counts what Node holds for the signal: the FinalizationRegistry cells a heap snapshot finds
 * targeting it (one per `AbortSignal.any()` call given it: 3 360 for these 2 400 requests before sluice had its
 * own linker), the calls, and the listeners left.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { root } from '../support/dist.ts'
import { runProcess } from '../support/run-process.ts'

// Through the devDependency's link in node_modules: where test/smoke/node22 has its own node_modules.
const NODE_22 = 'node_modules/sluice-smoke-node22/node_modules/.bin/node'
const REQUESTS = 2_000

interface Report {
  version: string
  /** Calls of `AbortSignal.any()` given the app's signal. */
  combined: number
  /** FinalizationRegistry cells in the heap whose target is the app's signal (what Node 22 keeps). */
  cells: number
  /** Node's entries on the app's signal for the signals `AbortSignal.any()` made from it. */
  dependants: number
  listeners: number
  heap: number[]
}

async function runUnderNode22(requests: number): Promise<Report> {
  const node = join(root, NODE_22)
  if (!existsSync(node)) {
    throw new Error(
      `${NODE_22} is missing: it comes from the devDependency "sluice-smoke-node22" (file:test/smoke/node22, which depends on node@22), with its install script allowed in package.json "allowScripts". Run \`npm ci\`.`,
    )
  }
  const script = join(root, 'test/fixtures/long-lived-signal.ts')
  const result = await runProcess(node, ['--expose-gc', script, String(requests)], {
    cwd: root,
    timeoutMs: 120_000,
  })
  const line = result.stdout.split('\n').find((l) => l.startsWith('LONG-LIVED-SIGNAL '))
  if (line === undefined) {
    throw new Error(
      `Node 22 printed no report running ${script} (exit ${result.code ?? result.signal}).\nstdout:\n${result.stdout.slice(-2000)}\nstderr:\n${result.stderr.slice(-4000)}`,
    )
  }
  return JSON.parse(line.slice('LONG-LIVED-SIGNAL '.length)) as Report
}

describe('one long-lived signal passed to thousands of requests, under Node 22', () => {
  let report: Report
  beforeAll(async () => {
    report = await runUnderNode22(REQUESTS)
  }, 150_000)

  it('runs under Node 22', () => {
    expect(report.version.split('.')[0]).toBe('22')
  })

  it('keeps nothing in the heap for the requests on the signal (no FinalizationRegistry cell targets it)', () => {
    expect(report.cells).toBe(0)
  })

  it('never gives the signal to AbortSignal.any(), whose memory Node 22 would keep with it', () => {
    expect(report.combined).toBe(0)
    expect(report.dependants).toBe(0)
  })

  it('leaves no listener on the signal', () => {
    expect(report.listeners).toBe(0)
  })
})
