/**
 * A progress listener that throws in a report made by the trailing timer: its error fails the stream at the next
 * change, and whatever ends the stream then (break, res.cancel(), the body's end) still releases the connection.
 */
import { describe, expect, it, vi } from 'vitest'
import { fromResponse, type Progress, sluice } from '../src/index.ts'
import { bodyOf, gatedBody, pacedBody } from './support/streams.ts'
import { withUncaught } from './support/uncaught.ts'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('a listener that throws in a trailing report fails the stream, and the connection still goes', () => {
  const throwsOnce = () => {
    let thrown = false
    return (p: { state: string; items: number }) => {
      if (!thrown && p.state === 'streaming' && p.items > 0) {
        thrown = true
        throw new Error('listener boom')
      }
    }
  }

  /** Two lines, then a silent body, read with a listener that throws once in a trailing report. */
  const stalledWithThrowingListener = async () => {
    const body = pacedBody(['a\nb\n', 60_000, 'c\n'])
    const res = await sluice('https://fn.example/x', {
      fetch: (async () => new Response(body.stream)) as typeof fetch,
      resume: false,
      progressInterval: 20,
      onProgress: throwsOnce(),
    })
    return { body, res }
  }

  it('breaking out of the loop afterwards still cancels the body', async () => {
    const { body, res } = await stalledWithThrowingListener()
    let n = 0
    try {
      for await (const _ of res.lines()) {
        if (++n === 2) {
          await sleep(80) // the trailing report runs, and throws
          break
        }
      }
    } catch {}
    await sleep(20)
    expect(res.progress.state).toBe('cancelled')
    expect(body.cancels()).toBe(1)
  })

  it('res.cancel() afterwards still cancels the body', async () => {
    const { body, res } = await stalledWithThrowingListener()
    const it = res.lines()[Symbol.asyncIterator]()
    await it.next()
    await it.next()
    await sleep(80)
    await res.cancel().catch(() => {})
    await sleep(20)
    expect(body.cancels()).toBe(1)
  })

  it('a stream that then ends does not both report done and fail its loop', async () => {
    const body = pacedBody(['a\nb\n', 100])
    const states: string[] = []
    const listener = throwsOnce()
    const res = await sluice('https://fn.example/x', {
      fetch: (async () => new Response(body.stream)) as typeof fetch,
      resume: false,
      progressInterval: 20,
      onProgress: (p) => {
        states.push(p.state)
        listener(p)
      },
    })
    const outcome = await (async () => {
      for await (const _ of res.lines());
    })().then(
      () => 'completed',
      () => 'rejected',
    )
    // Either the loop completes after the final `done` report, or it fails and the stream ends in `error`.
    expect(outcome === 'completed' || (states.at(-1) === 'error' && res.progress.state === 'error')).toBe(
      true,
    )
  })
})

describe('a listener that throws at the report of a detach or a cancel', () => {
  it('still leaves the connection dropped, for detach() and for cancel()', async () => {
    for (const stop of ['detach', 'cancel'] as const) {
      const body = gatedBody()
      const failure = new Error('the listener failed')
      const res = await fromResponse(new Response(body.stream), {
        onProgress: (p) => {
          if (p.state === 'cancelled') throw failure
        },
      })
      if (stop === 'detach') expect(() => res.detach()).toThrow(failure)
      else await expect(res.cancel()).rejects.toBe(failure)
      await vi.waitFor(() => expect(body.cancels(), stop).toBe(1))
      expect(res.progress.state).toBe('cancelled')
    }
  })
})

describe('a listener that throws at the first report, when the headers arrive', () => {
  it('rejects the call with its error, reports the error, and releases the connection nobody else can', async () => {
    for (const open of ['sluice', 'fromResponse'] as const) {
      const body = gatedBody()
      const failure = new Error('the listener failed')
      const states: string[] = []
      const onProgress = (p: { state: string }) => {
        states.push(p.state)
        if (p.state === 'streaming') throw failure
      }
      const call =
        open === 'sluice'
          ? sluice('https://fn.example/x', {
              fetch: (async () => new Response(body.stream)) as typeof fetch,
              onProgress,
            })
          : fromResponse(new Response(body.stream), { onProgress })
      await expect(call, open).rejects.toBe(failure)
      await vi.waitFor(() => expect(body.cancels(), open).toBe(1))
      expect(states, open).toEqual(['streaming', 'error'])
    }
  })
})

describe('a listener that throws or rejects at the final error report', () => {
  it("leaves the stream's own error to its caller (a consumer's, json().final's, a refused request's) and throws its own on its own, as uncaught", async () => {
    for (const how of ['thrown', 'rejected'] as const) {
      const failure = new Error('the listener failed')
      const onProgress = (p: Progress): Promise<never> | undefined => {
        if (p.state !== 'error') return
        if (how === 'thrown') throw failure
        return Promise.reject(failure)
      }
      const ends = {
        ndjson: async () => {
          const res = await fromResponse(new Response(bodyOf(['{"a":1}\nnot json\n']).stream), { onProgress })
          for await (const _ of res.ndjson());
        },
        'json().final': async () => {
          const res = await fromResponse(new Response(bodyOf(['{"a":1x']).stream), { onProgress })
          await res.json().final
        },
        'a refused request': () =>
          sluice('https://fn.example/x', {
            fetch: (async () => new Response('gone', { status: 404 })) as typeof fetch,
            retry: 0,
            onProgress,
          }),
      }
      for (const [end, run] of Object.entries(ends)) {
        await withUncaught(async (thrown) => {
          const error = await run().catch((e: unknown) => e)
          expect((error as Error).name, `${how}, ${end}`).toBe(
            end === 'a refused request' ? 'HTTPError' : 'ParseError',
          )
          await vi.waitFor(() => expect(thrown, `${how}, ${end}`).toEqual([failure]))
        })
      }
    }
  })
})

/**
 * A `fetch` whose first answer (`one\ntwo\n` of 19 bytes) drops, and whose Range answers are gated bodies (in
 * `answers`), each given `first` at once.
 */
function droppingFetch(first?: string): {
  answers: Array<ReturnType<typeof gatedBody>>
  fetch: typeof globalThis.fetch
} {
  const answers: Array<ReturnType<typeof gatedBody>> = []
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const headers = { 'accept-ranges': 'bytes', etag: '"v1"' }
    if (!new Request(input, init).headers.has('range')) {
      return new Response(bodyOf(['one\ntwo\n'], { error: new TypeError('terminated') }).stream, {
        headers: { ...headers, 'content-length': '19' },
      })
    }
    const answer = gatedBody()
    answers.push(answer)
    if (first !== undefined) answer.push(first)
    return new Response(answer.stream, {
      status: 206,
      headers: { ...headers, 'content-range': 'bytes 8-18/19' },
    })
  }) as typeof globalThis.fetch
  return { answers, fetch }
}

describe("a listener that throws at a reconnect's reports", () => {
  it('fails the stream with its error, the lines before kept, the new answer released', async () => {
    for (const at of ['reconnecting', 'streaming'] as const) {
      const { answers, fetch } = droppingFetch('three\n')
      const failure = new Error('the listener failed')
      const states: string[] = []
      const res = await sluice('https://fn.example/x', {
        fetch,
        retry: 0,
        resume: { backoff: { initial: 1, jitter: 0 } },
        onProgress: (p) => {
          states.push(p.state)
          if (p.attempt === 2 && p.state === at) throw failure
        },
      })
      const lines: string[] = []
      const error = await (async () => {
        for await (const line of res.lines()) lines.push(line)
      })().catch((e: unknown) => e)
      expect(error, at).toBe(failure)
      expect(lines, at).toEqual(['one', 'two'])
      expect(states.at(-1), at).toBe('error')
      expect(answers.length, at).toBe(at === 'streaming' ? 1 : 0)
      await vi.waitFor(() =>
        expect(
          answers.map((answer) => answer.cancels()),
          at,
        ).toEqual(answers.map(() => 1)),
      )
      expect(res.checkpoint().offset, at).toBe(8)
    }
  })
})

describe('an async listener whose Promise rejects fails the stream as a throw does, never as an unhandled rejection', () => {
  it('at the first report: the call resolves (the rejection comes later), and the first read fails with it', async () => {
    const body = gatedBody()
    const failure = new Error('the listener failed')
    const states: string[] = []
    const res = await sluice('https://fn.example/x', {
      fetch: (async () => new Response(body.stream)) as typeof fetch,
      resume: false,
      onProgress: async (p) => {
        states.push(p.state)
        if (p.state === 'streaming') throw failure
      },
    })
    body.push('a\nb\n')
    const lines: string[] = []
    const error = await (async () => {
      for await (const line of res.lines()) lines.push(line)
    })().catch((e: unknown) => e)
    expect(error).toBe(failure)
    expect(lines).toEqual([])
    expect(res.progress.state).toBe('error')
    expect(states.at(-1)).toBe('error')
    await vi.waitFor(() => expect(body.cancels()).toBe(1))
  })

  it('mid-stream: the lines before it stay delivered, and the next chunk fails with its error', async () => {
    const body = gatedBody()
    const failure = new Error('the listener failed')
    let rejected = false
    const res = await sluice('https://fn.example/x', {
      fetch: (async () => new Response(body.stream)) as typeof fetch,
      resume: false,
      progressInterval: 0,
      onProgress: async (p) => {
        if (p.items < 2 || rejected) return
        rejected = true
        throw failure
      },
    })
    body.push('a\nb\n')
    const lines: string[] = []
    const error = await (async () => {
      for await (const line of res.lines()) {
        lines.push(line)
        if (lines.length === 2) {
          await vi.waitFor(() => expect(rejected).toBe(true))
          body.push('c\n')
          body.close()
        }
      }
    })().catch((e: unknown) => e)
    expect(error).toBe(failure)
    expect(lines).toEqual(['a', 'b'])
    expect(res.progress.state).toBe('error')
  })

  it("at a reconnect's report: the lines before kept, the new answer released", async () => {
    const { answers, fetch } = droppingFetch()
    const failure = new Error('the listener failed')
    const res = await sluice('https://fn.example/x', {
      fetch,
      retry: 0,
      resume: { backoff: { initial: 1, jitter: 0 } },
      onProgress: async (p) => {
        if (p.attempt === 2 && p.state === 'reconnecting') throw failure
      },
    })
    const lines: string[] = []
    const error = await (async () => {
      for await (const line of res.lines()) lines.push(line)
    })().catch((e: unknown) => e)
    expect(error).toBe(failure)
    expect(lines).toEqual(['one', 'two'])
    expect(res.progress.state).toBe('error')
    await vi.waitFor(() => expect(answers.map((answer) => answer.cancels())).toEqual(answers.map(() => 1)))
    expect(res.checkpoint().offset).toBe(8)
  })

  it('at the final done report, thrown or rejected alike: the loop rejects with its error, every line delivered and the state staying done', async () => {
    for (const how of ['thrown', 'rejected'] as const) {
      const failure = new Error('the listener failed')
      const res = await fromResponse(new Response(bodyOf(['a\nb\n']).stream), {
        onProgress: (p) => {
          if (p.state !== 'done') return
          if (how === 'thrown') throw failure
          return Promise.reject(failure) as never
        },
      })
      const lines: string[] = []
      const error = await (async () => {
        for await (const line of res.lines()) lines.push(line)
      })().catch((e: unknown) => e)
      expect(error, how).toBe(failure)
      expect(lines, how).toEqual(['a', 'b'])
      expect(res.progress.state, how).toBe('done')
    }
  })

  /**
   * A listener that fails at the `done` report, by a throw or a Promise that rejects in a later task (so that what
   * does not wait for it settles first), noting in `order` when it reports and when its Promise settles.
   */
  const failingAtDone =
    (how: 'thrown' | 'rejected', failure: Error, order: string[]) =>
    (p: Progress): Promise<never> | undefined => {
      if (p.state !== 'done') return
      order.push('reported')
      if (how === 'thrown') throw failure
      return new Promise<never>((_, reject) =>
        setTimeout(() => {
          order.push('report settled')
          reject(failure)
        }, 0),
      )
    }

  it('at the final done report, json().final settles after that report and rejects with its error as the loop does, awaited alone or after the loop, the state staying done', async () => {
    for (const how of ['thrown', 'rejected'] as const) {
      for (const reader of ['final alone', 'a loop, then final'] as const) {
        const failure = new Error('the listener failed')
        const order: string[] = []
        const res = await fromResponse(new Response(bodyOf(['{"a":', '1}']).stream), {
          onProgress: failingAtDone(how, failure, order),
        })
        const doc = res.json()
        if (reader === 'a loop, then final') {
          const error = await (async () => {
            for await (const _ of doc);
          })().catch((e: unknown) => e)
          expect(error, `${how}, ${reader}`).toBe(failure)
        }
        const error = await doc.final.then(
          () => 'resolved',
          (e: unknown) => e,
        )
        order.push('final settled')
        expect(error, `${how}, ${reader}`).toBe(failure)
        expect(order, `${how}, ${reader}`).toEqual(
          how === 'thrown' ? ['reported', 'final settled'] : ['reported', 'report settled', 'final settled'],
        )
        expect(res.progress.state, `${how}, ${reader}`).toBe('done')
      }
    }
  })

  it('at the final done report, collect.text(), collect.bytes() and collect.json() settle after that report and reject with its error, the state staying done', async () => {
    for (const how of ['thrown', 'rejected'] as const) {
      for (const helper of ['text', 'bytes', 'json'] as const) {
        const failure = new Error('the listener failed')
        const order: string[] = []
        const res = await fromResponse(new Response(bodyOf(['{"a":', '1}']).stream), {
          onProgress: failingAtDone(how, failure, order),
        })
        const error = await res.collect[helper]().then(
          () => 'resolved',
          (e: unknown) => e,
        )
        order.push('collected')
        expect(error, `${how}, ${helper}`).toBe(failure)
        expect(order, `${how}, ${helper}`).toEqual(
          how === 'thrown' ? ['reported', 'collected'] : ['reported', 'report settled', 'collected'],
        )
        expect(res.progress.state, `${how}, ${helper}`).toBe('done')
      }
    }
  })

  it('at the cancelled report of res.cancel(): cancel() rejects with its error, and the connection goes', async () => {
    const body = gatedBody()
    const failure = new Error('the listener failed')
    const res = await fromResponse(new Response(body.stream), {
      onProgress: async (p) => {
        if (p.state === 'cancelled') throw failure
      },
    })
    await expect(res.cancel()).rejects.toBe(failure)
    await vi.waitFor(() => expect(body.cancels()).toBe(1))
    expect(res.progress.state).toBe('cancelled')
  })
})

describe('an async listener whose Promise rejects where nothing waits for it', () => {
  /** Runs `test` while collecting the unhandled rejections of Node and of browsers. */
  const withUnhandled = async (test: (unhandled: unknown[]) => Promise<void>) => {
    const unhandled: unknown[] = []
    const onNode = (reason: unknown) => unhandled.push(reason)
    const onBrowser = (event: PromiseRejectionEvent) => {
      unhandled.push(event.reason)
      event.preventDefault()
    }
    const node = (globalThis as { process?: NodeJS.Process }).process
    node?.on?.('unhandledRejection', onNode)
    globalThis.addEventListener?.('unhandledrejection', onBrowser)
    try {
      await test(unhandled)
    } finally {
      node?.off?.('unhandledRejection', onNode)
      globalThis.removeEventListener?.('unhandledrejection', onBrowser)
    }
  }

  it('at the report of detach(), or of a first request that fails: no unhandled rejection, and the failure stays the stream’s own', async () => {
    const failure = new Error('the listener failed')
    await withUncaught(async (thrown) => {
      await withUnhandled(async (unhandled) => {
        const onProgress = async (p: { state: string }) => {
          if (p.state === 'cancelled' || p.state === 'error') throw failure
        }
        const body = gatedBody()
        const res = await fromResponse(new Response(body.stream), { onProgress })
        res.detach()
        await vi.waitFor(() => expect(body.cancels()).toBe(1))
        const refused = await sluice('https://fn.example/x', {
          fetch: (async () => new Response('gone', { status: 404 })) as typeof fetch,
          retry: 0,
          onProgress,
        }).catch((e: unknown) => e)
        expect((refused as { status?: number }).status).toBe(404)
        // Unhandled rejections are told once the task that left them is over.
        await new Promise((resolve) => setTimeout(resolve, 20))
        expect(unhandled).toEqual([])
      })
      // The error report's failure is thrown on its own (detach()'s has nowhere to go).
      expect(thrown).toEqual([failure])
    })
  })

  it('in a report before the end, rejecting once the stream has ended: dropped, the loop completed and the state done, no unhandled rejection', async () => {
    await withUnhandled(async (unhandled) => {
      let fail: ((error: Error) => void) | undefined
      const res = await fromResponse(new Response(bodyOf(['a\nb\n']).stream), {
        progressInterval: 0,
        onProgress: (p) => {
          if (p.state !== 'streaming' || p.loaded === 0 || fail !== undefined) return
          return new Promise<never>((_, reject) => {
            fail = reject
          }) as never
        },
      })
      const lines: string[] = []
      for await (const line of res.lines()) lines.push(line)
      expect(lines).toEqual(['a', 'b'])
      expect(res.progress.state).toBe('done')
      fail?.(new Error('the listener failed late'))
      expect(fail).toBeDefined()
      await new Promise((resolve) => setTimeout(resolve, 20))
      expect(unhandled).toEqual([])
      expect(res.progress.state).toBe('done')
    })
  })
})
