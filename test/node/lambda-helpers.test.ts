import { describe, expect, it } from 'vitest'
import { endMarkerLine, streamBytes, streamNdjson } from '../../src/lambda/index.ts'
import { marker, Recorder, request, setup, until } from './lambda-recorder.ts'

async function* items<T>(...values: T[]): AsyncGenerator<T> {
  for (const value of values) yield value
}

describe('streamNdjson', () => {
  it('writes one JSON line per item, then the end marker at the offset where it starts', async () => {
    const { stream, awslambda } = setup()
    await streamNdjson(stream, items({ a: 1 }, { b: 'x' }), { awslambda })
    expect(stream.text).toBe(`{"a":1}\n{"b":"x"}\n${marker(18)}`)
  })

  it('announces the end marker and the NDJSON content type in the prelude', async () => {
    const { stream, awslambda, preludes } = setup()
    await streamNdjson(stream, [1], { awslambda })
    expect(preludes).toEqual([
      { statusCode: 200, headers: { 'content-type': 'application/x-ndjson', 'x-sluice-end': 'marker' } },
    ])
  })

  it('sends the prelude just before the first body bytes, with the given status, headers and cookies', async () => {
    const { stream, awslambda, log } = setup()
    await streamNdjson(stream, items(1), {
      awslambda,
      statusCode: 201,
      headers: { 'Cache-Control': 'no-store' },
      cookies: ['a=1'],
    })
    expect(log.map((h) => h.type)).toEqual(['prelude', 'write', 'write'])
    expect(log[0]).toEqual({
      type: 'prelude',
      metadata: {
        statusCode: 201,
        headers: {
          'cache-control': 'no-store',
          'content-type': 'application/x-ndjson',
          'x-sluice-end': 'marker',
        },
        cookies: ['a=1'],
      },
    })
  })

  it("sends set-cookie headers as the prelude's cookies, so that none is lost", async () => {
    const { stream, awslambda, preludes } = setup()
    const headers = new Headers([
      ['set-cookie', 'b=2; HttpOnly'],
      ['set-cookie', 'c=3'],
      ['vary', 'accept'],
    ])
    await streamNdjson(stream, [1], { awslambda, headers, cookies: ['a=1'] })
    expect(preludes[0]?.cookies).toEqual(['a=1', 'b=2; HttpOnly', 'c=3'])
    expect(preludes[0]?.headers?.['set-cookie']).toBeUndefined()
    expect(preludes[0]?.headers?.vary).toBe('accept')
  })

  it('lets a content-type header replace the default one', async () => {
    const { stream, awslambda, preludes } = setup()
    await streamNdjson(stream, [1], { awslambda, headers: { 'content-type': 'application/jsonl' } })
    expect(preludes[0]?.headers?.['content-type']).toBe('application/jsonl')
  })

  it('declares the length when it is given, and then writes no marker', async () => {
    const { stream, awslambda, preludes } = setup()
    await streamNdjson(stream, items({ a: 1 }), { awslambda, length: 8 })
    expect(stream.text).toBe('{"a":1}\n')
    expect(preludes[0]?.headers).toEqual({ 'content-type': 'application/x-ndjson', 'content-length': '8' })
  })

  it('takes a content-length header as the declared length', async () => {
    const { stream, awslambda, preludes } = setup()
    await streamNdjson(stream, [1], { awslambda, headers: { 'content-length': '2' } })
    expect(stream.text).toBe('1\n')
    expect(preludes[0]?.headers?.['content-length']).toBe('2')
  })

  it('proves a content-length: 0 header with the marker too, and sends no content-length', async () => {
    const { stream, awslambda, preludes } = setup()
    await streamNdjson(stream, [], { awslambda, headers: { 'content-length': '0' } })
    expect(stream.text).toBe(marker(0))
    expect(preludes[0]?.headers).toEqual({ 'content-type': 'application/x-ndjson', 'x-sluice-end': 'marker' })
  })

  it('rejects a content-length header that is not digits, naming it, before it sends anything', async () => {
    // Number() would read 0x1A as 26 and 1e3 as 1000, and '' as 0.
    for (const value of ['many', '0x1A', '1e3', '-1', '2.5', '']) {
      const { stream, awslambda, preludes } = setup()
      await expect(
        streamNdjson(stream, [1], { awslambda, headers: { 'content-length': value } }),
      ).rejects.toThrow(
        new RangeError(
          `sluice/lambda: streamNdjson got a content-length header of ${JSON.stringify(value)}; pass the body's size in bytes as a non-negative integer, or leave it out.`,
        ),
      )
      expect(preludes, value).toEqual([])
    }
  })

  it('writes the marker alone for an empty source, so the body is never empty', async () => {
    const { stream, awslambda } = setup()
    await streamNdjson(stream, items(), { awslambda })
    expect(stream.text).toBe(marker(0))
  })

  it('proves a declared length of zero with the marker instead, so the body is never empty', async () => {
    const { stream, awslambda, preludes } = setup()
    await streamNdjson(stream, [], { awslambda, length: 0 })
    expect(stream.text).toBe(marker(0))
    expect(preludes[0]?.headers?.['x-sluice-end']).toBe('marker')
    expect(preludes[0]?.headers?.['content-length']).toBeUndefined()
  })

  it('cuts the body with an error when the source outgrows the declared length', async () => {
    const { stream, awslambda } = setup()
    await expect(streamNdjson(stream, items('a', 'b'), { awslambda, length: 5 })).rejects.toThrow(
      /more than the declared length of 5 bytes/,
    )
    expect(stream.destroyed).toBe(true)
  })

  it('writes no byte past the declared length, not even one: the chunk that outgrows it is not sent', async () => {
    const { stream, awslambda } = setup()
    await expect(streamNdjson(stream, items('a', 'b'), { awslambda, length: 7 })).rejects.toThrow(
      /more than the declared length of 7 bytes/,
    )
    expect(stream.text).toBe('"a"\n')
  })

  it('cuts the body with an error when the source falls short of the declared length', async () => {
    const { stream, awslambda } = setup()
    await expect(streamNdjson(stream, items('a'), { awslambda, length: 50 })).rejects.toThrow(
      /produced 4 bytes but declared a length of 50/,
    )
    expect(stream.destroyed).toBe(true)
    expect(stream.text).not.toContain('$sluice')
  })

  it('fails before the prelude when the source ends without a byte of a declared length', async () => {
    const { stream, awslambda, preludes } = setup()
    await expect(streamNdjson(stream, [], { awslambda, length: 5 })).rejects.toThrow(
      /produced 0 bytes but declared a length of 5/,
    )
    expect(preludes).toEqual([])
    expect(stream.destroyed).toBe(true)
  })

  it('destroys the stream with the source error after the first byte, and writes no marker', async () => {
    const { stream, awslambda } = setup()
    const failure = new Error('database went away')
    async function* failing(): AsyncGenerator<number> {
      yield 1
      throw failure
    }
    const destroyed = new Promise<unknown>((resolve) => stream.on('error', resolve))
    await expect(streamNdjson(stream, failing(), { awslambda })).rejects.toBe(failure)
    expect(await destroyed).toBe(failure)
    expect(stream.text).toBe('1\n')
  })

  it('closes the source when the response stream fails after the prelude (the client went away)', async () => {
    const { awslambda } = setup()
    const stream = new (class extends Recorder {
      override _write(
        _chunk: Uint8Array,
        _encoding: BufferEncoding,
        callback: (error?: Error) => void,
      ): void {
        callback(new Error('the client went away'))
      }
    })()
    let closed = false
    async function* rows(): AsyncGenerator<number> {
      try {
        for (let n = 0; n < 1_000; n++) yield n
      } finally {
        closed = true
      }
    }
    await expect(streamNdjson(stream, rows(), { awslambda })).rejects.toThrow('the client went away')
    await until(() => closed)
  })

  it('sends no prelude when the source fails before its first byte, so the invocation can still fail cleanly', async () => {
    const { stream, awslambda, preludes } = setup()
    const failure = new Error('no such report')
    stream.on('error', () => {})
    async function* failing(): AsyncGenerator<number> {
      yield* []
      throw failure
    }
    await expect(streamNdjson(stream, failing(), { awslambda })).rejects.toBe(failure)
    expect(preludes).toEqual([])
    expect(stream.destroyed).toBe(true)
    expect(stream.chunks).toEqual([])
  })

  it('rejects an item JSON cannot represent with a sentence that names it', async () => {
    const { stream, awslambda } = setup()
    stream.on('error', () => {})
    await expect(streamNdjson(stream, [1, undefined], { awslambda })).rejects.toThrow(
      'sluice/lambda: streamNdjson got item 1 (undefined), which JSON cannot represent; yield objects, arrays, strings, numbers, booleans or null.',
    )
  })

  it('pulls the source no further ahead than the slow stream has accepted', async () => {
    const { stream, awslambda } = setup({ highWaterMark: 1, delayMs: 1 })
    let pulled = 0
    const leads: number[] = []
    const original = stream._write.bind(stream)
    stream._write = (chunk, encoding, callback) => {
      leads.push(pulled - stream.chunks.length - 1)
      original(chunk, encoding, callback)
    }
    async function* counted(): AsyncGenerator<number> {
      for (let i = 0; i < 30; i++) {
        pulled++
        yield i
      }
    }
    await streamNdjson(stream, counted(), { awslambda })
    expect(stream.chunks.length).toBe(31)
    expect(Math.max(...leads)).toBeLessThanOrEqual(1)
  })

  it('calls a function source with the cursor from the cursor query parameter', async () => {
    const { stream, awslambda } = setup()
    const seen: (string | undefined)[] = []
    const rows = (cursor: string | undefined) => {
      seen.push(cursor)
      return [Number(cursor) + 1, Number(cursor) + 2]
    }
    await streamNdjson(stream, rows, { awslambda, request: request({}, 'cursor=41') })
    expect(seen).toEqual(['41'])
    expect(stream.text).toBe(`42\n43\n${marker(6)}`)
  })

  it('reads the cursor from the x-sluice-cursor header when the query has none', async () => {
    const { stream, awslambda } = setup()
    const seen: (string | undefined)[] = []
    await streamNdjson(
      stream,
      (cursor) => {
        seen.push(cursor)
        return []
      },
      { awslambda, request: request({ 'x-sluice-cursor': 'abc' }) },
    )
    expect(seen).toEqual(['abc'])
  })

  it('reads the cursor from the query parameter and header named in the options', async () => {
    const { stream, awslambda } = setup()
    const seen: (string | undefined)[] = []
    const source = (cursor: string | undefined) => {
      seen.push(cursor)
      return []
    }
    await streamNdjson(stream, source, {
      awslambda,
      cursorParam: 'after',
      request: { headers: {}, queryStringParameters: { after: '7', cursor: 'ignored' } },
    })
    await streamNdjson(new Recorder(), source, {
      awslambda,
      cursorHeader: 'x-after',
      request: request({ 'X-After': '8' }),
    })
    expect(seen).toEqual(['7', '8'])
  })

  it('calls a function source with undefined on a first request', async () => {
    const { stream, awslambda } = setup()
    const seen: (string | undefined)[] = []
    await streamNdjson(
      stream,
      (cursor) => {
        seen.push(cursor)
        return []
      },
      { awslambda, request: request() },
    )
    expect(seen).toEqual([undefined])
  })

  it('says how to provide the awslambda global when it is missing', async () => {
    await expect(streamNdjson(new Recorder(), [1])).rejects.toThrow(
      'sluice/lambda: streamNdjson needs the awslambda global, which is missing; run it inside the Lambda Node.js runtime or sluice/dev, or pass { awslambda } in its options. In a test, call installAwslambdaGlobal() from sluice/mock before importing the handler module (with await import(): a static import runs first), or pass { awslambda } with the awslambda that sluice/mock exports.',
    )
  })
})

describe('streamBytes', () => {
  it('declares the length of a single string and writes it as UTF-8', async () => {
    const { stream, awslambda, preludes } = setup()
    await streamBytes(stream, 'héllo', { awslambda })
    expect(stream.text).toBe('héllo')
    expect(preludes[0]).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'application/octet-stream', 'content-length': '6' },
    })
  })

  it('keeps a length given for a single string, and cuts the body when the string has another', async () => {
    const { stream, awslambda, preludes } = setup()
    await expect(streamBytes(stream, 'abc', { awslambda, length: 5 })).rejects.toThrow(
      /produced 3 bytes but declared a length of 5/,
    )
    expect(preludes[0]?.headers?.['content-length']).toBe('5')
    expect(stream.destroyed).toBe(true)
  })

  it('writes chunks of bytes and strings exactly, then the end marker', async () => {
    const { stream, awslambda } = setup()
    await streamBytes(stream, items<string | Uint8Array>(new Uint8Array([0, 1, 2]), 'ab', Buffer.from('c')), {
      awslambda,
    })
    expect([...stream.bytes.subarray(0, 6)]).toEqual([0, 1, 2, 97, 98, 99])
    expect(new TextDecoder().decode(stream.bytes.subarray(6))).toBe(marker(6))
  })

  it('writes no empty chunks', async () => {
    const { stream, awslambda } = setup()
    await streamBytes(stream, ['', 'a', new Uint8Array(0), 'b'], { awslambda })
    expect(stream.chunks.map((c) => c.byteLength)).toEqual([1, 1, marker(2).length])
  })

  it('rejects a chunk that is neither a string nor bytes with a sentence that says what to yield', async () => {
    const { stream, awslambda } = setup()
    stream.on('error', () => {})
    await expect(streamBytes(stream, ['a', 5 as unknown as string], { awslambda })).rejects.toThrow(
      'sluice/lambda: streamBytes got a chunk of type number; yield strings or Uint8Array (Buffer) chunks.',
    )
  })
})

describe('endMarkerLine', () => {
  it('is the documented JSON line with the byte offset', () => {
    expect(endMarkerLine(1234)).toBe('{"$sluice":"end","bytes":1234}\n')
  })

  it('refuses an offset that is not a byte count', () => {
    for (const bytes of [-1, 1.5, Number.NaN]) {
      expect(() => endMarkerLine(bytes)).toThrow(
        new RangeError(
          `sluice/lambda: the end marker needs a byte count, got ${bytes}; pass the body's length.`,
        ),
      )
    }
  })
})
