/**
 * A chunk may end between the CR and the LF of the CRLF that ends an event's block. A checkpoint taken after that
 * event must not stand between the two: a stream continued from there would read the LF as one more line, and
 * name every later place one line too far.
 */
import { describe, expect, it } from 'vitest'
import { type Checkpoint, fromResponse, isParseError, sluice } from '../src/index.ts'
import { mockStream } from '../src/mock/mock-stream.ts'
import { encode } from './support/chunking.ts'
import { bodyOf, fetchWith } from './support/streams.ts'

const URL_ = 'http://fn.test/split-crlf'
const HEADERS = { 'content-type': 'text/event-stream', 'accept-ranges': 'bytes', etag: '"v1"' }

/** The line and byte an events({ json: true }) read names for the event whose data is not JSON. */
async function placeOfBadEvent(items: AsyncIterable<unknown>): Promise<{ line?: number; offset?: number }> {
  const error = await Array.fromAsync(items).catch((e: unknown) => e)
  if (!isParseError(error)) throw new Error(`no ParseError: ${String(error)}`)
  return { line: error.line, offset: error.offset }
}

describe('a checkpoint after an event whose blank line is cut from its LF', () => {
  for (const eol of ['\r\n', '\r']) {
    it(`names the same line and byte after a resume as an undisturbed read (${JSON.stringify(eol)})`, async () => {
      const text = `data: 1${eol}${eol}data: 2${eol}${eol}data: {bad${eol}${eol}`
      const bytes = encode(text)
      const fetch = fetchWith((request) => mockStream([bytes], { request, range: true, headers: HEADERS }))
      const undisturbed = await placeOfBadEvent((await sluice(URL_, { fetch })).events({ json: true }))
      expect(undisturbed).toEqual({ line: 6, offset: 2 * (7 + 2 * eol.length) })
      // The first chunk ends with the CR of the blank line after event 1.
      const cut = 7 + eol.length + 1
      const res = await fromResponse(
        new Response(bodyOf([bytes.slice(0, cut), bytes.slice(cut)]).stream, { headers: HEADERS }),
        { url: URL_, resume: { strategy: 'range' } },
      )
      let checkpoint: Checkpoint | undefined
      for await (const event of res.events({ json: true })) {
        expect(event.data).toBe(1)
        checkpoint = res.checkpoint()
        break
      }
      const resumed = await sluice(URL_, { fetch, resumeFrom: JSON.parse(JSON.stringify(checkpoint)) })
      expect(await placeOfBadEvent(resumed.events({ json: true }))).toEqual(undisturbed)
    })
  }
})
