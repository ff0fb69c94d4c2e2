/**
 * Any drop point, same output: every consumer reading a body from a real server on 127.0.0.1 that drops the
 * connection at random offsets — inside multi-byte characters, inside records, between `\r` and `\n`, several
 * times per stream — delivers exactly what it delivers from the same body undisturbed.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fromResponse, type StreamResponse, sluice } from '../src/index.ts'
import {
  concatBytes,
  encode,
  eol,
  INVALID_UTF8,
  inlineText,
  ndjsonBodies,
  PIECES,
  trickyBytes,
} from './support/chunking.ts'
import { base64, FAST, scripted } from './support/scripted.ts'
import { sseWithState } from './support/sse-state.ts'

const RUNS = { numRuns: 30 } as const
const TIMEOUT = 120_000

type Mode = 'content-length' | 'end marker' | 'no length'

/** Offsets worth dropping at: inside a multi-byte character, between `\r` and `\n`, and right before a `\n`. */
function interesting(bytes: Uint8Array): number[] {
  const out: number[] = []
  for (let i = 1; i < bytes.length; i++) {
    const b = bytes[i]!
    if ((b & 0xc0) === 0x80 || (b === 10 && bytes[i - 1] === 13)) out.push(i)
  }
  return out
}

/** A body with 1 to 3 drop offsets (ascending; repeated offsets drop again before any progress) and a mode. */
function withDrops(
  body: fc.Arbitrary<string | Uint8Array>,
): fc.Arbitrary<{ bytes: Uint8Array; drops: number[]; mode: Mode }> {
  return body
    .map((b) => (typeof b === 'string' ? encode(b) : b))
    .filter((bytes) => bytes.length > 0)
    .chain((bytes) => {
      const hot = interesting(bytes)
      const offset =
        hot.length === 0
          ? fc.nat({ max: bytes.length })
          : fc.oneof(fc.nat({ max: bytes.length }), fc.constantFrom(...hot))
      return fc.record({
        bytes: fc.constant(bytes),
        drops: fc.array(offset, { minLength: 1, maxLength: 3 }).map((d) => d.sort((a, b) => a - b)),
        mode: fc.constantFrom<Mode>('content-length', 'end marker', 'no length'),
      })
    })
}

const text = fc.array(fc.constantFrom(...PIECES), { minLength: 1, maxLength: 60 }).map((p) => p.join(''))
const inline = inlineText
const ndjsonBody = ndjsonBodies({ minLength: 1, maxLength: 12 })
const sseBody = fc
  .array(
    fc.tuple(
      inline.map((s) => s.replace(/\r/g, '')),
      eol,
      fc.boolean(),
      fc.boolean(),
    ),
    { minLength: 1, maxLength: 10 },
  )
  .map((events) =>
    events
      .map(
        ([data, end, named, comment]) =>
          `${comment ? `: note${end}` : ''}${named ? `event: tick${end}` : ''}data: ${data}${end}data: ²${end}${end}`,
      )
      .join(''),
  )
/** Events whose data holds invalid UTF-8: each bad sequence is one U+FFFD, or more, whatever the drop offsets. */
const sseBytes = fc
  .array(
    fc.tuple(
      fc.array(
        fc.oneof(
          inline.map((s) => encode(s.replace(/\r/g, ''))),
          fc.constantFrom(...INVALID_UTF8),
        ),
        {
          maxLength: 4,
        },
      ),
      eol,
    ),
    { minLength: 1, maxLength: 8 },
  )
  .map((events) =>
    concatBytes(
      events.flatMap(([data, end]) => [
        encode('data: '),
        ...data.map((piece) => Uint8Array.from(piece)),
        encode(`${end}${end}`),
      ]),
    ),
  )
const jsonBody = fc
  .tuple(fc.array(fc.tuple(inline, fc.integer(), fc.boolean()), { maxLength: 8 }), fc.boolean())
  .map(([rows, crlf]) => {
    const doc = JSON.stringify({ rows: rows.map(([s, n, b]) => ({ s, n, b })), end: '✓' }, null, 1)
    return crlf ? doc.replace(/\n/g, '\r\n') : doc
  })

/** Reads `res` with one consumer into something comparable. */
type Read = (res: StreamResponse) => Promise<unknown>

const joinBytes = async (chunks: AsyncIterable<Uint8Array>): Promise<string[]> => {
  const out: string[] = []
  for await (const chunk of chunks) out.push(base64(chunk))
  return out
}

const withInvalid = trickyBytes({ minLength: 1, maxLength: 60 })

const consumers: Array<[name: string, body: fc.Arbitrary<string | Uint8Array>, read: Read]> = [
  ['bytes()', text, async (res) => (await joinBytes(res.bytes())).map((c) => atob(c)).join('')],
  ['bytes({ chunkSize: 3 })', text, (res) => joinBytes(res.bytes({ chunkSize: 3 }))],
  ['text()', text, async (res) => (await Array.fromAsync(res.text())).join('')],
  ['lines()', text, (res) => Array.fromAsync(res.lines())],
  ['ndjson()', ndjsonBody, (res) => Array.fromAsync(res.ndjson())],
  ['events()', sseBody, (res) => Array.fromAsync(res.events())],
  ['text() over invalid UTF-8', withInvalid, async (res) => (await Array.fromAsync(res.text())).join('')],
  ['lines() over invalid UTF-8', withInvalid, (res) => Array.fromAsync(res.lines())],
  ['events() over invalid UTF-8', sseBytes, (res) => Array.fromAsync(res.events())],
  [
    'json()',
    jsonBody,
    async (res) => {
      const doc = res.json()
      const snapshots = await Array.fromAsync(doc)
      return { last: snapshots.at(-1), final: await doc.final }
    },
  ],
]

/** Requests `bytes` from the loopback server, which drops the connection at `drops`, with resume on. */
async function dropping(
  { bytes, drops, mode }: { bytes: Uint8Array; drops: number[]; mode: Mode },
  strategy: 'auto' | 'range' = 'auto',
) {
  const { url } = await scripted({
    kind: 'range',
    body: base64(bytes),
    etag: ['"v1"'],
    length: mode === 'content-length',
    marker: mode === 'end marker',
    attempts: drops.map((drop) => ({ drop })),
    // Any drop point will do, even one the browser moved by losing bytes: the short wait keeps hundreds of drops quick.
    settle: 50,
  })
  return sluice(url, { resume: { strategy, backoff: FAST, attempts: 10 } })
}

describe.concurrent('resume: any drop point, same output (real server)', () => {
  for (const [name, body, read] of consumers) {
    it(
      `${name} delivers exactly what an undisturbed run delivers, whatever the drop offsets, and ends with loaded = body length`,
      async () => {
        await fc.assert(
          fc.asyncProperty(withDrops(body), async ({ bytes, drops, mode }) => {
            const expected = await read(await fromResponse(new Response(bytes.slice())))
            const res = await dropping({ bytes, drops, mode })
            expect(await read(res)).toEqual(expected)
            expect(res.progress).toMatchObject({ loaded: bytes.length, state: 'done' })
          }),
          RUNS,
        )
      },
      TIMEOUT,
    )
  }
})

describe.concurrent('resume by Range: the state between events', () => {
  it(
    'events() continues with the id and retry time in force where it resumes, as an undisturbed run has them',
    async () => {
      await fc.assert(
        fc.asyncProperty(withDrops(sseWithState), async (drop) => {
          const read = (res: StreamResponse) => Array.fromAsync(res.events())
          const expected = await read(await fromResponse(new Response(drop.bytes.slice())))
          const res = await dropping(drop, 'range')
          expect(await read(res)).toEqual(expected)
          expect(res.progress).toMatchObject({ loaded: drop.bytes.length, state: 'done' })
        }),
        RUNS,
      )
    },
    TIMEOUT,
  )
})

/** Reads `iterable` asking for 3 items at a time: calls made before the previous one settled. */
async function inBursts<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const iterator = iterable[Symbol.asyncIterator]()
  const items: T[] = []
  for (let done = false; !done; ) {
    for (const step of await Promise.all([iterator.next(), iterator.next(), iterator.next()])) {
      if (step.done) done = true
      else items.push(step.value)
    }
  }
  return items
}

const inFlight: Array<
  [name: string, body: fc.Arbitrary<string>, read: (res: StreamResponse, burst: boolean) => Promise<unknown>]
> = [
  [
    'bytes()',
    text,
    async (res, burst) =>
      base64(concatBytes(await (burst ? inBursts : Array.fromAsync<Uint8Array>)(res.bytes()))),
  ],
  [
    'text()',
    text,
    async (res, burst) => (await (burst ? inBursts : Array.fromAsync<string>)(res.text())).join(''),
  ],
  ['lines()', text, (res, burst) => (burst ? inBursts : Array.fromAsync<string>)(res.lines())],
  ['ndjson()', ndjsonBody, (res, burst) => (burst ? inBursts : Array.fromAsync<unknown>)(res.ndjson())],
  ['events()', sseBody, (res, burst) => (burst ? inBursts : Array.fromAsync<unknown>)(res.events())],
]

describe.concurrent('resume: any drop point, same output, with calls in flight (real server)', () => {
  for (const [name, body, read] of inFlight) {
    it(
      `${name} asked for 3 items at a time delivers what one at a time does, whatever the drop offsets`,
      async () => {
        await fc.assert(
          fc.asyncProperty(withDrops(body), async ({ bytes, drops, mode }) => {
            const expected = await read(await fromResponse(new Response(bytes.slice())), false)
            const res = await dropping({ bytes, drops, mode })
            expect(await read(res, true)).toEqual(expected)
            expect(res.progress).toMatchObject({ loaded: bytes.length, state: 'done' })
          }),
          RUNS,
        )
      },
      TIMEOUT,
    )
  }
})

/** Records or events and 1 to 3 drop offsets, each counted in the answer of its attempt. */
/** Done, with every byte of `whole` counted once (none replayed) and every item delivered. */
function expectCountedOnce(res: StreamResponse, whole: string, items: number): void {
  expect(res.progress).toMatchObject({ loaded: encode(whole).length, items, state: 'done' })
}

function itemsWithDrops<T>(items: fc.Arbitrary<T[]>): fc.Arbitrary<{ items: T[]; drops: number[] }> {
  return fc.record({ items, drops: fc.array(fc.nat({ max: 400 }), { minLength: 1, maxLength: 3 }) })
}

const records = fc
  .array(inline, { minLength: 1, maxLength: 12 })
  .map((texts) => texts.map((s, i) => JSON.stringify({ i, s })))

describe.concurrent('resume by replay: any drop point, same output (real server)', () => {
  it(
    'events() over Last-Event-ID delivers every event once, drops the partial one, and counts each byte once',
    async () => {
      await fc.assert(
        fc.asyncProperty(itemsWithDrops(records), async ({ items, drops }) => {
          const events = items.map((data, n) => ({ id: `e${n}`, data }))
          const whole = events.map((e) => `id: ${e.id}\ndata: ${e.data}\n\n`).join('')
          const expected = await Array.fromAsync((await fromResponse(new Response(whole))).events())
          const { url } = await scripted({ kind: 'sse', events, attempts: drops.map((drop) => ({ drop })) })
          const res = await sluice(url, { resume: { backoff: FAST, attempts: 10 } })
          expect(await Array.fromAsync(res.events())).toEqual(expected)
          expectCountedOnce(res, whole, items.length)
        }),
        RUNS,
      )
    },
    TIMEOUT,
  )

  for (const format of ['ndjson', 'sse'] as const) {
    it(
      `${format === 'ndjson' ? 'ndjson()' : 'events({ json: true })'} over a cursor delivers every record once, whatever the drop offsets`,
      async () => {
        await fc.assert(
          fc.asyncProperty(itemsWithDrops(records), async ({ items, drops }) => {
            const whole = items.map((r) => (format === 'sse' ? `data: ${r}\n\n` : `${r}\n`)).join('')
            const { url } = await scripted({
              kind: 'cursor',
              records: items,
              format,
              attempts: drops.map((drop) => ({ drop })),
            })
            const res = await sluice(url, {
              resume: {
                strategy: 'cursor',
                backoff: FAST,
                attempts: 10,
                cursor: (last) => {
                  const row = (format === 'sse' ? (last as { data: { i: number } }).data : last) as {
                    i: number
                  }
                  return { searchParams: { after: String(row.i) } }
                },
              },
            })
            const got =
              format === 'sse'
                ? (await Array.fromAsync(res.events({ json: true }))).map((e) => e.data)
                : await Array.fromAsync(res.ndjson())
            expect(got).toEqual(items.map((r) => JSON.parse(r) as unknown))
            expectCountedOnce(res, whole, items.length)
          }),
          RUNS,
        )
      },
      TIMEOUT,
    )
  }
})
