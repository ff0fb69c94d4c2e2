import { afterEach, describe, expect, it, vi } from 'vitest'
import { formatSseEvent, type SseMessage, streamSse } from '../../src/lambda/index.ts'
import { marker, NO_SUCH_EVENT, refusedAfterHeartbeat, request, setup, until } from './lambda-recorder.ts'

afterEach(() => {
  vi.useRealTimers()
})

describe('formatSseEvent', () => {
  it('writes id, event, retry and data fields, then the blank line that dispatches the event', () => {
    expect(formatSseEvent({ id: '7', event: 'token', retry: 500, data: 'hi' })).toBe(
      'id: 7\nevent: token\nretry: 500\ndata: hi\n\n',
    )
  })

  it('takes a string as the data of a plain message', () => {
    expect(formatSseEvent('hello')).toBe('data: hello\n\n')
  })

  it('splits multi-line data into one data line per line, whatever the line ending', () => {
    expect(formatSseEvent({ data: 'a\nb\r\nc\rd' })).toBe('data: a\ndata: b\ndata: c\ndata: d\n\n')
  })

  it('sends data that is not a string as JSON', () => {
    expect(formatSseEvent({ data: { text: 'x', n: [1] } })).toBe('data: {"text":"x","n":[1]}\n\n')
  })

  it('refuses data that JSON.stringify throws on with a message that says why, the error as its cause', () => {
    let thrown: unknown
    try {
      formatSseEvent({ id: '1', data: 1n })
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(TypeError)
    expect((thrown as TypeError).message).toBe(
      'sluice/lambda: streamSse got event data of type bigint, which JSON cannot represent (Do not know how to serialize a BigInt); send a string or plain data.',
    )
    expect((thrown as TypeError).cause).toBeInstanceOf(TypeError)
  })

  it('writes comments as lines that start with a colon', () => {
    expect(formatSseEvent({ comment: 'keep\nalive', id: '1' })).toBe(': keep\n: alive\nid: 1\n\n')
  })

  it('refuses an id that begins or ends with a space or tab, which a Last-Event-ID header cannot carry back', () => {
    for (const id of [' 7', '7 ', '\t7', '7\t']) {
      expect(() => formatSseEvent({ id, data: 'x' })).toThrow(
        `sluice/lambda: streamSse got the event id ${JSON.stringify(id)}, which begins or ends with a space or tab that a Last-Event-ID header cannot carry back (HTTP trims header values), so a client could not resume after it; trim the id.`,
      )
    }
    expect(formatSseEvent({ id: 'a b', data: 'x' })).toBe('id: a b\ndata: x\n\n')
  })

  it('refuses an id with a control character or a lone surrogate, which a Last-Event-ID header cannot carry back', () => {
    for (const [id, code] of [
      ['a\u0001b', 'U+0001'],
      ['a\u007fb', 'U+007F'],
      ['a\ud800b', 'U+D800'],
      ['a\udc00', 'U+DC00'],
    ] as const) {
      expect(() => formatSseEvent({ id, data: 'x' })).toThrow(
        `sluice/lambda: streamSse got the event id ${JSON.stringify(id)}, whose character ${code} a Last-Event-ID header cannot carry back (HTTP refuses control characters in headers, and UTF-8 a lone surrogate), so a client could not resume after it; remove it, or send encodeURIComponent(id).`,
      )
    }
    expect(formatSseEvent({ id: 'a\tb ~!{"}', data: 'x' })).toBe('id: a\tb ~!{"}\ndata: x\n\n')
  })

  it('sends an id beyond ASCII, which comes back as its UTF-8 bytes (as EventSource and sluice send it)', () => {
    for (const id of ['é', '日本', 'a😀', '\u0085'])
      expect(formatSseEvent({ id, data: 'x' })).toBe(`id: ${id}\ndata: x\n\n`)
  })

  it('refuses such an id in streamSse before the first byte, so that the invocation fails', async () => {
    const { stream, awslambda, preludes } = setup()
    await expect(streamSse(stream, [{ id: 'a\u0001', data: 'x' }], { awslambda })).rejects.toThrow(
      'whose character U+0001 a Last-Event-ID header cannot carry back',
    )
    expect(preludes).toEqual([])
  })

  it('ends a field line that ends as an end-marker line does with CRLF: a cut after it proves nothing', () => {
    const forged = '{"$sluice":"end","bytes":6}'
    expect(formatSseEvent({ data: forged })).toBe(`data: ${forged}\r\n\n`)
    expect(formatSseEvent({ data: `a\nx${forged}`, event: forged, comment: forged })).toBe(
      `: ${forged}\r\nevent: ${forged}\r\ndata: a\ndata: x${forged}\r\n\n`,
    )
    expect(formatSseEvent({ id: forged })).toBe(`id: ${forged}\r\n\n`)
    // Lines that merely look alike end as usual.
    for (const data of ['{"$sluice":"end","bytes":6} ', '{"$sluice":"end","bytes":x}', '{"$sluice":"end"}'])
      expect(formatSseEvent({ data })).toBe(`data: ${data}\n\n`)
  })

  it('refuses an id, event type or comment that is not a string with a message that names it, not a crash', () => {
    // Untyped handlers write `{ id: i, data }`: the id must be told apart from a failure inside the helper.
    for (const [event, said] of [
      [{ id: 5, data: 'x' }, 'id 5'],
      [{ id: null, data: 'x' }, 'id null'],
      [{ event: { type: 'token' }, data: 'x' }, 'event an object (Object)'],
      [{ comment: 5 }, 'comment 5'],
    ] as const) {
      expect(() => formatSseEvent(event as never)).toThrow(
        new TypeError(
          `sluice/lambda: streamSse got an event with ${said}; pass a string, such as String(value).`,
        ),
      )
    }
  })

  it('refuses an item that is no event, which would go out as a bare blank line: its data lost without a sign', () => {
    // sluice/mock sends such a value as the data of an event; a helper that sent nothing would pass a test against
    // the mock and lose the data in production.
    const advice =
      'yield a string, or an object with id, event, data, retry or comment ({ data: value } sends a value as JSON).'
    for (const [item, said] of [
      [{ token: 'Hel' }, 'an object without id, event, data, retry or comment (keys: token)'],
      [{ data: undefined }, 'an object without id, event, data, retry or comment (keys: data)'],
      [5, '5'],
      [true, 'true'],
      [null, 'null'],
      [undefined, 'undefined'],
      [['a'], 'an array'],
    ] as const) {
      expect(() => formatSseEvent(item as never)).toThrow(
        new TypeError(`sluice/lambda: streamSse got ${said} as an event; ${advice}`),
      )
    }
    expect(formatSseEvent({ comment: 'only' })).toBe(': only\n\n')
  })

  it('refuses such an item in streamSse before the first byte, and past a Last-Event-ID too', async () => {
    const { stream, awslambda, preludes } = setup()
    await expect(streamSse(stream, [{ token: 'Hel' }] as never, { awslambda })).rejects.toThrow(
      'streamSse got an object without id, event, data, retry or comment (keys: token) as an event',
    )
    expect(preludes).toEqual([])
    const resumed = setup()
    await expect(
      streamSse(resumed.stream, [null, { id: '1', data: 'a' }, 5] as never, {
        awslambda: resumed.awslambda,
        request: request({ 'last-event-id': '1' }),
      }),
    ).rejects.toThrow('streamSse got 5 as an event')
  })

  it('refuses an id with a line break, which would corrupt the stream', () => {
    expect(() => formatSseEvent({ id: 'a\nb', data: 'x' })).toThrow(
      'sluice/lambda: streamSse got an event whose id contains a line break or NUL; remove it (only data may span lines).',
    )
  })
})

describe('streamSse', () => {
  it('writes the events, then the end marker, with SSE headers and the marker announced', async () => {
    const { stream, awslambda, preludes } = setup()
    await streamSse(stream, [{ id: '1', data: 'a' }, 'b'], { awslambda })
    expect(stream.text).toBe(`id: 1\ndata: a\n\ndata: b\n\n${marker(24)}`)
    expect(preludes[0]).toEqual({
      statusCode: 200,
      headers: {
        'cache-control': 'no-cache',
        'content-type': 'text/event-stream; charset=utf-8',
        'x-sluice-end': 'marker',
      },
    })
  })

  it('sends the retry field first when the option is given', async () => {
    const { stream, awslambda } = setup()
    await streamSse(stream, ['x'], { awslambda, retry: 2000 })
    expect(stream.text).toBe(`retry: 2000\n\ndata: x\n\n${marker(22)}`)
  })

  it('does not send the retry field again to a client that reconnects with a Last-Event-ID, which has it', async () => {
    const { stream, awslambda } = setup()
    const events = ['a', 'b'].map((data, i): SseMessage => ({ id: String(i), data }))
    await streamSse(stream, events, { awslambda, retry: 2000, request: request({ 'last-event-id': '0' }) })
    expect(stream.text).toBe(`id: 1\ndata: b\n\n${marker(15)}`)
  })

  it('does not send the retry field to a request that continues the stream by cursor, which has it too', async () => {
    const after = (cursor: string | undefined) => ['a', 'b'].filter((_, i) => !cursor || i > Number(cursor))
    for (const [req, text] of [
      [request({}, 'cursor=0'), `data: b\n\n${marker(9)}`],
      [request({ 'x-sluice-cursor': '0' }), `data: b\n\n${marker(9)}`],
      // An empty cursor names no position: a first request.
      [request({}, 'cursor='), `retry: 2000\n\ndata: a\n\ndata: b\n\n${marker(31)}`],
    ] as const) {
      const { stream, awslambda } = setup()
      await streamSse(stream, after, { awslambda, retry: 2000, request: req })
      expect(stream.text).toBe(text)
    }
  })

  it('replays the events after the Last-Event-ID the request carries', async () => {
    const { stream, awslambda } = setup()
    const tokens = ['a', 'b', 'c', 'd']
    const source = (lastId: string | undefined) =>
      tokens
        .map((data, i): SseMessage => ({ id: String(i), data }))
        .slice(lastId === undefined ? 0 : Number(lastId) + 1)
    await streamSse(stream, source, { awslambda, request: request({ 'last-event-id': '1' }) })
    expect(stream.text).toBe(`id: 2\ndata: c\n\nid: 3\ndata: d\n\n${marker(30)}`)
  })

  it('skips what the client has when a plain iterable replays from its start, up to its Last-Event-ID', async () => {
    const { stream, awslambda } = setup()
    const events = ['a', 'b', 'c', 'd'].map((data, i): SseMessage => ({ id: String(i), data }))
    await streamSse(stream, events, { awslambda, request: request({ 'last-event-id': '1' }) })
    expect(stream.text).toBe(`id: 2\ndata: c\n\nid: 3\ndata: d\n\n${marker(30)}`)
  })

  it('reads a Last-Event-ID as UTF-8: its bytes one character each (node:http), or decoded by the front end', async () => {
    const events = ['a', 'b', 'c'].map((data, i): SseMessage => ({ id: ['é', '日本', '3'][i]!, data }))
    const bytes = String.fromCharCode(...new TextEncoder().encode('日本'))
    for (const value of [bytes, '日本']) {
      const { stream, awslambda } = setup()
      await streamSse(stream, events, { awslambda, request: request({ 'last-event-id': value }) })
      expect(stream.text).toBe(`id: 3\ndata: c\n\n${marker(15)}`)
    }
    // A Latin-1 id, as fetch sends one given as a header: not UTF-8, so taken as it is.
    const { stream, awslambda } = setup()
    await streamSse(stream, events, { awslambda, request: request({ 'last-event-id': 'é' }) })
    expect(stream.text).toBe(`id: 日本\ndata: b\n\nid: 3\ndata: c\n\n${marker(35)}`)
  })

  it('answers 409 when a plain iterable replays no event with the Last-Event-ID: a request it cannot serve', async () => {
    const { stream, awslambda, preludes } = setup()
    const events = ['a', 'b'].map((data, i): SseMessage => ({ id: String(i), data }))
    await streamSse(stream, events, { awslambda, retry: 2000, request: request({ 'last-event-id': '9' }) })
    expect(preludes).toEqual([
      {
        statusCode: 409,
        headers: {
          'cache-control': 'no-cache',
          'content-type': 'text/plain; charset=utf-8',
          'x-content-type-options': 'nosniff',
          'content-length': String(stream.text.length),
        },
      },
    ])
    expect(stream.text).toBe(
      'sluice/lambda: streamSse cannot continue after the Last-Event-ID: no event of its source (a plain iterable) has that id; replay the same events with the same ids, or pass a function (lastEventId) => events after it. The request carried Last-Event-ID "9".\n',
    )
  })

  it('keeps the heartbeats while a slow replay looks for the Last-Event-ID: a client must not time out on it', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const { stream, awslambda } = setup()
    const gate = Promise.withResolvers<void>()
    async function* slow(): AsyncGenerator<SseMessage> {
      yield { id: '0', data: 'a' }
      await gate.promise
      yield { id: '1', data: 'b' }
    }
    const done = streamSse(stream, slow(), { awslambda, request: request({ 'last-event-id': '0' }) })
    await vi.advanceTimersByTimeAsync(5_000)
    await until(() => stream.text === ':\n\n')
    gate.resolve()
    await done
    expect(stream.text).toBe(`:\n\nid: 1\ndata: b\n\n${marker(18)}`)
  })

  it('sends the refusal as an error event when a heartbeat sent the 200 before the replay ended, then cuts', async () => {
    const { stream, preludes } = await refusedAfterHeartbeat(() => ({ onRefusal: false }))
    expect(preludes.map((prelude) => prelude.statusCode)).toEqual([200])
    // The 409 in-band: an event a client can tell from the stream's own, and no marker (a cut, not an end).
    const data = JSON.stringify({ status: 409, message: NO_SUCH_EVENT })
    expect(stream.text).toBe(`:\n\nevent: error\ndata: ${data}\n\n`)
    expect(stream.destroyed).toBe(true)
  })

  it('refuses a content-length header with heartbeats before anything is written: a slow source would cut the body', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const { stream, awslambda, preludes } = setup()
    stream.on('error', () => {})
    const gate = Promise.withResolvers<void>()
    async function* slow(): AsyncGenerator<SseMessage> {
      await gate.promise
      yield { id: '0', data: 'a' }
    }
    // The length of the events alone, which the first heartbeat (after 5 s) would run past.
    const headers = { 'content-length': String('id: 0\ndata: a\n\n'.length) }
    const outcome = streamSse(stream, slow(), { awslambda, headers }).catch((error: unknown) => error)
    await vi.advanceTimersByTimeAsync(5_000)
    gate.resolve()
    const error = await outcome
    expect(error).toBeInstanceOf(TypeError)
    expect((error as Error).message).toBe(
      'sluice/lambda: streamSse got a content-length header ("15") with heartbeats, which cannot go together: heartbeats are written whenever the source pauses, so timing decides the length of an SSE body, which a declared length cannot count ahead; remove the header (the end marker proves the body complete).',
    )
    expect(preludes).toEqual([])
    expect(stream.text).toBe('')
  })

  it('refuses a content-length header with padding, even without heartbeats', async () => {
    const { stream, awslambda, preludes } = setup()
    const call = streamSse(stream, ['a'], {
      awslambda,
      heartbeatMs: 0,
      padding: true,
      headers: [['Content-Length', '9']],
    })
    await expect(call).rejects.toThrow(
      new TypeError(
        'sluice/lambda: streamSse got a content-length header ("9") with padding, which cannot go together: padding is written whenever the source pauses, so timing decides the length of an SSE body, which a declared length cannot count ahead; remove the header (the end marker proves the body complete).',
      ),
    )
    expect(preludes).toEqual([])
  })

  it('sends a content-length header without heartbeats or padding: nothing but the events is written', async () => {
    const { stream, awslambda, preludes } = setup()
    await streamSse(stream, ['a'], { awslambda, heartbeatMs: 0, headers: { 'content-length': '9' } })
    expect(preludes[0]?.headers?.['content-length']).toBe('9')
    expect(stream.text).toBe('data: a\n\n')
  })

  it('sends retry: with the first event, so a source that fails at once sends nothing at all', async () => {
    const { stream, awslambda } = setup()
    const failing: AsyncIterable<SseMessage> = {
      [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new Error('db down')) }),
    }
    await expect(streamSse(stream, failing, { awslambda, retry: 2000 })).rejects.toThrow('db down')
    expect(stream.text).toBe('')
  })

  it('sends the first heartbeat after 5 seconds of silence: before a client gives up waiting for headers', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const { stream, awslambda } = setup()
    const gate = Promise.withResolvers<void>()
    async function* cold(): AsyncGenerator<SseMessage> {
      await gate.promise
      yield 'a'
    }
    const done = streamSse(stream, cold(), { awslambda })
    await vi.advanceTimersByTimeAsync(4_999)
    expect(stream.text).toBe('')
    await vi.advanceTimersByTimeAsync(1)
    await until(() => stream.text === ':\n\n')
    gate.resolve()
    await done
    expect(stream.text).toBe(`:\n\ndata: a\n\n${marker(12)}`)
  })

  it('falls back to the cursor query parameter when the request has no Last-Event-ID', async () => {
    const { stream, awslambda } = setup()
    const seen: (string | undefined)[] = []
    await streamSse(
      stream,
      (lastId) => {
        seen.push(lastId)
        return []
      },
      { awslambda, request: request({}, 'cursor=9') },
    )
    expect(seen).toEqual(['9'])
  })

  it('sends a heartbeat comment after 15 seconds without an event, by default', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const { stream, awslambda } = setup()
    const gate = Promise.withResolvers<void>()
    async function* slow(): AsyncGenerator<SseMessage> {
      yield 'a'
      await gate.promise
      yield 'b'
    }
    const done = streamSse(stream, slow(), { awslambda })
    await until(() => stream.text === 'data: a\n\n')
    await vi.advanceTimersByTimeAsync(14_999)
    expect(stream.text).toBe('data: a\n\n')
    await vi.advanceTimersByTimeAsync(1)
    await until(() => stream.text === 'data: a\n\n:\n\n')
    gate.resolve()
    await done
    expect(stream.text).toBe(`data: a\n\n:\n\ndata: b\n\n${marker(21)}`)
  })

  it('repeats heartbeats at the given interval while the source stays idle, and none once it is busy', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const { stream, awslambda, log } = setup()
    const gate = Promise.withResolvers<void>()
    async function* slow(): AsyncGenerator<SseMessage> {
      await gate.promise
      for (let i = 0; i < 3; i++) yield String(i)
    }
    const done = streamSse(stream, slow(), { awslambda, heartbeatMs: 100 })
    await vi.advanceTimersByTimeAsync(100)
    await until(() => stream.chunks.length === 1)
    await vi.advanceTimersByTimeAsync(100)
    await until(() => stream.chunks.length === 2)
    gate.resolve()
    await done
    const writes = log.flatMap((h) => (h.type === 'write' ? [h.text] : []))
    expect(writes).toEqual([':\n\n', ':\n\n', 'data: 0\n\n', 'data: 1\n\n', 'data: 2\n\n', marker(33)])
    expect(log[0]?.type).toBe('prelude')
  })

  it('sends no heartbeat when heartbeatMs is 0', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const { stream, awslambda } = setup()
    const gate = Promise.withResolvers<void>()
    async function* slow(): AsyncGenerator<SseMessage> {
      yield 'a'
      await gate.promise
    }
    const done = streamSse(stream, slow(), { awslambda, heartbeatMs: 0 })
    await until(() => stream.chunks.length === 1)
    await vi.advanceTimersByTimeAsync(60_000)
    gate.resolve()
    await done
    expect(stream.text).toBe(`data: a\n\n${marker(9)}`)
  })

  it('destroys the stream with a source error after the first event, and writes no marker', async () => {
    const { stream, awslambda } = setup()
    const failure = new Error('model crashed')
    stream.on('error', () => {})
    async function* failing(): AsyncGenerator<SseMessage> {
      yield 'a'
      throw failure
    }
    await expect(streamSse(stream, failing(), { awslambda })).rejects.toBe(failure)
    expect(stream.destroyed).toBe(true)
    expect(stream.text).toBe('data: a\n\n')
  })
})
