import {
  closeSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { basename, dirname, join } from 'node:path'
import type { Checkpoint } from '../index.ts'
import type { OutputMode } from './get-options.ts'

/**
 * What `sluice get` keeps beside a partial output file that it can continue: the client's checkpoint and how
 * many bytes of the output file it accounts for. The output file may be longer (bytes written after the last
 * save, before a crash); a resume truncates it to `outputBytes` first.
 */
export interface SavedCheckpoint {
  version: 1
  /** The `--as` mode the output was written in: a resume must use the same. */
  as: OutputMode
  /**
   * The URL and method of the command line that started the download, so that a resume with others is refused
   * before any request (the checkpoint's own URL is the response's, after redirects). Absent in older files.
   */
  url?: string
  method?: string
  /** Bytes of the output file that correspond to `checkpoint`. */
  outputBytes: number
  /**
   * The last bytes of the output file before `outputBytes` (up to 64, base64), which a resume checks: a file
   * that another program wrote since is refused, not cut and continued. Absent in older files.
   */
  tail?: string
  checkpoint: Checkpoint
}

/**
 * What `sluice get` keeps beside a partial output file that it cannot continue: the file is incomplete, and the
 * next run — with `--resume` too — starts over. Written when a download into a file starts, replaced by a
 * {@link SavedCheckpoint} as soon as there is one, and kept when the download stops without one.
 */
export interface SavedRestart {
  version: 1
  as: OutputMode
  restart: true
  /** Why the download cannot be continued, in a few words, for the next run's note and for people. */
  why: string
}

/** The file beside an unfinished download: a checkpoint to continue from, or word that it starts over. */
export type SavedDownload = SavedCheckpoint | SavedRestart

/**
 * Writes the checkpoint file atomically (a temporary file renamed over it), so that a crash leaves the old
 * checkpoint or the new one, never half of one. The first save to a path in a process also removes the
 * temporary files that processes no longer running left beside it.
 *
 * @example
 * saveCheckpointFile('report.bin.sluice-checkpoint.json', { version: 1, as: 'bytes', outputBytes, checkpoint })
 */
export function saveCheckpointFile(path: string, saved: SavedDownload): void {
  if (!swept.has(path)) {
    swept.add(path)
    removeLeftovers(path)
  }
  const temporary = `${path}.${process.pid}.tmp`
  // Created anew ('wx' follows no link): in a directory others can write to, a link planted at this predictable
  // name would otherwise have the checkpoint written over the file it points to.
  rmSync(temporary, { force: true })
  writeFileSync(temporary, `${JSON.stringify(saved, null, 2)}\n`, { flag: 'wx' })
  renameSync(temporary, path)
}

/**
 * Reads a checkpoint file; `undefined` when there is none. Throws an `Error` that says what is wrong with a
 * file that is not one. Removes the temporary files that processes no longer running left beside it first.
 *
 * @example
 * const saved = loadCheckpointFile('report.bin.sluice-checkpoint.json')
 */
export function loadCheckpointFile(path: string): SavedDownload | undefined {
  removeLeftovers(path)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return undefined
    throw error
  }
  let value: Partial<SavedCheckpoint & SavedRestart>
  try {
    value = JSON.parse(text) as Partial<SavedCheckpoint & SavedRestart>
  } catch {
    throw new Error(`The checkpoint file ${path} is not JSON; delete it and start the download again.`)
  }
  const notOurs = (): Error =>
    new Error(
      `The checkpoint file ${path} was not written by this version of sluice get; delete it and start the download again.`,
    )
  if (value?.version !== 1 || typeof value.as !== 'string') throw notOurs()
  if (value.restart === true) {
    return { version: 1, as: value.as, restart: true, why: typeof value.why === 'string' ? value.why : '' }
  }
  if (
    typeof value.outputBytes !== 'number' ||
    !Number.isInteger(value.outputBytes) ||
    value.outputBytes < 0 ||
    typeof value.checkpoint !== 'object' ||
    value.checkpoint === null ||
    (value.url !== undefined && typeof value.url !== 'string') ||
    (value.tail !== undefined && typeof value.tail !== 'string') ||
    (value.method !== undefined && typeof value.method !== 'string')
  ) {
    throw notOurs()
  }
  return value as SavedCheckpoint
}

/** How many bytes of the output file a checkpoint keeps, to tell the file it was saved for. */
const TAIL_BYTES = 64

/**
 * The last bytes of the output file before `end` (up to 64), in base64, as a {@link SavedCheckpoint} keeps them;
 * `undefined` when there are none or they cannot be read.
 *
 * @example
 * if (outputTail('report.bin', saved.outputBytes) !== saved.tail) throw new Error('report.bin was changed.')
 */
export function outputTail(path: string, end: number): string | undefined {
  const length = Math.min(TAIL_BYTES, end)
  if (length <= 0) return undefined
  let fd: number | undefined
  try {
    fd = openSync(path, 'r')
    const bytes = Buffer.alloc(length)
    return readSync(fd, bytes, 0, length, end - length) === length ? bytes.toString('base64') : undefined
  } catch {
    return undefined
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

/**
 * Deletes a checkpoint file, any temporary file left beside it by this process, and those of processes no longer
 * running; a missing file is fine.
 *
 * @example
 * removeCheckpointFile('report.bin.sluice-checkpoint.json')
 */
export function removeCheckpointFile(path: string): void {
  rmSync(path, { force: true })
  rmSync(`${path}.${process.pid}.tmp`, { force: true })
  removeLeftovers(path)
}

/** The checkpoint paths this process has saved to, and so cleared of leftovers already. */
const swept = new Set<string>()

/**
 * Removes the temporary files `<path>.<pid>.tmp` that a process killed between writing one and renaming it
 * (kill -9, a crash) left beside the checkpoint at `path`: those whose process is no longer running. A running
 * process's may be about to be renamed, and is left alone, as is this process's own; so is any file that cannot
 * be removed, as the download does not depend on it.
 */
function removeLeftovers(path: string): void {
  const directory = dirname(path)
  const prefix = `${basename(path)}.`
  let names: string[]
  try {
    names = readdirSync(directory)
  } catch {
    return
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue
    const id = name.slice(prefix.length, -'.tmp'.length)
    const pid = /^[1-9]\d{0,9}$/.test(id) ? Number(id) : 0
    if (pid === 0 || pid > 2 ** 31 - 1 || pid === process.pid || isRunning(pid)) continue
    try {
      rmSync(join(directory, name), { force: true })
    } catch {
      // Left for a later run: the download does not depend on it.
    }
  }
}

/** Whether a process with this id is running (or cannot be told not to be: one of another user's is). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as { code?: unknown }).code !== 'ESRCH'
  }
}
