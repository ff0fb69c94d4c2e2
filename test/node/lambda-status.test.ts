import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { sluice } from '../../src/index.ts'
import { sluiceHandler, streamBytes, streamNdjson, streamSse } from '../../src/lambda/index.ts'
import { awslambda, functionUrl, streamHandler } from '../../src/mock/index.ts'
import { marker, request, setup, until } from './lambda-recorder.ts'

const server = setupServer()
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }))
afterAll(() => server.close())
afterEach(() => {
  vi.useRealTimers()
})

const body = 'abcdefghijklmnopqrstuvwxyz'

describe('the status of a full response and Range', () => {
  it('answers Range with 206 whatever the success status of the full response', async () => {
    for (const statusCode of [201, 202, 203]) {
      const { stream, awslambda, preludes } = setup()
      await streamBytes(stream, [body], {
        awslambda,
        statusCode,
        range: true,
        request: request({ range: 'bytes=20-' }),
      })
      expect(preludes[0]?.statusCode, `status ${statusCode}`).toBe(206)
      expect(preludes[0]?.headers?.['content-range']).toBe('bytes 20-*/*')
      expect(stream.text).toBe(`uvwxyz${marker(26)}`)
    }
  })

  it('sends the success status it was given to a request without Range', async () => {
    const { stream, awslambda, preludes } = setup()
    await streamBytes(stream, [body], { awslambda, statusCode: 201, etag: '"v1"' })
    expect(preludes[0]?.statusCode).toBe(201)
    expect(preludes[0]?.headers?.['accept-ranges']).toBe('bytes')
  })

  it('ignores Range on an error or redirect status and announces no Accept-Ranges there', async () => {
    for (const statusCode of [404, 410, 500, 300, 301, 307]) {
      const { stream, awslambda, preludes } = setup()
      await streamBytes(stream, 'not the resource', {
        awslambda,
        statusCode,
        etag: '"x"',
        request: request({ range: 'bytes=1-' }),
      })
      expect(preludes[0]?.statusCode, `status ${statusCode}`).toBe(statusCode)
      expect(preludes[0]?.headers?.['accept-ranges']).toBeUndefined()
      expect(preludes[0]?.headers?.['content-range']).toBeUndefined()
      expect(stream.text).toBe('not the resource')
    }
  })

  it('resumes a 201 NDJSON body by Range after its first invocation fails halfway', async () => {
    const rows = Array.from({ length: 300 }, (_, n) => ({ n, pad: 'y'.repeat(40) }))
    let attempt = 0
    const handler = sluiceHandler(
      () => {
        const failing = ++attempt === 1
        return {
          ndjson: (async function* () {
            for (const row of rows) {
              if (failing && row.n === 150) throw new Error('the database went away halfway')
              yield row
            }
          })(),
          range: true,
          statusCode: 201,
        }
      },
      { awslambda },
    )
    const statuses: number[] = []
    const listener = ({ response }: { response: Response }): void => {
      statuses.push(response.status)
    }
    server.events.on('response:mocked', listener)
    server.use(functionUrl('https://fn.test/created', handler))
    const res = await sluice('https://fn.test/created', {
      retry: 0,
      resume: { backoff: { initial: 1, max: 1, factor: 1, jitter: 0 } },
    })
    expect(await Array.fromAsync(res.ndjson())).toEqual(rows)
    server.events.removeListener('response:mocked', listener)
    expect(statuses).toEqual([201, 206])
  })
})

describe('a status without a body (204, 205, 304)', () => {
  it('sends neither the end marker nor a body for a 204', async () => {
    const { stream, awslambda, preludes } = setup()
    await streamNdjson(stream, [], { awslambda, statusCode: 204 })
    expect(preludes).toEqual([{ statusCode: 204, headers: { 'content-type': 'application/x-ndjson' } }])
    expect(stream.text).toBe('')
    expect(stream.writableFinished).toBe(true)
  })

  it('sends no length, Accept-Ranges or Content-Range for a 304, and ignores Range, but keeps the ETag', async () => {
    const { stream, awslambda, preludes } = setup()
    await streamBytes(stream, '', {
      awslambda,
      statusCode: 304,
      etag: '"v1"',
      length: 26,
      request: request({ range: 'bytes=5-' }),
    })
    expect(preludes).toEqual([
      { statusCode: 304, headers: { 'content-type': 'application/octet-stream', etag: '"v1"' } },
    ])
    expect(stream.text).toBe('')
  })

  it('answers a 204 with an ETag as a 204, not a 416, when the request carries Range', async () => {
    const { stream, awslambda, preludes } = setup()
    await streamNdjson(stream, [], {
      awslambda,
      statusCode: 204,
      etag: '"v1"',
      request: request({ range: 'bytes=0-' }),
    })
    expect(preludes).toEqual([
      { statusCode: 204, headers: { 'content-type': 'application/x-ndjson', etag: '"v1"' } },
    ])
    expect(stream.text).toBe('')
  })

  it('sends an SSE 204 (how a server tells EventSource to stop) without a heartbeat or marker', async () => {
    const { stream, awslambda, preludes } = setup()
    await streamSse(stream, [], { awslambda, statusCode: 204, retry: 1000 })
    expect(preludes[0]?.statusCode).toBe(204)
    expect(preludes[0]?.headers?.['x-sluice-end']).toBeUndefined()
    expect(preludes[0]?.headers?.['cache-control']).toBe('no-cache')
    expect(stream.text).toBe('')
  })

  it('sends no heartbeat on an SSE 204, however long its source takes to end', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const { stream, awslambda, preludes } = setup()
    const gate = Promise.withResolvers<void>()
    async function* nothing(): AsyncGenerator<string> {
      await gate.promise
      yield* []
    }
    const done = streamSse(stream, nothing(), { awslambda, statusCode: 204, heartbeatMs: 1_000 })
    await vi.advanceTimersByTimeAsync(60_000)
    gate.resolve()
    await done
    expect(preludes[0]?.statusCode).toBe(204)
    expect(stream.text).toBe('')
  })

  it('refuses a source with items for a 205, before it sends anything', async () => {
    const { stream, awslambda, preludes } = setup()
    await expect(streamNdjson(stream, [{ n: 1 }], { awslambda, statusCode: 205 })).rejects.toThrow(
      /got a body for status 205, which has none; pass an empty source/,
    )
    expect(preludes).toEqual([])
    expect(stream.text).toBe('')
  })

  it('closes the source whose items it refuses for a 205', async () => {
    const { stream, awslambda } = setup()
    let closed = false
    async function* rows(): AsyncGenerator<{ n: number }> {
      try {
        yield { n: 1 }
        yield { n: 2 }
      } finally {
        closed = true
      }
    }
    await expect(streamNdjson(stream, rows(), { awslambda, statusCode: 205 })).rejects.toThrow(
      /got a body for status 205/,
    )
    await until(() => closed)
  })

  it('answers a 204 through a function URL without x-sluice-end', async () => {
    server.use(
      functionUrl(
        'https://fn.test/none',
        sluiceHandler(() => ({ ndjson: [], statusCode: 204 }), { awslambda }),
      ),
    )
    const response = await fetch('https://fn.test/none')
    expect(response.status).toBe(204)
    expect(response.headers.get('x-sluice-end')).toBeNull()
    expect(await response.text()).toBe('')
  })
})

describe('416', () => {
  it('is the same from sluice/lambda behind a function URL and from sluice/mock', async () => {
    const lines = Array.from({ length: 5 }, (_, n) => `line ${n}\n`)
    const whole = lines.join('')
    server.use(
      functionUrl(
        'https://fn.test/lambda',
        sluiceHandler(() => ({ bytes: lines, length: whole.length, etag: '"v1"' }), { awslambda }),
      ),
      streamHandler('GET', 'https://fn.test/mock', lines, { range: true, etag: '"v1"' }),
    )
    const headers = { range: `bytes=${whole.length}-` }
    const lambda = await fetch('https://fn.test/lambda', { headers })
    const mock = await fetch('https://fn.test/mock', { headers })
    for (const response of [lambda, mock]) {
      expect(response.status).toBe(416)
      expect(response.headers.get('content-range')).toBe(`bytes */${whole.length}`)
      expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8')
    }
    const text = await lambda.text()
    expect(text).toBe(`Range not satisfiable: the body is ${whole.length} bytes long.\n`)
    expect(await mock.text()).toBe(text)
  })
})
