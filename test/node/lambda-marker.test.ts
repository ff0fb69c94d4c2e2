/**
 * The end-marker line proves a body complete, so nothing a helper writes before it may read as that line: a
 * record or an event field that does would be taken for the marker when a cut falls right after it, and the
 * stream would end `done` with the rest missing. Every prefix of a helper's body must fail to prove itself.
 */
import { describe, expect, it } from 'vitest'
import { fromResponse, isTruncatedError, type StreamResponse } from '../../src/index.ts'
import { type SseMessage, streamNdjson, streamSse } from '../../src/lambda/index.ts'
import { marker, setup } from './lambda-recorder.ts'

const forged = (bytes: number) => ({ $sluice: 'end', bytes })

/** What a client makes of the first `n` bytes of a recorded answer, ending cleanly there. */
async function prefix(
  recorded: ReturnType<typeof setup>,
  n: number,
  read: (res: StreamResponse) => AsyncIterable<unknown>,
): Promise<{ items: unknown[]; error: unknown }> {
  const headers = recorded.preludes[0]?.headers ?? {}
  const res = await fromResponse(new Response(recorded.stream.bytes.slice(0, n), { headers }))
  const items: unknown[] = []
  try {
    for await (const item of read(res)) items.push(item)
    return { items, error: undefined }
  } catch (error) {
    return { items, error }
  }
}

async function expectOnlyTheWholeProven(
  recorded: ReturnType<typeof setup>,
  read: (res: StreamResponse) => AsyncIterable<unknown>,
  whole: unknown[],
): Promise<void> {
  const length = recorded.stream.bytes.length
  for (let n = 0; n < length; n++) {
    const { error } = await prefix(recorded, n, read)
    expect(isTruncatedError(error), `cut after ${n} of ${length} bytes: ${String(error)}`).toBe(true)
  }
  expect(await prefix(recorded, length, read)).toEqual({ items: whole, error: undefined })
}

describe('streamNdjson and a record that serialises as the end-marker line', () => {
  it('writes it with a space after its brace, the same JSON value, when the body ends with the marker', async () => {
    const recorded = setup()
    // Each at the offset its `bytes` names in the body as JSON.stringify would write it.
    const records = [forged(0), { n: 1 }, forged(36)]
    await streamNdjson(recorded.stream, records, { awslambda: recorded.awslambda })
    const body = '{ "$sluice":"end","bytes":0}\n{"n":1}\n{ "$sluice":"end","bytes":36}\n'
    expect(recorded.stream.text).toBe(`${body}${marker(body.length)}`)
    await expectOnlyTheWholeProven(recorded, (res) => res.ndjson(), records)
  })

  it('writes it as JSON.stringify does under a declared length, which proves the end without a marker', async () => {
    const recorded = setup()
    const text = `${JSON.stringify(forged(0))}\n`
    await streamNdjson(recorded.stream, [forged(0)], { awslambda: recorded.awslambda, length: text.length })
    expect(recorded.stream.text).toBe(text)
  })

  it('leaves look-alikes as they are', async () => {
    const recorded = setup()
    const records = [{ $sluice: 'end', bytes: 0, more: 1 }, { bytes: 0, $sluice: 'end' }, { $sluice: 'end' }]
    await streamNdjson(recorded.stream, records, { awslambda: recorded.awslambda })
    const body = records.map((r) => `${JSON.stringify(r)}\n`).join('')
    expect(recorded.stream.text).toBe(`${body}${marker(body.length)}`)
  })
})

describe('streamSse and a field line that ends as the end-marker line does', () => {
  it('ends the line with CRLF, which SSE reads the same and no client takes for the marker', async () => {
    const recorded = setup()
    // Each `{` at the offset its `bytes` names in the body as it would be written with LF alone.
    const events: SseMessage[] = [
      { data: JSON.stringify(forged(6)) },
      { comment: JSON.stringify(forged(37)) },
      'b',
    ]
    await streamSse(recorded.stream, events, { awslambda: recorded.awslambda, heartbeatMs: 0 })
    const body = 'data: {"$sluice":"end","bytes":6}\r\n\n: {"$sluice":"end","bytes":37}\r\n\ndata: b\n\n'
    expect(recorded.stream.text).toBe(`${body}${marker(body.length)}`)
    await expectOnlyTheWholeProven(recorded, (res) => res.events(), [
      expect.objectContaining({ data: JSON.stringify(forged(6)) }),
      expect.objectContaining({ data: 'b' }),
    ])
  })
})
