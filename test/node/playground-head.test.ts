// A HEAD on the playground's binary function gets the head a GET gets, without the function making the file: its
// body would be dropped, and the emulator sends a HEAD's head only once the function has ended.
import { afterAll, beforeAll, expect, it, vi } from 'vitest'

const made = vi.hoisted(() => ({ files: 0 }))
vi.mock('../../playground/functions/data.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../playground/functions/data.ts')>()
  return {
    ...original,
    // Counted when the file starts to be made (a generator runs at its first pull), not when the handler asks for it.
    binaryChunks: function* (length: number) {
      made.files++
      yield* original.binaryChunks(length)
    },
  }
})

const { startPlayground } = await import('../../playground/server.ts')
let playground: Awaited<ReturnType<typeof startPlayground>>
beforeAll(async () => {
  playground = await startPlayground({ port: 0, binaryBytes: 3_000_000, log: false })
})
afterAll(() => playground.close())

/** The end-to-end headers that describe the body (not the date, the request id or the framing). */
const described = (headers: Headers) =>
  Object.fromEntries(
    [...headers].filter(
      ([name]) =>
        !['date', 'x-amzn-requestid', 'connection', 'keep-alive', 'transfer-encoding'].includes(name),
    ),
  )

it('answers HEAD with the head of a GET, without making the file', async () => {
  const url = new URL('/fn/binary', playground.url)
  made.files = 0
  const head = await fetch(url, { method: 'HEAD' })
  expect(head.status).toBe(200)
  expect(made.files).toBe(0)
  const get = await fetch(url)
  expect(made.files).toBe(1)
  expect(described(head.headers)).toEqual(described(get.headers))
  expect(described(head.headers)).toMatchObject({
    'x-amzn-remapped-content-length': '3000000',
    'accept-ranges': 'bytes',
    etag: '"binary-3000000-v1"',
  })
  await get.body!.cancel()
  // A HEAD is never answered by range: one that asks for one gets the same head.
  const ranged = await fetch(url, { method: 'HEAD', headers: { range: 'bytes=100-' } })
  expect([ranged.status, described(ranged.headers)]).toEqual([200, described(head.headers)])
  expect(made.files).toBe(1)
})
