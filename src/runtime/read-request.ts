import { concatBytes } from '../core/concat-bytes.ts'
import type { EventInput } from './event.ts'

/**
 * Reads a web `Request` into the parts an event is made of, stopping at `maxBytes` of body.
 *
 * Resolves to `'too-large'` when the body is bigger than `maxBytes`, without buffering more than that.
 *
 * @example
 * const input = await readRequest(request, 6 * 1024 * 1024)
 * if (input === 'too-large') console.warn('413: the body is over the limit')
 */
export async function readRequest(request: Request, maxBytes: number): Promise<EventInput | 'too-large'> {
  const headers: Array<[string, string]> = []
  request.headers.forEach((value, name) => {
    headers.push([name, value])
  })
  const body = request.body ? await readBody(request.body, maxBytes) : undefined
  if (body === 'too-large') return 'too-large'
  return { method: request.method, url: request.url, headers, body }
}

async function readBody(
  stream: ReadableStream<Uint8Array>,
  maxBytes: number,
): Promise<Uint8Array | 'too-large'> {
  const chunks: Uint8Array[] = []
  let length = 0
  const reader = stream.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    length += value.length
    if (length > maxBytes) {
      // Not awaited: msw/node never settles the cancel of a streamed request body, which would hold the 413 back
      // for good; the rest of the body is dropped either way.
      void reader.cancel().catch(() => {})
      return 'too-large'
    }
    chunks.push(value)
  }
  return chunks.length === 0 ? new Uint8Array(0) : concatBytes(chunks, length)
}
