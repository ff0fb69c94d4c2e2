import { connect, type Socket } from 'node:net'
import { describe, expect, it } from 'vitest'
import { awslambda } from '../../src/runtime/index.ts'
import { startEmulator } from '../support/emulator.ts'

/** Opens a raw connection and sends `request`; resolves with the socket once it is sent. */
function send(url: string, request: string): Promise<Socket> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(request, () => resolve(socket)))
    socket.on('error', reject)
  })
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 50))

// On AWS a request whose body never arrives whole invokes nothing and logs nothing: the function did not fail, and
// neither did the emulator. It used to log "the emulator failed on PUT /: aborted" for each cancelled upload.
describe('sluice/dev and a request body that never arrives whole', () => {
  let invoked = 0
  const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
    invoked += 1
    responseStream.end()
  })

  it('invokes nothing and logs no failure when the client leaves in the middle of its upload, and serves on', async () => {
    invoked = 0
    const log: string[] = []
    const server = await startEmulator(handler, { log: (line) => log.push(line) })
    const socket = await send(server.url, 'PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc')
    await settle()
    socket.destroy()
    await settle()
    expect(log).toEqual([])
    expect(invoked).toBe(0)
    expect((await fetch(server.url)).status).toBe(200)
    expect(invoked).toBe(1)
  })

  it('logs no failure for an upload still running when the server closes', async () => {
    const log: string[] = []
    const server = await startEmulator(handler, { log: (line) => log.push(line) })
    const socket = await send(server.url, 'PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc')
    const closed = new Promise((resolve) => socket.on('close', resolve))
    await settle()
    await server.close()
    await closed
    await settle()
    expect(log).toEqual([])
  })

  it('logs no failure for a chunked body Node cannot parse, which Node answers with a 400', async () => {
    const log: string[] = []
    const server = await startEmulator(handler, { log: (line) => log.push(line) })
    const socket = await send(
      server.url,
      'PUT /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n',
    )
    let answer = ''
    socket.setEncoding('latin1').on('data', (chunk: string) => {
      answer += chunk
    })
    await new Promise((resolve) => socket.on('close', resolve))
    await settle()
    expect(answer).toMatch(/^HTTP\/1\.1 400 /)
    expect(log).toEqual([])
  })
})
