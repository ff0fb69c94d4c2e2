import { describe, expect, it } from 'vitest'
import { awslambda } from '../../src/dev/index.ts'
import type { Invocation, InvocationOutcome } from '../../src/runtime/index.ts'
import { fixture, startEmulator } from '../support/emulator.ts'
import { endlessHandler } from '../support/endless-handler.ts'
import { runProcess } from '../support/run-process.ts'

const CLOSED = /^The emulator was closed with close\(\{ running: 'abort' \}\) while the function was running/

/** The invocations the server started, in order. */
function invocations() {
  const started: Invocation[] = []
  return { started, onInvocation: (invocation: Invocation) => void started.push(invocation) }
}

async function readChunks(
  response: Response,
  count: number,
): Promise<ReadableStreamDefaultReader<Uint8Array>> {
  const reader = response.body!.getReader()
  for (let i = 0; i < count; i++) await reader.read()
  return reader
}

describe("serve().close({ running: 'abort' }) stops the invocations still running", () => {
  it('fails a handler that pipes an endless source to a client that went away, and closes its source', async () => {
    const { handler, closed, piped } = endlessHandler()
    const { started, onInvocation } = invocations()
    const server = await startEmulator(handler, { onInvocation })
    const reader = await readChunks(await fetch(server.url), 3)
    await reader.cancel()
    await server.close({ running: 'abort' })
    await closed
    expect(await piped).toMatchObject({ message: expect.stringMatching(CLOSED) })
    const outcome: InvocationOutcome = await started[0]!.finished
    expect(outcome).toMatchObject({ state: 'failed', error: { message: expect.stringMatching(CLOSED) } })
  })

  it('fails the writes a handler waits on while its client has stopped reading', async () => {
    const { handler, closed, piped } = endlessHandler()
    const server = await startEmulator(handler)
    // Read a little, then nothing more: the handler's writes wait on backpressure.
    await readChunks(await fetch(server.url), 1)
    await server.close({ running: 'abort' })
    await closed
    expect(await piped).toMatchObject({ message: expect.stringMatching(CLOSED) })
  })

  it('stops a loop that awaits the callback of each write', async () => {
    let loop!: (error: unknown) => void
    const ended = new Promise<unknown>((resolve) => {
      loop = resolve
    })
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      try {
        for (;;) {
          await new Promise((resolve) => setTimeout(resolve, 1))
          await new Promise<void>((resolve, reject) =>
            responseStream.write('tick\n', (error) => (error ? reject(error) : resolve())),
          )
        }
      } catch (error) {
        loop(error)
      }
    })
    const server = await startEmulator(handler)
    const reader = await readChunks(await fetch(server.url), 2)
    await reader.cancel()
    await server.close({ running: 'abort' })
    expect(await ended).toMatchObject({ message: expect.stringMatching(CLOSED) })
  })

  it('stops, when called after a plain close(), the handlers that one left running', async () => {
    const { handler, closed, piped } = endlessHandler()
    const server = await startEmulator(handler)
    const reader = await readChunks(await fetch(server.url), 2)
    await reader.cancel()
    await server.close()
    await server.close({ running: 'abort' })
    await closed
    expect(await piped).toMatchObject({ message: expect.stringMatching(CLOSED) })
  })

  it('lets the process exit once the handler has stopped', async () => {
    const run = await runProcess(process.execPath, [fixture('endless-invocation.ts'), 'serve'], {
      timeoutMs: 30_000,
    })
    expect(run.stderr).toBe('')
    // The invocation fails first; its source closes once the failed write has reached the pipeline.
    expect(run.stdout.split('\n')).toEqual([
      expect.stringMatching(/^outcome: failed: The emulator was closed with close\(\{ running: 'abort' \}\)/),
      'source closed',
      '',
    ])
    expect(run.code).toBe(0)
  })
})

describe('serve().close() without running: abort', () => {
  it('lets a running handler finish, as a client that leaves does not stop it on AWS', async () => {
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      responseStream.write('first\n')
      await gate
      responseStream.end('last\n')
    })
    const { started, onInvocation } = invocations()
    const server = await startEmulator(handler, { onInvocation })
    await readChunks(await fetch(server.url), 1)
    await server.close({ running: 'finish' })
    release()
    expect(await started[0]!.finished).toEqual({ state: 'succeeded' })
  })

  it.each([
    [
      'an unknown running',
      { running: 'kill' },
      `server.close: running must be 'finish' or 'abort', got "kill".`,
    ],
    [
      'an unknown option',
      { runing: 'abort' },
      `server.close: unknown option 'runing'. Known options: running.`,
    ],
    ['options that are not an object', 'abort', `server.close: options must be an object, got "abort".`],
  ])('refuses %s with a TypeError, and stays open', async (_, options, message) => {
    const server = await startEmulator(async () => 'ok')
    await expect(server.close(options as never)).rejects.toThrow(new TypeError(message))
    expect((await fetch(server.url)).status).toBe(200)
  })
})
