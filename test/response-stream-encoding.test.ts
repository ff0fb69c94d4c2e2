/**
 * `responseStream.write(chunk, encoding)` and `end(chunk, encoding)` send a string in the encoding given, as Node's
 * `stream.Writable` does, in the browser's and edge runtimes' minimal writable too. On Node, `createResponseStream`
 * is Node's Writable, so the expected bytes below are Node's; test/node/response-stream-encoding.property.test.ts
 * compares the two for any string.
 */
import { describe, expect, it } from 'vitest'
import { awslambda, type ResponseStream } from '../src/runtime/index.ts'
import { createResponseSink, type ResponseSink } from '../src/runtime/response-sink.ts'
import { createResponseStream } from '../src/runtime/response-stream.ts'
import { createWebResponseStream } from '../src/runtime/response-stream-web.ts'

async function drainBytes(sink: ResponseSink): Promise<number[]> {
  const bytes: number[] = []
  for (;;) {
    const item = await sink.next()
    if (item.type === 'end') return bytes
    if (item.type === 'error') throw item.error
    bytes.push(...item.chunk)
  }
}

/** `write` and `end` as plain JavaScript calls them, with any encoding. */
function untyped(stream: ResponseStream): {
  write: (chunk: unknown, encoding?: unknown) => boolean
  end: (chunk?: unknown, encoding?: unknown) => unknown
} {
  return {
    write: stream.write.bind(stream) as (chunk: unknown, encoding?: unknown) => boolean,
    end: stream.end.bind(stream) as (chunk?: unknown, encoding?: unknown) => unknown,
  }
}

const bytesOf = (text: string) => [...new TextEncoder().encode(text)]

describe.each([
  [
    'createResponseStream (Node’s stream.Writable on Node)',
    (sink: ResponseSink) => createResponseStream(sink),
  ],
  ['the browser’s minimal writable', (sink: ResponseSink) => createWebResponseStream(sink, 16 * 1024)],
])('%s writes a string in the encoding given', (_name, create) => {
  it.each<[string, string, number[]]>([
    ['utf8', 'hé€', bytesOf('hé€')],
    ['UTF-8', 'hé', bytesOf('hé')],
    ['base64', 'aGVsbG8=', bytesOf('hello')],
    ['base64', 'aGk', bytesOf('hi')],
    ['base64', 'a G\nk=aGk=', bytesOf('hi')],
    ['base64', 'a-_/', [0x6b, 0xef, 0xff]],
    ['base64url', 'a-_/+', [0x6b, 0xef, 0xff]],
    ['hex', '6869', bytesOf('hi')],
    ['HEX', '1aG123', [0x1a]],
    ['hex', '123', [0x12]],
    ['latin1', 'é€\u{1F600}', [0xe9, 0xac, 0x3d, 0x00]],
    ['binary', 'é', [0xe9]],
    ['ascii', 'é€', [0xe9, 0xac]],
    ['utf16le', 'a€', [0x61, 0x00, 0xac, 0x20]],
    ['ucs2', 'a', [0x61, 0x00]],
    ['utf-16le', '\u{1F600}', [0x3d, 0xd8, 0x00, 0xde]],
  ])('in %s, %j', async (encoding, text, expected) => {
    const sink = createResponseSink(1024 * 1024)
    const stream = create(sink)
    stream.write(text, encoding)
    stream.end()
    expect(await drainBytes(sink)).toEqual(expected)
  })

  it('writes the chunk end() is given in its encoding, and a string without one as UTF-8', async () => {
    const sink = createResponseSink(1024 * 1024)
    const stream = create(sink)
    const { write, end } = untyped(stream)
    write('é', null)
    write('é', '')
    stream.write('é', () => {})
    end('6869', 'hex')
    expect(await drainBytes(sink)).toEqual([...bytesOf('ééé'), 0x68, 0x69])
  })

  it('ignores the encoding given with bytes', async () => {
    const sink = createResponseSink(1024 * 1024)
    const stream = create(sink)
    stream.write(new Uint8Array([0x61]), 'hex')
    stream.write(new Uint8Array([0x62]), 'buffer')
    stream.end(new Uint8Array([0x63]), 'base64')
    expect(await drainBytes(sink)).toEqual([0x61, 0x62, 0x63])
  })

  it('throws ERR_UNKNOWN_ENCODING naming an encoding Node does not know, after the prelude went out', async () => {
    const sink = createResponseSink(1024 * 1024)
    const stream = awslambda.HttpResponseStream.from(create(sink), { statusCode: 201 })
    const { write, end } = untyped(stream)
    const failures: unknown[] = []
    for (const attempt of [
      () => write('a', 'utf32'),
      () => write(new Uint8Array([1]), 'utf32'),
      () => write('a', 'buffer'),
      () => end('a', 7),
    ]) {
      try {
        attempt()
        failures.push('no error')
      } catch (error) {
        failures.push(error)
      }
    }
    expect(failures).toEqual(
      ['utf32', 'utf32', 'buffer', '7'].map((name) =>
        expect.objectContaining({
          name: 'TypeError',
          code: 'ERR_UNKNOWN_ENCODING',
          message: expect.stringMatching(new RegExp(`^Unknown encoding: ${name}\\b`)),
        }),
      ),
    )
    // The refused end() ended nothing: the stream still takes writes.
    stream.end('ok')
    expect(new TextDecoder().decode(new Uint8Array(await drainBytes(sink)))).toBe(
      `{"statusCode":201}${'\0'.repeat(8)}ok`,
    )
  })
})
