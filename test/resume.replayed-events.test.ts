/**
 * A server that gives ids to some events only (sluice/lambda's `streamSse` with plain strings between `{ id }`
 * checkpoints, sluice/mock's `lastEventId: true`) answers `Last-Event-ID: X` with every event after the one that
 * carried X, those without an id included. The client counts the events dispatched since the id in force and skips
 * that many of the answer: each event reaches the consumer once, whatever byte the connection dropped at. The
 * server is an injected `fetch` that replays as such servers do.
 */
import { describe, expect, it } from 'vitest'
import { type Checkpoint, fromResponse, isLimitError, type StreamResponse, sluice } from '../src/index.ts'
import { FAST } from './support/scripted.ts'
import { drain, eventData, fetchWith, responseOf } from './support/streams.ts'

const URL_ = 'https://fn.example/tokens'
const SSE = { 'content-type': 'text/event-stream' }

/** One block on the wire: an event (`data`), an id-only checkpoint, a `retry:`, a comment or an `event:` alone. */
interface Block {
  id?: string
  data?: string
  retry?: number
  comment?: string
  event?: string
}

const wireOf = (blocks: readonly Block[], eol = '\n'): string =>
  blocks
    .map((b) =>
      `${b.comment === undefined ? '' : `: ${b.comment}\n`}${b.retry === undefined ? '' : `retry: ${b.retry}\n`}${
        b.id === undefined ? '' : `id: ${b.id}\n`
      }${b.event === undefined ? '' : `event: ${b.event}\n`}${b.data === undefined ? '' : `data: ${b.data}\n`}\n`.replace(
        /\n/g,
        eol,
      ),
    )
    .join('')

/** a(1), b, c, an id-only checkpoint 2, d, a retry line, a comment, e(3), f, g: ids on some blocks only. */
const BLOCKS: Block[] = [
  { id: '1', data: 'a' },
  { data: 'b' },
  { data: 'c' },
  { id: '2' },
  { data: 'd' },
  { retry: 5 },
  { comment: 'keep-alive' },
  { id: '3', data: 'e' },
  { data: 'f' },
  { data: 'g' },
]
const ALL = ['a', 'b', 'c', 'd', 'e', 'f', 'g']
/** BLOCKS with an `event:` line alone after the comment, and a heartbeat after g: more blocks that dispatch nothing. */
const QUIET: Block[] = [...BLOCKS.slice(0, 7), { event: 'noop' }, ...BLOCKS.slice(7), { comment: '' }]

/**
 * A server over `blocks`: a request with `Last-Event-ID: X` gets the blocks after the one with id X (all of them,
 * `replays`; else from the next block with an id on, as a server that replays only events with ids), their lines
 * ended by `eol`, in chunks of `size` bytes (default: one), or in two pieces, the first of `head` bytes; the answers
 * listed in `cuts` drop after that many bytes.
 */
function replayServer(
  blocks: readonly Block[],
  cuts: readonly number[],
  { replays = true, eol = '\n', size = Number.POSITIVE_INFINITY, head = 0 } = {},
) {
  const asked: (string | null)[] = []
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const id = new Request(input, init).headers.get('last-event-id')
    asked.push(id)
    let rest = blocks
    if (id !== null) {
      const at = blocks.findIndex((b) => b.id === id)
      rest = blocks.slice(at + 1)
      if (!replays)
        rest = rest.slice(
          Math.max(
            0,
            rest.findIndex((b) => b.id !== undefined),
          ),
        )
    }
    const cut = cuts[asked.length - 1]
    const whole = wireOf(rest, eol)
    const wire = whole.slice(0, cut)
    const chunks = head > 0 ? [wire.slice(0, head), wire.slice(head)] : []
    for (let at = 0; !head && at < wire.length; at += size) chunks.push(wire.slice(at, at + size))
    return wire.length === whole.length
      ? responseOf(chunks, { headers: SSE })
      : responseOf(chunks, { headers: SSE, error: new TypeError('terminated') })
  }
  return { fetch, asked }
}

const resume = { strategy: 'last-event-id', attempts: 5, backoff: FAST } as const

describe.concurrent('Last-Event-ID resume over events without ids', () => {
  it('delivers every event once, whatever byte the connection drops at', async () => {
    const length = wireOf(BLOCKS).length
    for (let cut = 1; cut < length; cut++) {
      const { fetch } = replayServer(BLOCKS, [cut])
      const res = await sluice(URL_, { fetch, resume })
      const { data, error } = await eventData(res.events())
      expect([cut, data, error]).toEqual([cut, ALL, undefined])
    }
  })

  it('counts every byte once in `progress.loaded`, the blocks that dispatch nothing after the last event included, whatever byte the drop comes at, however the answers come in chunks, with any line end', async () => {
    // The answer after id 2 replays d, then the retry line, the comment and the `event:` alone that followed it: a
    // drop after any of them counted them already. With CR line ends a drop after an event's blank line stands before
    // its CR, and with CRLF before its LF too, which that answer does not send again.
    for (const eol of ['\n', '\r\n', '\r'])
      for (const size of [Number.POSITIVE_INFINITY, 1]) {
        const length = wireOf(QUIET, eol).length
        for (let cut = 1; cut < length; cut++) {
          const { fetch } = replayServer(QUIET, [cut], { eol, size })
          const res = await sluice(URL_, { fetch, resume })
          const { data, error } = await eventData(res.events())
          expect([eol, size, cut, data, error, res.progress.loaded]).toEqual([
            eol,
            size,
            cut,
            ALL,
            undefined,
            length,
          ])
        }
      }
  })

  it('delivers every event once when a second drop comes while the replay is skipped', async () => {
    const length = wireOf(BLOCKS).length
    // The first answer drops after f (id 3 in force, f passed since): the second replays f and drops at any byte.
    const first = wireOf(BLOCKS.slice(0, 9)).length + 2
    for (let cut = 1; cut < wireOf(BLOCKS.slice(8)).length; cut++) {
      const { fetch, asked } = replayServer(BLOCKS, [first, cut])
      const res = await sluice(URL_, { fetch, resume })
      const { data, error } = await eventData(res.events())
      expect([cut, data, error]).toEqual([cut, ALL, undefined])
      expect(asked).toEqual([null, '3', '3'])
    }
    expect(first).toBeLessThan(length)
  })

  it('counts an event the consumer skipped as invalid: the replay of it is skipped, not delivered again', async () => {
    const blocks: Block[] = [{ id: '1', data: '"a"' }, { data: 'oops' }, { data: '"c"' }, { data: '"d"' }]
    // Dropped after c: a, the invalid one and c were dispatched.
    const { fetch, asked } = replayServer(blocks, [wireOf(blocks.slice(0, 3)).length + 3])
    const res = await sluice(URL_, { fetch, resume })
    const { items, error } = await drain(res.events({ json: true, onInvalid: 'skip' }))
    expect([items.map((e) => e.data), error]).toEqual([['a', 'c', 'd'], undefined])
    expect(asked).toEqual([null, '1'])
  })

  it('stops skipping at an event with an id: a server that does not replay events without ids loses none', async () => {
    for (let cut = 1; cut < wireOf(BLOCKS).length; cut++) {
      const { fetch } = replayServer(BLOCKS, [cut], { replays: false })
      const res = await sluice(URL_, { fetch, resume })
      const { data, error } = await eventData(res.events())
      // What that server does not send again after a drop (b, c or d) is lost to the stream, but nothing it sends
      // is skipped: the id-only block 2, or event e (id 3), ends the skip. Its answer after id 1 sends d, and every
      // answer sends e, f and g: each comes once, and in order.
      const sent = cut < wireOf(BLOCKS.slice(0, 4)).length ? ['d', 'e', 'f', 'g'] : ['e', 'f', 'g']
      const ordered = data.every((x, i) => i === 0 || ALL.indexOf(x) > ALL.indexOf(data[i - 1]!))
      expect([cut, error, ordered, sent.filter((x) => !data.includes(x))]).toEqual([cut, undefined, true, []])
    }
  })

  it('ends at `until` once, when the drop came before the terminal event', async () => {
    const blocks: Block[] = [{ id: '1', data: 'a' }, { data: 'b' }, { data: 'c' }, { data: '[DONE]' }]
    for (let cut = 1; cut < wireOf(blocks).length; cut++) {
      const { fetch } = replayServer(blocks, [cut])
      const res = await sluice(URL_, { fetch, resume })
      const { data, error } = await eventData(res.events({ until: '[DONE]' }))
      expect([cut, data, error]).toEqual([cut, ['a', 'b', 'c'], undefined])
    }
  })

  it('tee(): each branch gets every event once, and every byte counts once, whatever byte the connection drops at', async () => {
    const length = wireOf(QUIET).length
    for (const size of [Number.POSITIVE_INFINITY, 1])
      for (let cut = 1; cut < length; cut++) {
        const { fetch } = replayServer(QUIET, [cut], { size })
        const [x, y] = (await sluice(URL_, { fetch, resume })).tee()
        const [one, two] = await Promise.all([eventData(x.events()), eventData(y.events({ json: false }))])
        expect([size, cut, one, two, x.progress.loaded]).toEqual([
          size,
          cut,
          { data: ALL, error: undefined },
          { data: ALL, error: undefined },
          length,
        ])
      }
  })

  it('tee(): a text() branch read once the events() branch is done gets the body exactly, none of what the answer replayed', async () => {
    // It follows the restart (README, tee()): the tee drops the replay for both branches, and gives back the end of
    // a blank line the branches' place stood before (CR line ends) that the answer does not send again.
    for (const eol of ['\n', '\r\n', '\r'])
      for (const size of [Number.POSITIVE_INFINITY, 1]) {
        const body = wireOf(QUIET, eol)
        for (let cut = 1; cut < body.length; cut++) {
          const { fetch } = replayServer(QUIET, [cut], { eol, size })
          const [x, y] = (await sluice(URL_, { fetch, resume })).tee()
          const text = y.text()
          const events = await eventData(x.events())
          const read = (await Array.fromAsync(text)).join('')
          expect([eol, size, cut, events, read === body, x.progress.loaded]).toEqual([
            eol,
            size,
            cut,
            { data: ALL, error: undefined },
            true,
            body.length,
          ])
        }
      }
  })

  it('counts the bytes after a replay towards `maxBytes` as an undisturbed read does: the events within it, then the LimitError', async () => {
    // The answer after the drop comes in two pieces: the bytes of the first after the replay count once the consumer
    // has found where the replay ends, before the second is measured against the limit (it was measured without them).
    const body = wireOf(QUIET)
    const ends = ALL.map((x) => body.indexOf(`data: ${x}\n\n`) + x.length + 8)
    for (const maxBytes of [ends[4]! + 2, ends[5]! - 1, ends[5]! + 4])
      for (let cut = ends[0]! + 1; cut < ends[4]!; cut += 2)
        for (const head of [10, 20, 30, 40]) {
          const undisturbed = await drain((await fromResponse(new Response(body), { maxBytes })).events())
          const { fetch } = replayServer(QUIET, [cut], { head })
          const { items, error } = await drain((await sluice(URL_, { fetch, resume, maxBytes })).events())
          expect([maxBytes, cut, head, items.map((e) => e.data), isLimitError(error)]).toEqual([
            maxBytes,
            cut,
            head,
            undisturbed.items.map((e) => e.data),
            isLimitError(undisturbed.error),
          ])
        }
  })
})

describe.concurrent('Last-Event-ID resume where an event’s blank line ends otherwise than the line before it', () => {
  // The id-only block, then a, then b. A drop right after the CR of a's blank line leaves the client guessing how
  // that blank line ends from the line before it: a CR alone after `data: a\r`, a CRLF after `data: a\r\n`. The
  // answer after id 1 replays a with its blank line as it is: a CRLF after all, whose LF is new, not a replay of what
  // was counted; or a CR alone, where the byte after it stands for the LF counted.
  const head = 'id: 1\n\n'
  const bodies = [
    `${head}data: a\r\r\ndata: b\n\n`,
    `${head}data: a\r\n\rdata: b\n\n`,
    `${head}data: a\n\rdata: b\n\n`,
  ]
  // A tee()'s events() branch, its text() branch read after it, and what the stream counted.
  const readTee = async (res: StreamResponse) => {
    const [x, y] = res.tee()
    const text = y.text()
    const events = await eventData(x.events())
    return { events, read: (await Array.fromAsync(text)).join(''), loaded: x.progress.loaded }
  }
  // The first answer drops after `cut` bytes, the second (if `again`) after `again`; the next ones are whole.
  const fetchCut = (body: string, cut: number, size: number, again?: number) => {
    let asked = 0
    return fetchWith((request) => {
      const full = request.headers.get('last-event-id') === '1' ? body.slice(head.length) : body
      const n = asked++
      const wire = n === 0 ? full.slice(0, cut) : n === 1 && again !== undefined ? full.slice(0, again) : full
      const chunks: string[] = []
      for (let at = 0; at < wire.length; at += size) chunks.push(wire.slice(at, at + size))
      return responseOf(chunks, {
        headers: SSE,
        ...(wire !== full && { error: new TypeError('terminated') }),
      })
    })
  }

  it('a body that ends with that CR, dropped right after it or before: tee() hands its text() branch the body exactly, and every byte counts once', async () => {
    // The answer after id 1 ends with that CR too: no byte after it tells a CR alone from a CRLF cut short.
    for (const body of [`${head}data: a\r\n\r`, `${head}data: a\n\r`, `${head}data: a\r\r`])
      for (let cut = head.length; cut <= body.length; cut++) {
        let asked = 0
        const fetch = fetchWith((request) => {
          const full = request.headers.get('last-event-id') === '1' ? body.slice(head.length) : body
          const wire = asked++ === 0 ? full.slice(0, cut) : full
          return responseOf([wire], {
            headers: SSE,
            ...(asked === 1 && { error: new TypeError('terminated') }),
          })
        })
        expect([body, cut, await readTee(await sluice(URL_, { fetch, resume }))]).toEqual([
          body,
          cut,
          { events: { data: ['a'], error: undefined }, read: body, loaded: body.length },
        ])
      }
  })

  for (const body of bodies) {
    it(`counts every byte once in \`progress.loaded\`, and delivers each event once, whatever byte the drop comes at (${JSON.stringify(body)})`, async () => {
      for (const size of [Number.POSITIVE_INFINITY, 1, 2])
        for (let cut = 1; cut < body.length; cut++) {
          const res = await sluice(URL_, { fetch: fetchCut(body, cut, size), resume })
          const { data, error } = await eventData(res.events())
          expect([size, cut, data, error, res.progress.loaded]).toEqual([
            size,
            cut,
            ['a', 'b'],
            undefined,
            body.length,
          ])
        }
    })

    it(`counts every byte once when a second drop comes while the replay is skipped (${JSON.stringify(body)})`, async () => {
      // The first drop right after the CR of a's blank line; the second anywhere in the replay of a.
      const cut = body.lastIndexOf('\r', body.indexOf('data: b')) + 1
      for (const tee of [false, true])
        for (let again = 0; again < body.length - head.length; again++) {
          const res = await sluice(URL_, {
            fetch: fetchCut(body, cut, Number.POSITIVE_INFINITY, again),
            resume,
          })
          const [x, y] = tee ? res.tee() : [res, undefined]
          const text = y?.text()
          const events = await eventData(x.events())
          const read = text && (await Array.fromAsync(text)).join('')
          expect([tee, again, events, read, x.progress.loaded]).toEqual([
            tee,
            again,
            { data: ['a', 'b'], error: undefined },
            tee ? body : undefined,
            body.length,
          ])
        }
    })

    it(`a checkpoint taken while the replay is skipped continues with every byte counted once (${JSON.stringify(body)})`, async () => {
      // The first drop right after the CR of a's blank line; the answer after it sends `at` bytes and, once they were
      // read, waits while the checkpoint is taken; resumeFrom it reads from a whole server.
      const cut = body.lastIndexOf('\r', body.indexOf('data: b')) + 1
      const rest = body.slice(head.length)
      const whole = fetchWith((request) =>
        responseOf([request.headers.get('last-event-id') === '1' ? rest : body], { headers: SSE }),
      )
      for (let at = 0; at < rest.length; at++) {
        let release = () => {}
        const gate = new Promise<void>((resolve) => {
          release = resolve
        })
        let waiting = () => {}
        const read = new Promise<void>((resolve) => {
          waiting = resolve
        })
        let asked = 0
        let sent = at === 0
        const fetch = fetchWith(() =>
          asked++ === 0
            ? responseOf([body.slice(0, cut)], { headers: SSE, error: new TypeError('terminated') })
            : new Response(
                // Pulled only when read: the second pull says the first `at` bytes were read.
                new ReadableStream<Uint8Array>(
                  {
                    async pull(controller) {
                      if (!sent) {
                        sent = true
                        controller.enqueue(new TextEncoder().encode(rest.slice(0, at)))
                        return
                      }
                      waiting()
                      await gate
                      controller.enqueue(new TextEncoder().encode(rest.slice(at)))
                      controller.close()
                    },
                  },
                  { highWaterMark: 0 },
                ),
                { headers: SSE },
              ),
        )
        const res = await sluice(URL_, { fetch, resume })
        const events = res.events()[Symbol.asyncIterator]()
        expect((await events.next()).value?.data).toBe('a')
        const next = events.next()
        await read
        const saved = JSON.parse(JSON.stringify(res.checkpoint())) as Checkpoint
        release()
        await next
        await res.cancel()
        for (const tee of [false, true]) {
          const again = await sluice(URL_, { fetch: whole, resumeFrom: saved })
          const [x, y] = tee ? again.tee() : [again, undefined]
          const [one, two] = await Promise.all([eventData(x.events()), y && eventData(y.events())])
          expect([at, tee, one, two, x.progress.loaded]).toEqual([
            at,
            tee,
            { data: ['b'], error: undefined },
            tee ? { data: ['b'], error: undefined } : undefined,
            body.length,
          ])
        }
      }
    })

    it(`tee(): a text() branch gets the body exactly, and every byte counts once (${JSON.stringify(body)})`, async () => {
      for (const size of [Number.POSITIVE_INFINITY, 1, 2])
        for (let cut = 1; cut < body.length; cut++) {
          const res = await sluice(URL_, { fetch: fetchCut(body, cut, size), resume })
          expect([size, cut, await readTee(res)]).toEqual([
            size,
            cut,
            { events: { data: ['a', 'b'], error: undefined }, read: body, loaded: body.length },
          ])
        }
    })
  }
})

describe.concurrent('a checkpoint after events without ids', () => {
  it('carries how many events passed since the id, and resumeFrom skips as many of the replay', async () => {
    const { fetch } = replayServer(BLOCKS, [])
    const res = await sluice(URL_, { fetch, resume })
    const seen: string[] = []
    const iterator = res.events()[Symbol.asyncIterator]()
    for (let i = 0; i < 3; i++) seen.push(((await iterator.next()).value as { data: string }).data)
    const saved = JSON.parse(JSON.stringify(res.checkpoint())) as Checkpoint
    await res.cancel()
    expect([seen, saved.lastEventId, saved.since]).toEqual([['a', 'b', 'c'], '1', 2])
    const again = replayServer(BLOCKS, [])
    const rest = await sluice(URL_, { fetch: again.fetch, resumeFrom: saved })
    const { data, error } = await eventData(rest.events())
    expect([data, error, again.asked]).toEqual([['d', 'e', 'f', 'g'], undefined, ['1']])
  })

  it('carries what lies between the last event and its offset, and resumeFrom counts every byte once, whatever byte the first chunk ends at; a tee()’s text() branch gets the body from the offset exactly', async () => {
    // After a, blocks that dispatch nothing (sent again after a, so not new); or, where a chunk ends with the CR of
    // a's blank line, that blank line (a CR alone or a CRLF, whatever the line before it ended with), not yet counted.
    const bodies: Array<[head: string, rest: string]> = [
      ['id: 1\n\n', 'data: a\n\n: ping\n\nretry: 5\n\nevent: x\n\ndata: b\n\n'],
      ['id: 1\r\n\r\n', 'data: a\r\n\r\n: ping\r\n\r\ndata: b\r\n\r\n'],
      ['id: 1\r\r', 'data: a\r\r: ping\r\rdata: b\r\r'],
      ['id: 1\n\n', 'data: a\r\r\ndata: b\n\n'],
      ['id: 1\n\n', 'data: a\r\n\rdata: b\n\n'],
    ]
    for (const [head, rest] of bodies) {
      const body = head + rest
      const fetch = fetchWith((request) =>
        responseOf([request.headers.get('last-event-id') === '1' ? rest : body], { headers: SSE }),
      )
      for (let cut = head.length + 1; cut < body.length; cut++)
        for (const tee of [false, true]) {
          const first = await fromResponse(
            responseOf([body.slice(0, cut), body.slice(cut)], { headers: SSE }),
            {
              url: URL_,
              resume,
            },
          )
          for await (const _ of first.events()) break
          const saved = JSON.parse(JSON.stringify(first.checkpoint())) as Checkpoint
          const res = await sluice(URL_, { fetch, resumeFrom: saved })
          const [x, y] = tee ? res.tee() : [res, undefined]
          const text = y?.text()
          const events = await eventData(x.events())
          const read = text && (await Array.fromAsync(text)).join('')
          expect([body, cut, tee, events, read, x.progress.loaded]).toEqual([
            body,
            cut,
            tee,
            { data: ['b'], error: undefined },
            tee ? body.slice(saved.offset) : undefined,
            body.length,
          ])
        }
    }
  })

  it('taken at an id-only block or an event with an id, has none to skip (`since` absent)', async () => {
    const { fetch } = replayServer(BLOCKS, [])
    const res = await sluice(URL_, { fetch, resume })
    const iterator = res.events()[Symbol.asyncIterator]()
    for (let i = 0; i < 5; i++) await iterator.next()
    const saved = res.checkpoint()
    await res.cancel()
    // After e, which carries id 3.
    expect([saved.lastEventId, 'since' in saved]).toEqual(['3', false])
  })
})

describe.concurrent('consumers that read no events under Last-Event-ID', () => {
  it('text(): the request’s own Last-Event-ID no longer stands once text was delivered, so the drop is refused, not repeated', async () => {
    const { fetch, asked } = replayServer(BLOCKS, [20])
    const res = await sluice(URL_, { fetch, resume, headers: { 'last-event-id': '1' } })
    let text = ''
    let error: unknown
    try {
      for await (const piece of res.text()) text += piece
    } catch (caught) {
      error = caught
    }
    expect(text).toBe(wireOf(BLOCKS.slice(1)).slice(0, 20))
    expect((error as Error).message).toContain('this consumer reads no events, so no SSE event id is known')
    expect(asked).toEqual(['1'])
  })
})
