import { setupServer } from 'msw/node'
import { afterAll, beforeAll, expect, test, vi } from 'vitest'
import { sluice } from '../../src/index.ts'
import { streamHandler } from '../../src/mock/stream-handler.ts'
import { readUntilError } from '../support/streams.ts'

// A handler given to setupServer() stays across tests; msw 3's resetHandlers() resets the state it gathered.
const url = 'https://fn.test/reset'
const server = setupServer(
  streamHandler('GET', url, ({ attempt }) => [`#${attempt} `, 'rest'], {
    faults: (attempt) => (attempt === 1 ? { dropAfterBytes: 3 } : undefined),
  }),
)

beforeAll(() => {
  server.listen({ onUnhandledFrame: 'error' })
})
afterAll(() => {
  server.close()
})

test('resetHandlers() restarts the attempt count of a handler it keeps, so each test sees its first attempt', async () => {
  expect((await readUntilError(await fetch(url))).text).toBe('#1 ')
  expect(await readUntilError(await fetch(url))).toEqual({ text: '#2 rest', error: undefined })
  server.resetHandlers()
  const { text, error } = await readUntilError(await fetch(url))
  expect(text).toBe('#1 ')
  expect((error as TypeError).message).toBe('terminated')
})

// Parts given as they are serve every request, and a handler given to setupServer() serves every test: a generator
// read by one request is empty for the next, which got a 200 whose end marker proved that empty body complete.
test('parts that can be read only once serve one request; the next is told to pass a function, not sent nothing', async () => {
  async function* rows() {
    yield { n: 1 }
    yield { n: 2 }
  }
  const once = 'https://fn.test/once'
  server.use(streamHandler('GET', once, rows(), { format: 'ndjson', endMarker: true }))
  const first = await sluice(once)
  expect(await Array.fromAsync(first.ndjson())).toEqual([{ n: 1 }, { n: 2 }])
  const printed = vi.spyOn(console, 'error').mockImplementation(() => {})
  try {
    await expect(sluice(once, { retry: 0 })).rejects.toThrow(
      /pass a function that returns new parts per request, such as \(\) => rows\(\): its parts, an object \(AsyncGenerator\), can be read only once/,
    )
  } finally {
    printed.mockRestore()
  }
})

test('a HEAD reads none of such parts: the GET after it gets them whole', async () => {
  function* lines() {
    yield 'a\n'
    yield 'b\n'
  }
  const once = 'https://fn.test/once-head'
  server.use(streamHandler('ALL', once, lines(), { endMarker: true }))
  expect((await fetch(once, { method: 'HEAD' })).status).toBe(200)
  expect(await (await sluice(once)).collect.text()).toBe('a\nb\n')
})
