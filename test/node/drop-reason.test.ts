/**
 * A drop over a real connection says why the runtime dropped it: undici's `TypeError: terminated` keeps the
 * socket's own reason (`other side closed`) in its `cause`, which the message must not hide.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isNetworkError, isResumeError, sluice } from '../../src/index.ts'

const server = createServer((_req, res) => {
  // Announces 1000 bytes, sends 150, then destroys the socket: a connection cut mid-body.
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1000' })
  res.write(`${'x'.repeat(149)}\n`, () => setTimeout(() => res.socket?.destroy(), 20))
})
let base = ''

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

describe('a connection destroyed mid-body', () => {
  it('is a NetworkError whose message gives the innermost reason, with the runtime error as cause', async () => {
    const res = await sluice(`${base}/cut`, { resume: false })
    const lines: string[] = []
    let error: unknown
    try {
      for await (const line of res.lines()) lines.push(line)
    } catch (e) {
      error = e
    }
    expect(lines).toEqual(['x'.repeat(149)])
    expect(isNetworkError(error)).toBe(true)
    if (!isNetworkError(error)) return
    expect(error.message).toContain(
      `The connection to ${base}/cut dropped after 150 bytes of the body (terminated: other side closed)`,
    )
    expect(error.cause).toBeInstanceOf(TypeError)
    expect((error.cause as Error).message).toBe('terminated')
    expect(((error.cause as Error).cause as { code?: string }).code).toBe('UND_ERR_SOCKET')
  })

  it('a reconnect that cannot connect says why too (fetch failed: the system error, from its cause)', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const dead = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/gone`
    await new Promise<void>((resolve) => closed.close(() => resolve()))
    let calls = 0
    const res = await sluice(`${base}/cut`, {
      resume: {
        strategy: 'cursor',
        cursor: () => ({}),
        attempts: 1,
        backoff: { initial: 1, max: 1, jitter: 0 },
      },
      // The reconnect goes to a port where nothing listens.
      fetch: (input, init) => (calls++ === 0 ? fetch(input, init) : fetch(dead, init)),
    })
    let error: unknown
    try {
      for await (const _ of res.lines());
    } catch (e) {
      error = e
    }
    expect(isResumeError(error) && error.reason).toBe('attempts-exhausted')
    expect(error instanceof Error && error.message).toMatch(
      / failed \(fetch failed: connect ECONNREFUSED 127\.0\.0\.1:\d+\)\./,
    )
  })
})
