// The Markdown documents link within themselves by a heading's anchor and to files of the repository: a heading
// renamed, or a file moved, would leave a link that goes nowhere, which nothing else notices.
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { root } from '../support/dist.ts'

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens, `-1`… for repeats. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>()
  const out = new Set<string>()
  for (const [, heading] of markdown.matchAll(/^#{1,6} (.+)$/gm)) {
    const slug = heading!
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/ /g, '-')
    const count = seen.get(slug) ?? 0
    seen.set(slug, count + 1)
    out.add(count === 0 ? slug : `${slug}-${count}`)
  }
  return out
}

describe.each(['README.md', 'CONTRIBUTING.md', 'playground/README.md', 'bench/history.md'])('%s', (file) => {
  // Code blocks are no Markdown: a `#` there is a comment, a `](…)` anything.
  const markdown = readFileSync(join(root, file), 'utf8').replace(/^```[\s\S]*?^```/gm, '')
  const links = [...markdown.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]!)

  it('links to headings it has', () => {
    const own = anchors(markdown)
    expect(links.filter((link) => link.startsWith('#') && !own.has(link.slice(1)))).toEqual([])
  })

  it('links to files the repository has', () => {
    const files = links.filter((link) => !/^[a-z]+:|^#/.test(link)).map((link) => link.split('#')[0]!)
    expect(files.filter((path) => !existsSync(join(root, dirname(file), path)))).toEqual([])
  })
})
