// The streamHandler behaviours both msw transports must show: msw/node (test/node) and the browser worker in
// Chromium (test/browser) register these with their own server, URL and name for a failed body.
import { http, type RequestHandler } from 'msw'
import { describe, expect, test, vi } from 'vitest'
import { idFromHeader } from '../../src/core/resume/event-id-header.ts'
import { sluice } from '../../src/index.ts'
import { mockStream } from '../../src/mock/mock-stream.ts'
import { streamHandler } from '../../src/mock/stream-handler.ts'
import { FAST } from './scripted.ts'
import { PLENTY, readUntilError, type WatchedSource, watchedSource } from './streams.ts'

export interface MswTransport {
  /** Where the tests run, for their names: "under msw/node", "behind the msw browser worker". */
  where: string
  /** Who reads the body, for the names: "the client", "the page". */
  reader: string
  use(...handlers: RequestHandler[]): void
  /** A URL the transport intercepts. */
  url: string
  /** The message of the TypeError with which a body cut mid-way fails there. */
  failure: string
  /**
   * Whether a request header beyond U+00FF once read as UTF-8 (a Last-Event-ID of 日本) reaches the handler: the
   * browser worker hands the page header values decoded so, which msw then fails to put in a Request.
   */
  wide: boolean
}

const decode = (bytes: Uint8Array | undefined): string => new TextDecoder().decode(bytes)

export function streamHandlerCases({ where, reader, use, url, failure, wide }: MswTransport): void {
  describe(`streamHandler ${where}`, () => {
    test('answers a GET with the streamed parts', async () => {
      use(streamHandler('GET', url, ['a', 'b', 'c'], { format: 'raw' }))
      const response = await fetch(url)
      expect(response.status).toBe(200)
      expect(await response.text()).toBe('abc')
    })

    test('delivers the first part before the source has produced the next', async () => {
      let open!: () => void
      const gate = new Promise<void>((resolve) => {
        open = resolve
      })
      use(
        streamHandler('GET', url, async function* () {
          yield 'first'
          await gate
          yield 'second'
        }),
      )
      const body = (await fetch(url)).body!.getReader()
      expect(decode((await body.read()).value)).toBe('first')
      open()
      expect(decode((await body.read()).value)).toBe('second')
    })

    test('answers a POST with parts built from the request body', async () => {
      use(
        streamHandler(
          'post',
          url,
          async ({ request }) => {
            const { count } = (await request.json()) as { count: number }
            return Array.from({ length: count }, (_, n) => ({ n }))
          },
          { format: 'ndjson' },
        ),
      )
      const response = await fetch(url, { method: 'POST', body: JSON.stringify({ count: 3 }) })
      expect(response.headers.get('content-type')).toBe('application/x-ndjson')
      expect(await response.text()).toBe('{"n":0}\n{"n":1}\n{"n":2}\n')
    })

    test(`dropAfterBytes reaches ${reader} as TypeError ${failure} after the delivered bytes`, async () => {
      use(streamHandler('GET', url, ['abcdef', 'ghij'], { dropAfterBytes: 7 }))
      const { text, error } = await readUntilError(await fetch(url))
      expect(text).toBe('abcdefg')
      expect(error).toBeInstanceOf(TypeError)
      expect((error as TypeError).message).toBe(failure)
    })

    test(`errorAfterBytes reaches ${reader} as TypeError ${failure} after the delivered bytes`, async () => {
      use(
        streamHandler('GET', url, ['abc', 'def'], { errorAfterBytes: 4, error: new Error('handler threw') }),
      )
      const { text, error } = await readUntilError(await fetch(url))
      expect(text).toBe('abcd')
      expect((error as TypeError).message).toBe(failure)
    })

    test(`a bad part of an async source reaches ${reader} as TypeError ${failure}, and its reason is printed`, async () => {
      const printed: unknown[] = []
      const spy = vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
        printed.push(...args)
      })
      try {
        use(
          streamHandler('GET', url, async function* () {
            yield 'a\n'
            yield { x: 1 }
          }),
        )
        const { text, error } = await readUntilError(await fetch(url))
        expect(text).toBe('a\n')
        expect((error as TypeError).message).toBe(failure)
        expect(printed.join('\n')).toMatch(
          /^streamHandler: part 1 is an object \(Object\), but format 'raw' sends only strings and Uint8Arrays\. .* \(The body of GET \S+ was cut there; msw passes the client only a network error\.\)$/,
        )
      } finally {
        spy.mockRestore()
      }
    })

    test(`truncate reaches ${reader} as a clean, short end`, async () => {
      use(streamHandler('GET', url, ['abc', 'def'], { truncate: 5, endMarker: true }))
      const response = await fetch(url)
      expect(response.headers.get('x-sluice-end')).toBe('marker')
      expect(await response.text()).toBe('abcde')
    })
  })

  describe(`resuming ${where}`, () => {
    const lines = Array.from({ length: 20 }, (_, n) => `line ${n}\n`)
    const whole = lines.join('')

    test('faults can break only the first attempt, and a Range request resumes where it dropped', async () => {
      use(
        streamHandler('GET', url, lines, {
          range: true,
          faults: (attempt) => (attempt === 1 ? { dropAfterBytes: 50 } : undefined),
        }),
      )
      const first = await fetch(url)
      const etag = first.headers.get('etag')!
      expect(first.headers.get('accept-ranges')).toBe('bytes')
      const { text: head, error } = await readUntilError(first)
      expect(head).toBe(whole.slice(0, 50))
      expect(error).toBeInstanceOf(TypeError)

      const second = await fetch(url, { headers: { range: 'bytes=50-', 'if-range': etag } })
      expect(second.status).toBe(206)
      expect(second.headers.get('content-range')).toBe(`bytes 50-${whole.length - 1}/${whole.length}`)
      expect(head + (await second.text())).toBe(whole)
    })

    test('a client resumed by cursor gets every row once from a function source told the cursor', async () => {
      const rows = Array.from({ length: 5 }, (_, id) => ({ id }))
      const asked: Array<string | undefined> = []
      use(
        streamHandler(
          'GET',
          url,
          ({ cursor }) => {
            asked.push(cursor)
            return rows.filter(({ id }) => id > Number(cursor ?? -1))
          },
          {
            format: 'ndjson',
            cursor: true,
            endMarker: true,
            // Inside the third row: rows 0 and 1 are delivered, and the reconnect carries ?cursor=1.
            faults: (attempt) => (attempt === 1 ? { dropAfterBytes: 20 } : undefined),
          },
        ),
      )
      const res = await sluice(url, {
        retry: 0,
        resume: {
          strategy: 'cursor',
          cursor: (row) => ({ searchParams: { cursor: String((row as { id: number }).id) } }),
          backoff: { initial: 1, max: 1, jitter: 0 },
        },
      })
      expect(await Array.fromAsync(res.ndjson())).toEqual(rows)
      expect(asked).toEqual([undefined, '1'])
    })

    test('a drop inside the end-marker line resumes to the proven end: Range never asks from inside the marker', async () => {
      const rows = [{ id: 1 }, { id: 2 }, { id: 3 }]
      const body = rows.map((row) => `${JSON.stringify(row)}\n`).join('').length
      // Inside the marker line that follows the 27 bytes of the body, and at its last byte.
      for (const drop of [body + 3, body + 13]) {
        use(
          streamHandler('GET', url, rows, {
            format: 'ndjson',
            range: true,
            endMarker: true,
            headers: { etag: '"v1"' },
            faults: (attempt) => (attempt === 1 ? { dropAfterBytes: drop } : undefined),
          }),
        )
        const res = await sluice(url, { retry: 0, resume: { backoff: { initial: 1, max: 1, jitter: 0 } } })
        expect(await Array.fromAsync(res.ndjson()), `a drop at ${drop}`).toEqual(rows)
        expect(res.progress).toMatchObject({ state: 'done', attempt: 2, loaded: body })
      }
    })

    describe('over async parts, a Range request is answered as sluice/lambda answers it', () => {
      const source = (): WatchedSource<string> => watchedSource((n) => lines[n]!, lines.length)

      // Any success with a body is ranged, as respond() and sluice/lambda range it: a 201 too.
      test.each([
        [0, 200],
        [1, 200],
        [10, 200],
        [0, 201],
        [10, 203],
      ])('a start %i bytes past the end of a %i gets 416 with the length', async (past, status) => {
        const { parts, finished } = source()
        use(streamHandler('GET', url, parts, { range: true, status }))
        const response = await fetch(url, { headers: { range: `bytes=${whole.length + past}-` } })
        expect(response.status).toBe(416)
        expect(response.headers.get('content-range')).toBe(`bytes */${whole.length}`)
        await finished
      })

      // A HEAD is never answered by range, as sluice/lambda's helpers take it: nothing is pulled.
      test.each([0, 10])(
        'a HEAD starting %i bytes past the end gets the 200 head of the full answer, not a 416',
        async (past) => {
          const { parts, produced } = source()
          use(streamHandler('HEAD', url, parts, { range: true }))
          const response = await fetch(url, {
            method: 'HEAD',
            headers: { range: `bytes=${whole.length + past}-` },
          })
          expect(response.status).toBe(200)
          expect(response.headers.get('accept-ranges')).toBe('bytes')
          expect(response.headers.get('content-range')).toBeNull()
          expect(produced()).toBe(0)
        },
      )

      test('an If-Range that is the Last-Modified date sent (no ETag) is honoured too: past the end, 416 with the length', async () => {
        const { parts, finished } = source()
        const date = 'Wed, 21 Oct 2015 07:28:00 GMT'
        use(streamHandler('GET', url, parts, { range: true, headers: { 'last-modified': date } }))
        const response = await fetch(url, {
          headers: { range: `bytes=${whole.length}-`, 'if-range': date },
        })
        expect(response.status).toBe(416)
        expect(response.headers.get('content-range')).toBe(`bytes */${whole.length}`)
        await finished
      })

      test('a HEAD starting inside the body gets the 200 head of the full answer, not a 206, and nothing is pulled', async () => {
        const { parts, produced } = source()
        use(streamHandler('HEAD', url, parts, { range: true }))
        const response = await fetch(url, { method: 'HEAD', headers: { range: 'bytes=50-' } })
        expect(response.status).toBe(200)
        expect(response.headers.get('content-range')).toBeNull()
        expect(await response.text()).toBe('')
        expect(produced()).toBe(0)
      })

      test('a checkpoint taken after the last line resumes into an end proven by the length', async () => {
        const { parts } = source()
        use(streamHandler('GET', url, parts, { range: true }))
        const first = await sluice(url)
        expect(await Array.fromAsync(first.lines())).toHaveLength(lines.length)
        const resumed = await sluice(url, { resumeFrom: first.checkpoint() })
        expect(await Array.fromAsync(resumed.lines())).toEqual([])
        expect(resumed.progress).toMatchObject({
          state: 'done',
          loaded: whole.length,
          total: whole.length,
          percent: 100,
        })
      })

      test('a start inside the body gets 206 with bytes N-*/* and every byte from N', async () => {
        const { parts } = source()
        use(streamHandler('GET', url, parts, { range: true, chunkSize: 7 }))
        for (const start of [0, 1, 49, 50, whole.length - 1]) {
          const response = await fetch(url, { headers: { range: `bytes=${start}-` } })
          expect(response.status).toBe(206)
          expect(response.headers.get('content-range')).toBe(`bytes ${start}-*/*`)
          expect(await response.text(), `from ${start}`).toBe(whole.slice(start))
        }
      })

      test('an error before the start is still an error of the body, not of the handler', async () => {
        use(
          streamHandler(
            'GET',
            url,
            async function* () {
              yield 'abc'
              throw new Error('source failed')
            },
            { range: true },
          ),
        )
        // The body fails before its first byte, which the transport may report from fetch itself; a handler that
        // threw would have answered msw's 500 instead.
        const read = fetch(url, { headers: { range: 'bytes=10-' } }).then((response) => response.text())
        await expect(read).rejects.toThrow(TypeError)
      })
    })

    test('a Last-Event-ID request gets the events after that id', async () => {
      const events = [
        { id: '1', data: 'a' },
        { id: '2', data: 'b' },
        { id: '3', data: 'c' },
      ]
      use(
        streamHandler('GET', url, events, {
          format: 'sse',
          lastEventId: true,
          faults: (attempt) => (attempt === 1 ? { dropAfterBytes: 'id: 1\ndata: a\n\n'.length } : {}),
        }),
      )
      const { text, error } = await readUntilError(await fetch(url))
      expect(text).toBe('id: 1\ndata: a\n\n')
      expect(error).toBeInstanceOf(TypeError)
      const resumed = await fetch(url, { headers: { 'last-event-id': '1' } })
      expect(await resumed.text()).toBe('id: 2\ndata: b\n\nid: 3\ndata: c\n\n')
    })

    test(`a client resumes after ids beyond ASCII (é${wide ? ', 日本' : ''}): it sends their UTF-8, which the mock reads so`, async () => {
      const ids = wide ? ['é', '日本'] : ['é', 'ñ']
      const events = [...ids, '3'].map((id, n) => ({ id, data: 'abc'[n]! }))
      const size = (event: { id: string; data: string }) =>
        new TextEncoder().encode(`id: ${event.id}\ndata: ${event.data}\n\n`).length
      // Each of the first two answers drops after its first event; the events given as they are, and async.
      for (const parts of [
        events,
        async function* () {
          yield* events
        },
      ]) {
        const asked: (string | null)[] = []
        use(
          streamHandler('GET', url, parts, {
            format: 'sse',
            lastEventId: true,
            faults: (attempt, request) => {
              asked.push(request.headers.get('last-event-id'))
              return attempt <= 2 ? { dropAfterBytes: size(events[attempt - 1]!) } : {}
            },
          }),
        )
        const res = await sluice(url, { resume: { attempts: 3, backoff: FAST } })
        const seen: { id: string | undefined; data: string }[] = []
        for await (const { id, data } of res.events()) seen.push({ id, data })
        expect(seen).toEqual(events)
        // The handler's Request gives the header's bytes one character each (msw/node), or decoded (the browser
        // worker): the id's UTF-8 either way.
        expect(asked.map((value) => value && idFromHeader(value))).toEqual([null, ...ids])
      }
    })

    describe('over async parts, a Last-Event-ID request is answered as sluice/lambda answers it', () => {
      const source = (): WatchedSource<{ id: string; data: string }> =>
        watchedSource((n) => ({ id: String(n + 1), data: 'x' }), 5)
      const refusal =
        'streamHandler cannot continue after the Last-Event-ID: no event of its parts has that id; replay the same events with the same ids. The request carried Last-Event-ID "9".\n'

      test('an id no event has gets the 409 with why, not a 200 whose body fails at the end', async () => {
        const { parts, finished } = source()
        use(streamHandler('GET', url, parts, { format: 'sse', lastEventId: true, endMarker: true }))
        const response = await fetch(url, { headers: { 'last-event-id': '9' } })
        expect(response.status).toBe(409)
        expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8')
        expect(response.headers.get('x-content-type-options')).toBe('nosniff')
        expect(await response.text()).toBe(refusal)
        await finished
      })

      test(`mockStream in a resolver, which answers at once, sends that 409 in-band before the cut: ${reader} stops on it`, async () => {
        const asked: (string | null)[] = []
        use(
          http.get(url, ({ request }) => {
            const n = asked.push(request.headers.get('last-event-id')) - 1
            // Numbered anew on each request, so the second cannot find the id the first sent.
            async function* parts() {
              for (const [i, data] of ['a', 'b'].entries()) yield { id: `${n}-${i}`, data }
            }
            const drop = n === 0 ? { dropAfterBytes: 'id: 0-0\ndata: a\n\n'.length } : {}
            return mockStream(parts(), { format: 'sse', lastEventId: true, request, ...drop })
          }),
        )
        const res = await sluice(url, { resume: { attempts: 3, backoff: FAST } })
        const items: { event: string; data: string }[] = []
        for await (const { event, data } of res.events()) {
          items.push({ event, data })
          if (event === 'error') break
        }
        expect(items.map(({ event }) => event)).toEqual(['message', 'error'])
        expect(JSON.parse(items[1]!.data)).toEqual({
          status: 409,
          message: expect.stringMatching(/^mockStream cannot continue after the Last-Event-ID: .*"0-0"\.$/),
        })
        expect(asked).toEqual([null, '0-0'])
      })

      test('a HEAD gets the 200 head at once, known id or not, nothing pulled: async events are not replayed for it', async () => {
        for (const id of ['2', '9']) {
          const { parts, produced } = source()
          use(streamHandler('HEAD', url, parts, { format: 'sse', lastEventId: true, endMarker: true }))
          const response = await fetch(url, { method: 'HEAD', headers: { 'last-event-id': id } })
          expect(response.status, id).toBe(200)
          expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
          expect(response.headers.get('x-sluice-end')).toBe('marker')
          expect(await response.text()).toBe('')
          expect(produced()).toBe(0)
        }
      })

      test('an id beyond ASCII, sent as its UTF-8, is found where it is: the head goes before the parts after it', async () => {
        const id = wide ? '日本' : 'é'
        let open!: () => void
        const gate = new Promise<void>((resolve) => {
          open = resolve
        })
        // The head waits for the pull up to the event with the id only, not for the parts the gate holds back (msw/node
        // sends it with the first chunk of the body, the event after the id).
        const parts = async function* () {
          yield { id: '1', data: 'x' }
          yield { id, data: 'x' }
          yield { id: '3', data: 'x' }
          await gate
          yield { id: '4', data: 'x' }
        }
        use(streamHandler('GET', url, parts, { format: 'sse', lastEventId: true }))
        const utf8 = String.fromCharCode(...new TextEncoder().encode(id))
        const response = await fetch(url, { headers: { 'last-event-id': utf8 } })
        expect(response.status).toBe(200)
        open()
        expect(await response.text()).toBe('id: 3\ndata: x\n\nid: 4\ndata: x\n\n')
      })

      test('a GET with a known id gets the events after it, the rest pulled as the reader asks', async () => {
        const { parts } = source()
        use(streamHandler('GET', url, parts, { format: 'sse', lastEventId: true }))
        const response = await fetch(url, { headers: { 'last-event-id': '3' } })
        expect(response.status).toBe(200)
        expect(await response.text()).toBe('id: 4\ndata: x\n\nid: 5\ndata: x\n\n')
      })
    })
  })
}

/**
 * Cancellation that reaches the source on both transports. Behind the browser worker that holds only for event
 * streams: msw clones any other mocked body for its life-cycle events, and a tee cancels its source only once
 * both branches are cancelled (README, "Test kit").
 */
export function streamHandlerCancelCases({ where, use, url }: MswTransport): void {
  describe(`cancelling a streamHandler body ${where}`, () => {
    test('an event stream cancelled by the reader stops the source', async () => {
      const { parts, finished, produced } = watchedSource(
        (n) => ({ id: String(n), data: `event ${n}` }),
        PLENTY,
      )
      use(streamHandler('GET', url, parts, { format: 'sse' }))
      const reader = (await fetch(url)).body!.getReader()
      expect(decode((await reader.read()).value)).toMatch(/^id: 0\ndata: event 0\n\n/)
      await reader.cancel()
      await finished
      // Stopped by the cancel, long before the source ran out.
      expect(produced()).toBeLessThan(PLENTY)
    })
  })
}
