import { connect } from 'node:net'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { serve } from '../../src/dev/index.ts'
import { awslambda, type InvocationOutcome } from '../../src/runtime/index.ts'
import { fixture, startEmulator } from '../support/emulator.ts'

/** Sends a request (a GET by default) with exactly these header lines over a raw socket; resolves with the answer. */
function rawGet(
  url: string,
  headerLines: string[],
  requestLine = 'GET /report?month=10 HTTP/1.1',
): Promise<string> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.end([requestLine, ...headerLines, '', ''].join('\r\n'))
    })
    let answer = ''
    socket.setEncoding('latin1').on('data', (chunk: string) => {
      answer += chunk
    })
    socket.on('end', () => resolve(answer)).on('error', reject)
  })
}

describe('sluice/dev explains bad requests', () => {
  it('answers 400 with the reason to a Host header that makes no URL, without invoking the function, and serves on', async () => {
    const invoked: string[] = []
    const server = await startEmulator(fixture('echo-event-handler.mjs'), {
      onInvocation: (invocation) => invoked.push(invocation.requestId),
    })
    const answer = await rawGet(server.url, ['Host: bad host'])
    const [head = '', body] = answer.split('\r\n\r\n')
    expect(head).toMatch(/^HTTP\/1\.1 400 /)
    expect(head).toMatch(/^content-type: text\/plain; charset=utf-8$/im)
    expect(body).toBe(
      'Bad request: the Host header "bad host" and the request target "/report?month=10" make no valid URL, so the function was not invoked.\n',
    )
    expect(invoked).toEqual([])
    // The server still serves, the next request with its own Host included.
    expect((await fetch(server.url)).status).toBe(200)
    expect(invoked).toHaveLength(1)
  })

  it('answers 400 to `OPTIONS *`, which names no path, without invoking the function, whatever the Host', async () => {
    const invoked: string[] = []
    const server = await startEmulator(fixture('echo-event-handler.mjs'), {
      onInvocation: (invocation) => invoked.push(invocation.requestId),
    })
    // Glued to a Host without a port, `*` made a URL: the function got `*` as its rawPath, which is never a path.
    for (const host of ['example.com', new URL(server.url).host]) {
      const answer = await rawGet(server.url, [`Host: ${host}`, 'Connection: close'], 'OPTIONS * HTTP/1.1')
      const [head = '', body] = answer.split('\r\n\r\n')
      expect(head).toMatch(/^HTTP\/1\.1 400 /)
      expect(body).toBe(
        `Bad request: the Host header "${host}" and the request target "*" make no valid URL, so the function was not invoked.\n`,
      )
    }
    expect(invoked).toEqual([])
  })

  it('answers 400 to a request with two Host headers (RFC 9112 §3.2), without invoking the function', async () => {
    const invoked: string[] = []
    const server = await startEmulator(fixture('echo-event-handler.mjs'), {
      onInvocation: (invocation) => invoked.push(invocation.requestId),
    })
    // The URL took the first, the event joined both: a domainName of "a.example,evil.example" that no one sent.
    const answer = await rawGet(server.url, ['Host: a.example', 'Host: evil.example', 'Connection: close'])
    const [head = '', body] = answer.split('\r\n\r\n')
    expect(head).toMatch(/^HTTP\/1\.1 400 /)
    expect(body).toBe(
      'Bad request: the request has 2 Host headers ("a.example", "evil.example"), and HTTP allows one, so the function was not invoked.\n',
    )
    expect(invoked).toEqual([])
  })

  it('answers 400 to a Host header that is no host and port, though it makes a URL, without invoking the function', async () => {
    const invoked: string[] = []
    const server = await startEmulator(fixture('echo-event-handler.mjs'), {
      onInvocation: (invocation) => invoked.push(invocation.requestId),
    })
    // Each made a URL of another host or path than the domainName the function was given ("user@a.example"…).
    for (const host of ['user@a.example', 'a.example/admin', 'a.example?x=1', 'a.example#top']) {
      const answer = await rawGet(server.url, [`Host: ${host}`, 'Connection: close'])
      const [head = '', body] = answer.split('\r\n\r\n')
      expect(head).toMatch(/^HTTP\/1\.1 400 /)
      expect(body).toBe(
        `Bad request: the Host header "${host}" and the request target "/report?month=10" make no valid URL, so the function was not invoked.\n`,
      )
    }
    expect(invoked).toEqual([])
    // A host and port of every form still gets through.
    for (const host of ['a.example', 'A.Example:8080', '127.0.0.1:80', '[::1]:3000']) {
      const answer = await rawGet(server.url, [`Host: ${host}`, 'Connection: close'])
      expect(answer).toMatch(/^HTTP\/1\.1 200 /)
    }
  })

  it('answers 405 with the reason to CONNECT, which asks for a tunnel, without invoking the function, and serves on', async () => {
    const invoked: string[] = []
    const server = await startEmulator(fixture('echo-event-handler.mjs'), {
      onInvocation: (invocation) => invoked.push(invocation.requestId),
    })
    // Node destroyed the socket of a CONNECT nobody listened for: the client read an empty reply.
    const answer = await rawGet(server.url, ['Host: example.com:443'], 'CONNECT example.com:443 HTTP/1.1')
    const [head = '', body] = answer.split('\r\n\r\n')
    expect(head).toMatch(/^HTTP\/1\.1 405 Method Not Allowed\r\n/)
    expect(head).toMatch(/^allow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS$/im)
    expect(head).toMatch(/^content-type: text\/plain; charset=utf-8$/im)
    expect(body).toBe(
      'Method not allowed: CONNECT asks for a tunnel to "example.com:443", which a function URL does not open, so the function was not invoked.\n',
    )
    expect(invoked).toEqual([])
    expect((await fetch(server.url)).status).toBe(200)
    expect(invoked).toHaveLength(1)
  })

  it('closes, on close(), the connection of a refused CONNECT whose client keeps its side open', async () => {
    const server = await serve(fixture('echo-event-handler.mjs'), { log: false })
    const { hostname, port } = new URL(server.url)
    const socket = connect({ port: Number(port), host: hostname, allowHalfOpen: true }, () => {
      socket.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\ntunnel bytes')
    })
    // The answer has come and the server has ended its side; the client has not ended its own.
    await new Promise((resolve) => socket.resume().on('end', resolve))
    // Hung for good: Node's closeAllConnections() does not know the sockets it handed to 'connect' listeners.
    await server.close()
    socket.destroy()
  })
})

describe('sluice/dev explains bad handlers and responses', () => {
  it('rejects a module path that does not exist, naming the path', async () => {
    await expect(serve('./test/fixtures/missing.mjs', { log: false })).rejects.toThrow(
      /The handler module \.\/test\/fixtures\/missing\.mjs was not found/,
    )
  })

  it('rejects a module that fails to load, with its error', async () => {
    await expect(serve(fixture('throws-on-load.mjs'), { log: false })).rejects.toThrow(
      /could not be loaded: the database URL is not configured/,
    )
  })

  it('rejects a module without a handler, listing its exports', async () => {
    await expect(serve(fixture('no-handler.mjs'), { log: false })).rejects.toThrow(
      /has no handler.*Its exports: notAHandler\./,
    )
  })

  it('answers 502 with the reason when the prelude is not valid', async () => {
    const server = await startEmulator(fixture('invalid-prelude-handler.mjs'))
    const response = await fetch(server.url)
    expect(response.status).toBe(502)
    expect(response.headers.get('x-amzn-errortype')).toBe('InvalidPrelude')
    expect(((await response.json()) as { Message: string }).Message).toMatch(
      /prelude is invalid: the prelude is not valid JSON/,
    )
  })

  it('runs a handler not wrapped in streamifyResponse buffered, sending its result as the response', async () => {
    const server = await startEmulator(fixture('buffered-handler.mjs'))
    const response = await fetch(new URL('/plain', server.url))
    expect(response.status).toBe(202)
    expect(response.headers.get('content-type')).toBe('text/plain')
    expect(response.headers.get('x-amzn-remapped-content-length')).toBe('14')
    expect(response.headers.getSetCookie()).toEqual(['buffered=yes'])
    expect(await response.text()).toBe('buffered /plain')
  })

  it('sends a buffered handler result without statusCode as a JSON body', async () => {
    const server = await startEmulator(async () => ({ rows: 3 }))
    const response = await fetch(server.url)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('application/json')
    expect(await response.json()).toEqual({ rows: 3 })
  })

  it('renames Content-Length to x-amzn-remapped-content-length and drops Content-Encoding', async () => {
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      responseStream = awslambda.HttpResponseStream.from(responseStream, {
        headers: { 'Content-Length': '5', 'Content-Encoding': 'gzip', 'Content-Type': 'text/plain' },
      })
      responseStream.write('hello')
      responseStream.end()
    })
    const server = await startEmulator(handler)
    const response = await fetch(server.url)
    expect(response.headers.get('x-amzn-remapped-content-length')).toBe('5')
    expect(response.headers.get('content-length')).toBeNull()
    expect(response.headers.get('content-encoding')).toBeNull()
    expect(await response.text()).toBe('hello')
  })

  it("keeps the service's x-amzn-requestid, dropping one the function sets", async () => {
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      responseStream = awslambda.HttpResponseStream.from(responseStream, {
        headers: { 'X-Amzn-RequestId': 'made-up' },
      })
      responseStream.write('hello')
      responseStream.end()
    })
    const started = Promise.withResolvers<string>()
    const server = await startEmulator(handler, {
      onInvocation: (invocation) => started.resolve(invocation.requestId),
    })
    const response = await fetch(server.url)
    expect(response.headers.get('x-amzn-requestid')).toBe(await started.promise)
    await response.arrayBuffer()
  })

  it('fails a handler at setContentType with a value HTTP headers cannot carry: a 502 before its first byte', async () => {
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      responseStream.setContentType('text/plain\r\nx-injected: yes')
      responseStream.end('hello')
    })
    const server = await startEmulator(handler)
    const response = await fetch(server.url)
    expect(response.status).toBe(502)
    expect(response.headers.get('x-amzn-errortype')).toBe('Unhandled')
    expect(((await response.json()) as { Message: string }).Message).toMatch(
      /setContentType: the content type "text\/plain\\r\\nx-injected: yes" has CR, LF or another character/,
    )
  })

  it.each([
    ['a header name with a space', { headers: { 'bad name': 'v' } }, /header name "bad name" is not a valid/],
    ['a header value with LF', { headers: { 'x-a': 'a\nb' } }, /header "x-a" has a value with CR, LF/],
    ['a cookie with CR LF', { cookies: ['a=1\r\nx-b: c'] }, /cookie .* has CR, LF/],
    ['a 1xx status', { statusCode: 103 }, /statusCode 103 is not a final HTTP status/],
  ])('answers 502 InvalidPrelude to a prelude with %s', async (_, metadata, reason) => {
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      responseStream = awslambda.HttpResponseStream.from(responseStream, metadata)
      responseStream.write('x')
      responseStream.end()
    })
    const server = await startEmulator(handler)
    const response = await fetch(server.url, { signal: AbortSignal.timeout(2_000) })
    expect(response.status).toBe(502)
    expect(response.headers.get('x-amzn-errortype')).toBe('InvalidPrelude')
    expect(((await response.json()) as { Message: string }).Message).toMatch(reason)
  })

  it.each([
    ['statusCode 600', { statusCode: 600 }],
    ['statusCode 199', { statusCode: 199 }],
    ['a header value with CR LF', { headers: { 'x-a': 'a\r\nb' } }],
  ])(
    'reports the invocation as failed, and logs it, when a handler that ends at once sends %s',
    async (_, metadata) => {
      const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
        const stream = awslambda.HttpResponseStream.from(responseStream, metadata)
        stream.write('x')
        stream.end()
      })
      const lines: string[] = []
      let finished: Promise<InvocationOutcome> | undefined
      const server = await startEmulator(handler, {
        log: (line) => lines.push(line),
        onInvocation: (invocation) => {
          finished = invocation.finished
        },
      })
      const response = await fetch(server.url)
      expect(response.status).toBe(502)
      const outcome = await finished!
      expect(outcome.state).toBe('failed')
      expect(outcome.error?.message).toMatch(
        /^The function's response prelude is invalid: (statusCode|header "x-a") .* before the body\.$/,
      )
      expect(lines).toEqual([`${response.headers.get('x-amzn-requestid')} failed: ${outcome.error?.message}`])
    },
  )

  it.each([
    ['an unknown limit', { limits: { timeout: 500 } }, "serve: unknown limit 'timeout'."],
    [
      'a limit given as an option',
      { timeoutMs: 500 },
      "serve: unknown option 'timeoutMs'. timeoutMs is a limit",
    ],
    [
      'shaping: null',
      { shaping: null },
      "serve: shaping must be 'lambda', false or { burstBytes, bytesPerSecond }",
    ],
    [
      'a port out of range',
      { port: 70_000 },
      'serve: port must be a port number from 0 to 65535, got 70000.',
    ],
    // A string is quoted, so that it cannot be taken for the number it spells.
    [
      'a port given as a string',
      { port: '3000' },
      'serve: port must be a port number from 0 to 65535, got "3000".',
    ],
    [
      'a timeout given as a string',
      { limits: { timeoutMs: '300' } },
      'serve: limits.timeoutMs must be a positive number of milliseconds, or Infinity for no limit; got "300".',
    ],
    [
      'a shaping with a rate given as a string and no burst',
      { shaping: { bytesPerSecond: '1024' } },
      'serve: shaping needs burstBytes ≥ 0 and bytesPerSecond > 0; got burstBytes undefined and bytesPerSecond "1024".',
    ],
  ])('rejects %s when it is called', async (_, options, message) => {
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => responseStream.end())
    await expect(serve(handler, { log: false, ...options } as never)).rejects.toThrow(message)
  })

  it('rejects a handler that is neither a module path nor a function', async () => {
    await expect(serve({ handler: () => {} } as never, { log: false })).rejects.toThrow(
      'serve: handler must be a module path, a file: URL or a handler function, got an object (Object).',
    )
  })

  it('rejects a handler URL that is not file:, saying what it got and what to pass, and installs no global', async () => {
    await expect(serve(new URL('https://example.com/handler.mjs'), { log: false })).rejects.toThrow(
      new TypeError(
        "serve: a handler module given as a URL must be a file: URL, got https://example.com/handler.mjs; pass its file: URL (new URL('./handler.mjs', import.meta.url)) or its path.",
      ),
    )
    expect((globalThis as { awslambda?: unknown }).awslambda).toBeUndefined()
  })

  it('rejects a missing module given as a file: URL, naming its path', async () => {
    const url = new URL('../fixtures/missing.mjs', import.meta.url)
    await expect(serve(url, { log: false })).rejects.toThrow(
      `The handler module ${fileURLToPath(url)} was not found`,
    )
  })
})
