import { readFileSync } from 'node:fs'

const readme = new URL('../../README.md', import.meta.url)

/** README's ```ts blocks, as written. */
export function readmeBlocks(): string[] {
  const blocks: string[] = []
  let block: string[] | undefined
  for (const line of readFileSync(readme, 'utf8').split('\n')) {
    if (block === undefined) {
      if (line === '```ts') block = []
    } else if (line === '```') {
      blocks.push(block.join('\n'))
      block = undefined
    } else block.push(line)
  }
  return blocks
}

/** The one README block whose code starts with `start` (comment lines aside). */
export function readmeBlock(start: string): string {
  const found = readmeBlocks().filter((code) => code.replace(/^(\/\/.*\n)+/, '').startsWith(start))
  if (found.length !== 1) throw new Error(`README has ${found.length} \`\`\`ts blocks starting with ${start}`)
  return found[0]!
}
