import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import type { Checkpoint } from '../index.ts'
import type { OutputMode } from './get-options.ts'

/**
 * What `sluice get` keeps beside a partial output file: the client's checkpoint and how many bytes of the
 * output file it accounts for. The output file may be longer (bytes written after the last save, before a
 * crash); a resume truncates it to `outputBytes` first.
 */
export interface SavedCheckpoint {
  version: 1
  /** The `--as` mode the output was written in: a resume must use the same. */
  as: OutputMode
  /** Bytes of the output file that correspond to `checkpoint`. */
  outputBytes: number
  checkpoint: Checkpoint
}

/**
 * Writes the checkpoint file atomically (a temporary file renamed over it), so that a crash leaves the old
 * checkpoint or the new one, never half of one.
 *
 * @example
 * saveCheckpointFile('report.bin.sluice-checkpoint.json', { version: 1, as: 'bytes', outputBytes, checkpoint })
 */
export function saveCheckpointFile(path: string, saved: SavedCheckpoint): void {
  const temporary = `${path}.${process.pid}.tmp`
  writeFileSync(temporary, `${JSON.stringify(saved, null, 2)}\n`)
  renameSync(temporary, path)
}

/**
 * Reads a checkpoint file; `undefined` when there is none. Throws an `Error` that says what is wrong with a
 * file that is not one.
 *
 * @example
 * const saved = loadCheckpointFile('report.bin.sluice-checkpoint.json')
 */
export function loadCheckpointFile(path: string): SavedCheckpoint | undefined {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return undefined
    throw error
  }
  let value: Partial<SavedCheckpoint>
  try {
    value = JSON.parse(text) as Partial<SavedCheckpoint>
  } catch {
    throw new Error(`The checkpoint file ${path} is not JSON; delete it and start the download again.`)
  }
  if (
    value?.version !== 1 ||
    typeof value.as !== 'string' ||
    typeof value.outputBytes !== 'number' ||
    !Number.isInteger(value.outputBytes) ||
    value.outputBytes < 0 ||
    typeof value.checkpoint !== 'object' ||
    value.checkpoint === null
  ) {
    throw new Error(
      `The checkpoint file ${path} was not written by this version of sluice get; delete it and start the download again.`,
    )
  }
  return value as SavedCheckpoint
}

/**
 * Deletes a checkpoint file and any temporary file left beside it by this process; a missing file is fine.
 *
 * @example
 * removeCheckpointFile('report.bin.sluice-checkpoint.json')
 */
export function removeCheckpointFile(path: string): void {
  rmSync(path, { force: true })
  rmSync(`${path}.${process.pid}.tmp`, { force: true })
}
