/**
 * Any SSE body that gives ids to some blocks only — events with and without ids, id-only blocks, comments (the
 * common heartbeat), `retry:`-only blocks, an `event:` without data, empty data — in any chunking, dropped at any
 * byte, against a server that answers `Last-Event-ID: X` with the exact bytes after the block that carried X (as
 * sluice/mock does): `events()` delivers the events an undisturbed read delivers, each once, and `progress.loaded`
 * ends at the body's length, as undisturbed; under `tee()` both `events()` branches do the same, and a `text()`
 * branch read after the events (which follows the restart, README "tee()") gets the body exactly, none of what the
 * answer replayed.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fromResponse, type ServerSentEvent, type StreamResponse, sluice } from '../src/index.ts'
import { encode, inlineText } from './support/chunking.ts'
import { FAST } from './support/scripted.ts'
import { responseOf } from './support/streams.ts'

const RUNS = { numRuns: 40 } as const
const TIMEOUT = 120_000
const SSE = { 'content-type': 'text/event-stream' }

type Kind = 'event' | 'named' | 'empty' | 'id-only' | 'comment' | 'heartbeat' | 'retry' | 'event-only'

/** One block and whether it carries an id (each its own: `e` and its index). */
const kind = fc.constantFrom<Kind>(
  'event',
  'named',
  'empty',
  'id-only',
  'comment',
  'heartbeat',
  'retry',
  'event-only',
)

/** The blocks on the wire, and the index of each one's id (`undefined`: none). */
const body = fc
  .record({
    // The first block carries an id: a Last-Event-ID is in force once anything was delivered.
    blocks: fc.array(
      fc.tuple(
        kind,
        fc.boolean(),
        inlineText.map((s) => s.replace(/\r/g, '')),
      ),
      {
        minLength: 1,
        maxLength: 14,
      },
    ),
    // The line ends, in turn: one kind for the whole body, or mixed.
    eols: fc.array(fc.constantFrom('\n', '\r\n', '\r'), { minLength: 1, maxLength: 5 }),
  })
  .map(({ blocks, eols }) => {
    let n = 0
    const eol = () => eols[n++ % eols.length]!
    return blocks.map(([k, id, text], i): { wire: string; id: string | undefined } => {
      const withId = i === 0 || k === 'id-only' || (id && k !== 'comment' && k !== 'heartbeat')
      const lines = {
        event: [`data: ${text}`],
        named: ['event: tick', `data: ${text}`, `data: ${text}`],
        empty: ['data:'],
        'id-only': [],
        comment: [`: ${text}`],
        heartbeat: [':'],
        retry: [`retry: ${text.length * 100}`],
        'event-only': ['event: nothing'],
      }[k]
      // A comment line inside an event block changes nothing. (A line ended by CR, then an LF, is one line end: the
      // blank line after a CR is a CR or a CRLF.) A block with an id ends its blank line as its last line: the answer
      // to that id starts after it, and a drop right after its CR leaves the client to guess from that line whether
      // an LF follows, which no answer can tell.
      const ended = [...(withId ? [`id: e${i}`] : []), ...lines].map((l) => l + eol())
      const last = ended.at(-1)!
      const blank = withId ? (last.endsWith('\r\n') ? '\r\n' : last.at(-1)!) : eol()
      const wire = ended.join('') + (last.endsWith('\r') && blank === '\n' ? '\r\n' : blank)
      return { wire, id: withId ? `e${i}` : undefined }
    })
  })

/** How each answer is cut into chunks: one chunk, or pieces of these sizes in turn. */
const chunking = fc.option(fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 4 }), {
  nil: undefined,
})

/**
 * A server over `blocks`: `Last-Event-ID: X` gets the bytes after the block that carried X; answer `k` drops after
 * `drops[k]` of its bytes (when it has more), and each answer comes in chunks of `sizes`.
 */
function replayServer(
  blocks: ReadonlyArray<{ wire: string; id: string | undefined }>,
  drops: readonly number[],
  sizes: readonly number[] | undefined,
): typeof fetch {
  let answers = 0
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    const id = new Request(input, init).headers.get('last-event-id')
    const after = id === null ? 0 : blocks.findIndex((b) => b.id === id) + 1
    const wire = encode(
      blocks
        .slice(after)
        .map((b) => b.wire)
        .join(''),
    )
    const drop = drops[answers++]
    const end = drop === undefined || drop >= wire.length ? wire.length : drop
    const parts: Uint8Array[] = []
    for (let at = 0, k = 0; at < end; k++) {
      const size = sizes === undefined ? end : sizes[k % sizes.length]!
      parts.push(wire.slice(at, Math.min(end, at + size)))
      at += size
    }
    return responseOf(
      parts,
      end < wire.length ? { headers: SSE, error: new TypeError('terminated') } : { headers: SSE },
    )
  }) as typeof fetch
}

const resume = { strategy: 'last-event-id', attempts: 10, backoff: FAST } as const
const drops = fc.array(fc.nat({ max: 160 }), { minLength: 1, maxLength: 2 })

/**
 * Checks `check` over any body, chunking and drops: `res` is read from a server that replays by Last-Event-ID, `whole`
 * is the body, and `expected` the events an undisturbed read delivers. The response `check` returns (a branch of a
 * tee) must then have counted the body once.
 */
function overAnyDrop(
  check: (res: StreamResponse, whole: string, expected: ServerSentEvent[]) => Promise<StreamResponse>,
) {
  return () =>
    fc.assert(
      fc.asyncProperty(body, drops, chunking, async (blocks, cuts, sizes) => {
        const whole = blocks.map((b) => b.wire).join('')
        const expected = await Array.fromAsync((await fromResponse(new Response(whole))).events())
        const res = await sluice('https://fn.example/sse', {
          fetch: replayServer(blocks, cuts, sizes),
          resume,
        })
        const counted = await check(res, whole, expected)
        expect(counted.progress).toMatchObject({ loaded: encode(whole).length, state: 'done' })
      }),
      RUNS,
    )
}

describe.concurrent('Last-Event-ID resume over blocks that dispatch nothing (any body, chunking and drops)', () => {
  it(
    'events() delivers what an undisturbed read delivers, and progress.loaded ends at the body length',
    overAnyDrop(async (res, _whole, expected) => {
      expect(await Array.fromAsync(res.events())).toEqual(expected)
      return res
    }),
    TIMEOUT,
  )

  it(
    'tee(): two events() branches deliver it each, and progress.loaded ends at the body length',
    overAnyDrop(async (res, _whole, expected) => {
      const [x, y] = res.tee()
      const [one, two] = await Promise.all([Array.fromAsync(x.events()), Array.fromAsync(y.events())])
      expect([one, two]).toEqual([expected, expected])
      return x
    }),
    TIMEOUT,
  )

  it(
    'tee(): a text() branch read after the events() branch gets the body exactly, none of what the answer replayed',
    overAnyDrop(async (res, whole, expected) => {
      const [x, y] = res.tee()
      const text = y.text()
      expect(await Array.fromAsync(x.events())).toEqual(expected)
      expect((await Array.fromAsync(text)).join('')).toBe(whole)
      return x
    }),
    TIMEOUT,
  )
})
