import { type ChildProcess, spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  loadCheckpointFile,
  removeCheckpointFile,
  type SavedRestart,
  saveCheckpointFile,
} from '../../src/cli/checkpoint-file.ts'
import { cliServer } from '../support/cli-process.ts'

// A kill -9 between the write of a checkpoint's temporary file and its rename leaves `<checkpoint>.<pid>.tmp`
// beside it: the next run that reads or writes that checkpoint removes those of processes no longer running.

const BODY = 'the whole body\n'

function handle(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': String(BODY.length),
    'accept-ranges': 'bytes',
    etag: '"v1"',
  })
  res.end(BODY)
}

const site = cliServer(handle, 'sluice-get-checkpoint-file-')

/** The id of a process that ran and exited (and was reaped): no process has it, barring its reuse since. */
let dead: number
/** A process that runs for the whole file: its temporary file may be about to be renamed. */
let alive: ChildProcess

beforeAll(async () => {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
  await new Promise((resolve) => child.once('exit', resolve))
  dead = child.pid!
  alive = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120_000)'], { stdio: 'ignore' })
  await new Promise((resolve) => alive.once('spawn', resolve))
})

afterAll(() => {
  alive.kill('SIGKILL')
})

/** Makes a directory with the leftovers of a dead and a live process beside `checkpoint.json`, and others. */
async function leftovers(name: string) {
  const dir = join(site.dir, name)
  await mkdir(dir)
  const checkpoint = join(dir, 'out.bin.sluice-checkpoint.json')
  const of = (pid: number | string) => `out.bin.sluice-checkpoint.json.${pid}.tmp`
  const files = {
    dead: of(dead),
    alive: of(alive.pid!),
    // Not the temporary file of a process, or not of this checkpoint: never touched.
    notAPid: of('x1'),
    other: `other.json.${dead}.tmp`,
  }
  for (const file of Object.values(files)) await writeFile(join(dir, file), '{"version":1,"as":"by')
  return { dir, checkpoint, output: join(dir, 'out.bin'), files, left: () => readdirSync(dir).sort() }
}

const RESTART: SavedRestart = { version: 1, as: 'bytes', restart: true, why: 'it stopped' }

describe('checkpoint files left by a process killed between writing and renaming', () => {
  it('are removed when the checkpoint is read, when that of a process no longer running', async () => {
    const { checkpoint, files, left } = await leftovers('read')
    expect(loadCheckpointFile(checkpoint)).toBeUndefined()
    expect(left()).toEqual([files.alive, files.notAPid, files.other].sort())
  })

  it('are removed at the first save of the checkpoint, and when it is removed', async () => {
    const saved = await leftovers('save')
    saveCheckpointFile(saved.checkpoint, RESTART)
    expect(saved.left()).toEqual(
      [saved.files.alive, saved.files.notAPid, saved.files.other, 'out.bin.sluice-checkpoint.json'].sort(),
    )
    expect(loadCheckpointFile(saved.checkpoint)).toEqual(RESTART)

    const removed = await leftovers('remove')
    removeCheckpointFile(removed.checkpoint)
    expect(removed.left()).toEqual([removed.files.alive, removed.files.notAPid, removed.files.other].sort())
  })

  it('are removed by the next sluice get into that file, which leaves those of running processes', async () => {
    const { output, files, left } = await leftovers('cli')
    const done = await site.runs.get([`${site.base}/body`, '-o', output, '-q']).exit
    expect(done.code, done.stderr).toBe(0)
    expect(await readFile(output, 'utf8')).toBe(BODY)
    expect(left()).toEqual([files.alive, files.notAPid, files.other, 'out.bin'].sort())
  })

  it('are removed by a sluice get --resume that only reads the checkpoint, refused as a usage error', async () => {
    const { checkpoint, output, files, left } = await leftovers('cli-read')
    await writeFile(output, 'the ')
    const saved = { version: 1, as: 'lines', outputBytes: 4, checkpoint: {} }
    await writeFile(checkpoint, JSON.stringify(saved))
    const refused = await site.runs.get([`${site.base}/body`, '-o', output, '--resume', '-q']).exit
    expect(refused.code, refused.stderr).toBe(2)
    expect(refused.stderr).toMatch(/^sluice: the download in \S+ was started with --as lines;/)
    expect(left()).toEqual(
      [files.alive, files.notAPid, files.other, 'out.bin', 'out.bin.sluice-checkpoint.json'].sort(),
    )
  })
})

describe('saving a checkpoint file', () => {
  it('keeps the last checkpoint whole when the new one cannot be written', async () => {
    const dir = join(site.dir, 'atomic')
    await mkdir(dir)
    const checkpoint = join(dir, 'out.bin.sluice-checkpoint.json')
    saveCheckpointFile(checkpoint, RESTART)
    // The new checkpoint goes to a temporary file first: here it cannot be written, as a directory has its name.
    await mkdir(`${checkpoint}.${process.pid}.tmp`)
    expect(() => saveCheckpointFile(checkpoint, { ...RESTART, why: 'a newer stop' })).toThrow(/EISDIR/)
    expect(loadCheckpointFile(checkpoint)).toEqual(RESTART)
  })

  it('writes over no file a link planted at its temporary name points to', async () => {
    const dir = join(site.dir, 'planted')
    await mkdir(dir)
    const victim = join(dir, 'notes.txt')
    await writeFile(victim, 'mine\n')
    const checkpoint = join(dir, 'out.bin.sluice-checkpoint.json')
    await symlink(victim, `${checkpoint}.${process.pid}.tmp`)
    saveCheckpointFile(checkpoint, RESTART)
    expect(await readFile(victim, 'utf8')).toBe('mine\n')
    expect(loadCheckpointFile(checkpoint)).toEqual(RESTART)
  })
})
