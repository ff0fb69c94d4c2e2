/**
 * The event-stream parsing cases of the web-platform-tests (wpt/eventsource/format-*, event-data) and of
 * eventsource-parser's own fixtures, ported as bytes in and the events WHATWG "9.2 Server-sent events" dispatches
 * out, read through `fromResponse(…).events()` in every chunking (whole, a byte per chunk, each cut point). After
 * each event, and at the end, the checkpoint must stand at a block boundary after that event and before the next
 * one, with the last event ID (what a `Last-Event-ID` carries) and the retry time a reference parser written from
 * the spec has in force there; a stream continued from it by `Range` must deliver the events left, unchanged.
 */
import { describe, expect, it } from 'vitest'
import { type Checkpoint, fromResponse, type ServerSentEvent, sluice } from '../src/index.ts'
import { mockStream } from '../src/mock/mock-stream.ts'
import { chunkings, concatBytes, encode } from './support/chunking.ts'
import { bodyOf, fetchWith } from './support/streams.ts'

const URL_ = 'http://fn.test/wpt'
const HEADERS = { 'content-type': 'text/event-stream', 'accept-ranges': 'bytes', etag: '"v1"' }

interface WptCase {
  /** The file the input and the expectation come from. */
  source: string
  body: string | Uint8Array
  /** The events dispatched, in order; `id` and `retry` default to `undefined`, `event` to `'message'`. */
  events: Array<Partial<ServerSentEvent> & { data: string }>
}

/** What `resources/message.py` answers for `message` (and `newline`, default two LFs): one more LF after. */
const message = (text: string, newline = '\n\n') => `${text}${newline}\n`
// The sources' long comments take 2 KiB; shorter here, as every cut point of each body is read.
const LONG = 'x'.repeat(300)
const RAW_BOM = '\xEF\xBB\xBF'

const CASES: Record<string, WptCase> = {
  'format-bom: one leading BOM is stripped, a second one starts a field name': {
    source: 'wpt/eventsource/format-bom.js',
    body: concatBytes([
      Uint8Array.of(0xef, 0xbb, 0xbf),
      encode('data:1\n\n'),
      Uint8Array.of(0xef, 0xbb, 0xbf),
      encode(message('data:2\n\ndata:3')),
    ]),
    events: [{ data: '1' }, { data: '3' }],
  },
  'format-bom-2: of two BOMs at the start only the first is stripped': {
    source: 'wpt/eventsource/format-bom-2.any.js',
    body: concatBytes([
      Uint8Array.of(0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf),
      encode(message('data:1\n\ndata:2\n\ndata:3')),
    ]),
    events: [{ data: '2' }, { data: '3' }],
  },
  'format-comments: comments, CR and CRLF, long comment lines': {
    source: 'wpt/eventsource/format-comments.js',
    body: message(`data:1\r:\0\n:\r\ndata:2\n:${LONG}\rdata:3\n:data:fail\r:${LONG}\ndata:4\n`, ''),
    events: [{ data: '1\n2\n3\n4' }],
  },
  'format-data-before-final-empty-line: an event without its blank line is not dispatched, nor is its id': {
    source: 'wpt/eventsource/format-data-before-final-empty-line.js',
    body: message('retry:1000\ndata:test1\n\nid:test\ndata:test2', ''),
    events: [{ data: 'test1', retry: 1000 }],
  },
  'format-field-data: empty data, data without a colon': {
    source: 'wpt/eventsource/format-field-data.js',
    body: message('data:\n\ndata\ndata\n\ndata:test'),
    events: [{ data: '' }, { data: '\n' }, { data: 'test' }],
  },
  'format-field-event-empty: an empty event type is message': {
    source: 'wpt/eventsource/format-field-event-empty.htm',
    body: message('event: \ndata:data'),
    events: [{ data: 'data' }],
  },
  'format-field-event: a custom event type applies to its event only': {
    source: 'wpt/eventsource/format-field-event.htm',
    body: message('event:test\ndata:x\n\ndata:x'),
    events: [{ data: 'x', event: 'test' }, { data: 'x' }],
  },
  'format-field-id: an id with a non-ASCII character': {
    source: 'wpt/eventsource/resources/last-event-id.php (format-field-id.htm)',
    body: 'id: …\nretry: 200\ndata: hello\n\n',
    events: [{ data: 'hello', id: '…', retry: 200 }],
  },
  'format-field-id-null: an id with U+0000 is ignored': {
    source:
      'wpt/eventsource/format-field-id-null.htm (last-event-id.py?idvalue=%00%00), as the spec now reads: the copy seen asserts the older rule',
    body: 'id: 1\ndata: a\n\nid: \0\0\nretry: 200\ndata: hello\n\n',
    events: [
      { data: 'a', id: '1' },
      { data: 'hello', id: '1', retry: 200 },
    ],
  },
  'format-field-id-3: an id persists': {
    source: 'wpt/eventsource/resources/last-event-id2.py (type 1)',
    body: 'id: 1\ndata: 1\n\ndata:2\n\n',
    events: [
      { data: '1', id: '1' },
      { data: '2', id: '1' },
    ],
  },
  'format-field-id-3: an id changes and persists': {
    source: 'wpt/eventsource/resources/last-event-id2.py (type 2)',
    body: 'id: 1\ndata: 1\n\nid: 2\ndata:2\n\ndata:3\n\n',
    events: [
      { data: '1', id: '1' },
      { data: '2', id: '2' },
      { data: '3', id: '2' },
    ],
  },
  'format-field-id-3: an empty id resets it': {
    source: 'wpt/eventsource/resources/last-event-id2.py (type 3)',
    body: 'id: 1\ndata: 1\n\nid:\ndata:2\n\ndata:3\n\n',
    events: [{ data: '1', id: '1' }, { data: '2' }, { data: '3' }],
  },
  'format-field-parser: field names are exact, NUL is data': {
    source: 'wpt/eventsource/format-field-parser (its META: title= test script)',
    body: message(
      'data:\0\ndata:  2\rData:1\ndata\0:2\ndata:1\r\0data:4\nda-ta:3\rdata_5\ndata:3\rdata:\r\n data:32\ndata:4\n',
      '',
    ),
    events: [{ data: '\0\n 2\n1\n3\n\n4' }],
  },
  'format-field-retry: a leading zero is decimal': {
    source: 'wpt/eventsource/format-field-retry.htm',
    body: message('retry:02000\ndata:x'),
    events: [{ data: 'x', retry: 2000 }],
  },
  'format-field-retry-bogus: a value with a non-digit is ignored': {
    source: 'wpt/eventsource/format-field-retry-bogus.htm',
    body: message('retry:2000\nretry:1000x\ndata:x'),
    events: [{ data: 'x', retry: 2000 }],
  },
  'format-field-retry-empty: an empty retry is ignored': {
    source: 'wpt/eventsource/format-field-retry-empty (its META: title= test script)',
    body: message('retry\ndata:test'),
    events: [{ data: 'test' }],
  },
  'format-field-unknown: unknown fields and lines without a colon': {
    source: 'wpt/eventsource/format-field-unknown (its META: title= test script)',
    body: message('data:test\n data\ndata\nfoobar:xxx\njustsometext\n:thisisacommentyay\ndata:test'),
    events: [{ data: 'test\n\ntest' }],
  },
  'format-leading-space: only one space is stripped, a tab is kept': {
    source: 'wpt/eventsource/format-leading-space (its META: title= test script)',
    body: message('data:\t1\r\ndata:  2\r\ndata: 3'),
    events: [{ data: '\t1\n 2\n3' }],
  },
  'format-newlines: CRLF, LF, and a CRLF then a CR as the blank line': {
    source: 'wpt/eventsource/format-newlines (its META: title= test script)',
    body: message('data:test\r\ndata\ndata:test\r\n\r', ''),
    events: [{ data: 'test\n\ntest' }],
  },
  'format-null-character: NUL in data': {
    source: 'wpt/eventsource/format-null-character.html',
    body: message('data:\0\n\n'),
    events: [{ data: '\0' }],
  },
  'format-utf-8: always UTF-8': {
    source: 'wpt/eventsource/format-utf-8.js',
    body: concatBytes([encode('data:ok'), Uint8Array.of(0xe2, 0x80, 0xa6), encode('\n\n\n')]),
    events: [{ data: 'ok…' }],
  },
  'event-data: lines and data parsing': {
    // The loop of resources/message2.py, once: its first lines as they are; the rest as the test's expectations
    // (an empty event, then "end") require.
    source: 'wpt/eventsource/event-data.js (resources/message2.py)',
    body: 'data:msg\ndata: msg\n\n:\nfalsefield:msg\n\nfalsefield:msg\nData:data\ndata\n\ndata:end\n\n',
    events: [{ data: 'msg\nmsg' }, { data: '' }, { data: 'end' }],
  },
  'eventsource-parser: multiline': {
    source: 'eventsource-parser test/fixtures.ts getMultilineFixtureStream',
    body: 'event: stock\ndata: YHOO\ndata: +2\ndata: 10\n\nevent: stock\ndata: GOOG\ndata: -8\ndata: 1881\n\n',
    events: [
      { data: 'YHOO\n+2\n10', event: 'stock' },
      { data: 'GOOG\n-8\n1881', event: 'stock' },
    ],
  },
  'eventsource-parser: blank lines before the first event, multibyte data': {
    source: 'eventsource-parser test/fixtures.ts getMultibyteEmptyLineFixtureStream',
    body: '\n\n\n\nid: 1\ndata: 我現在都看實況不玩遊戲\n\n',
    events: [{ data: '我現在都看實況不玩遊戲', id: '1' }],
  },
  'eventsource-parser: a decoded U+FEFF only at the start is a BOM': {
    source: 'eventsource-parser test/fixtures.ts getInvalidBomFixtureStream',
    body: '\uFEFFdata: bomful 1\n\n\uFEFFdata: bomful 2\n\ndata: bomless 3\n\n',
    events: [{ data: 'bomful 1' }, { data: 'bomless 3' }],
  },
  'eventsource-parser: CR, LF and CRLF': {
    source:
      'eventsource-parser test/fixtures.ts getCarriageReturn/LineFeed/CarriageReturnLineFeedFixtureStream',
    body: 'data: dog\rdata: bark\r\rdata: cow\ndata: moo\n\ndata: sheep\r\ndata: bleat\r\n\r\n',
    events: [{ data: 'dog\nbark' }, { data: 'cow\nmoo' }, { data: 'sheep\nbleat' }],
  },
  'eventsource-parser: comments of every size and script': {
    source: 'eventsource-parser test/fixtures.ts getCommentsFixtureStream',
    body: `: Hello\n\n${':'.repeat(300)}\ndata: First\n\n: Первый: 第二\ndata: Second\n\n${': Moop \n'.repeat(10)}: ثالث\ndata: Third\n\n:നാലാമത്തെ\ndata: Fourth\n\n: 😀 👩‍👩‍👧 :\ndata: Fifth\n\n`,
    events: [{ data: 'First' }, { data: 'Second' }, { data: 'Third' }, { data: 'Fourth' }, { data: 'Fifth' }],
  },
  'eventsource-parser: mixed comments, and an event cut off by the end': {
    source: 'eventsource-parser test/fixtures.ts getMixedCommentsFixtureStream',
    body: `data:1\r\r:\0\n:\r\ndata:2\n\n:${LONG}\rdata:3\n\n:data:fail\r:${LONG}\ndata:4\n\ndata:5`,
    events: [{ data: '1' }, { data: '2' }, { data: '3' }, { data: '4' }],
  },
  'eventsource-parser: empty event types': {
    source: 'eventsource-parser test/fixtures.ts getEmptyEventsFixtureStream',
    body: 'event:\ndata: Hello 1\n\nevent:\n\n',
    events: [{ data: 'Hello 1' }],
  },
  'eventsource-parser: an empty retry keeps the time set before': {
    source: 'eventsource-parser test/fixtures.ts getEmptyRetryFixtureStream',
    body: 'id: 1\nretry: 500\ndata: 🥌\n\nid:2\nretry:\ndata:🧹\n\nid: 3\ndata: ✅\n\n',
    events: [
      { data: '🥌', id: '1', retry: 500 },
      { data: '🧹', id: '2', retry: 500 },
      { data: '✅', id: '3', retry: 500 },
    ],
  },
  'eventsource-parser: invalid retry': {
    source: 'eventsource-parser test/fixtures.ts getInvalidRetryFixtureStream',
    body: 'retry:1000\nretry:2000x\ndata:x\n\n',
    events: [{ data: 'x', retry: 1000 }],
  },
  'eventsource-parser: identified ticks with retry': {
    source: 'eventsource-parser test/fixtures.ts getIdentifiedFixtureStream',
    body: 'event: tick\nid: 4\nretry: 50\ndata: 4\n\nevent: tick\nid: 5\nretry: 50\ndata: 5\n\nevent: done\ndata: ✔\n\n',
    events: [
      { data: '4', id: '4', event: 'tick', retry: 50 },
      { data: '5', id: '5', event: 'tick', retry: 50 },
      { data: '✔', id: '5', event: 'done', retry: 50 },
    ],
  },
  'spec: an id-only block moves the last event ID, an empty one resets it': {
    source: 'HTML 9.2.6 "dispatch the event" step 1',
    body: 'id: 1\n\ndata: a\n\nid\n\ndata: b\n\nid: 2\n\n',
    events: [{ data: 'a', id: '1' }, { data: 'b' }],
  },
  'spec: a raw BOM read as Latin-1 text is not a BOM': {
    // U+00EF U+00BB U+00BF, in UTF-8: not the bytes EF BB BF, so no BOM; the first field name starts with them.
    source: 'HTML 9.2.5 (one leading U+FEFF is stripped, by the UTF-8 decode)',
    body: `${RAW_BOM}data: 1\n\ndata: 2\n\n`,
    events: [{ data: '2' }],
  },
}

interface State {
  lastEventId: string | undefined
  retry: number | undefined
}

/**
 * The WHATWG event-stream rules, written out plainly: the events of `bytes`, and for every block boundary (just
 * after a blank line) the events before it and the state in force there. A CR or LF byte ends every invalid
 * UTF-8 sequence, so a line decodes on its own as it does in the whole body.
 */
function reference(bytes: Uint8Array) {
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true })
  const events: ServerSentEvent[] = []
  const boundaries = new Map<number, State & { events: number }>([
    [0, { lastEventId: undefined, retry: undefined, events: 0 }],
  ])
  let pos = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0
  let data: string[] = []
  let type = ''
  let idBuffer = ''
  let lastEventId = ''
  let retry: number | undefined
  for (;;) {
    let eol = pos
    while (eol < bytes.length && bytes[eol] !== 10 && bytes[eol] !== 13) eol++
    if (eol === bytes.length) break
    const line = decoder.decode(bytes.subarray(pos, eol))
    pos = eol + (bytes[eol] === 13 && bytes[eol + 1] === 10 ? 2 : 1)
    if (line === '') {
      lastEventId = idBuffer
      if (data.length > 0)
        events.push({ id: lastEventId || undefined, event: type || 'message', data: data.join('\n'), retry })
      data = []
      type = ''
      const state = { lastEventId: lastEventId || undefined, retry, events: events.length }
      boundaries.set(pos, state)
      // A blank line that is a CR (or a CRLF) read up to its CR may be cut there from its LF: the boundary is
      // then before it, and a stream continued from there reads it as a blank line that changes nothing.
      if (bytes[eol] === 13) boundaries.set(eol, state)
      continue
    }
    if (line.startsWith(':')) continue
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'event') type = value
    else if (field === 'data') data.push(value)
    else if (field === 'id' && !value.includes('\0')) idBuffer = value
    else if (field === 'retry' && /^[0-9]+$/.test(value)) retry = Number.parseInt(value, 10)
  }
  return { events, boundaries }
}

const full = (e: WptCase['events'][number]): ServerSentEvent => ({
  id: undefined,
  event: 'message',
  retry: undefined,
  ...e,
})

/** What a checkpoint says of a stream's SSE state. */
const stateOf = (c: Checkpoint): State => ({ lastEventId: c.lastEventId, retry: c.retry })

async function readAll(chunks: Uint8Array[]) {
  // Its length proves the end, so an event the body ends inside was the server's last, cut short: dropped, as the
  // WHATWG rules say (with nothing to prove the end it is a cut: events.cut-event.test.ts).
  const length = String(chunks.reduce((n, chunk) => n + chunk.length, 0))
  const headers = { ...HEADERS, 'content-length': length }
  const res = await fromResponse(new Response(bodyOf(chunks).stream, { headers }), {
    url: URL_,
    resume: { strategy: 'range' },
  })
  const events: ServerSentEvent[] = []
  const checkpoints: Checkpoint[] = []
  for await (const event of res.events()) {
    events.push(event)
    checkpoints.push(res.checkpoint())
  }
  checkpoints.push(res.checkpoint())
  return { events, checkpoints }
}

describe('events() against the web-platform-tests and eventsource-parser cases', () => {
  for (const [name, wpt] of Object.entries(CASES)) {
    const bytes = typeof wpt.body === 'string' ? encode(wpt.body) : wpt.body
    const expected = wpt.events.map(full)

    it(`${name} (${wpt.source}): the reference parser agrees with the case`, () => {
      expect(reference(bytes).events).toEqual(expected)
    })

    it(`${name}: the same events in every chunking, and checkpoints at a boundary with the state in force there`, async () => {
      const { boundaries } = reference(bytes)
      for (const [label, chunks] of chunkings(bytes)) {
        const { events, checkpoints } = await readAll(chunks)
        expect(events, label).toEqual(expected)
        checkpoints.forEach((checkpoint, i) => {
          const at = boundaries.get(checkpoint.offset)
          const where = `${label}, checkpoint ${i} at byte ${checkpoint.offset}`
          // After the event just read (all of them at the end), before the next.
          expect(at?.events, where).toBe(Math.min(i + 1, expected.length))
          expect(stateOf(checkpoint), where).toEqual({ lastEventId: at?.lastEventId, retry: at?.retry })
        })
      }
    })

    it(`${name}: a stream continued by Range from each checkpoint delivers the events left`, async () => {
      const fetch = fetchWith((request) => mockStream([bytes], { request, range: true, headers: HEADERS }))
      for (const chunks of [[bytes], chunkings(bytes)[1]![1]]) {
        const { checkpoints } = await readAll(chunks)
        for (const [i, checkpoint] of checkpoints.entries()) {
          const res = await sluice(URL_, { fetch, resumeFrom: JSON.parse(JSON.stringify(checkpoint)) })
          const rest = await Array.fromAsync(res.events())
          expect(rest, `checkpoint ${i} at byte ${checkpoint.offset}`).toEqual(expected.slice(i + 1))
        }
      }
    })
  }
})
