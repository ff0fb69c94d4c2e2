import { describe, expect, inject, it, vi } from 'vitest'
import {
  fromResponse,
  isTimeoutError,
  type SluiceOptions,
  type StreamResponse,
  sluice,
} from '../src/index.ts'
import { encode } from './support/chunking.ts'
import { bodyOf, collect, fetchWith, responseOf } from './support/streams.ts'

const records = (n: number): string[] => Array.from({ length: n }, (_, i) => `{"n":${i}}\n`)

/** A body that sends `parts`, then stays silent forever, counting cancels. */
function hangingBody(parts: string[]): { stream: ReadableStream<Uint8Array>; cancels: () => unknown[] } {
  const reasons: unknown[] = []
  let i = 0
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (i < parts.length) controller.enqueue(encode(parts[i++]!))
        else return new Promise<void>(() => {})
      },
      cancel(reason) {
        reasons.push(reason)
      },
    },
    { highWaterMark: 0 },
  )
  return { stream, cancels: () => reasons }
}

const consumers = {
  'bytes()': (res: StreamResponse) => res.bytes(),
  'text()': (res: StreamResponse) => res.text(),
  'lines()': (res: StreamResponse) => res.lines(),
  'ndjson()': (res: StreamResponse) => res.ndjson(),
  'events()': (res: StreamResponse) => res.events(),
} as const

const sseRecords = (n: number): string[] => Array.from({ length: n }, (_, i) => `data: ${i}\n\n`)

describe('cancelling a body that sluice reads', () => {
  for (const [name, consume] of Object.entries(consumers)) {
    it(`break out of for await over ${name} cancels the body exactly once`, async () => {
      const body = bodyOf(name === 'events()' ? sseRecords(10) : records(10))
      const res = await fromResponse(new Response(body.stream))
      for await (const _ of consume(res)) break
      expect(body.cancels()).toBe(1)
      // With a reason that says why, for the server's logs.
      expect(body.cancelled()).toBe('The consumer stopped reading.')
      expect(res.progress.state).toBe('cancelled')
      await res.cancel('again')
      expect(body.cancels()).toBe(1)
    })
  }

  it('res.cancel(reason) cancels the body once, with that reason', async () => {
    const body = bodyOf(records(10))
    const res = await fromResponse(new Response(body.stream))
    const seen: unknown[] = []
    for await (const row of res.ndjson()) {
      seen.push(row)
      if (seen.length === 2) await res.cancel('user left')
    }
    expect(body.cancels()).toBe(1)
    expect(body.cancelled()).toBe('user left')
    expect(res.progress.state).toBe('cancelled')
  })

  it('res.cancel() inside the loop ends the iteration without delivering a partial line', async () => {
    // The second chunk ends mid-line: after cancel, that fragment is not a line.
    const body = bodyOf(['first\nsec', 'ond\nthi', 'rd\n'])
    const res = await fromResponse(new Response(body.stream))
    const seen: string[] = []
    for await (const line of res.lines()) {
      seen.push(line)
      if (line === 'second') await res.cancel()
    }
    expect(seen).toEqual(['first', 'second'])
    expect(body.cancels()).toBe(1)
  })

  it('text(): res.cancel() inside the loop ends the iteration without flushing a character cut short', async () => {
    // The first chunk ends inside "€": after cancel, its bytes are not the body's end (no U+FFFD).
    const body = bodyOf([Uint8Array.of(0x61, 0x62, 0xe2, 0x82), Uint8Array.of(0xac)])
    const res = await fromResponse(new Response(body.stream))
    const seen: string[] = []
    for await (const text of res.text()) {
      seen.push(text)
      await res.cancel()
    }
    expect(seen).toEqual(['ab'])
    expect(body.cancels()).toBe(1)
    expect(res.progress.state).toBe('cancelled')
  })

  it('lines(): res.cancel() after the last line of a slice of a long chunk ends quietly, the rest not decoded', async () => {
    // A chunk over 32 KiB is decoded a slice at a time: the first slice (32 768 bytes) ends with the `z` line,
    // and the rest is a line over maxLineBytes, which must not surface once the loop cancelled.
    const filler = Array.from({ length: 327 }, () => `${'y'.repeat(99)}\n`).join('')
    const first = `a\n${filler}${'z'.repeat(65)}\n`
    expect(first.length).toBe(32 * 1024)
    const body = bodyOf([`${first}${'x'.repeat(2000)}\n`])
    const res = await fromResponse(new Response(body.stream), { maxLineBytes: 1000 })
    let seen = 0
    for await (const line of res.lines()) {
      seen++
      if (line.startsWith('z')) await res.cancel()
    }
    expect(seen).toBe(329)
    expect(body.cancels()).toBe(1)
    expect(res.progress.state).toBe('cancelled')
  })

  it('res.cancel() before reading makes a later consumer a clear error, and cancels once', async () => {
    const body = bodyOf(records(3))
    const res = await fromResponse(new Response(body.stream))
    await res.cancel()
    await res.cancel()
    expect(body.cancels()).toBe(1)
    expect(() => res.lines()).toThrow(TypeError)
  })

  it('an aborted signal mid-body rejects the iteration with its reason and cancels the body once', async () => {
    const body = hangingBody(records(5))
    const controller = new AbortController()
    const res = await fromResponse(new Response(body.stream), { signal: controller.signal })
    const reason = new Error('navigated away')
    const seen: unknown[] = []
    const error = await (async () => {
      for await (const row of res.ndjson()) {
        seen.push(row)
        if (seen.length === 5) controller.abort(reason)
      }
    })().catch((e: unknown) => e)
    expect(error).toBe(reason)
    expect(seen).toHaveLength(5)
    expect(body.cancels()).toHaveLength(1)
  })

  for (const [name, consume] of Object.entries(consumers)) {
    it(`${name}: an aborted signal while a read waits on a silent body rejects with its reason, and state is cancelled`, async () => {
      const body = hangingBody(name === 'events()' ? sseRecords(2) : records(2))
      const controller = new AbortController()
      const res = await fromResponse(new Response(body.stream), { signal: controller.signal })
      const iterator = consume(res)[Symbol.asyncIterator]()
      expect((await iterator.next()).done).toBe(false)
      const reason = new Error('navigated away')
      const rest = (async () => {
        for (let step = await iterator.next(); !step.done; step = await iterator.next()) {
          // the rest of what was sent, until the silence
        }
      })()
      setTimeout(() => controller.abort(reason), 5)
      await expect(rest).rejects.toBe(reason)
      expect(body.cancels()).toHaveLength(1)
      expect(res.progress.state).toBe('cancelled')
      expect(await iterator.next()).toEqual({ done: true, value: undefined })
    })

    it(`${name}: res.cancel() inside the loop ends the iteration quietly, cancelling once`, async () => {
      const body = bodyOf(name === 'events()' ? sseRecords(6) : records(6))
      const res = await fromResponse(new Response(body.stream))
      let seen = 0
      for await (const _ of consume(res)) {
        if (++seen === 2) await res.cancel('enough')
      }
      expect(seen).toBeGreaterThanOrEqual(2)
      expect(body.cancels()).toBe(1)
      expect(body.cancelled()).toBe('enough')
      expect(res.progress.state).toBe('cancelled')
    })
  }

  it('an already-aborted signal stops a silent body at once', async () => {
    const body = hangingBody(records(1))
    const controller = new AbortController()
    const res = await fromResponse(new Response(body.stream), { signal: controller.signal })
    const iterator = res.lines()[Symbol.asyncIterator]()
    expect(await iterator.next()).toEqual({ done: false, value: '{"n":0}' })
    const pending = iterator.next()
    controller.abort(new Error('stop'))
    await expect(pending).rejects.toThrow('stop')
    expect(body.cancels()).toHaveLength(1)
  })

  it('cancelling toReadableStream() cancels the body once, even while a read is pending', async () => {
    const body = hangingBody(records(2))
    const res = await fromResponse(new Response(body.stream))
    const reader = res.ndjson().toReadableStream().getReader()
    expect(await reader.read()).toEqual({ done: false, value: { n: 0 } })
    expect(await reader.read()).toEqual({ done: false, value: { n: 1 } })
    const pending = reader.read()
    await reader.cancel('not needed')
    expect(await pending).toEqual({ done: true, value: undefined })
    expect(body.cancels()).toEqual(['not needed'])
  })

  it('a consumer that ran to the end does not cancel the body', async () => {
    const body = bodyOf(records(3))
    const res = await fromResponse(new Response(body.stream))
    expect(await collect(res.ndjson())).toHaveLength(3)
    await res.cancel()
    expect(body.cancels()).toBe(0)
  })
})

describe('a response nobody reads, when its signal aborts or its total timeout fires', () => {
  /** A response to read nothing of, through sluice() or fromResponse(), over a body that then stays silent. */
  const unread = async (how: 'sluice()' | 'fromResponse()', options: SluiceOptions) => {
    const body = hangingBody(records(1))
    const res =
      how === 'sluice()'
        ? await sluice('https://fn.test/rows', {
            ...options,
            fetch: fetchWith(() => new Response(body.stream)),
            resume: false,
          })
        : await fromResponse(new Response(body.stream), options)
    return { body, res }
  }

  it("ends cancelled at the user's abort, with one final report, through sluice() and fromResponse()", async () => {
    for (const how of ['sluice()', 'fromResponse()'] as const) {
      const controller = new AbortController()
      const heard: string[] = []
      const { body, res } = await unread(how, {
        signal: controller.signal,
        onProgress: (p) => heard.push(p.state),
      })
      expect(res.progress.state, how).toBe('streaming')
      controller.abort(new Error('navigated away'))
      expect(res.progress.state, how).toBe('cancelled')
      expect(heard, how).toEqual(['streaming', 'cancelled'])
      await vi.waitFor(() => expect(body.cancels()).toHaveLength(1))
      await res.cancel()
      expect(heard, how).toEqual(['streaming', 'cancelled'])
    }
  })

  it("ends error when sluice's total timeout fires, reported once", async () => {
    const heard: string[] = []
    const { body, res } = await unread('sluice()', {
      totalTimeout: 20,
      onProgress: (p) => heard.push(p.state),
    })
    await vi.waitFor(() => expect(res.progress.state).toBe('error'))
    expect(heard).toEqual(['streaming', 'error'])
    await vi.waitFor(() => expect(body.cancels()).toHaveLength(1))
  })

  it('a listener that fails at the cancelled report, thrown or rejected, fails what ends the stream next, once: res.cancel(), the loop the abort cut, or a loop begun after it', async () => {
    for (const how of ['thrown', 'rejected'] as const) {
      for (const next of ['res.cancel()', 'the loop', 'a later loop'] as const) {
        const failure = new Error('the listener failed')
        const controller = new AbortController()
        const { res } = await unread('fromResponse()', {
          signal: controller.signal,
          onProgress: (p) => {
            if (p.state !== 'cancelled') return
            if (how === 'thrown') throw failure
            return Promise.reject(failure) as never
          },
        })
        const loop =
          next === 'the loop'
            ? (async () => {
                for await (const _ of res.lines());
              })().catch((e: unknown) => e)
            : undefined
        if (loop !== undefined) await vi.waitFor(() => expect(res.progress.items).toBe(1))
        controller.abort(new Error('navigated away'))
        if (loop !== undefined) expect(await loop, `${how}, ${next}`).toBe(failure)
        else if (next === 'a later loop')
          await expect(Array.fromAsync(res.lines()), `${how}, ${next}`).rejects.toBe(failure)
        else await expect(res.cancel(), `${how}, ${next}`).rejects.toBe(failure)
        await expect(res.cancel(), `${how}, ${next}`).resolves.toBeUndefined()
        expect(res.progress.state, `${how}, ${next}`).toBe('cancelled')
      }
    }
  })
})

describe("the request's signal, once the stream is over", () => {
  /** A `fetch` answering `parts`, keeping the signal of each request it was given. */
  const recording = (parts: string[]): { fetch: typeof fetch; signals: AbortSignal[] } => {
    const signals: AbortSignal[] = []
    const fetch = fetchWith((request) => {
      signals.push(request.signal)
      return responseOf(parts)
    })
    return { fetch, signals }
  }

  it.each(["the loop's break", 'res.cancel(reason)'] as const)(
    '%s aborts it, with the reason the body was cancelled with',
    async (stop) => {
      const { fetch, signals } = recording(records(10))
      const app = new AbortController()
      const res = await sluice('https://fn.test/rows', { fetch, signal: app.signal })
      if (stop === 'res.cancel(reason)') await res.cancel('closed by the user')
      else for await (const _ of res.ndjson()) break
      expect(signals).toHaveLength(1)
      expect(signals[0]!.aborted).toBe(true)
      expect(signals[0]!.reason).toBe(
        stop === 'res.cancel(reason)' ? 'closed by the user' : 'The consumer stopped reading.',
      )
    },
  )

  it("read to its end, it never aborts, not even when the app's signal does afterwards", async () => {
    const { fetch, signals } = recording(records(3))
    const app = new AbortController()
    const res = await sluice('https://fn.test/rows', { fetch, signal: app.signal, totalTimeout: 60_000 })
    expect(await collect(res.ndjson())).toHaveLength(3)
    app.abort(new Error('the app shuts down'))
    expect(signals).toHaveLength(1)
    expect(signals[0]!.aborted).toBe(false)
  })
})

describe('cancelling frees the connection of a real server', () => {
  const server = inject('serverUrl')
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

  /** Polls /state until the server saw the socket close; bounded, so a failure is a failed test, not a hang. */
  async function closedOnServer(id: string): Promise<boolean> {
    for (let attempt = 0; attempt < 200; attempt++) {
      const state = (await (await fetch(`${server}/state?id=${id}`)).json()) as { closed: boolean } | null
      if (state?.closed) return true
      await sleep(25)
    }
    return false
  }

  const hang = (how: string): { id: string; url: string } => {
    const id = `${how}-${Math.random().toString(36).slice(2)}`
    return { id, url: `${server}/hang?id=${id}` }
  }

  it('break out of for await closes the socket', async () => {
    const { id, url } = hang('break')
    const res = await sluice(url)
    let n = 0
    for await (const _ of res.ndjson()) if (++n === 3) break
    expect(await closedOnServer(id)).toBe(true)
  })

  it('res.cancel() mid-body closes the socket', async () => {
    const { id, url } = hang('cancel')
    const res = await sluice(url)
    const seen: unknown[] = []
    for await (const row of res.ndjson()) {
      seen.push(row)
      if (seen.length === 20) await res.cancel()
    }
    expect(seen).toHaveLength(20)
    expect(await closedOnServer(id)).toBe(true)
  })

  it('an aborted signal mid-body rejects with its reason and closes the socket', async () => {
    const { id, url } = hang('abort')
    const controller = new AbortController()
    const res = await sluice(url, { signal: controller.signal })
    const reason = new Error('user navigated away')
    const error = await (async () => {
      let n = 0
      for await (const _ of res.lines()) if (++n === 20) controller.abort(reason)
    })().catch((e: unknown) => e)
    expect(error).toBe(reason)
    expect(await closedOnServer(id)).toBe(true)
  })

  it('cancelling toReadableStream() while a read waits on the silent server closes the socket', async () => {
    const { id, url } = hang('stream')
    const res = await sluice(url)
    const reader = res.lines().toReadableStream().getReader()
    for (let i = 0; i < 20; i++) await reader.read()
    const pending = reader.read()
    await reader.cancel()
    await pending
    expect(await closedOnServer(id)).toBe(true)
  })
})

describe('an abort mid-batch', () => {
  it('stops delivery at once, even of items already decoded from the current chunk', async () => {
    const controller = new AbortController()
    const body = Array.from({ length: 20 }, (_, i) => `{"n":${i}}\n`).join('')
    const res = await fromResponse(new Response(body), { signal: controller.signal })
    const seen: unknown[] = []
    const error = await (async () => {
      for await (const row of res.ndjson()) {
        seen.push(row)
        if (seen.length === 2) controller.abort(new Error('user left'))
      }
    })().then(
      () => undefined,
      (caught: unknown) => caught,
    )
    expect(seen).toHaveLength(2)
    expect((error as Error).message).toBe('user left')
    expect(res.progress.state).toBe('cancelled')
  })
})

describe('cancelling during a reconnect', () => {
  it('ends the iteration at once, without waiting for the backoff or making the request', async () => {
    let requests = 0
    const fetch = (async () => {
      requests++
      // One line, then the connection fails: a drop that resume will wait a minute to retry.
      return new Response(bodyOf(['{"n":1}\n'], { error: new TypeError('terminated') }).stream, {
        headers: { 'accept-ranges': 'bytes' },
      })
    }) as typeof globalThis.fetch
    const res = await sluice('https://fn.test/rows', {
      fetch,
      retry: 0,
      resume: { backoff: { initial: 60_000, jitter: 0 } },
      onProgress: (p) => {
        if (p.state === 'reconnecting') void res.cancel()
      },
      progressInterval: 0,
    })
    const rows = await collect(res.ndjson())
    expect(rows).toEqual([{ n: 1 }])
    expect(requests).toBe(1)
    expect(res.progress.state).toBe('cancelled')
  })
})

describe('a beforeRequest hook that never settles', () => {
  /** A hook that hangs on the requests `hangs` picks, and a promise of the first time it does. */
  const hangingHook = (hangs: (request: Request) => boolean) => {
    let entered!: () => void
    const inside = new Promise<void>((resolve) => {
      entered = resolve
    })
    const hook = ({ request }: { request: Request }) => {
      if (!hangs(request)) return
      entered()
      return new Promise<never>(() => {})
    }
    return { hook, inside }
  }
  const fetch = (async () => new Response('{"n":1}\n')) as typeof globalThis.fetch

  /** What `promise` settled with, once it has: a rejection as `{ error }`. */
  const outcomeOf = (promise: Promise<unknown>) => {
    const seen: { value?: unknown; error?: unknown } = {}
    promise.then(
      (value) => {
        seen.value = value
      },
      (error: unknown) => {
        seen.error = error
      },
    )
    return seen
  }

  it("on the first request: the user's abort rejects the call with its reason", async () => {
    const { hook, inside } = hangingHook(() => true)
    const controller = new AbortController()
    const call = outcomeOf(
      sluice('https://fn.test/rows', { fetch, signal: controller.signal, hooks: { beforeRequest: [hook] } }),
    )
    await inside
    const reason = new Error('user left')
    controller.abort(reason)
    await vi.waitFor(() => expect(call.error).toBe(reason))
  })

  it('on the first request: the total timeout rejects the call with its TimeoutError', async () => {
    const { hook, inside } = hangingHook(() => true)
    const call = outcomeOf(
      sluice('https://fn.test/rows', { fetch, totalTimeout: 1, hooks: { beforeRequest: [hook] } }),
    )
    await inside
    await vi.waitFor(() => expect(isTimeoutError(call.error) && call.error.phase).toBe('total'))
  })

  it("on a reconnect: res.cancel() ends the iteration quietly, the user's abort with its reason", async () => {
    for (const stop of ['cancel', 'abort'] as const) {
      const { hook, inside } = hangingHook((request) => request.headers.has('range'))
      const controller = new AbortController()
      const dropping = (async () =>
        new Response(bodyOf(['{"n":1}\n{"n'], { error: new TypeError('terminated') }).stream, {
          headers: { 'accept-ranges': 'bytes', 'content-length': '16' },
        })) as typeof globalThis.fetch
      const res = await sluice('https://fn.test/rows', {
        fetch: dropping,
        signal: controller.signal,
        resume: { backoff: { initial: 1, jitter: 0 } },
        hooks: { beforeRequest: [hook] },
      })
      const rows: unknown[] = []
      const read = outcomeOf(
        (async () => {
          for await (const row of res.ndjson()) rows.push(row)
        })(),
      )
      await inside
      const reason = new Error('user left')
      if (stop === 'cancel') await res.cancel()
      else controller.abort(reason)
      await vi.waitFor(() => expect('value' in read || 'error' in read, stop).toBe(true))
      expect(read.error, stop).toBe(stop === 'cancel' ? undefined : reason)
      expect(rows, stop).toEqual([{ n: 1 }])
      expect(res.progress.state, stop).toBe('cancelled')
    }
  })
})
