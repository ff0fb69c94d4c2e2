import { setupServer } from 'msw/node'
import { afterAll, beforeAll, expect, test } from 'vitest'
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
