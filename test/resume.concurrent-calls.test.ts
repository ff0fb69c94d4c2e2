/**
 * Calls to next() made before the previous one settled, on the consumers that hand out one item per chunk
 * (bytes(), text()), while the connection drops: one read at a time, so the drop is recovered once and the
 * items make the body exactly. Against the loopback server, in every project.
 */
import { describe, expect, it } from 'vitest'
import { type StreamResponse, sluice } from '../src/index.ts'
import { concatBytes, encode } from './support/chunking.ts'
import { base64, FAST, scripted } from './support/scripted.ts'

// About 150 KB with multi-byte text: it arrives in 64 KiB chunks, which text() decodes 32 KiB at a time.
const BODY = encode(
  Array.from({ length: 2500 }, (_, i) => `line ${i} ${'€'.repeat(i % 4)}😀 ${'x'.repeat(i % 90)}\n`).join(''),
)

/** Asks for `width` items at once, again and again, until the end; returns them in the order asked. */
async function drainInBursts<T>(iterable: AsyncIterable<T>, width: number): Promise<T[]> {
  const iterator = iterable[Symbol.asyncIterator]()
  const items: T[] = []
  for (let done = false; !done; ) {
    for (const step of await Promise.all(Array.from({ length: width }, () => iterator.next()))) {
      if (step.done) done = true
      else items.push(step.value)
    }
  }
  return items
}

const CASES: [string, (res: StreamResponse) => Promise<Uint8Array>][] = [
  ['bytes()', async (res) => concatBytes(await drainInBursts(res.bytes(), 4))],
  ['text()', async (res) => encode((await drainInBursts(res.text(), 4)).join(''))],
]

describe.each(CASES)('%s with calls in flight when the connection drops', (_, read) => {
  it.each([10_000, 60_000, 100_000, 140_000])('at byte %i: every byte once, one reconnect', async (drop) => {
    const s = await scripted({ kind: 'range', body: base64(BODY), etag: ['"v1"'], attempts: [{ drop }] })
    const res = await sluice(s.url, { resume: { backoff: FAST } })
    expect(Array.from(await read(res))).toEqual(Array.from(BODY))
    expect(res.progress).toMatchObject({ loaded: BODY.length, attempt: 2, state: 'done' })
    expect((await s.log()).filter((entry) => entry.event === 'request')).toHaveLength(2)
  })
})
