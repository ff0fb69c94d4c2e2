import { Activity, act, type ReactNode, StrictMode, useCallback, useLayoutEffect } from 'react'
import { hydrateRoot, type Root } from 'react-dom/client'
import { renderToString } from 'react-dom/server'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import {
  createStreamStore,
  type SluiceOptions,
  type StreamResponse,
  type StreamStore,
  sluice,
} from '../../src/index.ts'
import { type UseStreamResult, useStream, useStreamStore } from '../../src/react/index.ts'
import { requestKey } from '../../src/react/request-key.ts'
import { useRequestKey } from '../../src/react/use-request-key.ts'
import { type TestRoot, testRoot } from '../support/react-root.ts'
import { silentFetch } from '../support/streams.ts'

const Row = z.object({ n: z.number() })
const encoder = new TextEncoder()
const rows = (...ns: number[]): string => ns.map((n) => `{"n":${n}}\n`).join('')

/** One request the fake server received: its body is sent chunk by chunk by the test. */
interface Call {
  url: string
  signal: AbortSignal
  push(text: string): void
  close(): void
  fail(error: unknown): void
  cancels(): number
}

/** A fake server behind an injected `fetch`, honouring the request's signal as a real fetch does. */
function fakeServer(): { fetch: typeof fetch; calls: Call[] } {
  const calls: Call[] = []
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init)
    request.signal.throwIfAborted()
    let controller!: ReadableStreamDefaultController<Uint8Array>
    let cancels = 0
    let open = true
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        controller = c
      },
      cancel() {
        cancels++
        open = false
      },
    })
    const call: Call = {
      url: request.url,
      signal: request.signal,
      push: (text) => controller.enqueue(encoder.encode(text)),
      close: () => {
        open = false
        controller.close()
      },
      fail: (error) => {
        open = false
        controller.error(error)
      },
      cancels: () => cancels,
    }
    request.signal.addEventListener('abort', () => {
      if (open) controller.error(request.signal.reason)
      open = false
    })
    calls.push(call)
    return new Response(stream, { headers: { 'content-type': 'application/x-ndjson' } })
  }) as typeof globalThis.fetch
  return { fetch, calls }
}

let view: TestRoot
let renders = 0

beforeEach(() => {
  view = testRoot()
  renders = 0
})

afterEach(() => view.dispose())

const render = (node: ReactNode): Promise<void> => view.render(node)
const unmount = (): Promise<void> => view.unmount()
/** Lets time pass inside act() until `check` holds: stream notifications and the renders they cause run. */
const until = (check: () => boolean, what: string): Promise<void> => view.until(check, what)

const shown = (): string[] => [...view.container.querySelectorAll('li')].map((li) => li.textContent ?? '')
const status = (): string | null | undefined => view.container.querySelector('output')?.textContent

function Rows({ url, fetch }: { url: string; fetch: typeof globalThis.fetch }): ReactNode {
  const { items, status, error, retry } = useStream(url, {
    as: 'ndjson',
    schema: Row,
    sluice: { fetch, retry: 0 },
  })
  renders++
  return (
    <div>
      <output>{status}</output>
      {error !== undefined && <p>{String(error)}</p>}
      <ul>
        {items.map((row) => (
          <li key={row.n}>{row.n}</li>
        ))}
      </ul>
      <button type="button" onClick={retry}>
        retry
      </button>
    </div>
  )
}

/** Rows of `url` requested with extra sluice options; `latest` is the hook's result of the last render. */
let latest: UseStreamResult | undefined
function Query({ url, options }: { url: string; options: SluiceOptions }): ReactNode {
  const result = useStream(url, { as: 'ndjson', sluice: { retry: 0, ...options } })
  latest = result
  return <output>{result.status}</output>
}

/** An inline request function, a new one on every render; `k` is the explicit key, when given. */
function Inline({ path, k, fetch }: { path: string; k?: string; fetch: typeof globalThis.fetch }): ReactNode {
  const { items, status } = useStream(
    (signal) => sluice(`https://api.test/${path}`, { fetch, retry: 0, signal }),
    { as: 'ndjson', ...(k === undefined ? {} : { key: k }) },
  )
  return (
    <p>
      <output>{status}</output>
      <span>{items.length}</span>
    </p>
  )
}

/**
 * An inline request function of `path` whose stream is retried from a layout effect each time `attempt` grows: in
 * the commit of a new `path`, before that commit's passive effects run.
 */
function RetryOnLayout({
  path,
  attempt,
  fetch,
}: {
  path: string
  attempt: number
  fetch: typeof globalThis.fetch
}): ReactNode {
  const { status, retry } = useStream(
    (signal) => sluice(`https://api.test/${path}`, { fetch, retry: 0, signal }),
    { as: 'ndjson' },
  )
  useLayoutEffect(() => {
    if (attempt > 0) retry()
  }, [attempt, retry])
  return <output>{status}</output>
}

/** A request function that returns fetch()'s Response instead of a StreamResponse. */
function Raw(): ReactNode {
  const request = useCallback(
    (signal: AbortSignal) => fetch('data:application/x-ndjson,{"n":1}%0A', { signal }) as never,
    [],
  )
  const { status, error, progress } = useStream(request, { as: 'ndjson' })
  return (
    <p>
      <output>{status}</output>
      <span>{progress.state}</span>
      {error !== undefined && <i>{error.message}</i>}
    </p>
  )
}

function Count({ request }: { request: (signal: AbortSignal) => Promise<StreamResponse> }): ReactNode {
  const { items, status } = useStream(request, { as: 'ndjson' })
  return (
    <p>
      <output>{status}</output>
      <span>{items.length}</span>
    </p>
  )
}

function Log({ store }: { store: StreamStore<string, undefined, undefined> }): ReactNode {
  const { items } = useStreamStore(store)
  return (
    <ul>
      {items.map((line) => (
        <li key={line}>{line}</li>
      ))}
    </ul>
  )
}

/** An upload whose stream body is made in render, a new stream every time, as `file.stream()` is. */
function Upload({ file, fetch }: { file: Blob; fetch: typeof globalThis.fetch }): ReactNode {
  const { items, status, retry } = useStream('https://api.test/upload', {
    as: 'ndjson',
    schema: Row,
    sluice: { method: 'POST', body: file.stream(), fetch, retry: 0 },
  })
  return (
    <p>
      <output>{status}</output>
      <span>{items.map((row) => row.n).join()}</span>
      <button type="button" onClick={retry}>
        retry
      </button>
    </p>
  )
}

/** A hook given options it cannot take, as plain JavaScript (or a cast) may give them. */
function Misconfigured({ options }: { options: object }): ReactNode {
  useStream('https://api.test/rows', options as never)
  return null
}

/** A hook called as plain JavaScript may call it, with no options. */
function Bare(): ReactNode {
  useStream('https://api.test/rows', undefined as never)
  return null
}

describe('useStream', () => {
  it('renders rows as they arrive, then the final content', async () => {
    const server = fakeServer()
    await render(<Rows url="https://api.test/rows" fetch={server.fetch} />)
    await until(() => server.calls.length === 1, 'the request is sent')
    server.calls[0]!.push(rows(1, 2))
    await until(() => shown().length === 2, 'the first rows show')
    expect(status()).toBe('streaming')
    const partialRenders = renders
    server.calls[0]!.push(rows(3))
    server.calls[0]!.close()
    await until(() => status() === 'done', 'the stream is done')
    expect(shown()).toEqual(['1', '2', '3'])
    expect(partialRenders).toBeGreaterThan(1)
    expect(renders).toBeGreaterThan(partialRenders)
  })

  it('unmounting cancels the stream and aborts its request', async () => {
    const server = fakeServer()
    await render(<Rows url="https://api.test/rows" fetch={server.fetch} />)
    await until(() => server.calls.length === 1, 'the request is sent')
    server.calls[0]!.push(rows(1))
    await until(() => shown().length === 1, 'the first row shows')
    await unmount()
    await until(() => server.calls[0]!.cancels() === 1, 'the body is cancelled')
    expect(server.calls[0]!.signal.aborted).toBe(true)
  })

  it('changing the url cancels the old stream and starts the new one', async () => {
    const server = fakeServer()
    await render(<Rows url="https://api.test/a" fetch={server.fetch} />)
    await until(() => server.calls.length === 1, 'the first request is sent')
    server.calls[0]!.push(rows(1))
    await until(() => shown().length === 1, 'the first row of a shows')
    await render(<Rows url="https://api.test/b" fetch={server.fetch} />)
    await until(() => server.calls.length === 2, 'the second request is sent')
    expect(server.calls[0]!.cancels()).toBe(1)
    expect(server.calls[1]!.url).toBe('https://api.test/b')
    server.calls[1]!.push(rows(7, 8))
    server.calls[1]!.close()
    await until(() => status() === 'done', 'the new stream is done')
    expect(shown()).toEqual(['7', '8'])
  })

  it('an equal inline options object on every render keeps the same stream', async () => {
    const server = fakeServer()
    await render(<Rows url="https://api.test/rows" fetch={server.fetch} />)
    await until(() => server.calls.length === 1, 'the request is sent')
    await render(<Rows url="https://api.test/rows" fetch={server.fetch} />)
    server.calls[0]!.push(rows(1))
    server.calls[0]!.close()
    await until(() => status() === 'done', 'the stream is done')
    expect(server.calls).toHaveLength(1)
  })

  it('under StrictMode the double mount leaves exactly one live stream and the right content', async () => {
    const server = fakeServer()
    await render(
      <StrictMode>
        <Rows url="https://api.test/rows" fetch={server.fetch} />
      </StrictMode>,
    )
    const live = (): Call[] => server.calls.filter((call) => !call.signal.aborted && call.cancels() === 0)
    await until(() => live().length === 1 && status() === 'streaming', 'one stream is live')
    live()[0]!.push(rows(1, 2))
    live()[0]!.close()
    await until(() => status() === 'done', 'the stream is done')
    expect(shown()).toEqual(['1', '2'])
    // Any earlier request was aborted, never left running.
    expect(server.calls.filter((call) => call.signal.aborted)).toHaveLength(server.calls.length - 1)
  })

  it("under StrictMode the first mount's request is aborted and the second one is read", async () => {
    const server = fakeServer()
    const signals: AbortSignal[] = []
    const request = (signal: AbortSignal): Promise<StreamResponse> => {
      signals.push(signal)
      return sluice('https://api.test/rows', { fetch: server.fetch, signal })
    }
    await render(
      <StrictMode>
        <Count request={request} />
      </StrictMode>,
    )
    await until(() => status() === 'streaming', 'the stream is live')
    expect(signals.map((signal) => signal.aborted)).toEqual([true, false])
    server.calls.at(-1)!.push(rows(1, 2, 3))
    server.calls.at(-1)!.close()
    await until(() => status() === 'done', 'the stream is done')
    expect(view.container.querySelector('span')?.textContent).toBe('3')
  })

  it('an inline request function streams once, uses the latest function, and restarts only when key changes', async () => {
    const server = fakeServer()
    // The root collects what would crash the tree ("Too many re-renders").
    const { errors } = view
    await render(<Inline path="a" fetch={server.fetch} />)
    await until(() => status() === 'streaming', 'the stream is live')
    // A new inline function on every render is not a new stream.
    await render(<Inline path="a" fetch={server.fetch} />)
    await render(<Inline path="a" fetch={server.fetch} />)
    expect(errors).toEqual([])
    expect(server.calls).toHaveLength(1)
    // A new key is, and the restart calls the latest function.
    await render(<Inline path="b" k="b" fetch={server.fetch} />)
    await until(() => server.calls.length === 2, 'the new key restarts the stream')
    expect(server.calls[1]!.url).toBe('https://api.test/b')
    expect(server.calls[0]!.signal.aborted).toBe(true)
    server.calls[1]!.push(rows(1, 2))
    server.calls[1]!.close()
    await until(() => status() === 'done', 'the stream is done')
    expect(view.container.querySelector('span')?.textContent).toBe('2')
    expect(server.calls).toHaveLength(2)
  })

  it('retry() from a layout effect calls the request function of the render being committed', async () => {
    const server = fakeServer()
    await render(<RetryOnLayout path="a" attempt={0} fetch={server.fetch} />)
    await until(() => server.calls.length === 1, 'the first request is sent')
    // The new function and the retry come in the same commit: the retry must not send the old one's request.
    await render(<RetryOnLayout path="b" attempt={1} fetch={server.fetch} />)
    await until(() => server.calls.length === 2, 'the retry is sent')
    expect(server.calls.map((call) => call.url)).toEqual(['https://api.test/a', 'https://api.test/b'])
    expect(server.calls[0]!.signal.aborted).toBe(true)
  })

  it('no options at all (plain JavaScript) is refused with a TypeError that says what is missing', async () => {
    await expect(render(<Bare />)).rejects.toThrow(
      new TypeError('useStream(): options must be an object with `as`, got undefined.'),
    )
  })

  it.each([
    [
      {},
      TypeError,
      "useStream() needs `as`, one of 'ndjson', 'json', 'text', 'events', 'lines', 'bytes'; got",
    ],
    [{ as: 'lines', throttleMs: -1 }, RangeError, 'useStream(): throttleMs must be'],
    [{ as: 'ndjson', maxItems: 0 }, RangeError, 'useStream(): maxItems must be a positive integer, got 0.'],
    [{ as: 'ndjson', onInvalid: 'warn' }, TypeError, 'useStream(): onInvalid must be'],
    [{ as: 'bytes', chunkSize: 0 }, RangeError, 'useStream(): chunkSize must be a positive integer, got 0.'],
    [{ as: 'text', maxItems: 5 }, TypeError, "useStream(): the 'text' mode takes no option maxItems;"],
  ])('options %j it cannot take are refused in the name of useStream()', async (options, type, message) => {
    const rendering = render(<Misconfigured options={options} />)
    await expect(rendering).rejects.toThrow(type)
    await expect(rendering).rejects.toThrow(message)
  })

  it('a key that is not a string is refused with a TypeError, rather than one that never changes', async () => {
    const server = fakeServer()
    // From plain JavaScript, a query key as other libraries take it: `{ month }` would read "[object Object]"
    // for every month, and the stream would never restart.
    await expect(
      render(<Inline path="a" k={{ month: '2026-10' } as never} fetch={server.fetch} />),
    ).rejects.toThrow(new TypeError('useStream(): key must be a string, got an object (Object).'))
    expect(server.calls).toHaveLength(0)
  })

  it('a field named signal inside json or searchParams is part of the key', async () => {
    const server = fakeServer()
    const order = (json: object, searchParams: object = {}): SluiceOptions => ({
      fetch: server.fetch,
      method: 'POST',
      json,
      searchParams: searchParams as Record<string, string>,
    })
    await render(<Query url="https://api.test/orders" options={order({ signal: 'buy' })} />)
    await until(() => server.calls.length === 1, 'the request is sent')
    await render(<Query url="https://api.test/orders" options={order({ signal: 'sell' })} />)
    await until(() => server.calls.length === 2, 'a new json signal field restarts the stream')
    await render(<Query url="https://api.test/orders" options={order({ signal: 'sell' }, { signal: 'x' })} />)
    await until(() => server.calls.length === 3, 'a new searchParams signal field restarts the stream')
    expect(server.calls[2]!.url).toBe('https://api.test/orders?signal=x')
    // The top-level signal option is not part of it: a new AbortSignal per render restarts nothing.
    const own = (): SluiceOptions => ({
      ...order({ signal: 'sell' }, { signal: 'x' }),
      signal: new AbortController().signal,
    })
    await render(<Query url="https://api.test/orders" options={own()} />)
    await render(<Query url="https://api.test/orders" options={own()} />)
    expect(server.calls).toHaveLength(3)
  })

  it('a value sent by its toJSON() or String() (a Temporal value, a class with private fields) is keyed by it', async () => {
    class Month {
      readonly #value: string
      constructor(value: string) {
        this.#value = value
      }
      toJSON(): string {
        return this.#value
      }
    }
    class Tag {
      readonly #value: string
      constructor(value: string) {
        this.#value = value
      }
      toString(): string {
        return this.#value
      }
    }
    const server = fakeServer()
    const report = (month: string, tag = 'a'): SluiceOptions => ({
      fetch: server.fetch,
      method: 'POST',
      json: { month: new Month(month) },
      searchParams: { tag: new Tag(tag) as unknown as string },
    })
    await render(<Query url="https://api.test/report" options={report('2026-10')} />)
    await until(() => server.calls.length === 1, 'the request is sent')
    // The same month again, a new object: nothing restarts.
    await render(<Query url="https://api.test/report" options={report('2026-10')} />)
    expect(server.calls).toHaveLength(1)
    await render(<Query url="https://api.test/report" options={report('2026-11')} />)
    await until(() => server.calls.length === 2, 'a new month restarts the stream')
    expect(server.calls[0]!.signal.aborted).toBe(true)
    await render(<Query url="https://api.test/report" options={report('2026-11', 'b')} />)
    await until(() => server.calls.length === 3, 'a new tag restarts the stream')
    expect(server.calls[2]!.url).toBe('https://api.test/report?tag=b')
  })

  it('a large json sent again as the same values is not serialised again on each render', async () => {
    const server = fakeServer()
    // A document that counts how often it is turned into JSON: for the key, and once more when sent.
    let serialised = 0
    const document = (month: string): object => ({
      toJSON: () => {
        serialised++
        return { month, rows: [1, 2, 3] }
      },
    })
    const report = (doc: object): SluiceOptions => ({
      fetch: server.fetch,
      method: 'POST',
      json: { doc },
      onProgress: () => {},
    })
    const doc = document('2026-10')
    // Written inline, as in a component: new sluice and json objects on every render, around the same document.
    await render(<Query url="https://api.test/report" options={report(doc)} />)
    await until(() => server.calls.length === 1, 'the request is sent')
    const once = serialised
    await render(<Query url="https://api.test/report" options={report(doc)} />)
    await render(<Query url="https://api.test/report" options={report(doc)} />)
    await render(<Query url="https://api.test/report" options={report(doc)} />)
    expect(serialised).toBe(once)
    // A new document with the same contents is serialised, and restarts nothing; a new month restarts.
    await render(<Query url="https://api.test/report" options={report(document('2026-10'))} />)
    expect([serialised, server.calls.length]).toEqual([once + 1, 1])
    await render(<Query url="https://api.test/report" options={report(document('2026-11'))} />)
    await until(() => server.calls.length === 2, 'a new month restarts the stream')
    expect(server.calls[0]!.signal.aborted).toBe(true)
  })

  it('a retry() kept from before the key changed, or from before unmount, starts nothing', async () => {
    const server = fakeServer()
    await render(<Query url="https://api.test/a" options={{ fetch: server.fetch }} />)
    await until(() => server.calls.length === 1, 'the first request is sent')
    const retryA = latest!.retry
    await render(<Query url="https://api.test/b" options={{ fetch: server.fetch }} />)
    await until(() => server.calls.length === 2, 'the second request is sent')
    const retryB = latest!.retry
    await act(async () => retryA())
    await act(() => new Promise<void>((resolve) => setTimeout(resolve, 20)))
    expect(server.calls.map((call) => call.url)).toEqual(['https://api.test/a', 'https://api.test/b'])
    await unmount()
    await act(async () => retryB())
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(server.calls).toHaveLength(2)
    expect(server.calls.every((call) => call.signal.aborted)).toBe(true)
  })

  it('aborting options.sluice.signal while connecting shows cancelled, whatever the reason', async () => {
    const own = new AbortController()
    await render(<Query url="https://api.test/a" options={{ fetch: silentFetch, signal: own.signal }} />)
    await until(() => status() === 'connecting', 'the request is connecting')
    await act(async () => own.abort('the user closed the panel'))
    await until(() => status() !== 'connecting', 'the request ends')
    expect([status(), latest!.error, latest!.progress.state]).toEqual(['cancelled', undefined, 'cancelled'])
  })

  it('a request function that returns a plain fetch() shows a TypeError saying what to return, and unmounts cleanly', async () => {
    await render(<Raw />)
    await until(() => status() === 'error', 'the error shows')
    expect(view.container.querySelector('span')?.textContent).toBe('error')
    expect(view.container.querySelector('i')?.textContent).toMatch(
      /resolved to a Response, not a StreamResponse.*sluice\(/,
    )
    await unmount()
  })

  it('a stream body made in render (file.stream()) streams once, and retry() sends a fresh one', async () => {
    const sent: string[] = []
    const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init)
      request.signal.throwIfAborted()
      sent.push(await request.text())
      return new Response(rows(sent.length), { headers: { 'content-type': 'application/x-ndjson' } })
    }) as typeof globalThis.fetch
    await render(<Upload file={new Blob(['report.csv'])} fetch={fetch} />)
    await until(() => status() === 'done', 'the upload is answered')
    expect(view.errors).toEqual([])
    expect(sent).toEqual(['report.csv'])
    expect(view.container.querySelector('span')?.textContent).toBe('1')
    await act(async () => view.container.querySelector('button')!.click())
    await until(() => sent.length === 2 && status() === 'done', 'the retried upload is answered')
    expect(sent).toEqual(['report.csv', 'report.csv'])
    expect(view.container.querySelector('span')?.textContent).toBe('2')
  })

  it('retry() from a button requests again and shows the new content', async () => {
    const server = fakeServer()
    await render(<Rows url="https://api.test/rows" fetch={server.fetch} />)
    await until(() => server.calls.length === 1, 'the request is sent')
    server.calls[0]!.push(rows(1))
    server.calls[0]!.fail(new TypeError('connection reset'))
    await until(() => status() === 'error', 'the error shows')
    expect(shown()).toEqual(['1'])
    await act(async () => view.container.querySelector('button')!.click())
    await until(() => server.calls.length === 2, 'the retry is sent')
    expect(shown()).toEqual([])
    server.calls[1]!.push(rows(1, 2))
    server.calls[1]!.close()
    await until(() => status() === 'done', 'the retried stream is done')
    expect(shown()).toEqual(['1', '2'])
  })
})

describe('useStreamStore', () => {
  it('renders a store made outside React, and unmounting leaves the store running', async () => {
    const server = fakeServer()
    const store = createStreamStore(
      (signal) => sluice('https://api.test/log', { fetch: server.fetch, signal }),
      { as: 'lines' },
    )
    await render(<Log store={store} />)
    await until(() => server.calls.length === 1, 'the request is sent')
    server.calls[0]!.push('a\n')
    await until(() => shown().length === 1, 'the first line shows')
    await unmount()
    expect(server.calls[0]!.cancels()).toBe(0)
    expect(store.getSnapshot().status).toBe('streaming')
    store.cancel()
    expect(server.calls[0]!.signal.aborted).toBe(true)
  })

  it('hydrates server HTML with the idle snapshot, though the store started before the page hydrated', async () => {
    const server = fakeServer()
    const request = (signal: AbortSignal): Promise<StreamResponse> =>
      sluice('https://api.test/log', { fetch: server.fetch, signal })
    // The server rendered a fresh store; the page's loader starts its own before React hydrates.
    const page = document.createElement('div')
    document.body.append(page)
    page.innerHTML = renderToString(<Log store={createStreamStore(request, { as: 'lines' })} />)
    const store = createStreamStore(request, { as: 'lines' })
    store.start()
    await until(() => server.calls.length === 1, 'the request is sent')
    server.calls[0]!.push('a\nb\n')
    await until(() => store.getSnapshot().items.length === 2, 'the store holds two lines')
    const errors: unknown[] = []
    let hydrated: Root | undefined
    await act(async () => {
      hydrated = hydrateRoot(page, <Log store={store} />, { onRecoverableError: (e) => errors.push(e) })
    })
    const lines = (): string[] => [...page.querySelectorAll('li')].map((li) => li.textContent ?? '')
    await until(() => lines().length === 2, 'the lines show after hydration')
    expect(errors).toEqual([])
    expect(lines()).toEqual(['a', 'b'])
    await act(async () => hydrated?.unmount())
    page.remove()
    store.cancel()
  })
})

function Limited({
  url,
  max,
  fetch,
}: {
  url: string
  max: number
  fetch: typeof globalThis.fetch
}): ReactNode {
  const { items, status } = useStream(url, {
    as: 'ndjson',
    schema: Row,
    maxItems: max,
    sluice: { fetch, retry: 0 },
  })
  return (
    <div>
      <output>{status}</output>
      <ul>
        {items.map((row) => (
          <li key={row.n}>{row.n}</li>
        ))}
      </ul>
    </div>
  )
}

/** A `Request` streamed with the given fetch; `latest` is the hook's result. */
function Send({ request, fetch }: { request: Request; fetch: typeof globalThis.fetch }): ReactNode {
  const result = useStream(request, { as: 'ndjson', sluice: { fetch, retry: 0 } })
  latest = result
  return <output>{result.status}</output>
}

/** A store made outside React; `latest` is the hook's result. */
function Tail({ store }: { store: StreamStore<string, undefined, undefined> }): ReactNode {
  const result = useStreamStore(store)
  latest = result as UseStreamResult
  return <output>{result.status}</output>
}

describe('useStream and useStreamStore, in detail', () => {
  it("a new key's stream takes the mode options of the render that changed the key", async () => {
    const server = fakeServer()
    await render(<Limited url="https://api.test/a" max={5} fetch={server.fetch} />)
    await until(() => server.calls.length === 1, 'the first request is sent')
    await render(<Limited url="https://api.test/b" max={1} fetch={server.fetch} />)
    await until(() => server.calls.length === 2, 'the second request is sent')
    server.calls[1]!.push(rows(1, 2, 3))
    server.calls[1]!.close()
    await until(() => status() === 'done', 'the new stream is done')
    expect(shown()).toEqual(['3'])
  })

  it('cancel(reason) aborts the request with that reason, and a new key or unmounting with an AbortError saying why', async () => {
    const server = fakeServer()
    await render(<Query url="https://api.test/a" options={{ fetch: server.fetch }} />)
    await until(() => server.calls.length === 1, 'the request is sent')
    await act(async () => latest!.cancel('closed by the user'))
    await until(() => status() === 'cancelled', 'the stream is cancelled')
    expect(server.calls[0]!.signal.reason).toBe('closed by the user')
    await render(<Query url="https://api.test/b" options={{ fetch: server.fetch }} />)
    await until(() => server.calls.length === 2, 'the second request is sent')
    // The component is still there: the reason must not say only that it unmounted.
    await render(<Query url="https://api.test/c" options={{ fetch: server.fetch }} />)
    await until(() => server.calls.length === 3, 'the third request is sent')
    await unmount()
    const why = 'The component using the stream unmounted, or its key changed.'
    for (const call of server.calls.slice(1)) {
      const reason = call.signal.reason as DOMException
      expect([reason.name, reason.message]).toEqual(['AbortError', why])
    }
  })

  it('unmounting while connecting aborts the request', async () => {
    const signals: AbortSignal[] = []
    const pending = ((input: RequestInfo | URL, init?: RequestInit) => {
      signals.push(new Request(input, init).signal)
      return silentFetch(input, init)
    }) as typeof globalThis.fetch
    await render(<Query url="https://api.test/a" options={{ fetch: pending }} />)
    await until(() => status() === 'connecting' && signals.length === 1, 'the request is connecting')
    await unmount()
    expect(signals.map((signal) => signal.aborted)).toEqual([true])
  })

  it('with options.sluice.signal given, a failed request is an error, not a cancellation', async () => {
    const own = new AbortController()
    const failing = (async () => {
      throw new TypeError('Failed to fetch')
    }) as typeof globalThis.fetch
    await render(<Query url="https://api.test/a" options={{ fetch: failing, signal: own.signal }} />)
    await until(() => status() !== 'connecting', 'the request ends')
    expect([status(), latest!.error === undefined, own.signal.aborted]).toEqual(['error', false, false])
  })

  it('retry() of a Request with a body sends the same body again', async () => {
    const bodies: string[] = []
    const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
      bodies.push(await new Request(input, init).text())
      return new Response('', { status: 500 })
    }) as typeof globalThis.fetch
    const request = new Request('https://api.test/report', { method: 'POST', body: 'month=10' })
    await render(<Send request={request} fetch={fetch} />)
    await until(() => status() === 'error', 'the first request fails')
    await act(async () => latest!.retry())
    await until(() => bodies.length === 2 && status() === 'error', 'the retried request fails')
    expect(bodies).toEqual(['month=10', 'month=10'])
  })
})

describe('useStreamStore, retry', () => {
  it("retry() is the store's: it requests again", async () => {
    const server = fakeServer()
    const store = createStreamStore(
      (signal) => sluice('https://api.test/log', { fetch: server.fetch, retry: 0, signal }),
      { as: 'lines' },
    )
    await render(<Tail store={store} />)
    await until(() => server.calls.length === 1, 'the request is sent')
    server.calls[0]!.push('x\n')
    server.calls[0]!.fail(new TypeError('connection reset'))
    await until(() => status() === 'error', 'the error shows')
    await act(async () => latest!.retry())
    await until(() => server.calls.length === 2, 'the retry is sent')
    server.calls[1]!.push('a\n')
    server.calls[1]!.close()
    await until(() => status() === 'done', 'the retried stream is done')
    expect(latest!.items).toEqual(['a'])
    store.cancel()
  })
})

describe('the request key', () => {
  const keyOf = (options: object, request: string | Request = 'https://api.test/a', as = 'ndjson'): string =>
    requestKey(as, request, options, undefined)
  const bytes = new Uint8Array([1, 2, 3, 4])

  it('tells apart what is sent differently', () => {
    const differ: Array<[string, string]> = [
      [
        requestKey('ndjson', 'https://api.test/a', {}, 'k'),
        requestKey('lines', 'https://api.test/a', {}, 'k'),
      ],
      [
        keyOf({}, new Request('https://api.test/a', { headers: { 'x-month': '10' } })),
        keyOf({}, new Request('https://api.test/a', { headers: { 'x-month': '11' } })),
      ],
      [
        keyOf({}, new Request('https://api.test/a')),
        keyOf({}, new Request('https://api.test/a', { method: 'DELETE' })),
      ],
      [keyOf({ json: { n: '1' } }), keyOf({ json: { n: 1 } })],
      [
        keyOf({ searchParams: new URLSearchParams('a=1&a=2') }),
        keyOf({ searchParams: new URLSearchParams('a=2&a=1') }),
      ],
      [keyOf({ body: new Blob(['ab']) }), keyOf({ body: new Blob(['abc']) })],
      [keyOf({ body: bytes.subarray(0, 2) }), keyOf({ body: bytes.subarray(2, 4) })],
      [keyOf({ body: new Uint8Array([1, 2]) }), keyOf({ body: new Uint8Array([3, 4]) })],
      [keyOf({}), keyOf({ body: new ReadableStream() })],
      [keyOf({ json: { since: new Date(0) } }), keyOf({ json: { since: new Date(Number.NaN) } })],
    ]
    expect(differ.filter(([a, b]) => a === b)).toEqual([])
  })

  it('is the same for what is sent the same', () => {
    const shared = { month: '2026-10' }
    const cycle = (): object => {
      const node: { name: string; self?: object } = { name: 'a' }
      node.self = node
      return node
    }
    const stream = new ReadableStream()
    const same: Array<[string, string]> = [
      [keyOf({ json: { a: 1, b: 2 } }), keyOf({ json: { b: 2, a: 1 } })],
      [keyOf({ json: { a: undefined, b: 2 } }), keyOf({ json: { b: 2 } })],
      [keyOf({ json: { a: shared, b: shared } }), keyOf({ json: { a: { ...shared }, b: { ...shared } } })],
      [keyOf({ json: { a: 1 } }), keyOf({ json: { a: 1 }, signal: new AbortController().signal })],
      [keyOf({ body: stream }), keyOf({ body: stream })],
      // Not comparable, and made in render (`file.stream()`): a new one every time is not a new request.
      [keyOf({ body: new ReadableStream() }), keyOf({ body: new ReadableStream() })],
      [keyOf({ context: cycle() }), keyOf({ context: cycle() })],
      // An invalid date is sent as null (JSON) or "Invalid Date" (a query string): a key, not a crash.
      [keyOf({ json: { since: new Date(Number.NaN) } }), keyOf({ json: { since: new Date(Number.NaN) } })],
    ]
    expect(same.filter(([a, b]) => a !== b)).toEqual([])
  })
})

/** The hook's key of `sluice` options for one URL; `keyed` is the last one. */
let keyed: string | undefined
function KeyOf({ sluice }: { sluice: object | undefined }): ReactNode {
  keyed = useRequestKey('ndjson', 'https://api.test/a', sluice, undefined)
  return null
}

describe('the request key, kept from render to render', () => {
  it('is the key of the inputs of this render, whatever the last render had', async () => {
    const shared = { month: '2026-10' }
    const items = [1, 2]
    const bare = (entries: object): object => Object.assign(Object.create(null), entries)
    // [1, <1 empty item>]: sent as [1,null].
    const holey = [1]
    holey.length = 2
    const pairs: Array<[object | undefined, object | undefined]> = [
      [{ json: shared }, undefined],
      [undefined, { json: shared }],
      [{ json: null }, { json: {} }],
      [{ json: [1] }, { json: { 0: 1 } }],
      [{ json: [1] }, { json: holey }],
      [{ json: { 0: 1 } }, { json: [1] }],
      [{ json: { x: undefined } }, { json: { y: 5 } }],
      [{ json: { items } }, { json: { items, more: 1 } }],
      [{ json: { items } }, { json: { items: [1, 3] } }],
      [{ json: { shared } }, { json: { shared: { ...shared, month: '2026-11' } } }],
      [{ json: bare({ a: 1 }) }, { json: bare({ a: 2 }) }],
      [{ json: new Date(0) }, { json: new Date(1) }],
      [{ searchParams: { tag: 'a' } }, { searchParams: { tag: 'b' } }],
      [{ json: { at: () => 1 } }, { json: { at: 1 } }],
      [
        { json: { at: 1 }, onProgress: () => {} },
        { json: { at: 2 }, onProgress: () => {} },
      ],
    ]
    for (const [before, after] of pairs) {
      await render(<KeyOf sluice={before} />)
      await render(<KeyOf sluice={after} />)
      expect([before, after, keyed]).toEqual([
        before,
        after,
        requestKey('ndjson', 'https://api.test/a', after, undefined),
      ])
      await unmount()
    }
  })
})

describe('useStream under <Activity>', () => {
  it('showing again restarts a stream the hiding interrupted, never one that had ended', async () => {
    const server = fakeServer()
    const page = (mode: 'visible' | 'hidden'): ReactNode => (
      <Activity mode={mode}>
        <Rows url="https://api.test/rows" fetch={server.fetch} />
      </Activity>
    )
    await render(page('visible'))
    await until(() => server.calls.length === 1, 'the request is sent')
    await render(page('hidden'))
    expect(server.calls[0]!.signal.aborted).toBe(true)
    await render(page('visible'))
    await until(() => server.calls.length === 2, 'showing again restarts the interrupted stream')
    server.calls[1]!.push(rows(1, 2))
    server.calls[1]!.close()
    await until(() => status() === 'done', 'the stream is done')
    await render(page('hidden'))
    await render(page('visible'))
    await act(() => new Promise<void>((resolve) => setTimeout(resolve, 20)))
    expect([server.calls.length, status(), shown()]).toEqual([2, 'done', ['1', '2']])
  })
})
