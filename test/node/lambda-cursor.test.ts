import { setupServer } from 'msw/node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sluiceHandler, streamNdjson, streamSse } from '../../src/lambda/index.ts'
import { awslambda, functionUrl } from '../../src/mock/index.ts'
import { marker, request, setup } from './lambda-recorder.ts'

const server = setupServer()
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }))
afterAll(() => server.close())

const rows = [{ id: 0 }, { id: 1 }, { id: 2 }]
const ndjson = `{"id":0}\n{"id":1}\n{"id":2}\n`
const refusal = /resume after cursor "1" .*plain iterable.*pass a function \(cursor\) => iterable/

describe('a plain iterable and a request that carries a cursor', () => {
  it('streamNdjson fails before its first byte instead of sending the rows again', async () => {
    const { stream, awslambda, preludes } = setup()
    await expect(streamNdjson(stream, rows, { awslambda, request: request({}, 'cursor=1') })).rejects.toThrow(
      refusal,
    )
    expect(preludes).toEqual([])
    expect(stream.text).toBe('')
  })

  it('reads the cursor where cursorOf does: the header, and renamed parameters', async () => {
    const cases = [
      { options: {}, req: request({ 'x-sluice-cursor': '1' }), where: /x-sluice-cursor header/ },
      { options: { cursorParam: 'after' }, req: request({}, 'after=1'), where: /\?after= query parameter/ },
      { options: { cursorHeader: 'x-after' }, req: request({ 'x-after': '1' }), where: /x-after header/ },
    ]
    for (const { options, req, where } of cases) {
      const { stream, awslambda } = setup()
      const written = streamNdjson(stream, rows, { awslambda, request: req, ...options })
      await expect(written).rejects.toThrow(refusal)
      await expect(written).rejects.toThrow(where)
    }
  })

  it('streamSse fails before its first byte on a cursor without Last-Event-ID', async () => {
    const { stream, awslambda, preludes } = setup()
    const events = rows.map(({ id }) => ({ id: String(id), data: 'x' }))
    await expect(streamSse(stream, events, { awslambda, request: request({}, 'cursor=1') })).rejects.toThrow(
      refusal,
    )
    expect(preludes).toEqual([])
  })

  it('streamSse still replays a plain iterable past the Last-Event-ID, cursor or not', async () => {
    const { stream, awslambda } = setup()
    const events = rows.map(({ id }) => ({ id: String(id), data: 'x' }))
    await streamSse(stream, events, { awslambda, request: request({ 'last-event-id': '1' }, 'cursor=1') })
    expect(stream.text).toBe(`id: 2\ndata: x\n\n${marker(15)}`)
  })

  it('answers the client with a 502 that says why, through a function URL', async () => {
    server.use(
      functionUrl(
        'https://fn.test/rows',
        sluiceHandler(() => ({ ndjson: rows }), { awslambda }),
      ),
    )
    const response = await fetch('https://fn.test/rows?cursor=1')
    expect(response.status).toBe(502)
    expect(((await response.json()) as { Message: string }).Message).toMatch(refusal)
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
