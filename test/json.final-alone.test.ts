/**
 * While only `final` is awaited, json() builds snapshots sparingly (nobody reads them); a loop that takes the
 * read over must still see the document as far as it was parsed, also after a failure.
 */
import { describe, expect, it } from 'vitest'
import { isParseError, sluice } from '../src/index.ts'
import { pacedBody } from './support/streams.ts'
import { withUncaught } from './support/uncaught.ts'

describe('json(): final awaited alone, then a loop', () => {
  it('a loop that takes over after a parse failure sees the document as parsed up to the failure', async () => {
    const parts = ['[1,2,3,', 5, '4,5,6,', 5, 'x]']
    const plain = await sluice('https://fn.example/doc', {
      fetch: (async () => new Response(pacedBody(parts).stream)) as typeof fetch,
      resume: false,
    })
    const seenByLoop: unknown[] = []
    await (async () => {
      for await (const s of plain.json()) seenByLoop.push(s)
    })().catch(() => {})
    expect(seenByLoop.at(-1)).toEqual([1, 2, 3, 4, 5, 6])

    const res = await sluice('https://fn.example/doc', {
      fetch: (async () => new Response(pacedBody(parts).stream)) as typeof fetch,
      resume: false,
    })
    const doc = res.json()
    await doc.final.catch(() => {})
    const seen: unknown[] = []
    const error = await (async () => {
      for await (const s of doc) seen.push(s)
    })().catch((e: unknown) => e)
    expect(isParseError(error)).toBe(true)
    expect(seen.at(-1)).toEqual([1, 2, 3, 4, 5, 6])
  })

  it("with a listener that fails at the error report, final rejects with the stream's own error, and so does the loop that takes over, after the snapshot before the failure", async () => {
    await withUncaught(async (thrown) => {
      const failure = new Error('the listener failed')
      const res = await sluice('https://fn.example/doc', {
        fetch: (async () =>
          new Response(pacedBody(['[1,2,3,', 5, '4,5,6,', 5, 'x]']).stream)) as typeof fetch,
        resume: false,
        onProgress: async (p) => {
          if (p.state === 'error') throw failure
        },
      })
      const doc = res.json()
      expect(isParseError(await doc.final.catch((e: unknown) => e))).toBe(true)
      const seen: unknown[] = []
      const error = await (async () => {
        for await (const s of doc) seen.push(s)
      })().catch((e: unknown) => e)
      expect(isParseError(error)).toBe(true)
      expect(seen.at(-1)).toEqual([1, 2, 3, 4, 5, 6])
      expect(res.progress.state).toBe('error')
      // The listener's own failure is not lost: it is thrown on its own, as uncaught.
      expect(thrown).toEqual([failure])
    })
  })
})
