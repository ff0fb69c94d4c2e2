// The playground's `log` option reports the proxy's own failures too: a function it cannot reach (the page gets a
// 502) and a response that breaks off mid-body (the page sees a dropped connection), not only the emulators'.
import { afterAll, beforeAll, expect, it, vi } from 'vitest'
import type { DevServer } from '../../src/dev/index.ts'

const emulators = vi.hoisted(() => [] as DevServer[])
vi.mock('../../src/dev/index.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/dev/index.ts')>()
  return {
    ...original,
    serve: async (...args: Parameters<typeof original.serve>) => {
      const server = await original.serve(...args)
      emulators.push(server)
      return server
    },
  }
})
// The binary function breaks off after `after` bytes, or waits there for `held` to settle.
const breakBinary = vi.hoisted(() => ({
  after: Number.POSITIVE_INFINITY,
  held: undefined as Promise<void> | undefined,
}))
vi.mock('../../playground/functions/data.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../playground/functions/data.ts')>()
  return {
    ...original,
    async *binaryChunks(length: number) {
      let sent = 0
      for (const chunk of original.binaryChunks(length)) {
        if (sent >= breakBinary.after) {
          if (breakBinary.held === undefined) throw new Error('the disk went away')
          await breakBinary.held
        }
        sent += chunk.length
        yield chunk
      }
    },
  }
})

const { startPlayground, FUNCTIONS } = await import('../../playground/server.ts')
const lines: string[] = []
let playground: Awaited<ReturnType<typeof startPlayground>>
beforeAll(async () => {
  playground = await startPlayground({
    port: 0,
    shaping: false,
    pace: 0,
    binaryBytes: 4_000_000,
    log: (line) => lines.push(line),
  })
})
afterAll(() => playground.close())

it('logs a function it cannot reach, and answers 502', async () => {
  expect(emulators).toHaveLength(FUNCTIONS.length)
  await emulators[FUNCTIONS.indexOf('report')]!.close()
  lines.length = 0
  const res = await fetch(new URL('/fn/report?cursor=7', playground.url))
  expect(res.status).toBe(502)
  expect(await res.text()).toMatch(/^The playground could not reach the report function: .*ECONNREFUSED/)
  expect(lines).toEqual([
    expect.stringMatching(
      /^report: GET \/\?cursor=7 could not reach the function, answered 502: .*ECONNREFUSED/,
    ),
  ])
})

it('logs a response that breaks off mid-body', async () => {
  breakBinary.after = 1_000_000
  lines.length = 0
  const res = await fetch(new URL('/fn/binary', playground.url))
  expect(res.status).toBe(200)
  await expect(res.arrayBuffer()).rejects.toThrow()
  // The emulator logs the function's failure; the proxy says what the page saw.
  await vi.waitFor(() =>
    expect(lines).toContainEqual(
      expect.stringMatching(/^binary: GET \/ broke off mid-body, a dropped connection to the client: /),
    ),
  )
})

it('does not log a client that goes away, or a cut', async () => {
  // Each response waits after its first megabyte, so both are mid-body when they end.
  const hold = Promise.withResolvers<void>()
  breakBinary.held = hold.promise
  lines.length = 0
  const controller = new AbortController()
  const res = await fetch(new URL('/fn/binary', playground.url), { signal: controller.signal })
  const reader = res.body!.getReader()
  await reader.read()
  controller.abort()
  await reader.closed.catch(() => {})
  const cut = await fetch(new URL('/fn/binary', playground.url))
  const cutReader = cut.body!.getReader()
  await cutReader.read()
  cutReader.releaseLock()
  const answer = await fetch(new URL('/control/cut?name=binary', playground.url), { method: 'POST' })
  expect(await answer.json()).toEqual({ name: 'binary', cut: 1 })
  await expect(cut.body!.pipeTo(new WritableStream())).rejects.toThrow()
  hold.resolve()
  // A request after them, answered whole: anything those two made the proxy log is logged by then.
  expect(await (await fetch(new URL('/fn/document', playground.url))).json()).toHaveProperty('complete', true)
  expect(lines.filter((line) => !line.startsWith('document:'))).toEqual([])
})
