import { describe, expect, it } from 'vitest'
import { streamBytes, streamNdjson, streamSse } from '../../src/lambda/index.ts'
import { marker, request, setup } from './lambda-recorder.ts'

const body = 'abcdefghijklmnopqrstuvwxyz'

/** A deterministic body in uneven chunks, so range starts fall inside, at the start and at the end of chunks. */
async function* letters(): AsyncGenerator<string> {
  for (const part of ['abc', 'defghij', 'k', 'lmnopqrstu', 'vwxyz']) yield part
}

describe('Range over a deterministic body', () => {
  it('answers bytes=N- with 206, a full Content-Range and the bytes from N when the length is known', async () => {
    const { stream, awslambda, preludes } = setup()
    await streamBytes(stream, letters(), {
      awslambda,
      length: 26,
      etag: '"v1"',
      request: request({ range: 'bytes=5-' }),
    })
    expect(stream.text).toBe('fghijklmnopqrstuvwxyz')
    expect(preludes[0]).toEqual({
      statusCode: 206,
      headers: {
        'content-type': 'application/octet-stream',
        'accept-ranges': 'bytes',
        etag: '"v1"',
        'content-length': '21',
        'content-range': 'bytes 5-25/26',
      },
    })
  })

  it('answers with bytes N-*/* and ends with the marker of the complete body when the length is unknown', async () => {
    const { stream, awslambda, preludes } = setup()
    await streamBytes(stream, letters(), {
      awslambda,
      etag: '"v1"',
      request: request({ range: 'bytes=11-' }),
    })
    expect(stream.text).toBe(`lmnopqrstuvwxyz${marker(26)}`)
    expect(preludes[0]?.statusCode).toBe(206)
    expect(preludes[0]?.headers?.['content-range']).toBe('bytes 11-*/*')
    expect(preludes[0]?.headers?.['x-sluice-end']).toBe('marker')
  })

  it('returns exactly the bytes after N for every N inside the body', async () => {
    for (let start = 0; start < body.length; start++) {
      const { stream, awslambda } = setup()
      await streamBytes(stream, letters(), {
        awslambda,
        range: true,
        request: request({ range: `bytes=${start}-` }),
      })
      expect(stream.text).toBe(`${body.slice(start)}${marker(26)}`)
    }
  })

  it('answers the full 200 when If-Range carries another ETag', async () => {
    const { stream, awslambda, preludes } = setup()
    await streamBytes(stream, letters(), {
      awslambda,
      length: 26,
      etag: '"v2"',
      request: request({ range: 'bytes=5-', 'if-range': '"v1"' }),
    })
    expect(stream.text).toBe(body)
    expect(preludes[0]?.statusCode).toBe(200)
    expect(preludes[0]?.headers?.['content-range']).toBeUndefined()
    expect(preludes[0]?.headers?.etag).toBe('"v2"')
  })

  it('answers 206 when If-Range carries the same ETag', async () => {
    const { stream, awslambda, preludes } = setup()
    await streamBytes(stream, letters(), {
      awslambda,
      length: 26,
      etag: '"v1"',
      request: request({ range: 'bytes=20-', 'if-range': '"v1"' }),
    })
    expect(stream.text).toBe('uvwxyz')
    expect(preludes[0]?.statusCode).toBe(206)
  })

  it('validates If-Range against an ETag or Last-Modified given in `headers`, as a client sends them', async () => {
    const date = 'Sat, 28 Nov 2026 10:00:00 GMT'
    const cases = [
      { headers: { etag: '"v1"' }, ifRange: '"v1"', status: 206 },
      { headers: { etag: '"v1"' }, ifRange: '"v0"', status: 200 },
      { headers: { 'last-modified': date }, ifRange: date, status: 206 },
      { headers: { 'last-modified': date }, ifRange: 'Fri, 27 Nov 2026 10:00:00 GMT', status: 200 },
      // A client that has the ETag sends it: a date then validates nothing.
      { headers: { etag: '"v1"', 'last-modified': date }, ifRange: date, status: 200 },
      // A weak tag never validates a byte range.
      { headers: { etag: 'W/"v1"' }, ifRange: 'W/"v1"', status: 200 },
    ]
    for (const { headers, ifRange, status } of cases) {
      const { stream, awslambda, preludes } = setup()
      await streamBytes(stream, letters(), {
        awslambda,
        length: 26,
        range: true,
        headers,
        request: request({ range: 'bytes=20-', 'if-range': ifRange }),
      })
      expect(preludes[0]?.statusCode, `If-Range ${ifRange}`).toBe(status)
      expect(stream.text).toBe(status === 206 ? 'uvwxyz' : body)
    }
  })

  it("answers the Range of a POST or PUT as a GET's: sluice resumes a POST report by Range", async () => {
    // RFC 9110 §14.2 defines range handling for GET alone; the helpers define it for the other methods too, as the
    // sluice client asks with the method of the first request (test/node/lambda-resume.property.test.ts).
    for (const method of ['POST', 'PUT']) {
      for (const [range, length, status, text] of [
        ['bytes=5-', 26, 206, body.slice(5)],
        ['bytes=26-', 26, 416, 'Range not satisfiable: the body is 26 bytes long.\n'],
        ['bytes=40-', undefined, 416, 'Range not satisfiable: the body is 26 bytes long.\n'],
      ] as const) {
        const { stream, awslambda, preludes } = setup()
        await streamBytes(stream, letters(), {
          awslambda,
          ...(length === undefined ? {} : { length }),
          etag: '"v1"',
          onRefusal: false,
          request: { headers: { range }, requestContext: { http: { method } } },
        })
        expect(preludes[0]?.statusCode, `${method} ${range}`).toBe(status)
        expect(stream.text).toBe(text)
      }
    }
  })

  it('answers 416 with bytes */L, without reading the source, when N is past a known end', async () => {
    const { stream, awslambda, preludes } = setup()
    let pulled = false
    async function* source(): AsyncGenerator<string> {
      pulled = true
      yield body
    }
    await streamBytes(stream, source(), {
      awslambda,
      length: 26,
      etag: '"v1"',
      request: request({ range: 'bytes=26-' }),
    })
    expect(pulled).toBe(false)
    expect(preludes[0]?.statusCode).toBe(416)
    expect(preludes[0]?.headers?.['content-range']).toBe('bytes */26')
    expect(stream.text).toBe('Range not satisfiable: the body is 26 bytes long.\n')
    expect(preludes[0]?.headers?.['content-length']).toBe(String(stream.bytes.byteLength))
  })

  it('answers 416 with bytes */L once the source ends at or before N when the length is unknown', async () => {
    for (const range of ['bytes=26-', 'bytes=40-']) {
      const { stream, awslambda, preludes } = setup()
      await streamBytes(stream, letters(), { awslambda, etag: 'v1', request: request({ range }) })
      expect(preludes, range).toHaveLength(1)
      expect(preludes[0]?.statusCode).toBe(416)
      expect(preludes[0]?.headers?.['content-range']).toBe('bytes */26')
    }
  })

  it('serves NDJSON ranges the same way', async () => {
    const { stream, awslambda, preludes } = setup()
    const rows = [{ n: 1 }, { n: 2 }, { n: 3 }]
    await streamNdjson(stream, rows, { awslambda, etag: '"rows"', request: request({ range: 'bytes=8-' }) })
    expect(stream.text).toBe(`{"n":2}\n{"n":3}\n${marker(24)}`)
    expect(preludes[0]?.statusCode).toBe(206)
  })

  it('announces Accept-Ranges and a quoted ETag on a full response', async () => {
    const { stream, awslambda, preludes } = setup()
    await streamBytes(stream, letters(), { awslambda, etag: 'v1' })
    expect(preludes[0]?.statusCode).toBe(200)
    expect(preludes[0]?.headers?.['accept-ranges']).toBe('bytes')
    expect(preludes[0]?.headers?.etag).toBe('"v1"')
  })

  it('ignores Range when the body is not declared deterministic', async () => {
    const { stream, awslambda, preludes } = setup()
    await streamBytes(stream, letters(), { awslambda, request: request({ range: 'bytes=5-' }) })
    expect(stream.text).toBe(`${body}${marker(26)}`)
    expect(preludes[0]?.statusCode).toBe(200)
    expect(preludes[0]?.headers?.['accept-ranges']).toBeUndefined()
  })

  it('reads the range unit whatever its case, as RFC 9110 says', async () => {
    const { stream, awslambda, preludes } = setup()
    await streamBytes(stream, letters(), { awslambda, range: true, request: request({ range: 'Bytes=20-' }) })
    expect(preludes[0]?.statusCode).toBe(206)
    expect(stream.text).toBe(`uvwxyz${marker(26)}`)
  })

  it.each([
    'bytes=0-4',
    // Several ranges, which RFC 9110 lets a server answer whole; never a 206 of the first alone.
    'bytes=0-1,5-6',
    'bytes=5-,10-',
    // A suffix range: the last 500 bytes, which a body of unknown length cannot name the start of.
    'bytes=-500',
    // An invalid one (its last position before its first), which RFC 9110 says to ignore.
    'bytes=10-5',
    'items=5-',
  ])('ignores the range form %s, answering the full 200', async (range) => {
    const { stream, awslambda, preludes } = setup()
    await streamBytes(stream, letters(), { awslambda, range: true, request: request({ range }) })
    expect(preludes[0]?.statusCode).toBe(200)
    expect(preludes[0]?.headers?.['content-range']).toBeUndefined()
    expect(stream.text).toBe(`${body}${marker(26)}`)
  })

  it('ignores Range on a response with an error status', async () => {
    const { stream, awslambda, preludes } = setup()
    await streamBytes(stream, 'gone', {
      awslambda,
      statusCode: 410,
      etag: '"x"',
      request: request({ range: 'bytes=1-' }),
    })
    expect(preludes[0]?.statusCode).toBe(410)
    expect(stream.text).toBe('gone')
  })

  it('ignores Range for SSE, whose heartbeats make the bytes timing-dependent', async () => {
    const { stream, awslambda, preludes } = setup()
    await streamSse(stream, ['a'], { awslambda, request: request({ range: 'bytes=3-' }) })
    expect(preludes[0]?.statusCode).toBe(200)
    expect(preludes[0]?.headers?.['accept-ranges']).toBeUndefined()
    expect(stream.text).toBe(`data: a\n\n${marker(9)}`)
  })

  it('refuses a weak ETag, since byte ranges need a strong one', async () => {
    const { stream, awslambda } = setup()
    await expect(streamBytes(stream, 'x', { awslambda, etag: 'W/"v1"' })).rejects.toThrow(/weak ETag W\/"v1"/)
    // A lower-case mark is surely meant as one, not as part of a tag to quote ("w/"v1"" is no ETag).
    const lower = setup()
    await expect(
      streamBytes(lower.stream, 'x', { awslambda: lower.awslambda, etag: 'w/"v1"' }),
    ).rejects.toThrow(/weak ETag w\/"v1"/)
  })

  it.each(['"v1', 'v1"', '"', 'a b', '"a"b"'])(
    'refuses %s, which quoted as it is would be no entity tag, never matched by If-Range',
    async (etag) => {
      const { stream, awslambda } = setup()
      await expect(streamBytes(stream, 'x', { awslambda, etag })).rejects.toThrow(
        `got the ETag ${JSON.stringify(etag)}, which is not one`,
      )
    },
  )

  it.each([
    ['v1', '"v1"'],
    ['"v1"', '"v1"'],
    ['""', '""'],
  ])('sends the ETag %s as %s', async (etag, sent) => {
    const { stream, awslambda, preludes } = setup()
    await streamBytes(stream, 'x', { awslambda, etag })
    expect(preludes[0]?.headers?.etag).toBe(sent)
  })
})
