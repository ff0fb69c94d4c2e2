/**
 * A source the helpers answer without reading — a `416` for a Range past a declared length, a `409` for a cursor a
 * plain iterable cannot start after — is released all the same, as it is when the client goes away: a Node
 * `Readable` is destroyed (an open file, a database cursor), a web `ReadableStream` cancelled (an upstream fetch's
 * connection). A warm Lambda serves the next requests with whatever the last one left open.
 */
import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { type Awslambda, streamBytes, streamNdjson, streamSse } from '../../src/lambda/index.ts'
import { type Recorder, request, setup, until } from './lambda-recorder.ts'

/** A Readable that holds a resource until it is read to its end or destroyed. */
function held(objectMode = false): Readable {
  return new Readable({ objectMode, read() {} })
}

describe('a source answered without being read is released', () => {
  it('destroys a Readable given to streamBytes when a Range past its declared length gets 416', async () => {
    const { stream, awslambda, preludes } = setup()
    const file = held()
    await streamBytes(stream, file, {
      awslambda,
      length: 26,
      etag: '"v1"',
      request: request({ range: 'bytes=26-' }),
      onRefusal: false,
    })
    expect(preludes[0]?.statusCode).toBe(416)
    await until(() => file.destroyed)
  })

  it('cancels a web ReadableStream given to streamBytes when a Range past its declared length gets 416', async () => {
    const { stream, awslambda, preludes } = setup()
    let cancelled = false
    const upstream = new ReadableStream<Uint8Array>({
      cancel() {
        cancelled = true
      },
    })
    await streamBytes(stream, upstream, {
      awslambda,
      length: 10,
      range: true,
      request: request({ range: 'bytes=10-' }),
      onRefusal: false,
    })
    expect(preludes[0]?.statusCode).toBe(416)
    await until(() => cancelled)
  })

  it('destroys a Readable given to streamNdjson when a Range past its declared length gets 416', async () => {
    const { stream, awslambda, preludes } = setup()
    const rows = held(true)
    await streamNdjson(stream, rows, {
      awslambda,
      length: 8,
      etag: '"rows-v1"',
      request: request({ range: 'bytes=9-' }),
      onRefusal: false,
    })
    expect(preludes[0]?.statusCode).toBe(416)
    await until(() => rows.destroyed)
  })

  it('destroys a plain Readable given to streamNdjson when a request with a cursor gets 409', async () => {
    const { stream, awslambda, preludes } = setup()
    const rows = held(true)
    await streamNdjson(stream, rows, { awslambda, request: request({}, 'cursor=42'), onRefusal: false })
    expect(preludes[0]?.statusCode).toBe(409)
    await until(() => rows.destroyed)
  })

  it('destroys a plain Readable given to streamSse when a request with a cursor gets 409', async () => {
    const { stream, awslambda, preludes } = setup()
    const events = held(true)
    await streamSse(stream, events, {
      awslambda,
      request: request({ 'x-sluice-cursor': '42' }),
      onRefusal: false,
    })
    expect(preludes[0]?.statusCode).toBe(409)
    await until(() => events.destroyed)
  })
})

describe('a source handed to a helper that rejects its options is released', () => {
  it('destroys a Readable given to streamNdjson with an unknown option', async () => {
    const { stream, awslambda } = setup()
    const rows = held(true)
    await expect(streamNdjson(stream, rows, { awslambda, lenght: 8 } as never)).rejects.toThrow(
      "streamNdjson got an unknown option 'lenght'",
    )
    expect(rows.destroyed).toBe(true)
  })

  it('destroys a Readable given to streamNdjson with padding and a length, which cannot go together', async () => {
    const { stream, awslambda } = setup()
    const rows = held(true)
    await expect(streamNdjson(stream, rows, { awslambda, padding: true, length: 8 })).rejects.toThrow(
      TypeError,
    )
    expect(rows.destroyed).toBe(true)
  })

  it('cancels a web ReadableStream given to streamBytes with a weak ETag', async () => {
    const { stream, awslambda } = setup()
    let cancelled = false
    const upstream = new ReadableStream<Uint8Array>({
      cancel() {
        cancelled = true
      },
    })
    await expect(streamBytes(stream, upstream, { awslambda, etag: 'W/"v1"' })).rejects.toThrow('weak ETag')
    await until(() => cancelled)
  })

  it('destroys a Readable given to streamBytes with a content-length header that is no length', async () => {
    const { stream, awslambda } = setup()
    const file = held()
    await expect(
      streamBytes(stream, file, { awslambda, headers: { 'content-length': '1e3' } }),
    ).rejects.toThrow(RangeError)
    expect(file.destroyed).toBe(true)
  })

  it('destroys a Readable given to streamSse with a heartbeatMs of the wrong type', async () => {
    const { stream, awslambda } = setup()
    const events = held(true)
    await expect(streamSse(stream, events, { awslambda, heartbeatMs: '5000' } as never)).rejects.toThrow(
      'for heartbeatMs',
    )
    expect(events.destroyed).toBe(true)
  })

  it('destroys a Readable given to streamSse with a content-length header and heartbeats', async () => {
    const { stream, awslambda } = setup()
    const events = held(true)
    await expect(
      streamSse(stream, events, { awslambda, headers: { 'content-length': '100' } }),
    ).rejects.toThrow('with heartbeats, which cannot go together')
    expect(events.destroyed).toBe(true)
  })

  it('closes a started generator given to streamSse without the awslambda it needs', async () => {
    const { stream } = setup()
    let closed = false
    async function* events(): AsyncGenerator<string> {
      try {
        yield 'a'
      } finally {
        closed = true
      }
    }
    const source = events()
    // Started by the caller (a first event peeked at), so its `finally` is pending.
    await source.next()
    await expect(streamSse(stream, source, {})).rejects.toThrow('needs the awslambda global')
    await until(() => closed)
  })
})

describe('a web stream a helper stops reading early is cancelled', () => {
  it.each(['streamNdjson', 'streamBytes'] as const)(
    'cancels a web ReadableStream given to %s (by a function source, for streamNdjson) when a chunk is refused',
    async (name) => {
      const { stream, awslambda } = setup()
      stream.on('error', () => {})
      let cancelled = false
      const upstream = new ReadableStream<unknown>({
        start(controller) {
          // A symbol is neither a JSON value nor a chunk of bytes; more would follow.
          controller.enqueue(Symbol('row'))
        },
        cancel() {
          cancelled = true
        },
      })
      const done =
        name === 'streamNdjson'
          ? streamNdjson(stream, () => upstream, { awslambda })
          : streamBytes(stream, upstream as ReadableStream<Uint8Array>, { awslambda })
      await expect(done).rejects.toThrow(TypeError)
      await until(() => cancelled)
    },
  )
})

describe('a source idle when the response stream is destroyed is released, and the helper settles', () => {
  const helpers = {
    streamNdjson: (stream: Recorder, awslambda: Awslambda, source: Readable) =>
      streamNdjson(stream, source, { awslambda }),
    streamSse: (stream: Recorder, awslambda: Awslambda, source: Readable) =>
      streamSse(stream, source, { awslambda, heartbeatMs: 0 }),
    streamBytes: (stream: Recorder, awslambda: Awslambda, source: Readable) =>
      streamBytes(stream, source, { awslambda }),
  }

  it.each(Object.keys(helpers) as (keyof typeof helpers)[])(
    'destroys a Readable given to %s, waiting for more, when the stream fails after the first byte',
    async (name) => {
      const { stream, awslambda } = setup()
      const source = held(name !== 'streamBytes')
      source.push(name === 'streamBytes' ? 'x' : 'a')
      const done = helpers[name](stream, awslambda, source)
      await until(() => stream.chunks.length > 0)
      // What the runtime does with a connection that failed, or a handler that cuts its answer short.
      stream.destroy(new Error('connection reset'))
      await expect(done).rejects.toThrow('connection reset')
      expect(source.destroyed).toBe(true)
    },
  )

  it.each(['streamNdjson', 'streamSse'] as const)(
    'destroys the Readable a function source given to %s returned, when the stream fails after the first byte',
    async (name) => {
      const { stream, awslambda } = setup()
      const returned = held(true)
      returned.push('a')
      const source = () => returned
      const done =
        name === 'streamNdjson'
          ? streamNdjson(stream, source, { awslambda })
          : streamSse(stream, source, { awslambda, heartbeatMs: 0 })
      await until(() => stream.chunks.length > 0)
      stream.destroy(new Error('connection reset'))
      await expect(done).rejects.toThrow('connection reset')
      expect(returned.destroyed).toBe(true)
    },
  )

  /** A web stream that gives `first`, then never another chunk; records the reason it is cancelled with. */
  function stalled(first: unknown): { upstream: ReadableStream; cancelled: unknown[] } {
    const cancelled: unknown[] = []
    let given = false
    const upstream = new ReadableStream({
      pull(controller) {
        if (!given) controller.enqueue(first)
        given = true
        // Nothing more: the next pull waits for ever (an upstream connection gone quiet).
        return new Promise<void>(() => {})
      },
      cancel(reason) {
        cancelled.push(reason)
      },
    })
    return { upstream, cancelled }
  }

  const webHelpers = {
    streamNdjson: (stream: Recorder, awslambda: Awslambda, source: ReadableStream) =>
      streamNdjson(stream, source, { awslambda }),
    streamSse: (stream: Recorder, awslambda: Awslambda, source: ReadableStream) =>
      streamSse(stream, source, { awslambda, heartbeatMs: 0 }),
    streamBytes: (stream: Recorder, awslambda: Awslambda, source: ReadableStream) =>
      streamBytes(stream, source, { awslambda }),
  }

  it.each(Object.keys(webHelpers) as (keyof typeof webHelpers)[])(
    'cancels a web ReadableStream given to %s, stuck in a read, when the stream fails after the first byte',
    async (name) => {
      const { stream, awslambda } = setup()
      const { upstream, cancelled } = stalled(name === 'streamBytes' ? new TextEncoder().encode('x') : 'a')
      const done = webHelpers[name](stream, awslambda, upstream)
      await until(() => stream.chunks.length > 0)
      const reset = new Error('connection reset')
      stream.destroy(reset)
      await expect(done).rejects.toThrow('connection reset')
      // While the read still waits: the upstream's connection is let go with the reason, not when (if) it answers.
      await until(() => cancelled.length > 0)
      expect(cancelled).toEqual([reset])
    },
  )

  it.each(['streamNdjson', 'streamSse'] as const)(
    'cancels the web ReadableStream a function source given to %s returned, stuck in a read, when the stream fails',
    async (name) => {
      const { stream, awslambda } = setup()
      const { upstream, cancelled } = stalled('a')
      const source = () => upstream
      const done =
        name === 'streamNdjson'
          ? streamNdjson(stream, source, { awslambda })
          : streamSse(stream, source, { awslambda, heartbeatMs: 0 })
      await until(() => stream.chunks.length > 0)
      const reset = new Error('connection reset')
      stream.destroy(reset)
      await expect(done).rejects.toThrow('connection reset')
      await until(() => cancelled.length > 0)
      expect(cancelled).toEqual([reset])
    },
  )

  it('cancels a web ReadableStream stuck in its first read when the stream is destroyed before the first byte', async () => {
    const { stream, awslambda, preludes } = setup()
    const cancelled: unknown[] = []
    const upstream = new ReadableStream({
      pull: () => new Promise<void>(() => {}),
      cancel(reason) {
        cancelled.push(reason)
      },
    })
    const done = streamNdjson(stream, upstream, { awslambda })
    stream.destroy()
    await expect(done).rejects.toThrow('Premature close')
    await until(() => cancelled.length > 0)
    expect(cancelled[0]).toBeInstanceOf(Error)
    expect(preludes).toEqual([])
  })

  it('rejects at once when the stream is destroyed before the first byte, and destroys the Readable', async () => {
    const { stream, awslambda, preludes } = setup()
    const rows = held(true)
    const done = streamNdjson(stream, rows, { awslambda })
    stream.destroy()
    await expect(done).rejects.toThrow('Premature close')
    expect(rows.destroyed).toBe(true)
    expect(preludes).toEqual([])
  })

  it('settles while a generator source is stuck in a pull, and closes the generator once the pull ends', async () => {
    const { stream, awslambda } = setup()
    const gate = Promise.withResolvers<void>()
    let closed = false
    async function* rows(): AsyncGenerator<number> {
      try {
        yield 1
        await gate.promise
        yield 2
      } finally {
        closed = true
      }
    }
    const done = streamNdjson(stream, rows(), { awslambda })
    await until(() => stream.chunks.length > 0)
    stream.destroy(new Error('connection reset'))
    await expect(done).rejects.toThrow('connection reset')
    gate.resolve()
    await until(() => closed)
    expect(stream.text).toBe('1\n')
  })
})
