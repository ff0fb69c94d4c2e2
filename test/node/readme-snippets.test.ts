import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

// Every ```ts and ```tsx block of README.md is compiled against the current sources, so an example a user copies
// does not fail on a renamed option or a wrong type. A block is a module of its own. The names the examples use
// without defining them (the app around the example: `table`, `Row`, `url`…) are declared below, each with the
// shape the examples rely on; any other unknown name is an error.

const root = fileURLToPath(new URL('../../', import.meta.url))
const dir = `${root}node_modules/.cache/readme-snippets/`

const GLOBALS = `import type { z } from 'zod'
import type { ComponentType } from 'react'
import type { SetupServer } from 'msw/node'
import type { SluiceClient, StreamResponse } from 'sluice'

declare global {
  // Imported by the examples above them in README, so used without an import in later ones.
  const sluice: typeof import('sluice').sluice
  const createClient: typeof import('sluice').createClient
  const createStreamStore: typeof import('sluice').createStreamStore
  const useStreamStore: typeof import('sluice/react').useStreamStore
  const useCallback: typeof import('react').useCallback
  const ky: typeof import('ky').default
  // The app around the examples.
  const url: string
  const reportUrl: string
  const base: string
  const FUNCTION_URL: string
  const month: string
  const res: StreamResponse
  const api: SluiceClient
  const Row: z.ZodObject<{ id: z.ZodNumber; name: z.ZodString }>
  const Delta: z.ZodObject<{ text: z.ZodString }>
  const Summary: z.ZodObject<{ title: z.ZodString; total: z.ZodNumber }>
  const Doc: z.ZodObject<{ title: z.ZodString; body: z.ZodString }>
  const rows: readonly unknown[]
  const table: { append(row: unknown): void; render(rows: readonly unknown[], at: { firstRow: number; percent: number | undefined }): void }
  const output: { append(text: string): void }
  const bar: { update(percent: number): void }
  const banner: { show(error: unknown): void }
  const stopButton: HTMLButtonElement
  const retryButton: HTMLButtonElement
  const db: { insert(row: unknown): Promise<void> }
  const server: SetupServer
  function render(value: unknown): void
  function reportRows(month: string | undefined): AsyncIterable<unknown>
  function tokensAfter(lastEventId: string | undefined): AsyncIterable<{ id: string; data: string }>
  const Table: ComponentType<{ rows: readonly unknown[]; percent?: number | undefined }>
  const ErrorBanner: ComponentType<{ error: unknown; onRetry: () => void }>
  const Article: ComponentType<{ title: string | undefined; titleDone: boolean; body: string | undefined }>
}
`

interface Snippet {
  file: string
  line: number
}

function writeSnippets(): Snippet[] {
  const lines = readFileSync(`${root}README.md`, 'utf8').split('\n')
  const snippets: Snippet[] = []
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  for (let i = 0; i < lines.length; i++) {
    const lang = /^```(tsx?)\s*$/.exec(lines[i]!)?.[1]
    if (lang === undefined) continue
    const end = lines.indexOf('```', i + 1)
    const line = i + 2 // 1-based line of the block's first line of code
    const file = `readme-${line}.${lang}`
    // `export {}` makes every block a module, so top-level await compiles and names do not clash across blocks.
    writeFileSync(dir + file, `${lines.slice(i + 1, end).join('\n')}\nexport {}\n`)
    snippets.push({ file, line })
    i = end
  }
  writeFileSync(`${dir}globals.d.ts`, GLOBALS)
  // The function module an example imports.
  writeFileSync(`${dir}my-function.d.mts`, `export const handler: import('sluice/lambda').StreamingHandler\n`)
  const entry = (path: string) => [`../../../src/${path}`]
  writeFileSync(
    `${dir}tsconfig.json`,
    JSON.stringify({
      extends: '../../../tsconfig.base.json',
      compilerOptions: {
        types: ['node'],
        // The declarations above are checked too: a stand-in with a wrong type would otherwise pass as any.
        skipLibCheck: false,
        paths: {
          sluice: entry('index.ts'),
          'sluice/mock': entry('mock/index.ts'),
          'sluice/mock/stream': entry('mock/stream.ts'),
          'sluice/lambda': entry('lambda/index.ts'),
          'sluice/dev': entry('dev/index.ts'),
          'sluice/partial-json': entry('partial-json.ts'),
          'sluice/react': entry('react/index.ts'),
        },
      },
      include: ['.'],
    }),
  )
  return snippets
}

it("README's TypeScript examples compile against the current API", () => {
  const snippets = writeSnippets()
  expect(snippets.length).toBeGreaterThan(15)
  const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url))
  const run = spawnSync(process.execPath, [tsc, '--noEmit', '-p', `${dir}tsconfig.json`], {
    encoding: 'utf8',
  })
  // Errors in README's blocks, as README.md:line:column; errors elsewhere (src) as tsc prints them.
  const errors = run.stdout
    .split('\n')
    .filter((text) => text.trim() !== '' && !text.startsWith(' '))
    .map((text) => {
      const match = /readme-snippets\/readme-(\d+)\.tsx?\((\d+),(\d+)\): (.*)$/.exec(text)
      return match === null
        ? text
        : `README.md:${Number(match[1]) + Number(match[2]) - 1}:${match[3]}: ${match[4]}`
    })
  expect(errors).toEqual([])
  expect(run.status).toBe(0)
}, 60_000)
