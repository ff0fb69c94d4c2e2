import { setupServer } from 'msw/node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type HttpResponseMetadata, sluiceHandler, streamNdjson, streamSse } from '../../src/lambda/index.ts'
import { awslambda, functionUrl } from '../../src/mock/index.ts'
import { marker, request, setup } from './lambda-recorder.ts'

const server = setupServer()
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }))
afterAll(() => server.close())

const rows = [{ id: 0 }, { id: 1 }, { id: 2 }]
const ndjson = `{"id":0}\n{"id":1}\n{"id":2}\n`
const refusal =
  /^sluice\/lambda: streamNdjson cannot continue after a cursor: its source is a plain iterable, which starts from its first item; pass a function \(cursor\) => items after it as the source/

/** The refusal a helper answers with: its status, its headers, and its text. */
function refused(preludes: HttpResponseMetadata[], stream: { text: string }) {
  expect(preludes).toHaveLength(1)
  return { status: preludes[0]?.statusCode, headers: preludes[0]?.headers, text: stream.text }
}

describe('a plain iterable and a request that carries a cursor', () => {
  it('streamNdjson answers 409 with a text that says what to do, instead of sending the rows again', async () => {
    const { stream, awslambda, preludes } = setup()
    await streamNdjson(stream, rows, { awslambda, request: request({}, 'cursor=1') })
    const answer = refused(preludes, stream)
    expect(answer.status).toBe(409)
    expect(answer.headers).toEqual({
      'content-type': 'text/plain; charset=utf-8',
      'x-content-type-options': 'nosniff',
      'content-length': String(new TextEncoder().encode(answer.text).byteLength),
    })
    expect(answer.text).toMatch(refusal)
    expect(answer.text).toMatch(/The request carried cursor "1" in the \?cursor= query parameter\.\n$/)
  })

  it("keeps the caller's headers and cookies on the refusal, but none that describe the stream", async () => {
    const { stream, awslambda, preludes } = setup()
    await streamNdjson(stream, rows, {
      awslambda,
      request: request({ range: 'bytes=3-' }, 'cursor=1'),
      etag: '"v1"',
      headers: { 'access-control-allow-origin': '*' },
      cookies: ['a=1'],
    })
    expect(preludes[0]?.statusCode).toBe(409)
    expect(preludes[0]?.cookies).toEqual(['a=1'])
    expect(preludes[0]?.headers).toMatchObject({ 'access-control-allow-origin': '*' })
    expect(Object.keys(preludes[0]?.headers ?? {})).not.toContain('etag')
    expect(Object.keys(preludes[0]?.headers ?? {})).not.toContain('accept-ranges')
  })

  it('reads the cursor where cursorOf does: the header, and renamed parameters', async () => {
    const cases = [
      { options: {}, req: request({ 'x-sluice-cursor': '1' }), where: /in the x-sluice-cursor header/ },
      {
        options: { cursorParam: 'after' },
        req: request({}, 'after=1'),
        where: /in the \?after= query parameter/,
      },
      {
        options: { cursorHeader: 'x-after' },
        req: request({ 'x-after': '1' }),
        where: /in the x-after header/,
      },
    ]
    for (const { options, req, where } of cases) {
      const { stream, awslambda, preludes } = setup()
      await streamNdjson(stream, rows, { awslambda, request: req, ...options })
      expect(preludes[0]?.statusCode).toBe(409)
      expect(stream.text).toMatch(refusal)
      expect(stream.text).toMatch(where)
    }
  })

  it('streamSse answers 409 on a cursor without Last-Event-ID', async () => {
    const { stream, awslambda, preludes } = setup()
    const events = rows.map(({ id }) => ({ id: String(id), data: 'x' }))
    await streamSse(stream, events, { awslambda, retry: 1000, request: request({}, 'cursor=1') })
    expect(refused(preludes, stream).status).toBe(409)
    expect(stream.text).toMatch(/^sluice\/lambda: streamSse cannot continue after a cursor/)
  })

  it('streamSse still replays a plain iterable past the Last-Event-ID, cursor or not', async () => {
    const { stream, awslambda } = setup()
    const events = rows.map(({ id }) => ({ id: String(id), data: 'x' }))
    await streamSse(stream, events, { awslambda, request: request({ 'last-event-id': '1' }, 'cursor=1') })
    expect(stream.text).toBe(`id: 2\ndata: x\n\n${marker(15)}`)
  })

  it('answers the client with a 409 that says why, through a function URL', async () => {
    server.use(
      functionUrl(
        'https://fn.test/rows',
        sluiceHandler(() => ({ ndjson: rows }), { awslambda }),
      ),
    )
    const response = await fetch('https://fn.test/rows?cursor=1')
    expect(response.status).toBe(409)
    expect(await response.text()).toMatch(refusal)
  })
})

describe('a plain iterable still serves', () => {
  it('a request without a cursor, or with an empty one', async () => {
    for (const query of ['', 'cursor=', 'other=1']) {
      const { stream, awslambda } = setup()
      await streamNdjson(stream, rows, { awslambda, request: request({}, query) })
      expect(stream.text, `?${query}`).toBe(`${ndjson}${marker(27)}`)
    }
  })

  it('a Range resume of a deterministic body', async () => {
    const { stream, awslambda, preludes } = setup()
    await streamNdjson(stream, rows, { awslambda, range: true, request: request({ range: 'bytes=9-' }) })
    expect(preludes[0]?.statusCode).toBe(206)
    expect(stream.text).toBe(`{"id":1}\n{"id":2}\n${marker(27)}`)
  })

  it('while a function source gets the cursor', async () => {
    const { stream, awslambda } = setup()
    const after = (cursor: string | undefined) => rows.filter(({ id }) => id > Number(cursor ?? -1))
    await streamNdjson(stream, after, { awslambda, request: request({}, 'cursor=1') })
    expect(stream.text).toBe(`{"id":2}\n${marker(9)}`)
  })
})
