import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { awslambda } from '../../src/dev/index.ts'
import { type InvocationOutcome, installAwslambdaGlobal } from '../../src/runtime/index.ts'
import { fixture, startEmulator } from '../support/emulator.ts'

describe('sluice/dev serve() runs a documented handler like a function URL', () => {
  it('gives the status, headers, cookies and body from the prelude when served from a module path', async () => {
    const server = await startEmulator(fixture('documented-handler.mjs'))
    const response = await fetch(server.url)
    expect(response.status).toBe(201)
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8')
    expect(response.headers.get('x-custom-header')).toBe('sluice')
    expect(response.headers.get('transfer-encoding')).toBe('chunked')
    expect(response.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/)
    expect(response.headers.getSetCookie()).toEqual(['session=abc; Path=/; HttpOnly', 'theme=dark'])
    expect(await response.text()).toBe('Hello from a streamed function URL.')
  })

  it('runs the same handler passed as a function', async () => {
    const uninstall = installAwslambdaGlobal()
    try {
      const { handler } = await import('../fixtures/documented-handler.mjs')
      const server = await startEmulator(handler)
      const response = await fetch(server.url)
      expect(response.status).toBe(201)
      expect(await response.text()).toBe('Hello from a streamed function URL.')
    } finally {
      uninstall()
    }
  })

  it('finds a default export when there is no handler export, and serves a body without prelude as application/octet-stream', async () => {
    const server = await startEmulator(fixture('default-export-handler.mjs'))
    const response = await fetch(server.url)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('application/octet-stream')
    expect(await response.text()).toBe('raw bytes')
  })

  /** Runs `use` with a module, in a fresh directory, whose `handler` and `other` exports answer their own names. */
  async function withTwoExports(use: (path: string) => Promise<void>): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-dev-'))
    try {
      const say = (text: string) =>
        `awslambda.streamifyResponse(async (_event, responseStream) => responseStream.end('${text}'))`
      await writeFile(
        join(dir, 'handlers.mjs'),
        `export const handler = ${say('handler')}\nexport const other = ${say('other')}\n`,
      )
      await use(join(dir, 'handlers.mjs'))
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }

  it("serves the export named after '#' in the module path instead of handler", async () => {
    await withTwoExports(async (path) => {
      const server = await startEmulator(`${path}#other`)
      expect(await (await fetch(server.url)).text()).toBe('other')
    })
  })

  it('serves a handler module given as a file: URL, resolved from the calling module rather than process.cwd()', async () => {
    const server = await startEmulator(new URL('../fixtures/documented-handler.mjs', import.meta.url))
    const response = await fetch(server.url)
    expect(response.status).toBe(201)
    expect(await response.text()).toBe('Hello from a streamed function URL.')
  })

  it("serves the export named by a file: URL's hash instead of handler", async () => {
    await withTwoExports(async (path) => {
      const file = pathToFileURL(path)
      expect(await (await fetch((await startEmulator(file)).url)).text()).toBe('handler')
      const other = new URL(`${file.href}#other`)
      expect(await (await fetch((await startEmulator(other)).url)).text()).toBe('other')
    })
  })

  it.each([204, 304])(
    'sends a %i without transfer-encoding, which has no body to frame, and keeps the connection',
    async (statusCode) => {
      const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
        // An empty write sends the prelude: end() alone would not, as on AWS (emulator-parity.prelude.test.ts).
        const stream = awslambda.HttpResponseStream.from(responseStream, {
          statusCode,
          headers: { etag: '"v1"' },
        })
        stream.write('')
        stream.end()
      })
      const server = await startEmulator(handler)
      const response = await fetch(server.url)
      expect(response.status).toBe(statusCode)
      expect(response.headers.get('transfer-encoding')).toBeNull()
      expect(response.headers.get('connection')).toBe('keep-alive')
      expect(response.headers.get('etag')).toBe('"v1"')
    },
  )

  it('answers HEAD with the transfer-encoding GET would have, and no body', async () => {
    const server = await startEmulator(fixture('documented-handler.mjs'))
    const response = await fetch(server.url, { method: 'HEAD' })
    expect(response.status).toBe(201)
    expect(response.headers.get('transfer-encoding')).toBe('chunked')
    expect(await response.text()).toBe('')
  })

  it('sends header values and cookies with characters from U+0080 to U+00FF as one byte each, as fetch reads them', async () => {
    // Node's flushHeaders() sends a head as UTF-8: the client read 'JosÃ©' where the mock gave 'José'.
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      responseStream = awslambda.HttpResponseStream.from(responseStream, {
        headers: { 'x-name': 'José', 'content-type': 'text/plain; charset=utf-8' },
        cookies: ['name=José'],
      })
      responseStream.write('olé')
      responseStream.end()
    })
    const server = await startEmulator(handler)
    const response = await fetch(server.url)
    expect(response.headers.get('x-name')).toBe('José')
    expect(response.headers.getSetCookie()).toEqual(['name=José'])
    expect(await response.text()).toBe('olé')
  })

  it('answers HEAD with the head alone as soon as it is known, whatever the handler does after it', async () => {
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      responseStream = awslambda.HttpResponseStream.from(responseStream, { statusCode: 201 })
      responseStream.write('first')
      await new Promise((resolve) => setTimeout(resolve, 10))
      throw new Error('fails after its head')
    })
    const outcomes: Promise<InvocationOutcome>[] = []
    const server = await startEmulator(handler, {
      onInvocation: (invocation) => outcomes.push(invocation.finished),
    })
    const response = await fetch(server.url, { method: 'HEAD' })
    expect(response.status).toBe(201)
    expect(await response.text()).toBe('')
    // It runs on past the response: a handler still running would keep the awslambda global for the next test.
    expect((await outcomes[0])?.state).toBe('failed')
  })

  it('defines the awslambda global only while a server runs', async () => {
    const scope = globalThis as { awslambda?: unknown }
    expect(scope.awslambda).toBeUndefined()
    const server = await startEmulator(fixture('documented-handler.mjs'))
    expect(scope.awslambda).toBeDefined()
    await server.close()
    expect(scope.awslambda).toBeUndefined()
  })

  it('keeps the awslambda global for a handler still running after close(), until it finishes', async () => {
    const scope = globalThis as { awslambda?: typeof awslambda }
    let proceed!: () => void
    const closed = new Promise<void>((resolve) => {
      proceed = resolve
    })
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      await closed
      // As a handler module finds it: through the global, which close() must not take away from under it.
      const stream = scope.awslambda!.HttpResponseStream.from(responseStream, { statusCode: 201 })
      stream.write('late')
      stream.end()
    })
    const outcomes: Promise<InvocationOutcome>[] = []
    const server = await startEmulator(handler, {
      onInvocation: (invocation) => outcomes.push(invocation.finished),
    })
    const response = fetch(server.url).catch(() => undefined)
    await expect.poll(() => outcomes.length).toBe(1)
    await server.close()
    expect(scope.awslambda).toBeDefined()
    proceed()
    expect(await outcomes[0]).toEqual({ state: 'succeeded' })
    expect(scope.awslambda).toBeUndefined()
    await response
  })
})
