import { readFile } from 'node:fs/promises'

/**
 * The version of the installed sluice package, from the nearest `package.json` named `sluice` above this module:
 * `src/cli/` in the repository, `dist/` in the package.
 *
 * @example
 * process.stdout.write(`${await packageVersion()}\n`) // 0.1.0
 */
export async function packageVersion(): Promise<string> {
  for (let dir = new URL('./', import.meta.url); ; dir = new URL('../', dir)) {
    const found = await readFile(new URL('package.json', dir), 'utf8').then(
      (text) => JSON.parse(text) as { name?: unknown; version?: unknown },
      () => undefined,
    )
    if (found?.name === 'sluice' && typeof found.version === 'string') return found.version
    if (new URL('../', dir).href === dir.href) throw new Error('sluice: its package.json was not found.')
  }
}
