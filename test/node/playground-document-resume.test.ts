// The playground's document function paces its pieces (25 ms each) so that a page can watch it grow; a resume
// (Range: bytes=N-) must not wait again for the pieces before N, which streamBytes regenerates and skips.
import { afterAll, beforeAll, expect, it, vi } from 'vitest'
import { DOCUMENT_TEXT, documentPieces } from '../../playground/functions/data.ts'

const paced = vi.hoisted(() => ({ count: 0 }))
vi.mock('../../playground/functions/data.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../playground/functions/data.ts')>()
  return {
    ...original,
    sleep: async () => {
      paced.count++
    },
  }
})

const { startPlayground } = await import('../../playground/server.ts')
let playground: Awaited<ReturnType<typeof startPlayground>>
beforeAll(async () => {
  playground = await startPlayground({ port: 0, shaping: false, log: false })
})
afterAll(() => playground.close())

it('paces only the pieces past a resume’s Range start', async () => {
  const encoder = new TextEncoder()
  const pieces = documentPieces()
  const whole = encoder.encode(DOCUMENT_TEXT)
  // Start three quarters of the way in, at the end of a piece.
  let from = 0
  let k = 0
  while (from < (whole.length * 3) / 4) from += encoder.encode(pieces[k++]!).byteLength
  const url = new URL('/fn/document', playground.url)
  paced.count = 0
  const rest = await fetch(url, { headers: { range: `bytes=${from}-` } })
  expect(rest.status).toBe(206)
  expect(new Uint8Array(await rest.arrayBuffer())).toEqual(whole.subarray(from))
  expect(paced.count).toBe(pieces.length - k)
  paced.count = 0
  expect(await (await fetch(url)).text()).toBe(DOCUMENT_TEXT)
  expect(paced.count).toBe(pieces.length)
  // An If-Range that names another version gets the whole document, paced throughout.
  paced.count = 0
  const stale = await fetch(url, { headers: { range: `bytes=${from}-`, 'if-range': '"document-2025-v0"' } })
  expect(stale.status).toBe(200)
  expect(await stale.text()).toBe(DOCUMENT_TEXT)
  expect(paced.count).toBe(pieces.length)
})
