import type { ChildProcess } from 'node:child_process'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import type { Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { awslambda, type InvocationOutcome } from '../../src/dev/index.ts'
import { drain, startEmulator } from '../support/emulator.ts'
import { startProcess } from '../support/run-process.ts'

// An error that escapes a handler reaches every `unhandledRejection` / `uncaughtException` listener of the process,
// the test runner's too, which would fail the run: the errors are raised for real in a `sluice dev` child process.
const cli = fileURLToPath(new URL('../../src/cli/index.ts', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'sluice-dev-crash-'))
const children: ChildProcess[] = []

afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGTERM')
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

// One handler module, a route per way of escaping; `never` keeps an invocation running until it is failed.
writeFileSync(
  join(dir, 'escaping-handler.mjs'),
  `const never = new Promise(() => {})
export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  switch (event.rawPath) {
    case '/reject':
      Promise.reject(new Error('the cache rejected'))
      await never
      break
    case '/throw-after-first-byte':
      responseStream.write('partial')
      setTimeout(() => { throw new Error('the timer threw') }, 1)
      await never
      break
    case '/hold':
      responseStream.write('held')
      await never
      break
    case '/throw-after-end':
      setTimeout(() => { throw new Error('a timer outlived its invocation') }, 1)
      break
  }
  responseStream.end('ok')
})
`,
)

interface Dev {
  url: (path: string) => string
  /** Resolves with standard error once it contains `text`, or rejects when the process exits first. */
  logged: (text: string) => Promise<string>
  exited: () => boolean
}

async function startDev(): Promise<Dev> {
  const started = startProcess(process.execPath, [
    cli,
    'dev',
    join(dir, 'escaping-handler.mjs'),
    '--port',
    '0',
  ])
  children.push(started.child)
  let stderr = ''
  let exited = false
  started.child.stderr!.on('data', (chunk: string) => {
    stderr += chunk
  })
  const ended = started.exit.then((run) => {
    exited = true
    return run
  })
  const base = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const match = /at (http:\/\/127\.0\.0\.1:\d+)\//.exec(started.stdout())
      if (match) resolve(match[1]!)
    }
    started.child.stdout!.on('data', check)
    void ended.then((run) => reject(new Error(`sluice dev exited with ${run.code}: ${run.stderr}`)))
  })
  const logged = (text: string) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        if (stderr.includes(text)) resolve(stderr)
      }
      check()
      started.child.stderr!.on('data', check)
      void ended.then((run) => reject(new Error(`sluice dev exited with ${run.code}: ${run.stderr}`)))
    })
  return { url: (path) => `${base}${path}`, logged, exited: () => exited }
}

async function servesOn(dev: Dev): Promise<void> {
  const next = await fetch(dev.url('/'))
  expect(next.status).toBe(200)
  expect(await next.text()).toBe('ok')
  expect(dev.exited()).toBe(false)
}

describe('sluice dev survives an error that escapes a handler', () => {
  it('fails the invocation of a handler that leaves a rejection unhandled with a 502, logs it, and serves on', async () => {
    const dev = await startDev()
    const response = await fetch(dev.url('/reject'))
    expect(response.status).toBe(502)
    expect(response.headers.get('x-amzn-errortype')).toBe('Unhandled')
    const { Message } = (await response.json()) as { Message: string }
    expect(Message).toMatch(
      /^The function failed before it sent a response: an unhandled promise rejection \(Runtime\.UnhandledPromiseRejection\) escaped the handler: Error: the cache rejected \(at .*escaping-handler\.mjs:\d+:\d+\)$/,
    )
    const requestId = response.headers.get('x-amzn-requestid')!
    const stderr = await dev.logged(`${requestId} failed: an unhandled promise rejection`)
    expect(stderr.trim().split('\n')).toHaveLength(1)
    await servesOn(dev)
  })

  it('cuts the connection when a handler throws from a timer after its first byte, and serves on', async () => {
    const dev = await startDev()
    const response = await fetch(dev.url('/throw-after-first-byte'))
    expect(response.status).toBe(200)
    const { bytes, error } = await drain(response)
    expect(bytes).toBe('partial'.length)
    expect(error).toBeInstanceOf(TypeError)
    await dev.logged('failed: an uncaught exception escaped the handler: Error: the timer threw')
    await servesOn(dev)
  })

  it('fails every invocation running when it cannot tell which one the error came from, and says so', async () => {
    const dev = await startDev()
    const held = await fetch(dev.url('/hold'))
    expect(held.status).toBe(200)
    const rejected = await fetch(dev.url('/reject'))
    expect(rejected.status).toBe(502)
    expect(((await rejected.json()) as { Message: string }).Message).toMatch(
      /it failed all 2 invocations running, since it cannot be told which one it came from$/,
    )
    expect((await drain(held)).error).toBeInstanceOf(TypeError)
    const heldId = held.headers.get('x-amzn-requestid')!
    const stderr = await dev.logged(`${heldId} failed: an unhandled promise rejection`)
    expect(stderr).toMatch(/failed: .*it failed all 2 invocations running/)
    await servesOn(dev)
  })

  it('logs an error that escapes while no invocation is running, and serves on', async () => {
    const dev = await startDev()
    const response = await fetch(dev.url('/throw-after-end'))
    expect(await response.text()).toBe('ok')
    const stderr = await dev.logged('no invocation was running')
    expect(stderr).toMatch(
      /sluice dev: an uncaught exception escaped a handler while no invocation was running: Error: a timer outlived its invocation \(at .*\); serving on\.\n/,
    )
    await servesOn(dev)
  })
})

describe('serve() and the process listeners it takes', () => {
  const events = ['unhandledRejection', 'uncaughtException'] as const
  const counts = () => events.map((event) => process.listenerCount(event))
  const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
    responseStream.end('ok')
  })

  it('takes no listener without catchEscapedErrors: an error outside a handler stays the host program’s', async () => {
    const before = counts()
    const server = await startEmulator(handler)
    expect(counts()).toEqual(before)
    await server.close()
  })

  it('takes one listener per event however many servers run, and gives them back when the last one closes', async () => {
    const before = counts()
    const first = await startEmulator(handler, { catchEscapedErrors: true })
    const second = await startEmulator(handler, { catchEscapedErrors: true })
    expect(counts()).toEqual(before.map((count) => count + 1))
    await first.close()
    expect(counts()).toEqual(before.map((count) => count + 1))
    await second.close()
    expect(counts()).toEqual(before)
  })

  it('fails a buffered invocation that is running when its listener gets an escaped error', async () => {
    const before = process.listeners('unhandledRejection')
    const outcomes: Promise<InvocationOutcome>[] = []
    const server = await startEmulator(() => new Promise(() => {}), {
      catchEscapedErrors: true,
      onInvocation: (invocation) => outcomes.push(invocation.finished),
    })
    const listener = process.listeners('unhandledRejection').find((one) => !before.includes(one))!
    const response = fetch(server.url)
    await expect.poll(() => outcomes.length).toBe(1)
    // Called directly: emitting the event would reach the test runner's listener too, which would fail the run.
    listener(new Error('the buffered handler rejected'), Promise.resolve())
    expect((await response).status).toBe(502)
    const outcome = await outcomes[0]!
    expect(outcome.state).toBe('failed')
    expect(outcome.error?.message).toMatch(
      /^an unhandled promise rejection \(Runtime\.UnhandledPromiseRejection\) escaped the handler: Error: the buffered handler rejected/,
    )
  })
  it('keeps its listeners past close() until the last running invocation ends, and fails that invocation', async () => {
    const before = process.listeners('unhandledRejection')
    const outcomes: Promise<InvocationOutcome>[] = []
    const server = await startEmulator(
      awslambda.streamifyResponse(async (_event, responseStream) => {
        responseStream.write('held')
        await new Promise(() => {})
      }),
      { catchEscapedErrors: true, onInvocation: (invocation) => outcomes.push(invocation.finished) },
    )
    const listener = process.listeners('unhandledRejection').find((one) => !before.includes(one))!
    const response = await fetch(server.url)
    expect(response.status).toBe(200)
    await server.close()
    // The handler runs on past close(): an error escaping it must still fail it, not end the process.
    expect(process.listeners('unhandledRejection')).toContain(listener)
    listener(new Error('the handler rejected after close'), Promise.resolve())
    const outcome = await outcomes[0]!
    expect(outcome.state).toBe('failed')
    expect(outcome.error?.message).toMatch(/escaped the handler: Error: the handler rejected after close/)
    expect(process.listeners('unhandledRejection')).toEqual(before)
  })
})

describe('serve() and an error on its listening socket', () => {
  it('logs an error the server emits (an accept that failed) and serves on, instead of throwing it', async () => {
    // The server is serve()'s own: Node's diagnostics channel hands it over with the first request it gets.
    const servers: Server[] = []
    const onRequest = (message: unknown) => servers.push((message as { server: Server }).server)
    subscribe('http.server.request.start', onRequest)
    try {
      const logged: string[] = []
      const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
        responseStream.end('ok')
      })
      const server = await startEmulator(handler, { log: (message) => logged.push(message) })
      expect(await (await fetch(server.url)).text()).toBe('ok')
      // What net.Server emits when accept() fails (ENFILE: the system is out of file descriptors).
      const failure = Object.assign(new Error('accept ENFILE'), { code: 'ENFILE', syscall: 'accept' })
      servers[0]!.emit('error', failure)
      expect(logged).toEqual(['the server failed to accept a connection: accept ENFILE; serving on.'])
      expect(await (await fetch(server.url)).text()).toBe('ok')
    } finally {
      unsubscribe('http.server.request.start', onRequest)
    }
  })
})
