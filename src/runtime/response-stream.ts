import { ownBytes, toBytes } from './bytes.ts'
import { setContentTypeOf } from './content-type.ts'
import type { ResponseSink } from './response-sink.ts'
import { createWebResponseStream } from './response-stream-web.ts'
import type { ResponseStream, StreamCallback } from './types.ts'
import { endChunk, endsWithoutPrelude, invalidChunkError, writableChunk } from './write-chunk.ts'

/** The bits of `node:stream`'s `Writable` constructor this file uses, typed here to stay free of Node's types. */
interface WritableConstructor {
  new (options: {
    highWaterMark?: number
    write(this: ResponseStream, chunk: Uint8Array, encoding: string, callback: StreamCallback): void
    final(this: ResponseStream, callback: StreamCallback): void
    destroy(this: ResponseStream, error: Error | null, callback: StreamCallback): void
  }): ResponseStream
}

interface NodeProcess {
  getBuiltinModule?: (id: string) => unknown
}

/**
 * `node:stream`'s `Writable` when running on Node (≥ 22.3), found at run time so that this file has no `node:`
 * import and still loads in browsers and edge runtimes.
 */
function nodeWritable(): WritableConstructor | undefined {
  const process = (globalThis as { process?: NodeProcess }).process
  const stream = process?.getBuiltinModule?.('node:stream') as { Writable?: WritableConstructor } | undefined
  return stream?.Writable
}

/** Node's default, which is also what the Lambda runtime uses. */
const DEFAULT_HIGH_WATER_MARK = 16 * 1024

/**
 * Creates the `responseStream` a streaming handler writes to, feeding `sink`.
 *
 * On Node it is a real `stream.Writable`, so `pipeline(source, responseStream)` and every other stream utility
 * work with their usual backpressure; elsewhere it is the minimal writable described in
 * `response-stream-web.ts`. Both run `HttpResponseStream.from`'s `_onBeforeFirstWrite` as the runtime does: from
 * `write()` only, not from `end()` (see http-response-stream.ts).
 *
 * @example
 * const responseStream = createResponseStream(sink)
 * await handler(event, responseStream, context)
 */
export function createResponseStream(
  sink: ResponseSink,
  options: { highWaterMark?: number | undefined } = {},
): ResponseStream {
  const highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK
  const Writable = nodeWritable()
  if (!Writable) return createWebResponseStream(sink, highWaterMark)

  let started = false
  let ended = false
  // The runtime's write() runs the prelude hook before its first chunk, an empty one too; its end() never does. A
  // write after end() or destroy() fails, and so do the hook's writes there: nothing reaches the sink then.
  const start = (stream: ResponseStream) => {
    if (started || stream.writableEnded || stream.destroyed) return
    started = true
    stream._onBeforeFirstWrite?.((chunk) => sink.push(toBytes(chunk), () => {}))
  }
  const stream = new Writable({
    highWaterMark,
    write(chunk, _encoding, callback) {
      sink.push(ownBytes(chunk), (error) => callback(error ?? null))
    },
    final(callback) {
      ended = true
      sink.end()
      callback()
    },
    destroy(error, callback) {
      if (error) sink.fail(error)
      else if (!ended) sink.fail(new Error('The function destroyed its response stream before ending it.'))
      callback(error)
    },
  })
  // The runtime's write() JSON-encodes what is not text or bytes; its end(chunk) takes a string or bytes alone,
  // and ignores a falsy chunk (write-chunk.ts).
  const write = stream.write
  const end = stream.end as (this: ResponseStream, ...args: unknown[]) => ResponseStream
  stream.write = function (this: ResponseStream, chunk: unknown, ...rest: unknown[]): boolean {
    const writable = writableChunk(chunk)
    start(this)
    if (writable === undefined) throw invalidChunkError(writable)
    return (write as (this: ResponseStream, ...args: unknown[]) => boolean).call(this, writable, ...rest)
  } as ResponseStream['write']
  stream.end = function (this: ResponseStream, ...args: unknown[]): ResponseStream {
    const [chunk, encoding, callback] = typeof args[0] === 'function' ? [undefined, undefined, args[0]] : args
    const [charset, done] = typeof encoding === 'function' ? [undefined, encoding] : [encoding, callback]
    const last = endChunk(chunk)
    // end() sends no prelude: a response under HttpResponseStream.from ended before any write has none.
    if (endsWithoutPrelude(this, started)) sink.skippedPrelude = true
    if (last === undefined) return end.call(this, ...(done === undefined ? [] : [done]))
    return end.call(this, last, charset, done)
  } as ResponseStream['end']
  stream.setContentType = (contentType: string) => {
    setContentTypeOf(sink, contentType, { started, ended: stream.writableEnded })
  }
  // Errors the emulator inflicts (timeout, size cap) reach the handler through write callbacks and pipeline; this
  // listener keeps a handler that writes without listening from crashing the whole process, as it would not on AWS.
  stream.on('error', () => {})
  return stream
}
