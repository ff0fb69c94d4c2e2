import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { connect, type Socket } from 'node:net'
import { describe, expect, it, vi } from 'vitest'
import { sluiceHandler } from '../../src/lambda/index.ts'
import { awslambda, type Invocation } from '../../src/runtime/index.ts'
import { drain, startEmulator } from '../support/emulator.ts'
import { flood } from '../support/flood.ts'

const never = new Promise<void>(() => {})

describe('sluice/dev reports failures as a function URL does', () => {
  it('answers 502 with a JSON message when the handler fails before its first byte', async () => {
    const handler = awslambda.streamifyResponse(async () => {
      throw new Error('the upstream API is down')
    })
    const server = await startEmulator(handler)
    const response = await fetch(server.url)
    expect(response.status).toBe(502)
    expect(response.headers.get('content-type')).toBe('application/json')
    expect(response.headers.get('x-amzn-errortype')).toBe('Unhandled')
    const body = (await response.json()) as { Message: string }
    expect(body.Message).toMatch(/failed before it sent a response: the upstream API is down/)
  })

  it('answers 502 when the handler fails after writing nothing but empty chunks, which carry no first byte', async () => {
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      responseStream.write('')
      responseStream.write(new Uint8Array(0))
      await new Promise((resolve) => setTimeout(resolve, 10))
      throw new Error('failed before writing anything')
    })
    const server = await startEmulator(handler)
    const response = await fetch(server.url)
    expect(response.status).toBe(502)
    expect(response.headers.get('x-amzn-errortype')).toBe('Unhandled')
    expect(((await response.json()) as { Message: string }).Message).toMatch(
      /failed before it sent a response: failed before writing anything/,
    )
  })

  it('cuts the connection when the handler fails after its first byte, so the body read rejects', async () => {
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      responseStream = awslambda.HttpResponseStream.from(responseStream, { statusCode: 200 })
      responseStream.write('partial ')
      await new Promise((resolve) => setTimeout(resolve, 10))
      throw new Error('lost the database midway')
    })
    const server = await startEmulator(handler)
    const response = await fetch(server.url)
    expect(response.status).toBe(200)
    await expect(response.text()).rejects.toThrow(TypeError)
  })

  it('delivers every byte written before a failure that follows at once, then cuts the connection', async () => {
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      responseStream = awslambda.HttpResponseStream.from(responseStream, { statusCode: 200 })
      responseStream.write('x'.repeat(30_000))
      throw new Error('lost the database right after the first rows')
    })
    const server = await startEmulator(handler)
    const { bytes, error } = await drain(await fetch(server.url))
    expect(bytes).toBe(30_000)
    expect(error).toBeInstanceOf(TypeError)
  })

  it('delivers every byte written before a throw, those still held in the stream’s buffer too, then cuts the connection', async () => {
    // The runtime ends its request to the service when a handler fails: what the handler wrote goes out first.
    const handler = awslambda.streamifyResponse((_event, responseStream) => {
      responseStream.write(new Uint8Array(20_000))
      responseStream.write(new Uint8Array(20_000))
      responseStream.write('end of the rows')
      throw new Error('lost the database right after the last rows')
    })
    const started = Promise.withResolvers<Invocation>()
    const server = await startEmulator(handler, { onInvocation: (invocation) => started.resolve(invocation) })
    const { bytes, error } = await drain(await fetch(server.url))
    expect(bytes).toBe(40_000 + 'end of the rows'.length)
    expect(error).toBeInstanceOf(TypeError)
    expect((await (await started.promise).finished).error?.message).toBe(
      'lost the database right after the last rows',
    )
  })

  it('delivers the whole body of a handler that ended its stream, then threw, with a clean end', async () => {
    const handler = awslambda.streamifyResponse((_event, responseStream) => {
      responseStream.write(new Uint8Array(20_000))
      responseStream.end(new Uint8Array(20_000))
      throw new Error('failed once the response was sent')
    })
    const started = Promise.withResolvers<Invocation>()
    const server = await startEmulator(handler, { onInvocation: (invocation) => started.resolve(invocation) })
    const { bytes, error } = await drain(await fetch(server.url))
    expect(bytes).toBe(40_000)
    expect(error).toBeUndefined()
    expect((await (await started.promise).finished).state).toBe('failed')
  })

  it('delivers the NDJSON rows a sluice/lambda handler wrote before its source failed', async () => {
    const row = (i: number) => ({ i, pad: 'y'.repeat(50) })
    const handler = sluiceHandler(
      () => ({
        ndjson: (async function* () {
          for (let i = 0; i < 500; i++) yield row(i)
          throw new Error('db lost')
        })(),
      }),
      { awslambda },
    )
    const server = await startEmulator(handler)
    const { bytes, error } = await drain(await fetch(server.url))
    const expected = Array.from({ length: 500 }, (_, i) => `${JSON.stringify(row(i))}\n`).join('').length
    expect(bytes).toBe(expected)
    expect(error).toBeInstanceOf(TypeError)
  })

  it('cuts the connection 10 s after a failure when the client stopped reading the bytes before it', async () => {
    // Only the emulator's timers are faked: sockets run as ever. The server's end of the connection is watched,
    // since a client that does not read does not see its connection close either.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const sockets: Socket[] = []
    const onRequest = (message: unknown) => sockets.push((message as { socket: Socket }).socket)
    subscribe('http.server.request.start', onRequest)
    try {
      const handler = awslambda.streamifyResponse((_event, responseStream) => {
        // Far more than socket buffers hold, so most of it is still queued when the handler fails.
        for (let i = 0; i < 512; i++) responseStream.write(new Uint8Array(64 * 1024))
        throw new Error('failed while its client had stopped reading')
      })
      const server = await startEmulator(handler)
      const { hostname, port } = new URL(server.url)
      const client = connect(Number(port), hostname)
      client.on('error', () => {})
      const head = new Promise<void>((resolve) => {
        client.once('data', () => {
          client.pause()
          resolve()
        })
      })
      client.write(`GET / HTTP/1.1\r\nHost: ${hostname}:${port}\r\n\r\n`)
      await head
      const closed = new Promise<void>((resolve) => sockets[0]!.once('close', () => resolve()))
      await vi.advanceTimersByTimeAsync(10_000)
      await closed
      client.destroy()
    } finally {
      unsubscribe('http.server.request.start', onRequest)
      vi.useRealTimers()
    }
  })

  it('answers 502 when the timeout passes before the first byte', async () => {
    const handler = awslambda.streamifyResponse(async () => {
      await never
    })
    const server = await startEmulator(handler, { limits: { timeoutMs: 100 } })
    const response = await fetch(server.url)
    expect(response.status).toBe(502)
    expect(response.headers.get('x-amzn-errortype')).toBe('Sandbox.Timedout')
    expect(((await response.json()) as { Message: string }).Message).toMatch(/timed out after 0\.10 seconds/)
  })

  it('cuts the connection when the timeout passes after the first byte', async () => {
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      responseStream.write('started')
      await never
    })
    const server = await startEmulator(handler, { limits: { timeoutMs: 100 } })
    const response = await fetch(server.url)
    expect(response.status).toBe(200)
    const { bytes, error } = await drain(response)
    expect(bytes).toBe('started'.length)
    expect(error).toBeInstanceOf(TypeError)
  })

  it('cuts the connection past the response size cap', async () => {
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      for (let i = 0; i < 4; i++) responseStream.write(new Uint8Array(600))
      responseStream.end()
    })
    const server = await startEmulator(handler, { limits: { maxResponseBytes: 1000 } })
    const response = await fetch(server.url)
    const { bytes, error } = await drain(response)
    expect(bytes).toBeLessThanOrEqual(1000)
    expect(error).toBeInstanceOf(TypeError)
  })

  it('answers 413 to a request body over the limit without invoking the function', async () => {
    let invoked = false
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      invoked = true
      responseStream.end()
    })
    const server = await startEmulator(handler, {
      limits: { maxRequestBytes: 1024 },
      onInvocation: () => {
        invoked = true
      },
    })
    const response = await fetch(server.url, { method: 'POST', body: new Uint8Array(2048) })
    expect(response.status).toBe(413)
    expect(((await response.json()) as { Message: string }).Message).toMatch(
      /larger than limits.maxRequestBytes \(1024 bytes\)/,
    )
    expect(invoked).toBe(false)
  })

  it('keeps the handler running when onInvocation throws, and cuts the connection', async () => {
    const started = Promise.withResolvers<Invocation>()
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      await flood(responseStream)
    })
    const server = await startEmulator(handler, {
      limits: { timeoutMs: 2_000 },
      onInvocation: (invocation) => {
        started.resolve(invocation)
        throw new Error('a bug in the hook')
      },
    })
    await expect(fetch(server.url)).rejects.toThrow(TypeError)
    expect(await (await started.promise).finished).toEqual({ state: 'succeeded' })
  })
})
