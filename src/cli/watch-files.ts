import { createHash } from 'node:crypto'
import { type FSWatcher, readFileSync, watch } from 'node:fs'
import { basename, dirname, join } from 'node:path'

/** How long a burst of changes may last and still count as one (an editor's save, a formatter after it), in ms. */
const SETTLE_MS = 100

/**
 * Watches files through their directories, and calls `changed` with the files whose content changed once changes
 * have stopped coming for a moment. A directory's watch sees a file saved by replacing it (a new file renamed over
 * it, as `sed -i` and editors' "safe write" save) as well as one written in place; a watch of the file itself
 * follows the replaced file, and misses every later save. A file is compared with its content when it was first
 * watched, or at the last `rebase`: a save that changes nothing (a `touch`, the same text written again) is none.
 * `set` changes which files are watched; `close` stops watching.
 *
 * @example
 * const files = watchFiles((changed) => console.log(`${changed.join(', ')} changed`))
 * files.set(['/app/handler.mjs', '/app/lib/answer.mjs'])
 */
export function watchFiles(changed: (files: string[]) => void): {
  set(files: Iterable<string>): void
  /** Takes the files' content as it is now for the content they are compared with (a server starts, loading it). */
  rebase(): void
  /** Whether any directory is watched: none could be (all missing), and no change will ever come. */
  watching(): boolean
  close(): void
} {
  // Directory → the names watched in it.
  const names = new Map<string, Set<string>>()
  const watchers = new Map<string, FSWatcher>()
  const pending = new Set<string>()
  // File → a digest of its content as last based, undefined for a file that was not there.
  const based = new Map<string, string | undefined>()
  let timer: ReturnType<typeof setTimeout> | undefined
  const seen = (dir: string, name: string | null): void => {
    const wanted = names.get(dir)
    // Without a name (some platforms), any change in the directory may be one of them.
    if (wanted === undefined || (name !== null && !wanted.has(name))) return
    pending.add(name === null ? dir : join(dir, name))
    clearTimeout(timer)
    timer = setTimeout(() => {
      // A directory (no name) is not a file watched: kept.
      const files = [...pending].filter((file) => !based.has(file) || digest(file) !== based.get(file))
      pending.clear()
      if (files.length > 0) changed(files)
    }, SETTLE_MS)
  }
  const unwatch = (dir: string): void => {
    watchers.get(dir)?.close()
    watchers.delete(dir)
  }
  return {
    set(files) {
      names.clear()
      const previous = new Map(based)
      based.clear()
      for (const file of files) {
        based.set(file, previous.has(file) ? previous.get(file) : digest(file))
        const dir = dirname(file)
        const inDir = names.get(dir) ?? new Set<string>()
        inDir.add(basename(file))
        names.set(dir, inDir)
      }
      for (const dir of watchers.keys()) if (!names.has(dir)) unwatch(dir)
      for (const dir of names.keys()) {
        if (watchers.has(dir)) continue
        try {
          // Persistent: while the server is down, waiting for a fix, the watch alone keeps this process alive.
          const watcher = watch(dir, (_, name) => seen(dir, name))
          // A directory removed, or one this process may not read: nothing more to see there.
          watcher.on('error', () => unwatch(dir))
          watchers.set(dir, watcher)
        } catch {
          // A directory that is not there (a handler path that names none) has no changes to see.
        }
      }
    },
    rebase() {
      for (const file of based.keys()) based.set(file, digest(file))
    },
    watching: () => watchers.size > 0,
    close() {
      clearTimeout(timer)
      for (const dir of [...watchers.keys()]) unwatch(dir)
    },
  }
}

/** A digest of the file's content, or `undefined` when it cannot be read (not there). */
function digest(file: string): string | undefined {
  try {
    return createHash('sha1').update(readFileSync(file)).digest('base64')
  } catch {
    return undefined
  }
}
