import { setupServer } from 'msw/node'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { sluice } from '../../src/index.ts'
import { sluiceHandler, streamBytes, streamNdjson, streamSse } from '../../src/lambda/index.ts'
import { awslambda, functionUrl, mockStream } from '../../src/mock/index.ts'

// A function built with sluice/lambda, tested in-process through sluice/mock without installing any global:
// sluice/mock's `awslambda` is accepted where the Lambda runtime's is.
const server = setupServer()
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }))
afterAll(() => server.close())

it("runs a sluiceHandler on sluice/mock's awslambda, end marker and all", async () => {
  const handler = sluiceHandler(async () => ({ ndjson: [{ n: 1 }, { n: 2 }, { n: 3 }] }), { awslambda })
  server.use(functionUrl('https://fn.test/rows', handler))
  const res = await sluice('https://fn.test/rows')
  expect(res.headers.get('x-sluice-end')).toBe('marker')
  expect(await Array.fromAsync(res.ndjson())).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }])
  expect(res.progress.state).toBe('done')
})

// The helpers take the stream sluice/mock's awslambda hands a handler (typed without Node's types): this file
// compiles only because they do, and the bodies below prove it is the Writable they need.
it("streams with streamNdjson, streamSse and streamBytes on sluice/mock's awslambda and its responseStream", async () => {
  const ndjson = awslambda.streamifyResponse(async (event, responseStream) => {
    await streamNdjson(responseStream, [{ n: 1 }, { n: 2 }], { request: event, awslambda })
  })
  const sse = awslambda.streamifyResponse(async (event, responseStream) => {
    await streamSse(responseStream, [{ id: '1', data: 'a' }], { request: event, awslambda })
  })
  const bytes = awslambda.streamifyResponse(async (event, responseStream) => {
    await streamBytes(responseStream, [new Uint8Array([1, 2, 3])], { request: event, awslambda, length: 3 })
  })
  server.use(
    functionUrl('https://fn.test/ndjson', ndjson),
    functionUrl('https://fn.test/sse', sse),
    functionUrl('https://fn.test/bytes', bytes),
  )
  const rows = await sluice('https://fn.test/ndjson')
  expect(rows.headers.get('x-sluice-end')).toBe('marker')
  expect(await Array.fromAsync(rows.ndjson())).toEqual([{ n: 1 }, { n: 2 }])
  const events = await sluice('https://fn.test/sse')
  expect((await Array.fromAsync(events.events())).map(({ id, data }) => [id, data])).toEqual([['1', 'a']])
  const body = await sluice('https://fn.test/bytes')
  expect(body.headers.get('x-amzn-remapped-content-length')).toBe('3')
  expect(await body.collect.bytes()).toEqual(new Uint8Array([1, 2, 3]))
})

it('mockStream answers a range of a marked body as sluice/lambda does', async () => {
  const rows = [{ n: 1 }, { n: 2 }, { n: 3 }]
  const handler = awslambda.streamifyResponse(async (event, responseStream) => {
    await streamNdjson(responseStream, rows, { request: event, awslambda, range: true })
  })
  server.use(functionUrl('https://fn.test/ranged', handler))
  const headers = { range: 'bytes=8-' }
  const lambda = await fetch('https://fn.test/ranged', { headers })
  const request = new Request('https://fn.test/ranged', { headers })
  const mock = mockStream(rows, { format: 'ndjson', range: true, endMarker: true, request })
  expect(mock.status).toBe(lambda.status)
  expect(mock.headers.get('content-range')).toBe(lambda.headers.get('content-range'))
  expect(await mock.text()).toBe(await lambda.text())
})

// Behind a function URL a 206's own Content-Length (the part's) arrives renamed, as x-amzn-remapped-content-length:
// the resume must not take it for the length of the whole body.
it('resumes a streamBytes body of declared length by Range, though the 206 remaps its part length', async () => {
  const body = 'x'.repeat(100_000)
  let attempt = 0
  const handler = awslambda.streamifyResponse(async (event, responseStream) => {
    const first = ++attempt === 1
    async function* source(): AsyncGenerator<string> {
      for (let i = 0; i < 10; i++) {
        if (first && i === 5) throw new Error('the function failed halfway')
        yield body.slice(i * 10_000, (i + 1) * 10_000)
      }
    }
    await streamBytes(responseStream, source(), {
      request: event,
      awslambda,
      length: body.length,
      etag: '"v1"',
    }).catch(() => {})
  })
  const answers: string[] = []
  const listener = ({ response }: { response: Response }): void => {
    answers.push(`${response.status} ${response.headers.get('x-amzn-remapped-content-length')}`)
  }
  server.events.on('response:mocked', listener)
  server.use(functionUrl('https://fn.test/declared', handler))
  const res = await sluice('https://fn.test/declared', {
    resume: { backoff: { initial: 1, max: 1, factor: 1, jitter: 0 } },
  })
  expect(await res.collect.text()).toBe(body)
  server.events.removeListener('response:mocked', listener)
  expect(answers).toEqual(['200 100000', '206 50000'])
  expect(res.progress).toMatchObject({ loaded: body.length, total: body.length, percent: 100, attempt: 2 })
})
