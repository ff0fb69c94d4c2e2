/**
 * The two function URLs sluice ships — `serve()` from `sluice/dev` over real HTTP and `functionUrl()` from
 * `sluice/mock` under msw/node — driven with the same handler and the same request, and what a client saw of each:
 * status, headers, body bytes, how the body ended, the invocations' outcomes and log lines.
 *
 * The mock answers at a function URL of its own ({@link MOCK_BASE}), not at the emulator's: msw/node intercepts
 * connections, so a request to the emulator's origin could ride a kept-alive connection from the emulator's
 * exchange straight to the real server. Requests to the emulator go through the `fetch` taken before msw patched it.
 */
import { setupServer } from 'msw/node'
import { serve } from '../../src/dev/index.ts'
import { functionUrl } from '../../src/mock/function-url.ts'
import type {
  AnyLambdaHandler,
  Invocation,
  InvocationOutcome,
  Limits,
  Shaping,
} from '../../src/runtime/index.ts'
import type { ResponseSink } from '../../src/runtime/response-sink.ts'
import { concatBytes } from './chunking.ts'

/** The `fetch` msw has not patched: taken when this module loads, before any `listen()`. */
const realFetch = globalThis.fetch

/** Where the mock answers. */
export const MOCK_BASE = 'https://twin.lambda-url.eu-west-1.on.aws/'

/** How the client saw the body end. */
export type Ending =
  /** The body ended cleanly. */
  | 'end'
  /** The body read failed: the connection was cut. */
  | 'cut'
  /** `fetch()` itself rejected: no status reached the client. */
  | 'rejected'
  /** The client cancelled the body, as the request asked. */
  | 'cancelled'
  /** Nothing happened within the guard time: a hang, reported as such rather than as a test timeout. */
  | 'stuck'

/** What one request to one transport gave. */
export interface Seen {
  /** The function URL that answered, ending with `/`. */
  base: string
  status: number
  /** Response headers as the client's `Headers` has them (lower-case names, repeated ones joined), sorted. */
  headers: Array<[string, string]>
  setCookies: string[]
  body: Uint8Array
  ending: Ending
  /** The client's error, for `cut`, `rejected` and `stuck`. */
  error?: string
  /** The invocations started for the request (none for a 413), with how each ended. */
  invocations: Array<{ requestId: string; outcome: InvocationOutcome }>
  /** The log lines, each invocation's request id replaced by `<id>`. */
  log: string[]
}

/** A request, as both transports are sent it. */
export interface TwinRequest {
  method: string
  /** Path and query relative to the function URL, as `./report?month=10`. */
  path: string
  headers: Array<[string, string]>
  /** Chunks are sent as a stream (chunked transfer encoding). */
  body?: string | Uint8Array | Uint8Array[] | undefined
  /** Cancel the response body once this many bytes of it arrived (0: right after the head). */
  cancelAfter?: number | undefined
}

export interface TwinOptions {
  limits: Limits
  shaping: Shaping | false
}

/** How long a client waits for a whole exchange before calling it stuck. */
const GUARD_MS = 6_000

export interface Twins {
  /** Starts msw/node; call in `beforeAll`. */
  listen(): void
  /** Stops msw/node; call in `afterAll`. */
  close(): void
  /**
   * Runs a handler for `request` behind the emulator, then behind the mock: `handlerFor` makes each transport its
   * own (from one script), so that each records what it saw.
   */
  run(
    handlerFor: (transport: 'dev' | 'mock') => AnyLambdaHandler,
    request: TwinRequest,
    options: TwinOptions,
  ): Promise<{ dev: Seen; mock: Seen }>
}

/** Creates the pair; one per test file. */
export function functionUrlTwins(): Twins {
  const msw = setupServer()
  return {
    listen: () => msw.listen({ onUnhandledFrame: 'error' }),
    close: () => msw.close(),
    async run(handlerFor, request, { limits, shaping }) {
      const dev = collector()
      const server = await serve(handlerFor('dev'), {
        limits,
        shaping,
        log: dev.log,
        onInvocation: dev.onInvocation,
      })
      try {
        const devSeen = await exchange(realFetch, server.url, request, dev)
        const mock = collector()
        msw.resetHandlers(
          functionUrl(MOCK_BASE, handlerFor('mock'), {
            limits,
            shaping,
            log: mock.log,
            onInvocation: mock.onInvocation,
          }),
        )
        const mockSeen = await exchange(globalThis.fetch, MOCK_BASE, request, mock)
        return { dev: devSeen, mock: mockSeen }
      } finally {
        msw.resetHandlers()
        await server.close()
      }
    },
  }
}

interface Collector {
  log: (line: string) => void
  onInvocation: (invocation: Invocation) => void
  lines: string[]
  invocations: Invocation[]
}

function collector(): Collector {
  const lines: string[] = []
  const invocations: Invocation[] = []
  return {
    lines,
    invocations,
    log: (line) => lines.push(line),
    onInvocation: (invocation) => invocations.push(invocation),
  }
}

async function exchange(
  fetcher: typeof fetch,
  base: string,
  request: TwinRequest,
  collected: Collector,
): Promise<Seen> {
  const guard = AbortSignal.timeout(GUARD_MS)
  const init: RequestInit = { method: request.method, headers: request.headers, signal: guard }
  if (Array.isArray(request.body)) {
    const chunks = request.body
    init.body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(chunk)
        controller.close()
      },
    })
    ;(init as { duplex?: 'half' }).duplex = 'half'
  } else if (request.body !== undefined) init.body = request.body as BodyInit
  let response: Response
  const seen: Seen = {
    base,
    status: 0,
    headers: [],
    setCookies: [],
    body: new Uint8Array(0),
    ending: 'end',
    invocations: [],
    log: [],
  }
  try {
    response = await fetcher(new URL(request.path, base), init)
  } catch (error) {
    seen.ending = guard.aborted ? 'stuck' : 'rejected'
    seen.error = describe(error)
    return finish(seen, collected)
  }
  seen.status = response.status
  seen.headers = [...response.headers].filter(([name]) => name !== 'set-cookie').sort(byName)
  seen.setCookies = response.headers.getSetCookie()
  const chunks: Uint8Array[] = []
  if (response.body) {
    const reader = response.body.getReader()
    let received = 0
    try {
      for (;;) {
        if (request.cancelAfter !== undefined && received >= request.cancelAfter) {
          await reader.cancel()
          seen.ending = 'cancelled'
          break
        }
        const { done, value } = await reader.read()
        if (done) break
        chunks.push(value)
        received += value.length
      }
    } catch (error) {
      seen.ending = guard.aborted ? 'stuck' : 'cut'
      seen.error = describe(error)
    }
  }
  seen.body = concatBytes(chunks)
  return finish(seen, collected)
}

async function finish(seen: Seen, collected: Collector): Promise<Seen> {
  for (const invocation of collected.invocations) {
    const outcome = await Promise.race([
      invocation.finished,
      new Promise<InvocationOutcome>((resolve) =>
        setTimeout(
          () => resolve({ state: 'failed', error: new Error('(the invocation never finished)') }),
          GUARD_MS,
        ).unref(),
      ),
    ])
    seen.invocations.push({ requestId: invocation.requestId, outcome })
  }
  seen.log = collected.lines.map((line) =>
    collected.invocations.reduce((text, { requestId }) => text.replaceAll(requestId, '<id>'), line),
  )
  return seen
}

function byName(a: [string, string], b: [string, string]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : ''
  return `${error.name}: ${error.message}${cause}`
}

/** What a response sink received, as text; an error shows as `<error: message>` after the bytes before it. */
export async function drainSink(sink: ResponseSink): Promise<string> {
  const decoder = new TextDecoder()
  let out = ''
  for (;;) {
    const item = await sink.next()
    if (item.type === 'end') return out
    if (item.type === 'error') return `${out}<error: ${item.error.message}>`
    out += decoder.decode(item.chunk, { stream: true })
  }
}
