import { describe, expect, it } from 'vitest'
import {
  awslambda,
  buildEvent,
  type Invocation,
  invoke,
  type ResponseStream,
} from '../../src/runtime/index.ts'
import { drain, startEmulator } from '../support/emulator.ts'

const input = () => buildEvent({ method: 'GET', url: 'http://127.0.0.1/', headers: [] })

/** A handler that writes `sizes` bytes without waiting, ends its stream, and says when it has returned. */
function writesThenReturns(sizes: number[]) {
  const returned = Promise.withResolvers<void>()
  const handler = awslambda.streamifyResponse(async (_event, responseStream: ResponseStream) => {
    for (const size of sizes) responseStream.write(new Uint8Array(size))
    await new Promise<void>((resolve) => responseStream.end(resolve))
    returned.resolve()
  })
  return { handler, returned: returned.promise }
}

async function read(body: ReadableStream<Uint8Array>): Promise<{ bytes: number; error: unknown }> {
  return drain(new Response(body))
}

describe('the response size cap (limits.maxResponseBytes)', () => {
  it('fails an invocation whose body crosses the cap after the handler returned, and logs why', async () => {
    const { handler, returned } = writesThenReturns([600, 600, 600])
    const log: string[] = []
    const invocation = invoke(handler, input(), {
      limits: { maxResponseBytes: 1000 },
      log: (line) => log.push(line),
    })
    const { body } = await invocation.response
    // Nothing has been read yet: the handler has returned with its whole response queued, under the cap so far.
    await returned
    const { bytes, error } = await read(body)
    expect(bytes).toBe(600)
    expect(error).toBeInstanceOf(Error)
    const outcome = await invocation.finished
    expect(outcome.state).toBe('failed')
    expect(outcome.error?.message).toMatch(/exceeded limits\.maxResponseBytes \(1000 bytes\)/)
    expect(log).toEqual([expect.stringMatching(/ failed: The response exceeded limits\.maxResponseBytes/)])
  })

  it('holds the default of 200 MiB (209 715 200 bytes): the body is cut after that many bytes', async () => {
    const mebibyte = new Uint8Array(1024 * 1024)
    const handler = awslambda.streamifyResponse(async (_event, responseStream: ResponseStream) => {
      for (let i = 0; i < 200; i++) responseStream.write(mebibyte)
      responseStream.end(new Uint8Array(1))
    })
    const invocation = invoke(handler, input())
    const { bytes, error } = await read((await invocation.response).body)
    expect(bytes).toBe(209_715_200)
    expect(error).toBeInstanceOf(Error)
    const outcome = await invocation.finished
    expect(outcome.state).toBe('failed')
    expect(outcome.error?.message).toMatch(/exceeded limits\.maxResponseBytes \(209715200 bytes\)/)
  })

  it('fails it for the cap at the write that crosses it, whatever the handler does next and however far the client read', async () => {
    const gate = Promise.withResolvers<void>()
    const handler = awslambda.streamifyResponse(async (_event, responseStream: ResponseStream) => {
      responseStream.write(new Uint8Array(600))
      responseStream.write(new Uint8Array(600))
      await gate.promise
      throw new Error('the database went away')
    })
    const invocation = invoke(handler, input(), { limits: { maxResponseBytes: 1000 } })
    const { body } = await invocation.response
    gate.resolve()
    // Nobody has read the body: the outcome does not wait for a reader to reach the write past the cap.
    const outcome = await invocation.finished
    expect(outcome.state).toBe('failed')
    expect(outcome.error?.message).toMatch(/exceeded limits\.maxResponseBytes \(1000 bytes\)/)
    const { bytes, error } = await read(body)
    expect(bytes).toBe(600)
    expect(error).toBeInstanceOf(Error)
  })

  it('fails it the same way when the cap is crossed while the handler still runs', async () => {
    const gate = Promise.withResolvers<void>()
    const handler = awslambda.streamifyResponse(async (_event, responseStream: ResponseStream) => {
      responseStream.write(new Uint8Array(600))
      responseStream.write(new Uint8Array(600))
      await gate.promise
      responseStream.end()
    })
    const invocation = invoke(handler, input(), { limits: { maxResponseBytes: 1000 } })
    const { body } = await invocation.response
    const { bytes, error } = await read(body)
    expect(bytes).toBe(600)
    expect(error).toBeInstanceOf(Error)
    gate.resolve()
    const outcome = await invocation.finished
    expect(outcome.state).toBe('failed')
    expect(outcome.error?.message).toMatch(/exceeded limits\.maxResponseBytes \(1000 bytes\)/)
  })

  it('still succeeds for a handler that returned within the cap, once its body is read', async () => {
    const { handler, returned } = writesThenReturns([400, 600])
    const invocation = invoke(handler, input(), { limits: { maxResponseBytes: 1000 } })
    const { body } = await invocation.response
    await returned
    expect(await read(body)).toEqual({ bytes: 1000, error: undefined })
    expect(await invocation.finished).toEqual({ state: 'succeeded' })
  })

  it('settles when the handler is done, without waiting for a client that has not read its body yet', async () => {
    const within = writesThenReturns([400, 600])
    const ok = invoke(within.handler, input(), { limits: { maxResponseBytes: 1000 } })
    const okBody = (await ok.response).body
    expect(await ok.finished).toEqual({ state: 'succeeded' })
    const over = writesThenReturns([600, 600, 600])
    const failed = invoke(over.handler, input(), { limits: { maxResponseBytes: 1000 } })
    const overBody = (await failed.response).body
    expect((await failed.finished).error?.message).toMatch(/exceeded limits\.maxResponseBytes \(1000 bytes\)/)
    // Read afterwards, each body is what the service would send: the whole, or the part under the cap, cut.
    expect(await read(okBody)).toEqual({ bytes: 1000, error: undefined })
    expect(await read(overBody)).toEqual({ bytes: 600, error: expect.any(Error) })
  })

  it('fails a handler that wrote past the cap after its client left, as the service counts what it sends', async () => {
    const { handler, returned } = writesThenReturns([600, 600, 600])
    const invocation = invoke(handler, input(), { limits: { maxResponseBytes: 1000 } })
    await (await invocation.response).body.cancel()
    await returned
    expect((await invocation.finished).state).toBe('failed')
  })

  it('lets the client read a response the handler ended, whole, when the handler then times out', async () => {
    const handler = awslambda.streamifyResponse(async (_event, responseStream: ResponseStream) => {
      responseStream.write(new Uint8Array(600))
      responseStream.end(new Uint8Array(600))
      await new Promise(() => {})
    })
    const invocation = invoke(handler, input(), { limits: { timeoutMs: 100 } })
    const { body } = await invocation.response
    expect((await invocation.finished).state).toBe('timed-out')
    expect(await read(body)).toEqual({ bytes: 1200, error: undefined })
  })

  it('reports the invocation as failed over HTTP too, when the handler returned before the cap was crossed', async () => {
    const started = Promise.withResolvers<Invocation>()
    const { handler } = writesThenReturns([600, 600, 600])
    const log: string[] = []
    const server = await startEmulator(handler, {
      limits: { maxResponseBytes: 1000 },
      log: (line) => log.push(line),
      onInvocation: (invocation) => started.resolve(invocation),
    })
    const { bytes, error } = await drain(await fetch(server.url))
    expect(bytes).toBe(600)
    expect(error).toBeInstanceOf(TypeError)
    const outcome = await (await started.promise).finished
    expect(outcome.state).toBe('failed')
    expect(log).toEqual([expect.stringMatching(/ failed: The response exceeded limits\.maxResponseBytes/)])
  })

  it('still succeeds over HTTP for a handler within the cap', async () => {
    const started = Promise.withResolvers<Invocation>()
    const { handler } = writesThenReturns([400, 600])
    const server = await startEmulator(handler, {
      limits: { maxResponseBytes: 1000 },
      onInvocation: (invocation) => started.resolve(invocation),
    })
    expect(await drain(await fetch(server.url))).toEqual({ bytes: 1000, error: undefined })
    expect(await (await started.promise).finished).toEqual({ state: 'succeeded' })
  })
})
