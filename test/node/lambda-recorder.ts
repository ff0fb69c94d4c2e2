import { Writable } from 'node:stream'
import { expect, vi } from 'vitest'
import {
  type Awslambda,
  type HttpResponseMetadata,
  type ResponseStream,
  streamSse,
} from '../../src/lambda/index.ts'

/** One thing that happened to a recorded response, in order. */
export type Happening = { type: 'prelude'; metadata: HttpResponseMetadata } | { type: 'write'; text: string }

/** An in-memory response stream that records its writes; optionally slow, to exercise backpressure. */
export class Recorder extends Writable implements ResponseStream {
  readonly chunks: Uint8Array[] = []
  readonly log: Happening[]
  contentType: string | undefined
  #delayMs: number

  constructor(options: { highWaterMark?: number; delayMs?: number; log?: Happening[] } = {}) {
    super({ highWaterMark: options.highWaterMark ?? 16_384 })
    this.#delayMs = options.delayMs ?? 0
    this.log = options.log ?? []
  }

  override _write(
    chunk: Uint8Array,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    this.chunks.push(new Uint8Array(chunk))
    this.log.push({ type: 'write', text: new TextDecoder().decode(chunk) })
    if (this.#delayMs > 0) setTimeout(callback, this.#delayMs)
    else callback()
  }

  setContentType(contentType: string): void {
    this.contentType = contentType
  }

  get bytes(): Uint8Array {
    const out = new Uint8Array(this.chunks.reduce((n, c) => n + c.byteLength, 0))
    let at = 0
    for (const chunk of this.chunks) {
      out.set(chunk, at)
      at += chunk.byteLength
    }
    return out
  }

  get text(): string {
    return new TextDecoder().decode(this.bytes)
  }
}

/** A fake `awslambda` that records each prelude into the same log as the recorder's writes. */
export function fakeAwslambda(log: Happening[] = []): {
  awslambda: Awslambda
  preludes: HttpResponseMetadata[]
  streamified: ({ highWaterMark?: number } | undefined)[]
} {
  const preludes: HttpResponseMetadata[] = []
  const streamified: ({ highWaterMark?: number } | undefined)[] = []
  const awslambda: Awslambda = {
    streamifyResponse: (handler, options) => {
      streamified.push(options)
      Object.defineProperty(handler, Symbol.for('aws.lambda.runtime.handler.streaming'), {
        value: 'response',
      })
      return handler
    },
    HttpResponseStream: {
      from(stream, metadata) {
        preludes.push(metadata)
        log.push({ type: 'prelude', metadata })
        return stream
      },
    },
  }
  return { awslambda, preludes, streamified }
}

/** A recorder and a fake runtime sharing one log. */
export function setup(options: { highWaterMark?: number; delayMs?: number } = {}): {
  stream: Recorder
  awslambda: Awslambda
  preludes: HttpResponseMetadata[]
  streamified: ({ highWaterMark?: number } | undefined)[]
  log: Happening[]
} {
  const log: Happening[] = []
  const stream = new Recorder({ ...options, log })
  return { stream, log, ...fakeAwslambda(log) }
}

/** A minimal function-URL event carrying the given headers and query string. */
export function request(
  headers: Record<string, string> = {},
  rawQueryString = '',
): {
  headers: Record<string, string>
  rawQueryString: string
} {
  return { headers, rawQueryString }
}

export const marker = (bytes: number): string => `{"$sluice":"end","bytes":${bytes}}\n`

/** Resolves once `check` holds, polling through the event loop (not timers, so fake timers stay put). */
export async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000 && !check(); i++) await new Promise((resolve) => setImmediate(resolve))
  if (!check()) throw new Error('The condition never held.')
}

/** What streamSse's refusal of `Last-Event-ID: 9` says, for a plain iterable. */
export const NO_SUCH_EVENT =
  'sluice/lambda: streamSse cannot continue after the Last-Event-ID: no event of its source (a plain iterable) has that id; replay the same events with the same ids, or pass a function (lastEventId) => events after it. The request carried Last-Event-ID "9".'

/**
 * streamSse over a plain iterable whose replay outlasts the first heartbeat (100 ms, timers faked), for a
 * `Last-Event-ID: 9` none of its events has: the heartbeat sends the 200 before the refusal is known. `options`
 * adds to streamSse's, given the recorder. Resolves once the helper has rejected with that refusal.
 */
export async function refusedAfterHeartbeat(
  options: (recorded: ReturnType<typeof setup>) => Record<string, unknown> = () => ({}),
): Promise<ReturnType<typeof setup>> {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
  const recorded = setup()
  recorded.stream.on('error', () => {})
  const gate = Promise.withResolvers<void>()
  async function* slow() {
    yield { id: '0', data: 'a' }
    await gate.promise
    yield { id: '1', data: 'b' }
  }
  const done = streamSse(recorded.stream, slow(), {
    awslambda: recorded.awslambda,
    heartbeatMs: 100,
    request: request({ 'last-event-id': '9' }),
    ...options(recorded),
  })
  const failed = expect(done).rejects.toThrow('cannot continue after the Last-Event-ID')
  await vi.advanceTimersByTimeAsync(100)
  await until(() => recorded.stream.text === ':\n\n')
  gate.resolve()
  await failed
  return recorded
}
