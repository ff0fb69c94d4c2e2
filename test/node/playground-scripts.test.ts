import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ANSWER_TEXT, REPORT_ROWS, reportRow } from '../../playground/functions/data.ts'
import { type Playground, startPlayground } from '../../playground/server.ts'
import { runProcess, startProcess } from '../support/run-process.ts'

// The Node script examples beside the playground, run as a user runs them: a separate process, against the
// playground's functions.
const script = (name: string) => fileURLToPath(new URL(`../../playground/node/${name}`, import.meta.url))

const run = (args: string[]) => runProcess(process.execPath, args)

describe('the Node script examples', () => {
  let playground: Playground
  let dir: string
  beforeAll(async () => {
    playground = await startPlayground({ port: 0, pace: 0, binaryBytes: 1_000_000, log: false })
    dir = await mkdtemp(join(tmpdir(), 'sluice-scripts-'))
  })
  afterAll(async () => {
    await playground.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('report-to-file writes the whole report, with progress on standard error', async () => {
    const out = join(dir, 'report.ndjson')
    const result = await run([script('report-to-file.ts'), `${playground.url}fn/report`, '--out', out])
    expect(result.code).toBe(0)
    const lines = (await readFile(out, 'utf8')).trimEnd().split('\n')
    expect(lines).toHaveLength(REPORT_ROWS)
    expect(JSON.parse(lines.at(-1)!)).toEqual(reportRow(REPORT_ROWS))
    expect(result.stderr).toMatch(/MiB/)
  }, 60_000)

  it('tokens ends quietly with status 0 when the reader of its output goes away (| head)', async () => {
    const paced = await startPlayground({ port: 0, pace: 1, binaryBytes: 1_000, log: false })
    try {
      const started = startProcess(process.execPath, [script('tokens.ts'), `${paced.url}fn/tokens`])
      // Close the pipe once the first tokens are out, as `head -c` does: the next write fails with EPIPE.
      started.child.stdout!.once('data', () => started.child.stdout!.destroy())
      const result = await started.exit
      expect(result.stderr).not.toMatch(/EPIPE|Error/)
      expect(result.code).toBe(0)
    } finally {
      await paced.close()
    }
  }, 60_000)

  it('tokens prints the answer as it streams', async () => {
    const result = await run([script('tokens.ts'), `${playground.url}fn/tokens`])
    expect(result.code).toBe(0)
    expect(result.stdout.trimEnd()).toBe(ANSWER_TEXT)
  }, 60_000)
})

describe('npm run playground', () => {
  it('takes an empty PORT for no PORT: the usual port, not any free one', async () => {
    const server = fileURLToPath(new URL('../../playground/server.ts', import.meta.url))
    const started = startProcess(process.execPath, [server], {
      env: { ...process.env, PORT: '', NO_COLOR: '1' },
      timeoutMs: 60_000,
    })
    const opened = () => /open (\S+)/.exec(started.stdout())?.[1]
    try {
      const exited = started.exit.then(() => {})
      while (opened() === undefined && started.child.exitCode === null) {
        await Promise.race([new Promise((resolve) => started.child.stdout!.once('data', resolve)), exited])
      }
    } finally {
      started.child.kill('SIGTERM')
    }
    const { stderr } = await started.exit
    const url = opened()
    // 5173, unless something else holds it: then it says so and falls back to a free port.
    if (!/port 5173 is taken/.test(stderr)) expect(url).toBe('http://127.0.0.1:5173/')
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
  }, 60_000)
})
