/**
 * A refusal (a 409 for a cursor or Last-Event-ID the source cannot start from, a 416 for a Range past the end) is
 * answered to the client before the first byte, and written to the function's log too: by default one line on
 * console.warn (which Lambda sends to CloudWatch Logs), or to `onRefusal`, or nowhere with `onRefusal: false`.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  type RefusalReport,
  type SseMessage,
  sluiceHandler,
  streamBytes,
  streamNdjson,
  streamSse,
} from '../../src/lambda/index.ts'
import { NO_SUCH_EVENT, refusedAfterHeartbeat, request, setup } from './lambda-recorder.ts'

const rows = [{ id: 0 }, { id: 1 }, { id: 2 }]
const events = ['a', 'b'].map((data, i): SseMessage => ({ id: String(i), data }))

/** console.warn, watched and silenced for one test. */
function watchWarn() {
  return vi.spyOn(console, 'warn').mockImplementation(() => {})
}

afterEach(() => {
  vi.restoreAllMocks()
  vi.useRealTimers()
})

describe('a helper logs each request it refuses, by default with console.warn', () => {
  it('logs one line for a cursor a plain iterable cannot start from: helper, status, the cursor and why', async () => {
    const warn = watchWarn()
    const { stream, awslambda, preludes } = setup()
    await streamNdjson(stream, rows, { awslambda, request: request({}, 'cursor=42') })
    expect(preludes[0]?.statusCode).toBe(409)
    expect(warn).toHaveBeenCalledTimes(1)
    expect(warn.mock.calls[0]).toEqual([
      expect.stringMatching(
        /^sluice\/lambda: streamNdjson refused a request with 409 \(it asked for cursor "42"\): streamNdjson cannot continue after a cursor: its source is a plain iterable/,
      ),
    ])
    expect(warn.mock.calls[0]?.[0]).toContain(
      'The request carried cursor "42" in the ?cursor= query parameter.',
    )
    expect(warn.mock.calls[0]?.[0]).not.toContain('\n')
  })

  it('logs the Last-Event-ID an SSE replay does not have', async () => {
    const warn = watchWarn()
    const { stream, awslambda, preludes } = setup()
    await streamSse(stream, events, { awslambda, heartbeatMs: 0, request: request({ 'last-event-id': '9' }) })
    expect(preludes[0]?.statusCode).toBe(409)
    expect(warn).toHaveBeenCalledTimes(1)
    expect(warn.mock.calls[0]?.[0]).toMatch(
      /^sluice\/lambda: streamSse refused a request with 409 \(it asked for Last-Event-ID "9"\): streamSse cannot continue after the Last-Event-ID: no event of its source/,
    )
  })

  it('logs the Range of a 416, whether the length was declared or found at the end of the body', async () => {
    const warn = watchWarn()
    const declared = setup()
    await streamBytes(declared.stream, 'hello', {
      awslambda: declared.awslambda,
      range: true,
      request: request({ range: 'bytes=100-' }),
    })
    const found = setup()
    await streamNdjson(found.stream, rows, {
      awslambda: found.awslambda,
      range: true,
      request: request({ range: 'bytes=500-' }),
    })
    expect([declared.preludes[0]?.statusCode, found.preludes[0]?.statusCode]).toEqual([416, 416])
    expect(warn.mock.calls).toEqual([
      [
        'sluice/lambda: streamBytes refused a request with 416 (it asked for Range "bytes=100-"): Range not satisfiable: the body is 5 bytes long.',
      ],
      [
        'sluice/lambda: streamNdjson refused a request with 416 (it asked for Range "bytes=500-"): Range not satisfiable: the body is 27 bytes long.',
      ],
    ])
  })

  it('bounds what it quotes of the request, in the line and in the answer', async () => {
    const warn = watchWarn()
    const { stream, awslambda } = setup()
    const cursor = `${'x'.repeat(10_000)}\nforged log line`
    await streamNdjson(stream, rows, { awslambda, request: request({ 'x-sluice-cursor': cursor }) })
    const line = warn.mock.calls[0]?.[0] as string
    expect(line).not.toContain('\n')
    expect(line.length).toBeLessThan(1_200)
    expect(line).toContain(`(it asked for cursor "${'x'.repeat(200)}…")`)
    expect(line).toContain(
      `The request carried cursor "${'x'.repeat(200)}"… (10016 characters) in the x-sluice-cursor header.`,
    )
    expect(stream.text.length).toBeLessThan(1_000)
  })

  it('quotes a value of exactly the bound whole, without an ellipsis', async () => {
    const warn = watchWarn()
    const { stream, awslambda } = setup()
    const cursor = 'x'.repeat(200)
    await streamNdjson(stream, rows, { awslambda, request: request({ 'x-sluice-cursor': cursor }) })
    const line = warn.mock.calls[0]?.[0] as string
    expect(line).toContain(`(it asked for cursor "${cursor}")`)
    expect(line).toContain(`The request carried cursor "${cursor}" in the x-sluice-cursor header.`)
  })

  it('logs nothing for a response it sends, a 206 included', async () => {
    const warn = watchWarn()
    const full = setup()
    await streamNdjson(full.stream, (cursor) => rows.slice(Number(cursor ?? -1) + 1), {
      awslambda: full.awslambda,
      request: request({}, 'cursor=0'),
    })
    const partial = setup()
    await streamBytes(partial.stream, 'hello', {
      awslambda: partial.awslambda,
      range: true,
      request: request({ range: 'bytes=2-' }),
    })
    expect([full.preludes[0]?.statusCode, partial.preludes[0]?.statusCode]).toEqual([200, 206])
    expect(warn).not.toHaveBeenCalled()
  })
})

describe('onRefusal', () => {
  it('takes the report instead of console.warn: status, message, helper and what was asked', async () => {
    const warn = watchWarn()
    const reports: RefusalReport[] = []
    const { stream, awslambda, preludes } = setup()
    await streamSse(stream, events, {
      awslambda,
      heartbeatMs: 0,
      request: request({ 'last-event-id': '9' }),
      onRefusal: (report) => reports.push(report),
    })
    expect(preludes[0]?.statusCode).toBe(409)
    expect(reports).toEqual([
      {
        status: 409,
        message: stream.text.trimEnd(),
        helper: 'streamSse',
        asked: { lastEventId: '9' },
      },
    ])
    expect(warn).not.toHaveBeenCalled()
  })

  it('reports a refusal that went in-band after a heartbeat sent the 200, once, after its error event', async () => {
    const reports: { report: RefusalReport; written: string }[] = []
    const { preludes } = await refusedAfterHeartbeat(({ stream }) => ({
      onRefusal: (report: RefusalReport) => reports.push({ report, written: stream.text }),
    }))
    expect(preludes.map((prelude) => prelude.statusCode)).toEqual([200])
    const message = NO_SUCH_EVENT
    const written = `:\n\nevent: error\ndata: ${JSON.stringify({ status: 409, message })}\n\n`
    expect(reports).toEqual([
      { report: { status: 409, message, helper: 'streamSse', asked: { lastEventId: '9' } }, written },
    ])
  })

  it('logs a refusal that went in-band after a heartbeat with console.warn by default', async () => {
    const warn = watchWarn()
    await refusedAfterHeartbeat()
    expect(warn).toHaveBeenCalledTimes(1)
    expect(warn.mock.calls[0]?.[0]).toMatch(
      /^sluice\/lambda: streamSse refused a request with 409 \(it asked for Last-Event-ID "9"\): streamSse cannot continue after the Last-Event-ID: no event of its source/,
    )
  })

  it('silences the report with false, and the client is still answered', async () => {
    const warn = watchWarn()
    const { stream, awslambda, preludes } = setup()
    await streamNdjson(stream, rows, { awslambda, request: request({}, 'cursor=1'), onRefusal: false })
    expect(preludes[0]?.statusCode).toBe(409)
    expect(stream.text).toMatch(/^sluice\/lambda: streamNdjson cannot continue after a cursor/)
    expect(warn).not.toHaveBeenCalled()
  })

  it('cannot keep the answer from the client when it throws: the helper rejects with its error after answering', async () => {
    const { stream, awslambda, preludes } = setup()
    const failing = streamBytes(stream, 'hello', {
      awslambda,
      range: true,
      request: request({ range: 'bytes=9-' }),
      onRefusal: () => {
        throw new Error('logger down')
      },
    })
    await expect(failing).rejects.toThrow('logger down')
    expect(preludes[0]?.statusCode).toBe(416)
    expect(stream.text).toBe('Range not satisfiable: the body is 5 bytes long.\n')
  })

  it('is passed through by sluiceHandler from the response it is given', async () => {
    const reports: RefusalReport[] = []
    const { stream, awslambda, preludes } = setup()
    const handler = sluiceHandler(() => ({ ndjson: rows, onRefusal: (report) => reports.push(report) }), {
      awslambda,
    })
    const event = { ...request({}, 'cursor=2'), rawPath: '/', requestContext: {} } as unknown as Parameters<
      typeof handler
    >[0]
    await handler(event, stream, {} as Parameters<typeof handler>[2])
    expect(preludes[0]?.statusCode).toBe(409)
    expect(reports.map((r) => [r.helper, r.status, r.asked])).toEqual([
      ['streamNdjson', 409, { cursor: '2' }],
    ])
  })
})
