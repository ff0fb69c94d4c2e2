/** Test helpers that build bodies chunk by chunk, so every test controls the exact chunk boundaries. */
import { isResumeError, type ResumeError } from '../../src/index.ts'

const encoder = new TextEncoder()

export type Part = string | Uint8Array

export function bytesOf(part: Part): Uint8Array {
  return typeof part === 'string' ? encoder.encode(part) : part
}

/** A pull-based body that yields `parts` one per pull and counts the pulls and the cancels. */
export function bodyOf(
  parts: Part[],
  after?: { error?: unknown },
): {
  stream: ReadableStream<Uint8Array>
  pulls: () => number
  cancelled: () => unknown
  cancels: () => number
} {
  let i = 0
  let pulls = 0
  let cancels = 0
  let cancelledWith: unknown
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        pulls++
        if (i < parts.length) controller.enqueue(bytesOf(parts[i++]!))
        else if (after?.error !== undefined) controller.error(after.error)
        else controller.close()
      },
      cancel(reason) {
        cancels++
        cancelledWith = reason ?? 'cancelled'
      },
    },
    { highWaterMark: 0 },
  )
  return { stream, pulls: () => pulls, cancelled: () => cancelledWith, cancels: () => cancels }
}

export function responseOf(parts: Part[], init: ResponseInit & { error?: unknown } = {}): Response {
  const { error, ...rest } = init
  return new Response(bodyOf(parts, error === undefined ? {} : { error }).stream, rest)
}

/** A `fetch` that answers every request with `respond(request)`; the seam sluice's `fetch` option takes. */
export function fetchWith(respond: (request: Request) => Response | Promise<Response>): typeof fetch {
  return (async (input: RequestInfo | URL, init?: RequestInit) =>
    respond(new Request(input, init))) as typeof fetch
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of iterable) out.push(item)
  return out
}

/** Reads a body until it fails: the text that arrived before, and the error (undefined after a clean end). */
export async function readUntilError(response: Response): Promise<{ text: string; error: unknown }> {
  const reader = response.body!.getReader()
  const decoder = new TextDecoder()
  let text = ''
  for (;;) {
    try {
      const { done, value } = await reader.read()
      if (done) return { text, error: undefined }
      text += decoder.decode(value, { stream: true })
    } catch (error) {
      return { text, error }
    }
  }
}

/** More parts than any transport buffers: a watched source that yields them all was never cancelled. */
export const PLENTY = 1_000_000

/** A source for a mock body that says how far it got and when it stopped. */
export interface WatchedSource<P> {
  /** A fresh async generator of `part(0)`, `part(1)`, … up to the count given. */
  parts: () => AsyncGenerator<P>
  /** Settles when the generator's `finally` has run: it ran out, or its consumer stopped it. */
  finished: Promise<void>
  /** How many parts it has yielded so far. */
  produced: () => number
}

export function watchedSource<P>(part: (n: number) => P, count: number): WatchedSource<P> {
  let produced = 0
  let stopped!: () => void
  const finished = new Promise<void>((resolve) => {
    stopped = resolve
  })
  return {
    parts: async function* () {
      try {
        for (let n = 0; n < count; n++, produced++) yield part(n)
      } finally {
        stopped()
      }
    },
    finished,
    produced: () => produced,
  }
}

/** A body whose chunks the test sends one by one, counting cancels. */
export function gatedBody(): {
  stream: ReadableStream<Uint8Array>
  push: (part: Part) => void
  close: () => void
  cancels: () => number
} {
  let controller!: ReadableStreamDefaultController<Uint8Array>
  let cancels = 0
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c
    },
    cancel() {
      cancels++
    },
  })
  return {
    stream,
    push: (part) => controller.enqueue(bytesOf(part)),
    close: () => controller.close(),
    cancels: () => cancels,
  }
}

/** Iterates to the end or the first error, keeping what was delivered. */
export async function drain<T>(iterable: AsyncIterable<T>): Promise<{ items: T[]; error: unknown }> {
  const items: T[] = []
  try {
    for await (const item of iterable) items.push(item)
  } catch (error) {
    return { items, error }
  }
  return { items, error: undefined }
}

/** The `data` of each event `events` gives, and the error that ended it (`undefined` when it ended cleanly). */
export async function eventData(
  events: AsyncIterable<{ data: string }>,
): Promise<{ data: string[]; error: unknown }> {
  const { items, error } = await drain(events)
  return { data: items.map((event) => event.data), error }
}

/** A `fetch` whose server never answers: a request stays connecting until its signal aborts. */
export const silentFetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
  const { signal } = new Request(input, init)
  return new Promise<Response>((_, reject) => {
    if (signal.aborted) reject(signal.reason)
    signal.addEventListener('abort', () => reject(signal.reason))
  })
}) as typeof fetch

/** A body of `parts` (strings sent, numbers waited in ms), counting cancels. */
export function pacedBody(parts: Array<string | number>): {
  stream: ReadableStream<Uint8Array>
  cancels: () => number
} {
  let cancels = 0
  const queue = [...parts]
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          const part = queue.shift()
          if (part === undefined) return controller.close()
          if (typeof part === 'number') {
            await new Promise((resolve) => setTimeout(resolve, part))
            continue
          }
          return controller.enqueue(new TextEncoder().encode(part))
        }
      },
      cancel() {
        cancels++
      },
    },
    { highWaterMark: 0 },
  )
  return { stream, cancels: () => cancels }
}

/** The error `promise` rejects with; fails the test if it fulfils, or rejects with something that is not an Error. */
export async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!(error instanceof Error)) throw new Error(`expected an error, got ${String(error)}`)
  return error
}

/** `body`'s first `upTo` bytes, then a failure like a dropped connection. */
export function droppedAfter(body: Uint8Array, upTo: number): ReadableStream<Uint8Array> {
  let sent = false
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (sent) return controller.error(new TypeError('network error (scripted drop)'))
        controller.enqueue(body.slice(0, upTo))
        sent = true
      },
    },
    { highWaterMark: 0 },
  )
}

/** The ResumeError `promise` rejects with; fails the test if it fulfils or rejects with anything else. */
export async function resumeError(promise: Promise<unknown>): Promise<ResumeError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!isResumeError(error)) throw new Error(`expected a ResumeError, got ${String(error)}`, { cause: error })
  return error
}
