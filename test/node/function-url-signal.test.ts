import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { awslambda } from '../../src/dev/index.ts'
import { functionUrl } from '../../src/mock/index.ts'
import type { Invocation } from '../../src/runtime/index.ts'
import { fixture } from '../support/emulator.ts'
import { endlessHandler } from '../support/endless-handler.ts'
import { runProcess } from '../support/run-process.ts'

const base = 'https://abc123.lambda-url.eu-west-1.on.aws/'
const server = setupServer()
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }))
afterEach(() => server.resetHandlers())
afterAll(() => server.close())

const ABORTED = /^functionUrl's signal was aborted while the function was running/

describe("functionUrl's signal stops the invocations still running", () => {
  it('fails a handler that pipes an endless source to a client that went away, and closes its source', async () => {
    const { handler, closed, piped } = endlessHandler()
    const stop = new AbortController()
    const started: Invocation[] = []
    server.use(functionUrl(base, handler, { signal: stop.signal, onInvocation: (i) => void started.push(i) }))
    const reader = (await fetch(base)).body!.getReader()
    for (let i = 0; i < 3; i++) await reader.read()
    await reader.cancel()
    const reason = new Error('the test is over')
    stop.abort(reason)
    await closed
    expect(await piped).toMatchObject({ message: expect.stringMatching(ABORTED), cause: reason })
    expect(await started[0]!.finished).toMatchObject({
      state: 'failed',
      error: { message: expect.stringMatching(ABORTED) },
    })
  })

  it('fails the body of a client still reading, and the writes its handler waits on', async () => {
    const { handler, closed, piped } = endlessHandler()
    const stop = new AbortController()
    server.use(functionUrl(base, handler, { signal: stop.signal }))
    const reader = (await fetch(base)).body!.getReader()
    await reader.read()
    stop.abort()
    await closed
    expect(await piped).toMatchObject({ message: expect.stringMatching(ABORTED) })
    const read = async () => {
      for (;;) if ((await reader.read()).done) return 'ended'
    }
    await expect(read()).rejects.toThrow(TypeError)
  })

  it('answers the requests that come after it with a network error, without invoking the function', async () => {
    let invoked = 0
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      invoked++
      responseStream.end('ok')
    })
    const stop = new AbortController()
    server.use(functionUrl(base, handler, { signal: stop.signal }))
    expect(await (await fetch(base)).text()).toBe('ok')
    stop.abort()
    await expect(fetch(base)).rejects.toThrow(TypeError)
    expect(invoked).toBe(1)
  })

  it('lets the process exit once the handler has stopped', async () => {
    const run = await runProcess(process.execPath, [fixture('endless-invocation.ts'), 'functionUrl'], {
      timeoutMs: 30_000,
    })
    expect(run.stderr).toBe('')
    expect(run.stdout.split('\n')).toEqual([
      expect.stringMatching(/^outcome: failed: functionUrl's signal was aborted/),
      'source closed',
      '',
    ])
    expect(run.code).toBe(0)
  })

  it('refuses a signal that is not an AbortSignal', () => {
    expect(() => functionUrl(base, async () => 'ok', { signal: 'stop' as never })).toThrow(
      new TypeError('functionUrl: signal must be an AbortSignal, got "stop".'),
    )
  })
})

describe('functionUrl without a signal', () => {
  it('lets a handler run on after its client went away, as on AWS', async () => {
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      responseStream.write('first\n')
      await gate
      responseStream.end('last\n')
    })
    const started: Invocation[] = []
    server.use(functionUrl(base, handler, { onInvocation: (i) => void started.push(i) }))
    const reader = (await fetch(base)).body!.getReader()
    await reader.read()
    await reader.cancel()
    release()
    expect(await started[0]!.finished).toEqual({ state: 'succeeded' })
  })
})
