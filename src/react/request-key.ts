import { must } from '../core/options.ts'

/**
 * The identity of a `useStream()` request: equal keys mean the same stream, a new key means cancel and restart.
 * An explicit `key` wins. A URL or `Request` is keyed by its URL, method and headers plus a stable serialisation
 * of every non-function sluice option (object keys sorted, so `{ a, b }` and `{ b, a }` agree). A request
 * function is not keyed by its identity — an inline one is new on every render — but by the mode alone: it
 * restarts only when the caller's `key` changes. Functions inside the options (`fetch`, `hooks`, `onProgress`,
 * a ky instance) and the top-level `signal` option are not part of it; a field named `signal` in `json`,
 * `searchParams` or `headers` is. Of a stream body, only that there is one.
 */
export function requestKey(
  as: string,
  request: string | URL | Request | ((signal: AbortSignal) => unknown),
  sluiceOptions: object | undefined,
  key: string | undefined,
): string {
  if (key !== undefined) {
    // For code the types do not check: an object (`{ month }`, as a query key elsewhere) would read
    // "[object Object]" for every value, and the stream would never restart on new inputs.
    must(typeof key === 'string', 'useStream(): key', 'a string', key, TypeError)
    return `key ${as} ${key}`
  }
  if (typeof request === 'function') return `function ${as}`
  const target =
    request instanceof Request
      ? `${request.method} ${request.url} ${serialise(request.headers, new Set())}`
      : String(request)
  // Only sluice's own `signal` option is left out: it cancels, it does not say what is requested.
  const { signal: _signal, ...rest } = (sluiceOptions ?? {}) as { signal?: unknown }
  return `url ${as} ${target} ${serialise(rest, new Set())}`
}

function serialise(value: unknown, seen: Set<object>): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value)
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value)
    case 'undefined':
    case 'function':
    case 'symbol':
      return '-'
  }
  if (value === null) return 'null'
  const object = value as object
  if (seen.has(object)) return '<cycle>'
  if (typeof AbortSignal !== 'undefined' && object instanceof AbortSignal) return '-'
  if (object instanceof URL) return JSON.stringify(object.href)
  // An invalid date has no ISO string: JSON sends it as null, a query string as "Invalid Date".
  if (object instanceof Date) return `date ${object.getTime()}`
  if (object instanceof Headers || object instanceof URLSearchParams || object instanceof FormData) {
    const entries = [...object.entries()].map(([k, v]) => `${k}=${serialise(v, seen)}`)
    if (object instanceof Headers) entries.sort()
    return `${object.constructor.name}(${entries.join('&')})`
  }
  if (typeof Blob !== 'undefined' && object instanceof Blob) {
    return `blob ${object.size} ${object.type} ${object instanceof File ? object.name : ''}`
  }
  if (object instanceof ArrayBuffer) return `bytes ${hash(new Uint8Array(object))}`
  if (ArrayBuffer.isView(object)) {
    return `bytes ${hash(new Uint8Array(object.buffer, object.byteOffset, object.byteLength))}`
  }
  // A stream body cannot be compared: keyed by identity, one made in render (`file.stream()`), new every time,
  // would restart forever. As an async iterable body, it is not part of the key: give a `key` to restart on one.
  if (object instanceof ReadableStream) return 'stream'
  // What is sent is what JSON.stringify makes of it (a Temporal value, a class with private fields and a
  // toJSON): that, not its own keys, which may be none.
  const { toJSON } = object as { toJSON?: unknown }
  if (typeof toJSON === 'function') {
    const json: unknown = toJSON.call(object, '')
    if (json !== object) return `json ${serialise(json, seen)}`
  }
  seen.add(object)
  const out = Array.isArray(object)
    ? `[${object.map((item) => serialise(item, seen)).join(',')}]`
    : serialiseRecord(object as Record<string, unknown>, seen)
  seen.delete(object)
  return out
}

function serialiseRecord(record: Record<string, unknown>, seen: Set<object>): string {
  const names = Object.keys(record)
  // A value with no keys of its own that prints itself: query strings and headers get its String().
  if (
    names.length === 0 &&
    typeof record.toString === 'function' &&
    record.toString !== Object.prototype.toString
  )
    return `string ${JSON.stringify(String(record))}`
  const parts: string[] = []
  for (const name of names.sort()) {
    const item = record[name]
    if (item === undefined || typeof item === 'function') continue
    parts.push(`${JSON.stringify(name)}:${serialise(item, seen)}`)
  }
  return `{${parts.join(',')}}`
}

/** FNV-1a over the bytes, with the length: cheap, and enough to tell request bodies apart between renders. */
function hash(bytes: Uint8Array): string {
  let h = 0x811c9dc5
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!
    h = Math.imul(h, 0x01000193)
  }
  return `${bytes.length}:${(h >>> 0).toString(16)}`
}
