import { describe, expect, expectTypeOf, it } from 'vitest'
import type { Context, LambdaFunctionUrlEvent } from '../../src/lambda/index.ts'
import { sluiceHandler } from '../../src/lambda/index.ts'
import { fakeAwslambda, marker, Recorder } from './lambda-recorder.ts'

const context = {} as Context

function event(headers: Record<string, string> = {}, rawQueryString = ''): LambdaFunctionUrlEvent {
  return { headers, rawQueryString } as LambdaFunctionUrlEvent
}

describe('sluiceHandler', () => {
  it('returns a handler marked as streaming by awslambda.streamifyResponse', () => {
    const { awslambda } = fakeAwslambda()
    const handler = sluiceHandler(() => ({ ndjson: [] }), { awslambda })
    expect(
      (handler as unknown as Record<symbol, unknown>)[Symbol.for('aws.lambda.runtime.handler.streaming')],
    ).toBe('response')
  })

  it('passes the highWaterMark option to streamifyResponse', () => {
    const { awslambda, streamified } = fakeAwslambda()
    sluiceHandler(() => ({ ndjson: [] }), { awslambda, highWaterMark: 1024 })
    sluiceHandler(() => ({ ndjson: [] }), { awslambda })
    expect(streamified).toEqual([{ highWaterMark: 1024 }, undefined])
  })

  it('streams the NDJSON body the callback returns, with its options', async () => {
    const { awslambda, preludes } = fakeAwslambda()
    const handler = sluiceHandler(() => ({ ndjson: [{ a: 1 }], statusCode: 201 }), { awslambda })
    const stream = new Recorder()
    await handler(event(), stream, context)
    expect(stream.text).toBe(`{"a":1}\n${marker(8)}`)
    expect(preludes[0]?.statusCode).toBe(201)
  })

  it('passes the event to the helpers, so a cursor source resumes', async () => {
    const { awslambda } = fakeAwslambda()
    const handler = sluiceHandler(() => ({ ndjson: (cursor) => [`after ${cursor}`] }), { awslambda })
    const stream = new Recorder()
    await handler(event({}, 'cursor=5'), stream, context)
    expect(stream.text).toBe(`"after 5"\n${marker(10)}`)
  })

  it('passes the event to the helpers, so an SSE source replays after Last-Event-ID', async () => {
    const { awslambda } = fakeAwslambda()
    const handler = sluiceHandler(() => ({ sse: (lastId) => [{ id: `${Number(lastId) + 1}`, data: 'x' }] }), {
      awslambda,
    })
    const stream = new Recorder()
    await handler(event({ 'last-event-id': '3' }), stream, context)
    expect(stream.text).toBe(`id: 4\ndata: x\n\n${marker(15)}`)
  })

  it('passes the event to the helpers, so a bytes body answers Range', async () => {
    const { awslambda, preludes } = fakeAwslambda()
    const handler = sluiceHandler(() => ({ bytes: 'hello world', etag: '"h"' }), { awslambda })
    const stream = new Recorder()
    await handler(event({ range: 'bytes=6-' }), stream, context)
    expect(stream.text).toBe('world')
    expect(preludes[0]?.headers?.['content-range']).toBe('bytes 6-10/11')
  })

  it('fails the invocation with a sentence when the callback returns no body, nothing, or two bodies', async () => {
    const { awslambda } = fakeAwslambda()
    const cases: Array<[unknown, string]> = [
      [{}, 'returned no body'],
      [undefined, 'returned no body'],
      [{ ndjson: [], bytes: 'x' }, 'returned ndjson and bytes together'],
    ]
    for (const [returned, what] of cases) {
      const handler = sluiceHandler(() => returned as never, { awslambda })
      await expect(handler(event(), new Recorder(), context)).rejects.toThrow(
        `sluice/lambda: the sluiceHandler callback ${what}; return an object with exactly one of ndjson, sse or bytes.`,
      )
    }
  })

  it('fails the invocation with a sentence, before any byte, when a body is not a source', async () => {
    const cases: Array<[unknown, string]> = [
      // The commonest slip: an async source function returns a promise of rows, not rows.
      [
        { ndjson: async () => [{ a: 1 }] },
        'streamNdjson got a source function that returned an object (Promise) as its source (a promise: make the function an async generator, or not async); pass an array, a generator, a Node Readable or a web ReadableStream, or a function of the cursor that returns one.',
      ],
      [{ sse: null }, 'streamSse got null as its source;'],
      [
        { bytes: 42 },
        'streamBytes got 42 as its source; pass an array, a generator, a Node Readable or a web ReadableStream.',
      ],
    ]
    for (const [returned, message] of cases) {
      const { awslambda, preludes } = fakeAwslambda()
      const handler = sluiceHandler(() => returned as never, { awslambda })
      await expect(handler(event(), new Recorder(), context)).rejects.toThrow(`sluice/lambda: ${message}`)
      expect(preludes).toEqual([])
    }
  })

  it('says how to provide the awslambda global when it is missing, in a test too', () => {
    expect(() => sluiceHandler(() => ({ ndjson: [] }))).toThrow(
      /sluiceHandler needs the awslambda global.* In a test, call installAwslambdaGlobal\(\) from sluice\/mock before importing the handler module/,
    )
  })

  it('types the callback with the function-URL event and context', () => {
    const { awslambda } = fakeAwslambda()
    sluiceHandler(
      (e, c) => {
        expectTypeOf(e).toEqualTypeOf<LambdaFunctionUrlEvent>()
        expectTypeOf(c).toEqualTypeOf<Context>()
        return { bytes: '' }
      },
      { awslambda },
    )
  })
})
