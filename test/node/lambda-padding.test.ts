/**
 * A function URL can hold back small writes until tens of KB have accumulated; with `padding`, the helpers top a
 * small write up with filler that clients ignore once the source pauses, so that it leaves the runtime.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { type DevServer, serve } from '../../src/dev/index.ts'
import { sluice } from '../../src/index.ts'
import {
  type SluiceResponse,
  type SseMessage,
  sluiceHandler,
  streamNdjson,
  streamSse,
} from '../../src/lambda/index.ts'
import { filler, NDJSON_FILLER, SSE_FILLER } from '../../src/lambda/padding.ts'
import { installAwslambdaGlobal } from '../../src/runtime/index.ts'
import { type Happening, marker, request, setup, until } from './lambda-recorder.ts'

afterEach(() => {
  vi.useRealTimers()
})

const writes = (log: Happening[]): string[] => log.flatMap((h) => (h.type === 'write' ? [h.text] : []))
const spaces = (n: number): string => ' '.repeat(n)
/** NDJSON filler of one line of `n` bytes. */
const blank = (n: number): string => `${spaces(n - 1)}\n`
/** SSE filler of one comment block of `n` bytes. */
const comment = (n: number): string => `:${spaces(n - 3)}\n\n`

/** A source that yields `first`, waits for the gate, then yields `rest`. */
function gated<T>(first: T[], rest: T[]): { source: AsyncGenerator<T>; open: () => void } {
  const gate = Promise.withResolvers<void>()
  async function* source(): AsyncGenerator<T> {
    yield* first
    await gate.promise
    yield* rest
  }
  return { source: source(), open: () => gate.resolve() }
}

function fakeTimers(): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
}

describe('filler', () => {
  it('is lines of spaces for NDJSON and comment blocks for SSE, at most 1 KiB each, as many bytes as asked', () => {
    expect(new TextDecoder().decode(filler(10, NDJSON_FILLER))).toBe(blank(10))
    expect(new TextDecoder().decode(filler(10, SSE_FILLER))).toBe(comment(10))
    const text = new TextDecoder().decode(filler(2500, NDJSON_FILLER))
    expect(text).toBe(blank(1024) + blank(1024) + blank(452))
    const events = new TextDecoder().decode(filler(2049, SSE_FILLER))
    // A last line too short for its shape is made long enough: a line of spaces, never an empty one.
    expect(events).toBe(comment(1024) + comment(1024) + comment(3))
    expect(new TextDecoder().decode(filler(1025, NDJSON_FILLER))).toBe(blank(1024) + blank(2))
  })
})

describe('streamNdjson with padding', () => {
  it('tops a small write up to `bytes` once the source has been idle for `idleMs`, before the next item', async () => {
    fakeTimers()
    const { stream, awslambda, log } = setup()
    const { source, open } = gated([{ n: 0 }], [{ n: 1 }])
    const done = streamNdjson(stream, source, { awslambda, padding: { bytes: 100, idleMs: 20 } })
    await until(() => stream.chunks.length === 1)
    await vi.advanceTimersByTimeAsync(19)
    expect(stream.chunks.length).toBe(1)
    await vi.advanceTimersByTimeAsync(1)
    await until(() => stream.chunks.length === 2)
    open()
    await done
    // The filler counts in the marker's offset: 8 + 92 + 8 bytes come before it.
    expect(writes(log)).toEqual(['{"n":0}\n', blank(92), '{"n":1}\n', marker(108)])
    expect(log[0]?.type).toBe('prelude')
  })

  it('pads once per pause: not again until another item is written', async () => {
    fakeTimers()
    const { stream, awslambda } = setup()
    const { source, open } = gated([{ n: 0 }], [{ n: 1 }])
    const done = streamNdjson(stream, source, { awslambda, padding: { bytes: 100, idleMs: 20 } })
    await until(() => stream.chunks.length === 1)
    await vi.advanceTimersByTimeAsync(20)
    await until(() => stream.chunks.length === 2)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(stream.chunks.length).toBe(2)
    open()
    await done
    // The second item is padded again only if the source pauses after it (here it ends at once).
    expect(stream.text).toBe(`{"n":0}\n${blank(92)}{"n":1}\n${marker(108)}`)
  })

  it('does not pad after a write of `bytes` or more, which the runtime sends', async () => {
    fakeTimers()
    const { stream, awslambda } = setup()
    const big = 'x'.repeat(120)
    const { source, open } = gated([big], ['y'])
    const done = streamNdjson(stream, source, { awslambda, padding: { bytes: 100, idleMs: 20 } })
    await until(() => stream.chunks.length === 1)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(stream.chunks.length).toBe(1)
    open()
    await done
    expect(stream.text).toBe(`"${big}"\n"y"\n${marker(127)}`)
  })

  it('does not pad after small writes that add up to `bytes` since the last padding', async () => {
    fakeTimers()
    const { stream, awslambda } = setup()
    const half = 'x'.repeat(58) // 61 bytes a line: two make 122
    const { source, open } = gated([half, half], [])
    const done = streamNdjson(stream, source, { awslambda, padding: { bytes: 100, idleMs: 20 } })
    await until(() => stream.chunks.length === 2)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(stream.chunks.length).toBe(2)
    open()
    await done
    expect(stream.text).toBe(`"${half}"\n"${half}"\n${marker(122)}`)
  })

  it('counts afresh after writes of exactly `bytes`: a small write right after them is topped up', async () => {
    fakeTimers()
    const { stream, awslambda } = setup()
    const exact = 'x'.repeat(97) // 100 bytes a line
    const { source, open } = gated([exact, 'y'], [])
    const done = streamNdjson(stream, source, { awslambda, padding: { bytes: 100, idleMs: 20 } })
    await until(() => stream.chunks.length === 2)
    await vi.advanceTimersByTimeAsync(20)
    await until(() => stream.chunks.length === 3)
    open()
    await done
    expect(stream.text).toBe(`"${exact}"\n"y"\n${blank(96)}${marker(200)}`)
  })

  it('counts the bytes since the last padding: a small write after one is topped up to `bytes` again', async () => {
    fakeTimers()
    const { stream, awslambda } = setup()
    const gates = [Promise.withResolvers<void>(), Promise.withResolvers<void>()]
    async function* rows(): AsyncGenerator<number> {
      yield 1
      await gates[0]!.promise
      yield 22
      await gates[1]!.promise
    }
    const done = streamNdjson(stream, rows(), { awslambda, padding: { bytes: 50, idleMs: 20 } })
    await until(() => stream.chunks.length === 1)
    await vi.advanceTimersByTimeAsync(20)
    await until(() => stream.chunks.length === 2)
    gates[0]!.resolve()
    await until(() => stream.chunks.length === 3)
    await vi.advanceTimersByTimeAsync(20)
    await until(() => stream.chunks.length === 4)
    gates[1]!.resolve()
    await done
    expect(stream.text).toBe(`1\n${blank(48)}22\n${blank(47)}${marker(100)}`)
  })

  it('takes 16 KiB and 50 ms by default with padding: true', async () => {
    fakeTimers()
    const { stream, awslambda } = setup()
    const { source, open } = gated([1], [])
    const done = streamNdjson(stream, source, { awslambda, padding: true })
    await until(() => stream.chunks.length === 1)
    await vi.advanceTimersByTimeAsync(49)
    expect(stream.chunks.length).toBe(1)
    await vi.advanceTimersByTimeAsync(1)
    await until(() => stream.chunks.length === 2)
    open()
    await done
    expect(stream.chunks[1]?.byteLength).toBe(16_384 - 2)
    expect(stream.text.endsWith(marker(16_384))).toBe(true)
  })

  it('pads nothing when the option is off or left out', async () => {
    for (const padding of [undefined, false]) {
      fakeTimers()
      const { stream, awslambda } = setup()
      const { source, open } = gated([1], [2])
      const done = streamNdjson(stream, source, { awslambda, ...(padding === undefined ? {} : { padding }) })
      await until(() => stream.chunks.length === 1)
      await vi.advanceTimersByTimeAsync(60_000)
      expect(stream.chunks.length).toBe(1)
      open()
      await done
      expect(stream.text).toBe(`1\n2\n${marker(4)}`)
      vi.useRealTimers()
    }
  })

  it('never pads before the first item: a source that fails first still fails before the prelude', async () => {
    fakeTimers()
    const { stream, awslambda, preludes } = setup()
    const gate = Promise.withResolvers<void>()
    const failing: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => ({
        next: () =>
          gate.promise.then(() => {
            throw new Error('db down')
          }),
      }),
    }
    const done = streamNdjson(stream, failing, { awslambda, padding: { bytes: 100, idleMs: 20 } })
    const outcome = done.catch((error: unknown) => error)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(stream.chunks.length).toBe(0)
    gate.resolve()
    expect(await outcome).toEqual(new Error('db down'))
    expect(preludes).toEqual([])
    expect(stream.text).toBe('')
  })

  it.each([
    ['range', { range: true }, 'range'],
    ['etag', { etag: '"v1"' }, 'etag'],
    ['length', { length: 10 }, 'length'],
    ['a content-length header', { headers: { 'Content-Length': '10' } }, 'a content-length header'],
  ])('refuses padding with %s, which needs the same bytes on every request', async (_, options, named) => {
    const { stream, awslambda, preludes } = setup()
    const call = streamNdjson(stream, [1], { awslambda, padding: true, ...options })
    await expect(call).rejects.toThrow(TypeError)
    await expect(call).rejects.toThrow(
      `sluice/lambda: streamNdjson got both padding and ${named}, which cannot go together`,
    )
    expect(preludes).toEqual([])
  })

  it('goes with range: false, and with a bodiless status, which it leaves empty', async () => {
    const { stream, awslambda } = setup()
    await streamNdjson(stream, [1], { awslambda, padding: true, range: false })
    expect(stream.text).toBe(`1\n${marker(2)}`)
    const empty = setup()
    await streamNdjson(empty.stream, [], { awslambda: empty.awslambda, padding: true, statusCode: 204 })
    expect(empty.preludes[0]?.statusCode).toBe(204)
    expect(empty.stream.text).toBe('')
  })
})

describe('streamSse with padding', () => {
  it('tops a small event up with comment blocks once the source has been idle', async () => {
    fakeTimers()
    const { stream, awslambda, log } = setup()
    const { source, open } = gated<SseMessage>(['a'], ['b'])
    const done = streamSse(stream, source, { awslambda, padding: { bytes: 100, idleMs: 20 } })
    await until(() => stream.chunks.length === 1)
    await vi.advanceTimersByTimeAsync(20)
    await until(() => stream.chunks.length === 2)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(stream.chunks.length).toBe(2)
    open()
    await done
    expect(writes(log)).toEqual(['data: a\n\n', comment(91), 'data: b\n\n', marker(109)])
  })

  it('pads each heartbeat too, so that it reaches the client, and keeps the heartbeat interval', async () => {
    fakeTimers()
    const { stream, awslambda } = setup()
    const { source, open } = gated<SseMessage>(['a'], ['b'])
    const done = streamSse(stream, source, {
      awslambda,
      heartbeatMs: 100,
      padding: { bytes: 100, idleMs: 20 },
    })
    await until(() => stream.chunks.length === 1)
    await vi.advanceTimersByTimeAsync(20)
    await until(() => stream.chunks.length === 2)
    await vi.advanceTimersByTimeAsync(80)
    await until(() => stream.chunks.length === 3)
    await vi.advanceTimersByTimeAsync(20)
    await until(() => stream.chunks.length === 4)
    await vi.advanceTimersByTimeAsync(80)
    await until(() => stream.chunks.length === 5)
    open()
    await done
    expect(stream.text).toBe(
      `data: a\n\n${comment(91)}:\n\n${comment(97)}:\n\ndata: b\n\n${marker(9 + 91 + 3 + 97 + 3 + 9)}`,
    )
  })

  it('sends nothing before the first heartbeat of a slow first event, then pads that heartbeat', async () => {
    fakeTimers()
    const { stream, awslambda, preludes, log } = setup()
    const { source, open } = gated<SseMessage>([], ['a'])
    const done = streamSse(stream, source, { awslambda, padding: { bytes: 100, idleMs: 20 } })
    await vi.advanceTimersByTimeAsync(4_999)
    expect(stream.text).toBe('')
    expect(preludes).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    await until(() => stream.chunks.length === 1)
    await vi.advanceTimersByTimeAsync(20)
    await until(() => stream.chunks.length === 2)
    open()
    await done
    expect(log[0]?.type).toBe('prelude')
    expect(writes(log)).toEqual([':\n\n', comment(97), 'data: a\n\n', marker(109)])
  })

  it('pads nothing when the option is left out', async () => {
    fakeTimers()
    const { stream, awslambda } = setup()
    const { source, open } = gated<SseMessage>(['a'], ['b'])
    const done = streamSse(stream, source, { awslambda, heartbeatMs: 0 })
    await until(() => stream.chunks.length === 1)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(stream.chunks.length).toBe(1)
    open()
    await done
    expect(stream.text).toBe(`data: a\n\ndata: b\n\n${marker(18)}`)
  })
})

describe('sluiceHandler with padding', () => {
  it('passes padding through to the helper', async () => {
    fakeTimers()
    const { stream, awslambda } = setup()
    const { source, open } = gated([1], [])
    const handler = sluiceHandler(() => ({ ndjson: source, padding: { bytes: 10, idleMs: 20 } }), {
      awslambda,
    })
    const done = handler(request() as never, stream, {} as never)
    await until(() => stream.chunks.length === 1)
    await vi.advanceTimersByTimeAsync(20)
    await until(() => stream.chunks.length === 2)
    open()
    await done
    expect(stream.text).toBe(`1\n${blank(8)}${marker(10)}`)
  })

  it('refuses padding with an etag in a callback result', async () => {
    const { stream, awslambda } = setup()
    const handler = sluiceHandler(() => ({ ndjson: [1], padding: true, etag: '"v"' }), { awslambda })
    await expect(handler(request() as never, stream, {} as never)).rejects.toThrow(
      'sluice/lambda: streamNdjson got both padding and etag, which cannot go together',
    )
  })
})

describe('padded bodies read with sluice over the function-URL emulator', () => {
  let server: DevServer
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
  const rows = Array.from({ length: 4 }, (_, n) => ({ n }))
  const PADDING = { idleMs: 20 }

  async function* slowly<T>(items: T[]): AsyncGenerator<T> {
    for (const item of items) {
      yield item
      // Longer than idleMs, so that each item is followed by filler.
      await sleep(60)
    }
  }

  beforeAll(async () => {
    const uninstall = installAwslambdaGlobal()
    const handler = sluiceHandler((event): SluiceResponse => {
      switch (event.rawPath) {
        case '/ndjson':
          return { ndjson: slowly(rows), padding: PADDING }
        case '/sse':
          return {
            sse: slowly(rows.map(({ n }): SseMessage => ({ id: String(n), data: { n } }))),
            padding: PADDING,
            heartbeatMs: 30,
          }
        default:
          return { bytes: 'not found', statusCode: 404 }
      }
    })
    uninstall()
    server = await serve(handler, { log: false })
  })

  afterAll(async () => {
    await server?.close()
  })

  const url = (path: string) => new URL(path, server.url).href

  it('has the filler in its body, and the end marker at the offset where it starts', async () => {
    const text = await (await fetch(url('/ndjson'))).text()
    const start = text.lastIndexOf('{"$sluice"')
    expect(text.slice(start)).toBe(marker(start))
    expect(text).toContain(blank(1024))
    expect(
      text
        .slice(0, start)
        .split('\n')
        .filter((line) => line.trim() !== ''),
    ).toEqual(rows.map((row) => JSON.stringify(row)))
  })

  it("reads exactly the rows with sluice's ndjson(), proven complete", async () => {
    const res = await sluice(url('/ndjson'))
    expect(await Array.fromAsync(res.ndjson())).toEqual(rows)
    expect(res.progress.state).toBe('done')
    // The body it read was padded.
    expect(res.progress.loaded).toBeGreaterThanOrEqual(4 * 16_384)
  })

  it("reads exactly the events with sluice's events(), proven complete, heartbeats and all", async () => {
    const res = await sluice(url('/sse'))
    const events = await Array.fromAsync(res.events({ json: true }))
    expect(events.map((event) => [event.id, event.data])).toEqual(rows.map(({ n }) => [String(n), { n }]))
    expect(res.progress.state).toBe('done')
    expect(res.progress.loaded).toBeGreaterThanOrEqual(4 * 16_384)
    const raw = await (await fetch(url('/sse'))).text()
    expect(raw).toContain(comment(1024))
  })
})
