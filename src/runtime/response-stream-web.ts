import { ownBytes, toBytes } from './bytes.ts'
import { setContentTypeOf } from './content-type.ts'
import type { ResponseSink } from './response-sink.ts'
import { encodeChunk } from './string-encoding.ts'
import type { ResponseStream, StreamCallback } from './types.ts'
import { endChunk, endsWithoutPrelude, invalidChunkError, writableChunk } from './write-chunk.ts'

type Listener = (...args: never[]) => void

/**
 * The `responseStream` handlers get where `node:stream` does not exist (browsers, edge runtimes): a minimal
 * writable with Node's surface for what handlers use —
 * - `write(chunk[, encoding][, callback])` → `boolean`, `false` meaning "wait for `'drain'`"; a string is written in
 *   `encoding` as Node writes it (string-encoding.ts);
 * - `end([chunk][, encoding][, callback])`, `destroy([error])`, `setContentType(type)`;
 * - events `'drain'`, `'finish'`, `'error'`, `'close'` through `on`, `once` and `off`;
 * - `writableEnded`, `writableFinished`, `destroyed`.
 * It is not a Node stream: `pipeline` and `Readable.pipe` are Node's and need Node.
 */
class WebResponseStream implements ResponseStream {
  #sink: ResponseSink
  #highWaterMark: number
  #listeners = new Map<string, Array<{ listener: Listener; once: boolean }>>()
  #unacked = 0
  #needDrain = false
  #started = false
  writableEnded = false
  writableFinished = false
  destroyed = false
  _onBeforeFirstWrite: ((write: (chunk: Uint8Array | string) => void) => void) | undefined

  constructor(sink: ResponseSink, highWaterMark: number) {
    this.#sink = sink
    this.#highWaterMark = highWaterMark
  }

  write(
    chunk: Uint8Array | string,
    encodingOrCallback?: string | StreamCallback,
    callback?: StreamCallback,
  ): boolean {
    const [encoding, done] =
      typeof encodingOrCallback === 'function'
        ? [undefined, encodingOrCallback]
        : [encodingOrCallback, callback]
    // As the runtime's write(): what is not text or bytes is JSON-encoded (write-chunk.ts), and the prelude goes
    // before the first chunk, an empty one too (end() never sends it). Node's Writable then refuses an unknown
    // encoding, after the prelude went out.
    const writable = writableChunk(chunk)
    this.#start()
    if (writable === undefined) throw invalidChunkError(writable)
    return this.#write(encodeChunk(writable, encoding), done)
  }

  #write(chunk: Uint8Array | string, done: StreamCallback | undefined): boolean {
    if (this.writableEnded || this.destroyed) {
      const error = new Error('The response stream was written after it ended.')
      queueMicrotask(() => done?.(error))
      this.#emit('error', error)
      return false
    }
    const bytes = ownBytes(chunk)
    this.#unacked += bytes.length
    this.#sink.push(bytes, (error) => {
      this.#unacked -= bytes.length
      done?.(error ?? null)
      if (error) {
        this.destroy(error)
        return
      }
      if (this.#needDrain && this.#unacked < this.#highWaterMark) {
        this.#needDrain = false
        this.#emit('drain')
      }
      this.#maybeFinish()
    })
    const ok = this.#unacked < this.#highWaterMark
    if (!ok) this.#needDrain = true
    return ok
  }

  end(
    chunkOrCallback?: Uint8Array | string | (() => void),
    encodingOrCallback?: string | (() => void),
    callback?: () => void,
  ): this {
    const done = [chunkOrCallback, encodingOrCallback, callback].find((value) => typeof value === 'function')
    // As the runtime's end(chunk): a string or bytes alone, a falsy chunk ignored (write-chunk.ts).
    const last = typeof chunkOrCallback === 'function' ? undefined : endChunk(chunkOrCallback)
    const encoding = typeof encodingOrCallback === 'function' ? undefined : encodingOrCallback
    // Node's end(chunk, encoding) refuses an unknown encoding before it ends anything.
    const encoded = last === undefined ? undefined : encodeChunk(last, encoding)
    // end() sends no prelude: a response under HttpResponseStream.from ended before any write has none.
    if (endsWithoutPrelude(this, this.#started)) this.#sink.skippedPrelude = true
    if (encoded !== undefined) this.#write(encoded, undefined)
    if (this.writableEnded || this.destroyed) return this
    this.writableEnded = true
    if (done) this.once('finish', done)
    this.#sink.end()
    this.#maybeFinish()
    return this
  }

  setContentType(contentType: string): void {
    setContentTypeOf(this.#sink, contentType, { started: this.#started, ended: this.writableEnded })
  }

  destroy(error?: Error): this {
    if (this.destroyed) return this
    this.destroyed = true
    if (error) this.#sink.fail(error)
    else if (!this.writableEnded)
      this.#sink.fail(new Error('The function destroyed its response stream before ending it.'))
    queueMicrotask(() => {
      if (error) this.#emit('error', error)
      this.#emit('close')
    })
    return this
  }

  on(event: string, listener: Listener): this {
    this.#add(event, listener, false)
    return this
  }

  once(event: string, listener: Listener): this {
    this.#add(event, listener, true)
    return this
  }

  off(event: string, listener: Listener): this {
    const list = this.#listeners.get(event) ?? []
    const at = list.findIndex((entry) => entry.listener === listener)
    if (at !== -1) list.splice(at, 1)
    return this
  }

  #add(event: string, listener: Listener, once: boolean): void {
    const list = this.#listeners.get(event) ?? []
    list.push({ listener, once })
    this.#listeners.set(event, list)
  }

  #emit(event: string, ...args: unknown[]): void {
    const list = this.#listeners.get(event)
    if (!list) return
    for (const entry of [...list]) {
      if (entry.once) this.off(event, entry.listener)
      ;(entry.listener as (...values: unknown[]) => void)(...args)
    }
  }

  #start(): void {
    // A write after end() or destroy() fails, and so would the prelude's writes: nothing reaches the sink then.
    if (this.#started || this.writableEnded || this.destroyed) return
    this.#started = true
    this._onBeforeFirstWrite?.((chunk) => this.#sink.push(toBytes(chunk), () => {}))
  }

  #maybeFinish(): void {
    if (!this.writableEnded || this.writableFinished || this.#unacked > 0 || this.destroyed) return
    this.writableFinished = true
    queueMicrotask(() => {
      this.#emit('finish')
      this.#emit('close')
    })
  }
}

/**
 * Creates the minimal writable `responseStream` used where `node:stream` is missing.
 *
 * @example
 * const responseStream = createWebResponseStream(sink, 16 * 1024)
 * responseStream.end('ok')
 */
export function createWebResponseStream(sink: ResponseSink, highWaterMark: number): ResponseStream {
  return new WebResponseStream(sink, highWaterMark)
}
