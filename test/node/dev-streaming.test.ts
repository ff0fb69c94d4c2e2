import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { describe, expect, it } from 'vitest'
import { awslambda, type ResponseStream } from '../../src/dev/index.ts'
import type { Invocation } from '../../src/runtime/index.ts'
import { drain, startEmulator } from '../support/emulator.ts'
import { flood } from '../support/flood.ts'

describe('sluice/dev streams as the function writes', () => {
  it('delivers the first bytes while the handler is still running', async () => {
    const gate = Promise.withResolvers<void>()
    let handlerDone = false
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      responseStream.write('first')
      await gate.promise
      responseStream.end('second')
      handlerDone = true
    })
    const server = await startEmulator(handler)
    const response = await fetch(server.url)
    const reader = response.body!.getReader()
    const first = await reader.read()
    expect(new TextDecoder().decode(first.value)).toBe('first')
    expect(handlerDone).toBe(false)
    gate.resolve()
    const second = await reader.read()
    expect(new TextDecoder().decode(second.value)).toBe('second')
    expect((await reader.read()).done).toBe(true)
    expect(handlerDone).toBe(true)
  })

  it('sends the status and headers of a prelude written by an empty write() before any byte of the body', async () => {
    const gate = Promise.withResolvers<void>()
    let bodyWritten = false
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      const stream = awslambda.HttpResponseStream.from(responseStream, {
        statusCode: 201,
        headers: { 'x-step': 'head' },
      })
      stream.write('')
      // The test opens the gate once it has the head; the timer only keeps a head held back from hanging it.
      await Promise.race([gate.promise, new Promise((resolve) => setTimeout(resolve, 2_000))])
      bodyWritten = true
      stream.end('body')
    })
    const server = await startEmulator(handler)
    const response = await fetch(server.url)
    expect(bodyWritten).toBe(false)
    expect(response.status).toBe(201)
    expect(response.headers.get('x-step')).toBe('head')
    gate.resolve()
    expect(await response.text()).toBe('body')
  })

  it('holds a fast handler back while its client does not read, through pipeline', async () => {
    const total = 32 * 1024 * 1024
    let produced = 0
    let done = false
    const handler = awslambda.streamifyResponse(async (_event, responseStream: ResponseStream) => {
      async function* source() {
        const chunk = new Uint8Array(64 * 1024)
        while (produced < total) {
          produced += chunk.length
          yield chunk
        }
      }
      await pipeline(Readable.from(source()), responseStream)
      done = true
    })
    const server = await startEmulator(handler)
    const response = await fetch(server.url)
    // Not a timing threshold: a handler without backpressure would only look *more* done after this pause.
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(done).toBe(false)
    expect(produced).toBeLessThan(total)
    const { bytes, error } = await drain(response)
    expect(error).toBeUndefined()
    expect(bytes).toBe(total)
    expect(done).toBe(true)
  })

  it('sends every chunk as written when the handler reuses its buffer once each write called back', async () => {
    // As a handler reading a file into one buffer does: Node lets it refill the buffer once the write's callback
    // ran, since the runtime's socket has sent the bytes by then. A slow client keeps chunks waiting here meanwhile.
    const block = 1024
    const blocks = 8 * 1024
    const handler = awslambda.streamifyResponse(async (_event, responseStream: ResponseStream) => {
      const buffer = new Uint8Array(block)
      for (let i = 0; i < blocks; i++) {
        buffer.fill(i % 251)
        await new Promise<void>((resolve, reject) => {
          responseStream.write(buffer, (error) => (error ? reject(error) : resolve()))
        })
      }
      responseStream.end()
    })
    const server = await startEmulator(handler)
    const response = await fetch(server.url)
    await new Promise((resolve) => setTimeout(resolve, 300))
    const body = new Uint8Array(await response.arrayBuffer())
    expect(body.length).toBe(block * blocks)
    const wrong: number[] = []
    for (let i = 0; i < blocks; i++) {
      if (body.subarray(i * block, (i + 1) * block).some((byte) => byte !== i % 251)) wrong.push(i)
    }
    expect(wrong).toEqual([])
  })

  it('makes write() return false and emits drain once the client reads', async () => {
    const sawFalse = Promise.withResolvers<void>()
    const handler = awslambda.streamifyResponse(async (_event, responseStream: ResponseStream) => {
      const ok = responseStream.write(new Uint8Array(64 * 1024))
      expect(ok).toBe(false)
      sawFalse.resolve()
      await new Promise((resolve) => responseStream.once('drain', resolve))
      responseStream.end('after drain')
    })
    const server = await startEmulator(handler)
    const response = await fetch(server.url)
    await sawFalse.promise
    const { bytes, error } = await drain(response)
    expect(error).toBeUndefined()
    expect(bytes).toBe(64 * 1024 + 'after drain'.length)
  })

  it('keeps running the handler after the client disconnects, discarding what it writes', async () => {
    const gate = Promise.withResolvers<void>()
    const started = Promise.withResolvers<Invocation>()
    const handler = floodAfter(gate.promise, 'before the client left\n')
    const server = await startEmulator(handler, { onInvocation: (invocation) => started.resolve(invocation) })
    const abort = new AbortController()
    const response = await fetch(server.url, { signal: abort.signal })
    await response.body!.getReader().read()
    abort.abort()
    await new Promise((resolve) => setTimeout(resolve, 50))
    gate.resolve()
    const invocation = await started.promise
    expect(await invocation.finished).toEqual({ state: 'succeeded' })
  })

  it('keeps running the handler after a client that left before its first byte, discarding what it writes', async () => {
    const gate = Promise.withResolvers<void>()
    const started = Promise.withResolvers<Invocation>()
    const handler = floodAfter(gate.promise)
    const server = await startEmulator(handler, {
      limits: { timeoutMs: 2_000 },
      onInvocation: (invocation) => started.resolve(invocation),
    })
    const abort = new AbortController()
    const request = fetch(server.url, { signal: abort.signal })
    const invocation = await started.promise
    abort.abort()
    await expect(request).rejects.toThrow()
    // Lets the server see the socket close before the function writes its first byte.
    await new Promise((resolve) => setTimeout(resolve, 50))
    gate.resolve()
    expect(await invocation.finished).toEqual({ state: 'succeeded' })
  })
})

/** A handler that writes `first` (if any), waits for `gate`, then floods its stream. */
function floodAfter(gate: Promise<void>, first?: string) {
  return awslambda.streamifyResponse(async (_event, responseStream: ResponseStream) => {
    if (first !== undefined) responseStream.write(first)
    await gate
    await flood(responseStream, 256)
  })
}
