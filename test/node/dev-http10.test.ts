import { connect } from 'node:net'
import { describe, expect, it } from 'vitest'
import { awslambda } from '../../src/runtime/index.ts'
import { startEmulator } from '../support/emulator.ts'

/** Sends `request` over a raw socket; resolves with everything the server sent until it closed the connection. */
function exchange(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(request))
    let answer = ''
    socket.setEncoding('latin1').on('data', (chunk: string) => {
      answer += chunk
    })
    socket.on('end', () => resolve(answer)).on('error', reject)
  })
}

const streamed = awslambda.streamifyResponse(async (_event, responseStream) => {
  responseStream.write('hello ')
  await new Promise((resolve) => setTimeout(resolve, 10))
  responseStream.end('world')
})

// RFC 9112 §6.1: a server MUST NOT send Transfer-Encoding to a request that does not indicate HTTP/1.1. An
// HTTP/1.0 client (ApacheBench, a proxy speaking 1.0 upstream) reads chunk sizes as body bytes.
describe('sluice/dev answers an HTTP/1.0 client in HTTP/1.0 framing', () => {
  it('sends a streamed body without chunked encoding, delimited by the end of the connection', async () => {
    const server = await startEmulator(streamed)
    const answer = await exchange(server.url, 'GET / HTTP/1.0\r\n\r\n')
    const [head = '', body] = answer.split('\r\n\r\n')
    expect(head).toMatch(/^HTTP\/1\.1 200 /)
    expect(head).not.toMatch(/^transfer-encoding:/im)
    expect(head).toMatch(/^connection: close$/im)
    expect(body).toBe('hello world')
  })

  it('answers its HEAD without a transfer-encoding, which it could not read on a GET', async () => {
    const server = await startEmulator(streamed)
    const answer = await exchange(server.url, 'HEAD / HTTP/1.0\r\n\r\n')
    expect(answer).toMatch(/^HTTP\/1\.1 200 /)
    expect(answer).not.toMatch(/^transfer-encoding:/im)
    expect(answer.endsWith('\r\n\r\n')).toBe(true)
  })

  it('still sends a buffered result with its Content-Length', async () => {
    const server = await startEmulator(async () => ({ statusCode: 200, body: 'whole' }))
    const answer = await exchange(server.url, 'GET / HTTP/1.0\r\n\r\n')
    expect(answer).toMatch(/^content-length: 5$/im)
    expect(answer.endsWith('\r\n\r\nwhole')).toBe(true)
  })
})
