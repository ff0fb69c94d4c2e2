/**
 * For any string and any encoding Node knows, the browser's minimal writable sends the bytes Node's
 * `stream.Writable` sends (which are `Buffer.from(text, encoding)`), malformed base64 and hex included.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createResponseSink, type ResponseSink } from '../../src/runtime/response-sink.ts'
import { createResponseStream } from '../../src/runtime/response-stream.ts'
import { createWebResponseStream } from '../../src/runtime/response-stream-web.ts'

const ENCODINGS = [
  'utf8',
  'utf-8',
  'utf16le',
  'utf-16le',
  'ucs2',
  'ucs-2',
  'latin1',
  'binary',
  'ascii',
  'base64',
  'base64url',
  'hex',
] as const

// Characters that matter to some decoder (both base64 alphabets, padding, whitespace, hex digits of both cases) and
// some that matter to none, lone surrogates and astral characters included.
const character = fc.oneof(
  fc.constantFrom(...'AZaz09+/-_=  \n\r\t.*fFgG'),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  fc.constantFrom('\ud800', '\udc00', 'é', '€'),
)
const text = fc.array(character, { maxLength: 40 }).map((characters) => characters.join(''))

async function bytesWritten(
  create: (sink: ResponseSink) => ReturnType<typeof createResponseStream>,
  writes: Array<[string, string]>,
) {
  const sink = createResponseSink(1024 * 1024)
  const stream = create(sink)
  for (const [chunk, encoding] of writes) stream.write(chunk, encoding)
  stream.end()
  const chunks: Uint8Array[] = []
  for (;;) {
    const item = await sink.next()
    if (item.type !== 'chunk') break
    chunks.push(item.chunk)
  }
  return Buffer.concat(chunks).toString('hex')
}

describe('the minimal writable encodes strings as Node does', () => {
  it('sends the bytes Node’s stream.Writable sends for any string in any encoding', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(text, fc.constantFrom(...ENCODINGS)), { minLength: 1, maxLength: 4 }),
        async (writes) => {
          const node = await bytesWritten((sink) => createResponseStream(sink), writes)
          const web = await bytesWritten((sink) => createWebResponseStream(sink, 16 * 1024), writes)
          expect(web).toBe(node)
          expect(node).toBe(
            Buffer.concat(writes.map(([chunk, encoding]) => Buffer.from(chunk, encoding))).toString('hex'),
          )
        },
      ),
      { numRuns: 500 },
    )
  })
})
