/**
 * With `catchEscapedErrors` (as `sluice dev` serves), a handler's `process.exit` fails its invocation as the
 * service does (Runtime.ExitError: the execution environment ends, the next request gets a fresh one) instead of
 * ending the process. The calls here run in the test's own process: the replacement throws, and the handler's
 * rejection is the emulator's to handle, so nothing reaches the test runner (whose own `process.exit`, in place
 * without the option, throws an error of its own, which would fail the invocation with another message).
 * test/node/cli-dev-exit.test.ts tries the `sluice dev` process itself.
 */
import { get } from 'node:http'
import { describe, expect, it } from 'vitest'
import { isTruncatedError, sluice } from '../../src/index.ts'
import { sluiceHandler } from '../../src/lambda/index.ts'
import { type AnyLambdaHandler, awslambda, type InvocationOutcome } from '../../src/runtime/index.ts'
import { drain, startEmulator } from '../support/emulator.ts'

const EXIT_1 = 'process.exit(1) (Runtime.ExitError: Runtime exited with error: exit status 1)'

/** A server that catches escaped errors and exits, logging into `logged`, and the outcome of each invocation. */
async function exitingServer(handler: AnyLambdaHandler, options: { lateFailure?: 'cut' | 'trailers' } = {}) {
  const logged: string[] = []
  const outcomes: Promise<InvocationOutcome>[] = []
  const server = await startEmulator(handler, {
    ...options,
    catchEscapedErrors: true,
    log: (message) => logged.push(message),
    onInvocation: (invocation) => outcomes.push(invocation.finished),
  })
  return { server, logged, outcomes }
}

describe('serve({ catchEscapedErrors: true }) and a handler that calls process.exit', () => {
  it('fails the invocation with a 502 when it exits before its first byte, runs none of its code after the call, and serves on', async () => {
    const after: string[] = []
    const { server, logged, outcomes } = await exitingServer(
      awslambda.streamifyResponse(async (event, responseStream) => {
        // Before any await: the call comes while invoke() is still calling the handler.
        if (event.rawPath === '/exit') {
          process.exit(1)
          after.push('ran on after process.exit')
        }
        responseStream.end('ok')
      }),
    )
    const response = await fetch(`${server.url}exit`)
    expect(response.status).toBe(502)
    expect(response.headers.get('x-amzn-errortype')).toBe('Unhandled')
    expect(await response.json()).toEqual({
      Type: 'Unhandled',
      Message: `The function failed before it sent a response: the handler called ${EXIT_1}`,
    })
    expect(after).toEqual([])
    expect((await outcomes[0]!).state).toBe('failed')
    const requestId = response.headers.get('x-amzn-requestid')!
    expect(logged).toEqual([`${requestId} failed: the handler called ${EXIT_1}`])
    const next = await fetch(`${server.url}next`)
    expect(next.status).toBe(200)
    expect(await next.text()).toBe('ok')
  })

  it('says the runtime exited without a reason for process.exit() after an await, in a buffered handler too', async () => {
    const { server } = await exitingServer(async () => {
      await new Promise((resolve) => setTimeout(resolve, 1))
      process.exit()
    })
    const response = await fetch(server.url)
    expect(response.status).toBe(502)
    expect(((await response.json()) as { Message: string }).Message).toBe(
      'The function failed before it sent a response: the handler called process.exit() (Runtime.ExitError: Runtime exited without providing a reason)',
    )
  })

  it('cuts the connection after the bytes written when the handler exits after its first byte', async () => {
    const { server, logged } = await exitingServer(
      awslambda.streamifyResponse(async (_event, responseStream) => {
        responseStream.write('partial')
        await new Promise((resolve) => setTimeout(resolve, 10))
        process.exit(2)
      }),
    )
    const response = await fetch(server.url)
    expect(response.status).toBe(200)
    const { bytes, error } = await drain(response)
    expect(bytes).toBe('partial'.length)
    expect(error).toBeInstanceOf(TypeError)
    await expect.poll(() => logged).toHaveLength(1)
    expect(logged[0]).toMatch(
      /failed: the handler called process\.exit\(2\) \(Runtime\.ExitError: Runtime exited with error: exit status 2\)$/,
    )
  })

  it('lets sluice resume by Range from a fresh invocation when the first one exits midway', async () => {
    let invocations = 0
    const handler = sluiceHandler(
      () => {
        const exits = ++invocations === 1
        return {
          bytes: (async function* () {
            yield 'abcde'
            yield 'fghij'
            if (exits) process.exit(1)
            yield 'klmno'
          })(),
          etag: '"letters-v1"',
        }
      },
      { awslambda },
    )
    const { server, logged } = await exitingServer(handler)
    const res = await sluice(server.url, {
      resume: { strategy: 'range', backoff: { initial: 1, max: 1, jitter: 0 } },
    })
    expect(await res.collect.text()).toBe('abcdefghijklmno')
    expect(invocations).toBe(2)
    expect(logged).toHaveLength(1)
    expect(logged[0]).toMatch(/ failed: the handler called process\.exit\(1\) \(Runtime\.ExitError: /)
  })

  it("reports Runtime.ExitError in the trailers with lateFailure: 'trailers', where sluice sees a truncated body", async () => {
    const handler = sluiceHandler(
      () => ({
        ndjson: (async function* () {
          for (let n = 0; n < 50; n++) yield { n }
          process.exit(1)
        })(),
      }),
      { awslambda },
    )
    const { server } = await exitingServer(handler, { lateFailure: 'trailers' })
    const trailers = await new Promise<NodeJS.Dict<string>>((resolve, reject) => {
      get(server.url, (res) => res.resume().on('end', () => resolve(res.trailers))).on('error', reject)
    })
    expect(trailers['lambda-runtime-function-error-type']).toBe('Runtime.ExitError')
    const res = await sluice(server.url, { resume: false })
    const rows: unknown[] = []
    const error = await (async () => {
      for await (const row of res.ndjson()) rows.push(row)
    })().catch((e: unknown) => e)
    expect(isTruncatedError(error)).toBe(true)
    expect(rows).toEqual(Array.from({ length: rows.length }, (_, n) => ({ n })))
  })

  it('fails every invocation running when it cannot tell which one called it, and says so', async () => {
    const { server } = await exitingServer(
      awslambda.streamifyResponse(async (event, responseStream) => {
        if (event.rawPath === '/exit') process.exit(1)
        responseStream.write('held')
        await new Promise(() => {})
      }),
    )
    const held = await fetch(`${server.url}hold`)
    expect(held.status).toBe(200)
    const exited = await fetch(`${server.url}exit`)
    expect(exited.status).toBe(502)
    expect(((await exited.json()) as { Message: string }).Message).toBe(
      `The function failed before it sent a response: a handler called ${EXIT_1}; it failed all 2 invocations running, since it cannot be told which one it came from`,
    )
    expect((await drain(held)).error).toBeInstanceOf(TypeError)
  })

  it('logs a call while no invocation is running (a timer left behind), throws, and serves on', async () => {
    const { server, logged } = await exitingServer(
      awslambda.streamifyResponse(async (_event, responseStream) => {
        responseStream.end('ok')
      }),
    )
    // Called here, as a stray timer would call it: its throw would otherwise reach the test runner.
    let thrown: unknown
    try {
      process.exit(3)
    } catch (error) {
      thrown = error
    }
    expect(thrown).toMatchObject({
      name: 'Runtime.ExitError',
      message:
        'a handler called process.exit(3) (Runtime.ExitError: Runtime exited with error: exit status 3) while no invocation was running: the emulator serves on instead of ending the process.',
    })
    expect(logged).toEqual([
      'a handler called process.exit(3) (Runtime.ExitError: Runtime exited with error: exit status 3) while no invocation was running; serving on.',
    ])
    expect(await (await fetch(server.url)).text()).toBe('ok')
  })
})

describe('serve() and process.exit', () => {
  const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
    responseStream.end('ok')
  })

  it('leaves process.exit alone without catchEscapedErrors', async () => {
    const before = process.exit
    const server = await startEmulator(handler)
    expect(process.exit).toBe(before)
    await server.close()
  })

  it('replaces process.exit once however many servers run, and puts it back when the last one closes', async () => {
    const before = process.exit
    const first = await startEmulator(handler, { catchEscapedErrors: true })
    const replaced = process.exit
    expect(replaced).not.toBe(before)
    const second = await startEmulator(handler, { catchEscapedErrors: true })
    expect(process.exit).toBe(replaced)
    await first.close()
    expect(process.exit).toBe(replaced)
    await second.close()
    expect(process.exit).toBe(before)
  })

  it('keeps it replaced past close() until the last running invocation ends, and fails that invocation', async () => {
    const before = process.exit
    const { promise: closed, resolve: close } = Promise.withResolvers<void>()
    const { server, outcomes } = await exitingServer(
      awslambda.streamifyResponse(async (_event, responseStream) => {
        responseStream.write('held')
        await closed
        process.exit(1)
      }),
    )
    const response = await fetch(server.url)
    expect(response.status).toBe(200)
    await server.close()
    expect(process.exit).not.toBe(before)
    close()
    const outcome = await outcomes[0]!
    expect(outcome.state).toBe('failed')
    expect(outcome.error?.message).toBe(`the handler called ${EXIT_1}`)
    expect(process.exit).toBe(before)
  })
})
