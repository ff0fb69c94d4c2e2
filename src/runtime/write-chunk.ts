import type { ResponseStream } from './types.ts'

// What the Lambda Node.js runtime does with the chunks a handler hands its response stream, read from
// aws-lambda-nodejs-runtime-interface-client, src/ResponseStream.js (unchanged from 3.0.0 to 3.3.0). The stream
// is the runtime's `http.ClientRequest` to the Runtime API with `write` and `end` replaced:
//
//   req.write = function (chunk, encoding, callback) {
//     vvverbose('ResponseStream::write', chunk.length, 'callback:', typeof callback);
//     if (typeof chunk !== 'string' && !Buffer.isBuffer(chunk) && chunk?.constructor !== Uint8Array) {
//       chunk = JSON.stringify(chunk);
//     }
//     if (status === STATUS_READY && typeof this._onBeforeFirstWrite === 'function') {
//       this._onBeforeFirstWrite((ch) => origWrite(ch));
//     }
//     const ret = origWrite(chunk, encoding, callback);
//     ...
//   req.end = function (cb) { origEnd(cb); };
//
// So `write` JSON-encodes what is not text or bytes, and `end(chunk)` goes straight to Node's
// `OutgoingMessage.end`, which writes a truthy chunk as it is (a string or a Uint8Array, anything else throws
// ERR_INVALID_ARG_TYPE). That `end` also never calls `_onBeforeFirstWrite`, which the emulator copies (no prelude
// from end(); see http-response-stream.ts), and drops a callback given after a chunk, which it does not copy.

/** Whether a value is a Uint8Array (a Buffer, a subclass, or one from another realm), as Node's `isUint8Array`. */
function isUint8Array(value: unknown): value is Uint8Array {
  return ArrayBuffer.isView(value) && Object.prototype.toString.call(value) === '[object Uint8Array]'
}

interface BufferConstructorLike {
  isBuffer(value: unknown): boolean
}

/** The runtime's "string, Buffer or plain Uint8Array" test, which decides whether a chunk is JSON-encoded. */
function isTextOrBytes(chunk: unknown): chunk is string | Uint8Array {
  if (typeof chunk === 'string') return true
  const Buffer = (globalThis as { Buffer?: BufferConstructorLike }).Buffer
  if (Buffer?.isBuffer(chunk) === true) return true
  if ((chunk as { constructor?: unknown }).constructor === Uint8Array) return true
  // The runtime runs in one realm. A test environment can hand the mock a plain Uint8Array from another (an edge
  // runtime's VM), which the identity check above would JSON-encode: such bytes are written as bytes. A
  // subclass of Uint8Array, which the runtime does JSON-encode, is still JSON-encoded here.
  return isUint8Array(chunk) && (chunk.constructor as { name?: unknown }).name === 'Uint8Array'
}

/**
 * Turns what a handler passes to `responseStream.write` into what the runtime writes: strings and bytes as they
 * are, anything else as `JSON.stringify(chunk)` (an object, a number, a boolean, another typed array). Throws the
 * runtime's `TypeError` for `null` and `undefined` (it reads `chunk.length` first) and JSON.stringify's for a
 * BigInt or a cycle. Returns `undefined` for a chunk JSON has no text for (a function, a symbol): the runtime
 * writes the prelude, then its write of `undefined` throws {@link invalidChunkError}.
 *
 * @example
 * writableChunk({ n: 1 }) // '{"n":1}'
 * writableChunk(42) // '42'
 * writableChunk(() => {}) // undefined
 */
export function writableChunk(chunk: unknown): string | Uint8Array | undefined {
  if (chunk === null || chunk === undefined) {
    throw new TypeError(`Cannot read properties of ${chunk} (reading 'length')`)
  }
  if (isTextOrBytes(chunk)) return chunk
  return JSON.stringify(chunk) as string | undefined
}

/**
 * Checks what a handler passes to `responseStream.end(chunk)`: the runtime hands it to Node's
 * `OutgoingMessage.end` untouched, which ignores a falsy chunk (`''`, `0`, `null`) and refuses anything but a
 * string or a Uint8Array. Returns the chunk to write, or `undefined` for none; throws {@link invalidChunkError}.
 *
 * @example
 * endChunk('') // undefined: end() without a chunk
 * endChunk({ n: 1 }) // throws ERR_INVALID_ARG_TYPE
 */
export function endChunk(chunk: unknown): string | Uint8Array | undefined {
  if (!chunk) return undefined
  if (typeof chunk === 'string' || isUint8Array(chunk)) return chunk
  throw invalidChunkError(chunk)
}

/**
 * The `ERR_INVALID_ARG_TYPE` TypeError with which Node's `http.ClientRequest` (the runtime's response stream)
 * refuses a chunk that is neither a string nor a Uint8Array.
 *
 * @example
 * throw invalidChunkError(undefined) // The "chunk" argument must be … Received undefined
 */
export function invalidChunkError(value: unknown): TypeError {
  const error = new TypeError(
    `The "chunk" argument must be of type string or an instance of Buffer or Uint8Array. Received ${received(value)}`,
  ) as TypeError & { code: string }
  error.code = 'ERR_INVALID_ARG_TYPE'
  return error
}

/** How Node's argument errors name the value they got. */
function received(value: unknown): string {
  if (value === null || value === undefined) return String(value)
  if (typeof value === 'function') return value.name === '' ? 'function ' : `function ${value.name}`
  if (typeof value === 'object') {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name
    return typeof name === 'string' && name !== '' ? `an instance of ${name}` : 'an instance of Object'
  }
  const shown =
    typeof value === 'string' ? `'${value}'` : typeof value === 'bigint' ? `${value}n` : String(value)
  return `type ${typeof value} (${shown})`
}

/**
 * Whether `end()` now ends a stream under `HttpResponseStream.from` that never wrote: the runtime sends the prelude
 * from `write()` only, so that response has none (see http-response-stream.ts).
 *
 * @example
 * if (endsWithoutPrelude(stream, false)) sink.skippedPrelude = true
 */
export function endsWithoutPrelude(stream: ResponseStream, started: boolean): boolean {
  return (
    !started && !stream.writableEnded && !stream.destroyed && typeof stream._onBeforeFirstWrite === 'function'
  )
}
