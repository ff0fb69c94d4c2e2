import { describe, expect, it } from 'vitest'
import { LimitError } from '../../src/core/errors/limit-error.ts'
import { fromResponse } from '../../src/index.ts'
import { createPartialJsonParser } from '../../src/partial-json.ts'

/** A document of one string of `size` characters, in 1 MiB chunks, pulled one at a time. */
function bigDocument(size: number): Response {
  const chunk = new TextEncoder().encode('x'.repeat(1024 * 1024))
  let sent = 0
  return new Response(
    new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          if (sent === 0) controller.enqueue(new TextEncoder().encode('{"a":"'))
          if (sent >= size) {
            controller.enqueue(new TextEncoder().encode('"}'))
            controller.close()
            return
          }
          controller.enqueue(chunk)
          sent += chunk.length
        },
      },
      { highWaterMark: 0 },
    ),
  )
}

describe('res.json() on a large document', () => {
  // Function URLs stream up to 200 MB; a document past 64 MiB is no error unless the client sets maxBytes.
  it('reads a document past 64 MiB when the client sets no maxBytes', { timeout: 60_000 }, async () => {
    const size = 65 * 1024 * 1024
    const json = (await fromResponse(bigDocument(size))).json<{ a: string }>()
    let last: { a?: string } | undefined
    for await (const snapshot of json) last = snapshot
    expect(last?.a?.length).toBe(size)
    expect((await json.final).a.length).toBe(size)
  })
})

describe('createPartialJsonParser() on a large document', () => {
  // The parser on its own, unlike res.json(), defaults maxBytes to 64 MiB characters.
  it('takes exactly 64 MiB characters by default, and cuts the next one off there', {
    timeout: 60_000,
  }, () => {
    const parser = createPartialJsonParser()
    expect(parser.push(' '.repeat(64 * 1024 * 1024))).toBe(false)
    expect(parser.offset).toBe(67_108_864)
    let error: unknown
    try {
      parser.push('1')
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(LimitError)
    expect({
      limit: (error as LimitError).limit,
      max: (error as LimitError).max,
      offset: (error as LimitError).offset,
    }).toStrictEqual({ limit: 'maxBytes', max: 67_108_864, offset: 67_108_864 })
  })
})
