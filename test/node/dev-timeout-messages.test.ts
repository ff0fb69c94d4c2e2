import { describe, expect, it } from 'vitest'
import { awslambda, buildEvent, invoke, type ResponseStream } from '../../src/runtime/index.ts'
import { startEmulator } from '../support/emulator.ts'

// A timeout says what to do from what the handler had done by then: only a handler that returned without ending
// its stream is told about responseStream.end(); a slow one is told to be faster or to get a longer timeout.

const input = () => buildEvent({ method: 'GET', url: 'http://127.0.0.1/', headers: [] })
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const never = new Promise<void>(() => {})

describe('the message of a timeout', () => {
  it('tells a handler still running after its first byte to be faster or raise limits.timeoutMs, not to call end()', async () => {
    const handler = awslambda.streamifyResponse(async (_event, responseStream: ResponseStream) => {
      responseStream.write('started')
      await sleep(1_000)
      responseStream.end()
    })
    const log: string[] = []
    const invocation = invoke(handler, input(), { limits: { timeoutMs: 300 }, log: (line) => log.push(line) })
    await (await invocation.response).body.cancel()
    const outcome = await invocation.finished
    expect(outcome.state).toBe('timed-out')
    expect(outcome.error?.message).toBe(
      'Task timed out after 0.30 seconds (limits.timeoutMs is 300). The handler was still running: make it faster, or raise limits.timeoutMs.',
    )
    expect(log).toEqual([`${invocation.requestId} timed-out: ${outcome.error?.message}`])
  })

  it('tells the same to a handler still running before its first byte, in the 502 the client gets', async () => {
    const handler = awslambda.streamifyResponse(async (_event, responseStream: ResponseStream) => {
      await sleep(1_000)
      responseStream.end()
    })
    const server = await startEmulator(handler, { limits: { timeoutMs: 300 } })
    const response = await fetch(server.url)
    expect(response.status).toBe(502)
    expect(((await response.json()) as { Message: string }).Message).toBe(
      'The function timed out before it sent a response: Task timed out after 0.30 seconds (limits.timeoutMs is 300). The handler was still running: make it faster, or raise limits.timeoutMs.',
    )
  })

  it('tells a handler that returned without ending its stream to call responseStream.end()', async () => {
    const handler = awslambda.streamifyResponse(async (_event, responseStream: ResponseStream) => {
      responseStream.write('started')
    })
    const invocation = invoke(handler, input(), { limits: { timeoutMs: 200 } })
    const outcome = await invocation.finished
    expect(outcome.state).toBe('timed-out')
    expect(outcome.error?.message).toBe(
      'Task timed out after 0.20 seconds (limits.timeoutMs is 200). The handler returned without ending the response stream: call responseStream.end() once the body is written (or await pipeline(…, responseStream)).',
    )
  })

  it('tells a handler that ended its stream but never returned that the invocation waits for it', async () => {
    const handler = awslambda.streamifyResponse(async (_event, responseStream: ResponseStream) => {
      responseStream.end('all of it')
      await never
    })
    const invocation = invoke(handler, input(), { limits: { timeoutMs: 200 } })
    expect((await (await invocation.response).body.getReader().read()).done).toBe(false)
    const outcome = await invocation.finished
    expect(outcome.state).toBe('timed-out')
    expect(outcome.error?.message).toMatch(
      /^Task timed out after 0\.20 seconds \(limits\.timeoutMs is 200\)\. The handler ended the response stream but had not returned: .*raise limits\.timeoutMs\.$/,
    )
  })

  it('tells a buffered handler still running to be faster or raise limits.timeoutMs', async () => {
    const invocation = invoke(async () => never, input(), { limits: { timeoutMs: 200 } })
    const response = await invocation.response
    expect(response.status).toBe(502)
    expect((await invocation.finished).error?.message).toBe(
      'Task timed out after 0.20 seconds (limits.timeoutMs is 200). The handler was still running: make it faster, or raise limits.timeoutMs.',
    )
  })
})
