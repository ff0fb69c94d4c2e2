/**
 * A fake server behind an injected `fetch` whose every step the test takes by hand: a request waits until the
 * test answers it (or refuses it with an HTTP status), and an answered body sends only what the test pushes.
 * It honours the request's signal as a real `fetch` does (a waiting request rejects with its reason, an open body
 * errors with it), and it counts the cancels of each body: what model-based tests of the store and of
 * `useStream()` drive, step by step.
 */
import { bytesOf, type Part } from './streams.ts'

/**
 * Where one request is: waiting for an answer, reading its body, or over: the test closed or failed the body,
 * refused the request, reset it before its headers, the request's signal aborted it, or its reader cancelled the
 * body.
 */
export type ExchangeState =
  | 'waiting'
  | 'open'
  | 'closed'
  | 'failed'
  | 'refused'
  | 'reset'
  | 'aborted'
  | 'cancelled'

/** One request the server received, and the test's hand on its answer. */
export interface Exchange {
  readonly request: Request
  readonly signal: AbortSignal
  /** The start of a `Range: bytes=N-` header, if there is one. */
  readonly rangeStart: number | undefined
  readonly lastEventId: string | null
  state(): ExchangeState
  /** Answers with a streamed body: only what `push` sends. */
  answer(init?: ResponseInit): void
  /** Answers with `status`, a short text body and `headers` (say, `Retry-After`). */
  refuse(status: number, headers?: Record<string, string>): void
  /** Fails the request before its headers, as `fetch` does when the server accepts and closes or resets. */
  reset(error: unknown): void
  push(part: Part): void
  close(): void
  fail(error: unknown): void
  /** How often the body's reader cancelled it: a released connection says 1, never more. */
  cancels(): number
}

export interface ManualServer {
  readonly fetch: typeof fetch
  readonly exchanges: readonly Exchange[]
  /** The exchanges still waiting for an answer or reading their body. */
  live(): Exchange[]
}

export function manualServer(): ManualServer {
  const exchanges: Exchange[] = []
  const fetch = ((input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init)
    const { signal } = request
    if (signal.aborted) return Promise.reject(signal.reason)
    let state: ExchangeState = 'waiting'
    let cancels = 0
    let controller: ReadableStreamDefaultController<Uint8Array> | undefined
    let settle!: { resolve: (response: Response) => void; reject: (error: unknown) => void }
    const answered = new Promise<Response>((resolve, reject) => {
      settle = { resolve, reject }
    })
    const ensure = (expected: ExchangeState, what: string): void => {
      if (state !== expected) throw new Error(`manualServer: cannot ${what} ${request.url}: it is ${state}.`)
    }
    signal.addEventListener('abort', () => {
      if (state === 'waiting') settle.reject(signal.reason)
      else if (state === 'open') controller?.error(signal.reason)
      else return
      state = 'aborted'
    })
    const range = /^bytes=(\d+)-$/.exec(request.headers.get('range') ?? '')
    const exchange: Exchange = {
      request,
      signal,
      rangeStart: range ? Number(range[1]) : undefined,
      lastEventId: request.headers.get('last-event-id'),
      state: () => state,
      answer(responseInit) {
        ensure('waiting', 'answer')
        state = 'open'
        const body = new ReadableStream<Uint8Array>({
          start(c) {
            controller = c
          },
          cancel() {
            cancels++
            if (state === 'open') state = 'cancelled'
          },
        })
        settle.resolve(new Response(body, responseInit))
      },
      refuse(status, headers) {
        ensure('waiting', 'refuse')
        state = 'refused'
        settle.resolve(new Response(`refused with ${status}`, headers ? { status, headers } : { status }))
      },
      reset(error) {
        ensure('waiting', 'reset')
        state = 'reset'
        settle.reject(error)
      },
      push(part) {
        ensure('open', 'push to')
        controller!.enqueue(bytesOf(part))
      },
      close() {
        ensure('open', 'close')
        state = 'closed'
        controller!.close()
      },
      fail(error) {
        ensure('open', 'fail')
        state = 'failed'
        controller!.error(error)
      },
      cancels: () => cancels,
    }
    exchanges.push(exchange)
    return answered
  }) as typeof globalThis.fetch
  return {
    fetch,
    exchanges,
    live: () => exchanges.filter((e) => e.state() === 'waiting' || e.state() === 'open'),
  }
}

/** What a dropped connection's body fails with in Node's `fetch`. */
export const DROP = new TypeError('terminated')

/** What Node's `fetch` rejects with when the server accepts the connection and resets it before the headers. */
export const RESET = new TypeError('fetch failed', {
  cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
})

/** One macrotask turn: not a timer where there is better (Node's wait a millisecond, a browser's nested ones 4). */
export function turn(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((resolve) => setImmediate(resolve))
  const channel = new MessageChannel()
  return new Promise((resolve) => {
    channel.port1.onmessage = () => {
      channel.port1.close()
      resolve()
    }
    channel.port2.postMessage(undefined)
  })
}
const timer = () => new Promise((resolve) => setTimeout(resolve, 0))

/**
 * Lets everything a step started happen: a read through the stream layers, and while `due` (a reconnect's zero
 * backoff has not run yet), its timer.
 */
export async function settle(due: () => boolean = () => true): Promise<void> {
  for (let k = 0; k < 4; k++) await turn()
  for (let round = 0; round < 5 && due(); round++) {
    await timer()
    for (let k = 0; k < 4; k++) await turn()
  }
}

/** What the server does in a model's schedule (the models of resume and of `tee()` under resume). */
export type ServerCommand =
  | { t: 'answer' }
  | { t: 'busy' }
  | { t: 'push'; n: number }
  | { t: 'close' }
  | { t: 'cut' }
  | { t: 'drop'; answer: boolean }
  | { t: 'reset' }
  | { t: 'odd'; how: OddAnswer }

/**
 * An answer to a Range that a careless server gives: `changed`, another version of the resource (another complete
 * length, the same ETag); `short`, a `Content-Length` shorter than the `Content-Range` it gives, which ends the
 * answer there.
 */
export type OddAnswer = 'changed' | 'short'

/** A model's server: the exchange being answered, how it answers one, and the bytes each answer has left. */
export interface ModelServer {
  current(): Exchange | undefined
  answer(exchange: Exchange): void
  left: Map<Exchange, Uint8Array>
  /** Whether a reconnect is due (see `settle`). */
  due(): boolean
  /** Whether answers declare their length (Content-Length): only then is a close short of it a cut. */
  declared: boolean
  /** Refuses `exchange` with a 503, or says it may not be refused. */
  busy(exchange: Exchange): boolean
  /** Resets `exchange` before its headers, or says it may not be reset (a model without resets leaves it out). */
  reset?(exchange: Exchange): boolean
  /** Answers `exchange` as a careless server would (see `answerAsModel`), or says it cannot (or leaves it out). */
  odd?(exchange: Exchange, how: OddAnswer): boolean
}

const SERVER_COMMANDS = new Set(['answer', 'busy', 'push', 'close', 'cut', 'drop', 'reset', 'odd'])

export function isServerCommand(command: { t: string }): command is ServerCommand {
  return SERVER_COMMANDS.has(command.t)
}

/** Takes a server's step; false when it does not apply where the exchange stands (the schedule skips it). */
export async function serverStep(command: ServerCommand, m: ModelServer): Promise<boolean> {
  const exchange = m.current()
  switch (command.t) {
    case 'answer':
      if (exchange?.state() === 'waiting') m.answer(exchange)
      return true
    case 'busy':
      return exchange?.state() === 'waiting' && m.busy(exchange)
    case 'reset':
      return exchange?.state() === 'waiting' && m.reset?.(exchange) === true
    case 'odd':
      return exchange?.state() === 'waiting' && m.odd?.(exchange, command.how) === true
    case 'push': {
      // A request still waiting is answered first.
      if (exchange?.state() === 'waiting') {
        m.answer(exchange)
        await settle(m.due)
      }
      const rest = exchange && m.left.get(exchange)
      if (exchange?.state() !== 'open' || rest === undefined || rest.length === 0) return false
      exchange.push(rest.slice(0, command.n))
      m.left.set(exchange, rest.subarray(command.n))
      return true
    }
    case 'close':
      if (exchange?.state() === 'open' && m.left.get(exchange)?.length === 0) exchange.close()
      return true
    case 'cut':
      // An answer that ends short of the length it declared: a drop too. (Without one it would be the end.)
      if (!m.declared || exchange?.state() !== 'open' || m.left.get(exchange)?.length === 0) return false
      exchange.close()
      return true
    case 'drop':
      if (exchange?.state() !== 'open') return false
      exchange.fail(DROP)
      if (command.answer) {
        await settle(m.due)
        const again = m.current()
        if (again?.state() === 'waiting') m.answer(again)
      }
      return true
  }
}

/** The server's step once a schedule is over: answers the request waiting, or sends the rest, or ends the answer. */
export async function serveRest(m: ModelServer): Promise<void> {
  const exchange = m.current()
  if (exchange?.state() === 'waiting') m.answer(exchange)
  else if (exchange?.state() === 'open') {
    const rest = m.left.get(exchange)!
    if (rest.length > 0) {
      exchange.push(rest.slice())
      m.left.set(exchange, rest.subarray(rest.length))
    } else exchange.close()
  }
  await settle(m.due)
}
