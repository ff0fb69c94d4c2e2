import { type ClientRequest, type IncomingMessage, request } from 'node:http'
import { text } from 'node:stream/consumers'
import { describe, expect, it } from 'vitest'
import { awslambda } from '../../src/runtime/index.ts'
import { startEmulator } from '../support/emulator.ts'

/** How long a test waits for the emulator's answer before calling it stuck (the old emulator never answered). */
const PATIENCE_MS = 5_000

/** A request body that never ends: a KiB every few milliseconds, until the connection closes. */
function endlessUpload(client: ClientRequest): () => void {
  const chunk = new Uint8Array(1024).fill(0x61)
  const timer = setInterval(() => {
    if (!client.destroyed && !client.writableEnded) client.write(chunk)
  }, 2)
  return () => clearInterval(timer)
}

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`no ${what} within ${PATIENCE_MS} ms`)), PATIENCE_MS).unref(),
    ),
  ])
}

describe('sluice/dev refuses a request body over limits.maxRequestBytes without reading it all', () => {
  it('answers 413 at the chunk that crosses the cap of an upload that never ends, and closes the connection', async () => {
    let invoked = false
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      invoked = true
      responseStream.end()
    })
    const server = await startEmulator(handler, { limits: { maxRequestBytes: 4096 } })
    const client = request(new URL('upload', server.url), { method: 'POST' })
    client.on('error', () => {})
    const closed = new Promise<void>((resolve) => client.on('close', () => resolve()))
    const responded = new Promise<IncomingMessage>((resolve) => client.on('response', resolve))
    const stop = endlessUpload(client)
    try {
      const response = await within(responded, 'response')
      expect(response.statusCode).toBe(413)
      expect(response.headers['x-amzn-errortype']).toBe('RequestEntityTooLargeException')
      expect(response.headers.connection).toBe('close')
      const body = JSON.parse(await within(text(response), 'end of the 413 body')) as { Message: string }
      expect(body.Message).toMatch(/larger than limits\.maxRequestBytes \(4096 bytes\)/)
      await within(closed, 'closed connection')
      expect(invoked).toBe(false)
    } finally {
      stop()
      client.destroy()
    }
  })

  it('answers 413 before reading a body whose Content-Length is over the cap', async () => {
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      responseStream.end()
    })
    const server = await startEmulator(handler, { limits: { maxRequestBytes: 4096 } })
    const client = request(server.url, {
      method: 'PUT',
      headers: { 'content-length': String(10 * 1024 * 1024) },
    })
    client.on('error', () => {})
    const responded = new Promise<IncomingMessage>((resolve) => client.on('response', resolve))
    // A first piece, then nothing: the rest of the declared 10 MiB never comes.
    client.write(new Uint8Array(100))
    try {
      const response = await within(responded, 'response')
      expect(response.statusCode).toBe(413)
      expect(response.headers.connection).toBe('close')
    } finally {
      client.destroy()
    }
  })

  it('answers 413 to a request that asks before uploading (Expect: 100-continue), without inviting its body', async () => {
    // Node used to answer 100 Continue first: the client then sent the body and, its upload cut, got EPIPE, not the 413.
    let invoked = false
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      invoked = true
      responseStream.end()
    })
    const server = await startEmulator(handler, { limits: { maxRequestBytes: 4096 } })
    const size = 8 * 1024 * 1024
    const client = request(server.url, {
      method: 'PUT',
      headers: { 'content-length': String(size), expect: '100-continue' },
    })
    let invited = false
    client.on('continue', () => {
      invited = true
      client.end(new Uint8Array(size))
    })
    const answered = new Promise<IncomingMessage | Error>((resolve) => {
      client.on('response', resolve).on('error', resolve)
    })
    client.flushHeaders()
    try {
      const response = await within(answered, 'response')
      expect(invited).toBe(false)
      expect(response).not.toBeInstanceOf(Error)
      expect((response as IncomingMessage).statusCode).toBe(413)
      expect(invoked).toBe(false)
    } finally {
      client.destroy()
    }
  })

  it('invites the body of a request that asks before uploading within the cap, and passes it to the function', async () => {
    const handler = awslambda.streamifyResponse(async (event, responseStream) => {
      responseStream.end(event.body ?? '')
    })
    const server = await startEmulator(handler, { limits: { maxRequestBytes: 4096 } })
    const client = request(server.url, {
      method: 'PUT',
      headers: { 'content-type': 'text/plain', 'content-length': '5', expect: '100-continue' },
    })
    client.on('continue', () => client.end('hello'))
    const answered = new Promise<IncomingMessage>((resolve, reject) => {
      client.on('response', resolve).on('error', reject)
    })
    client.flushHeaders()
    const response = await within(answered, 'response')
    expect(response.statusCode).toBe(200)
    expect(await text(response)).toBe('hello')
  })

  it('still reads a body up to the cap whole and passes it to the function: its event is measured, not refused unread', async () => {
    const handler = awslambda.streamifyResponse(async (event, responseStream) => {
      responseStream.end(String(event.body?.length))
    })
    const server = await startEmulator(handler, { limits: { maxRequestBytes: 4096 } })
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'a'.repeat(4096),
    })
    // The body fits the cap, so it is read whole; with the event around it, it does not.
    expect(response.status).toBe(413)
    expect(response.headers.get('connection')).not.toBe('close')
    const { Message } = (await response.json()) as { Message: string }
    expect(Message).toMatch(
      /^The request's event \(the invoke payload: the request as JSON, its body as text, with its headers and request context\) is larger than limits\.maxRequestBytes \(4096 bytes\), so the function was not invoked/,
    )
  })

  it('answers 413 at once, with the limit, to a Content-Length over the default of 6 MiB (6 291 456 bytes)', async () => {
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      responseStream.end()
    })
    const server = await startEmulator(handler)
    const client = request(server.url, { method: 'PUT', headers: { 'content-length': '6291457' } })
    client.on('error', () => {})
    const responded = new Promise<IncomingMessage>((resolve) => client.on('response', resolve))
    client.write(new Uint8Array(100))
    try {
      const over = await within(responded, 'response')
      expect(over.statusCode).toBe(413)
      const body = JSON.parse(await within(text(over), 'end of the 413 body')) as { Message: string }
      expect(body.Message).toMatch(/larger than limits\.maxRequestBytes \(6291456 bytes\)/)
    } finally {
      client.destroy()
    }
  })
})

/** A handler that answers with the size of its event as JSON, in UTF-8 bytes: the invoke payload. */
const eventSize = awslambda.streamifyResponse(async (event, responseStream) => {
  responseStream.end(String(Buffer.byteLength(JSON.stringify(event))))
})

/** POSTs `body` (text unless it is bytes) and resolves with the status and the body of the answer. */
async function post(
  url: string,
  body: string | Uint8Array<ArrayBuffer>,
): Promise<{ status: number; text: string }> {
  const contentType = typeof body === 'string' ? 'text/plain' : 'application/octet-stream'
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body })
  return { status: response.status, text: await response.text() }
}

describe('sluice/dev holds the event, as JSON, to limits.maxRequestBytes, as the service holds its invoke payload', () => {
  it('passes an event of exactly the default 6 MiB (6 291 456 bytes) and refuses one byte more, unread by the function', async () => {
    const invoked: string[] = []
    const server = await startEmulator(eventSize, { onInvocation: (i) => invoked.push(i.requestId) })
    // Bodies of one length in digits: the event differs only by the body (and the Content-Length it says).
    const probe = 'a'.repeat(5_000_000)
    const measured = await post(server.url, probe)
    expect(measured.status).toBe(200)
    const fill = probe.length + (6 * 1024 * 1024 - Number(measured.text))
    const at = await post(server.url, 'a'.repeat(fill))
    expect(at).toEqual({ status: 200, text: '6291456' })
    const over = await post(server.url, 'a'.repeat(fill + 1))
    expect(over.status).toBe(413)
    expect((JSON.parse(over.text) as { Message: string }).Message).toMatch(
      /^The request's event .* is larger than limits\.maxRequestBytes \(6291456 bytes\), so the function was not invoked/,
    )
    expect(invoked).toHaveLength(2)
  })

  it('refuses a request without a body whose headers make its event larger than the cap', async () => {
    const invoked: string[] = []
    const server = await startEmulator(eventSize, {
      limits: { maxRequestBytes: 2048 },
      onInvocation: (i) => invoked.push(i.requestId),
    })
    expect((await fetch(server.url)).status).toBe(200)
    const response = await fetch(server.url, { headers: { 'x-trace': 't'.repeat(2048) } })
    expect(response.status).toBe(413)
    expect(((await response.json()) as { Message: string }).Message).toMatch(
      /^The request's event \(the invoke payload: the request as JSON, no body, with its headers and request context\) is larger than limits\.maxRequestBytes \(2048 bytes\)/,
    )
    expect(invoked).toHaveLength(1)
  })

  it('refuses a 5 MB binary upload, which goes as base64 in the event (6.7 MB), as a function URL does', async () => {
    // The emulator used to pass it, counting the raw bytes alone: the upload then failed on AWS only.
    const invoked: string[] = []
    const server = await startEmulator(eventSize, { onInvocation: (i) => invoked.push(i.requestId) })
    const over = await post(server.url, new Uint8Array(5_000_000))
    expect(over.status).toBe(413)
    expect((JSON.parse(over.text) as { Message: string }).Message).toMatch(
      /^The request's event \(the invoke payload: the request as JSON, its binary body as base64, 4\/3 its size, with its headers and request context\) is larger than limits\.maxRequestBytes \(6291456 bytes\)/,
    )
    expect(invoked).toEqual([])
    // The same number of bytes as text goes as it is, and fits.
    const textual = await post(server.url, 'a'.repeat(5_000_000))
    expect(textual.status).toBe(200)
    expect(Number(textual.text)).toBeGreaterThan(5_000_000)
  })
})
