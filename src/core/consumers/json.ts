import type { DeepPartial } from '../decoders/partial-json-types.ts'
import { isCompleteIn } from '../decoders/snapshot-completeness.ts'
import { bytesBefore, DECODE_SLICE_BYTES, Utf8Decoder } from '../decoders/utf8.ts'
import { MAX_TIMER_MS, must } from '../options.ts'
import { type StandardSchemaV1, validate } from '../schema.ts'
import { type ConsumeContext, halt, inBody, STOPPED, settle, untilStopped } from './context.ts'

/** Options of `res.json()`. */
export interface JsonOptions {
  /**
   * Minimum time between two snapshots, in ms; the final snapshot is always delivered. Use it for documents
   * with large flat arrays, where each snapshot costs O(n) (copy-on-write along the changed path). Default 0.
   */
  throttleMs?: number | undefined
  /** Deepest nesting accepted → `LimitError` (`maxDepth`). Default 512. */
  maxDepth?: number | undefined
}

/** Throws a `RangeError` naming `where` for an option of `json()` it cannot take. */
export function checkJsonOptions({ throttleMs, maxDepth }: JsonOptions, where: string): void {
  must(
    throttleMs === undefined ||
      (typeof throttleMs === 'number' && throttleMs >= 0 && throttleMs <= MAX_TIMER_MS),
    `${where}: throttleMs`,
    `a number of milliseconds from 0 to ${MAX_TIMER_MS}`,
    throttleMs,
  )
  must(
    maxDepth === undefined || (Number.isSafeInteger(maxDepth) && maxDepth > 0),
    `${where}: maxDepth`,
    'a positive integer',
    maxDepth,
  )
}

/** A partial snapshot and what is known about its completeness. */
export interface JsonSnapshotInfo {
  /** Whether the value at `path` is finished (closing quote or bracket seen, number delimited). */
  isComplete(path: readonly (string | number)[]): boolean
  /** The path of the innermost unfinished value; every value not on it is complete. */
  openPath(): readonly (string | number)[] | undefined
}

/**
 * Immutable partial snapshots of one growing JSON document, one after each chunk that changed it (throttled by
 * `throttleMs`). Unchanged subtrees keep their identity between snapshots. `onFinal` receives the complete
 * value (validated with the schema) or the failure.
 */
export async function* consumeJson<T>(
  context: ConsumeContext,
  schema: StandardSchemaV1<unknown, T> | undefined,
  options: JsonOptions,
  info: { current?: JsonSnapshotInfo; quiet?: boolean },
  onFinal: (result: { value: T } | { error: unknown }) => void,
): AsyncGenerator<DeepPartial<T>, void, undefined> {
  // The BOM stays in the text: the parser strips one (a second is not JSON), and positions count its bytes.
  const utf8 = new Utf8Decoder(false, true)
  // The last two texts decoded, for the positions of errors.
  let piece = NO_TEXT
  let previous = NO_TEXT
  let chars = 0
  const decode = (text: string, held: Uint8Array, bytes: Uint8Array, at: number): void => {
    previous = piece
    piece = { text, bytes: [held, bytes], at }
    chars += text.length
  }
  let outcome: 'done' | 'error' | 'cancelled' = 'cancelled'
  let settled: { value: T } | { error: unknown } | undefined
  let ended = false
  /**
   * Settles the progress state and the connection, then `final`: after the final report, as the loop's end, and
   * with the listener's failure there, as the loop's (the document is complete, but the stream failed).
   */
  const end = async (): Promise<void> => {
    ended = true
    try {
      await settle(context, outcome)
    } catch (error) {
      settled = { error }
      throw error
    } finally {
      onFinal(settled ?? { error: new DOMException('The document was not read to its end.', 'AbortError') })
    }
  }
  // Loaded on first use: the parser is the largest piece of sluice, and most responses never call json().
  let createPartialJsonParser: typeof import('../decoders/partial-json.ts').createPartialJsonParser
  try {
    ;({ createPartialJsonParser } = await import('../decoders/partial-json.ts'))
  } catch (error) {
    // A chunk that cannot load (offline, a bad deploy) fails the document like any other error.
    outcome = 'error'
    settled = { error }
    await end()
    throw error
  }
  const parser = createPartialJsonParser<unknown>({
    // The client's `maxBytes` (no limit by default) bounds the document, not the parser's own default.
    maxBytes: context.limits.maxBytes,
    maxDepth: options.maxDepth,
    // The parser counts characters; errors report bytes. Positions inside the last two pieces decoded map
    // exactly, from their bytes (a U+FFFD stands for 1 to 3 of them). Only a number is reported at its start,
    // which may lie further back: its characters are ASCII, one byte each.
    toByteOffset: (offset) => {
      const inText = offset - (chars - piece.text.length)
      // The end of the text is where decoding stands (after a BOM that decoded to nothing, say).
      if (inText >= piece.text.length) return utf8.offsetBefore('')
      if (inText >= 0) return byteOffset(piece, inText)
      const inPrevious = inText + previous.text.length
      return byteOffset(previous, Math.max(0, inPrevious)) + Math.min(0, inPrevious)
    },
  })
  // While only `final` is awaited nobody sees the snapshots, and each costs O(n) for an open array of n items:
  // then at most one every QUIET_MS, so that the document costs linear time, and one is at hand for a loop
  // that takes the read over, or for the failure.
  const throttle = options.throttleMs ?? 0
  const gap = (): number => (info.quiet === true ? Math.max(throttle, QUIET_MS) : throttle)
  let last = Number.NEGATIVE_INFINITY
  let pending = false
  let shown: unknown
  let shownOpenPath: readonly (string | number)[] | undefined
  /** Takes the snapshot to hand out, with what is known about its completeness at this moment. */
  const take = (): DeepPartial<T> => {
    pending = false
    last = performance.now()
    const snapshot = parser.snapshot
    const openPath = parser.openPath
    shown = snapshot
    shownOpenPath = openPath
    info.current = { isComplete: (path) => isCompleteIn(snapshot, openPath, path), openPath: () => openPath }
    return snapshot as DeepPartial<T>
  }
  const { source } = context
  // A document cannot restart mid-way; Range continues it byte for byte, and a checkpoint starts it over.
  source.attach?.({ committed: () => 0 })
  let reading: Promise<Uint8Array | undefined> | undefined
  try {
    for (;;) {
      reading = source.read()
      // A monotonic clock (as the store's): a system clock set back must not hold the next snapshot back.
      let chunk = pending ? await readOrWait(reading, last + gap() - performance.now()) : await reading
      // A throttled snapshot is handed out when its time comes, not only when the next chunk does.
      if (chunk === WAITED) {
        yield take()
        chunk = await reading
      }
      reading = undefined
      if (chunk === undefined) break
      // Decoded in slices (see DECODE_SLICE_BYTES); a snapshot per chunk, as before.
      for (let at = 0; at < chunk.length; at += DECODE_SLICE_BYTES) {
        const slice = chunk.length <= DECODE_SLICE_BYTES ? chunk : chunk.subarray(at, at + DECODE_SLICE_BYTES)
        const start = utf8.offsetBefore('')
        const held = utf8.held
        const decoded = utf8.decode(slice)
        if (decoded === '') continue // a piece of a character: the text before stays the previous piece
        decode(decoded, held, slice, start)
        if (parser.push(decoded)) pending = true
      }
      // A value that only finished (a closing quote or bracket) changes what the snapshot says of itself.
      if (!pending && !samePath(parser.openPath, shownOpenPath)) pending = true
      const wait = gap()
      if (pending && (wait === 0 || performance.now() - last >= wait)) yield take()
    }
    // A cancelled source reads as ended; a cut document is not the document.
    if (source.cancelled === true) return halt(source)
    const start = utf8.offsetBefore('')
    const held = utf8.held
    const tail = utf8.end()
    if (tail !== '') {
      decode(tail, held, NO_BYTES, start)
      parser.push(tail)
    }
    const raw = parser.end()
    // The end can still change the document (a top-level number ends with it): the last snapshot is the whole.
    if (parser.snapshot !== shown || shownOpenPath !== undefined) yield take()
    context.progress.item()
    const result = schema === undefined ? (raw as T) : validate(schema, raw)
    const value = result instanceof Promise ? await untilStopped(result, source) : result
    // Stopped while an asynchronous schema validated the document: `final` rejects, as after any stop.
    if (value === STOPPED) return halt(source)
    outcome = 'done'
    settled = { value }
  } catch (error) {
    outcome = 'error'
    inBody(error, source)
    settled = { error }
    let thrown = error
    // What was parsed since the last snapshot — one the throttle held back, the quiet one while only `final`
    // was awaited, the values the failing piece completed before its error — is handed out before the failure:
    // the loop sees as much as one that was never throttled, whatever the chunking.
    let snapshot: DeepPartial<T> | undefined
    try {
      if (pending || parser.snapshot !== shown || !samePath(parser.openPath, shownOpenPath)) snapshot = take()
    } catch {
      // A parser that cannot describe itself after the failure: the last snapshot stands.
    }
    if (snapshot !== undefined) {
      // Ended first, as a loop that takes the read over may wait for `final` here; the end's error comes after.
      await end().catch((failure: unknown) => {
        thrown = failure
      })
      yield snapshot
    }
    throw thrown
  } finally {
    // Stopped while a read was in flight (during a throttled wait): its result is nobody's.
    reading?.catch(() => {})
    if (!ended) await end()
  }
}

/**
 * A text decoded and where it lies in the body: `bytes` (those carried from the input before, then the input's)
 * decode to it, from byte `at`.
 */
interface DecodedText {
  text: string
  bytes: Uint8Array[]
  at: number
}

const NO_BYTES = new Uint8Array(0)
const NO_TEXT: DecodedText = { text: '', bytes: [], at: 0 }

/** The byte offset of character `i` of `decoded`, for an error's position. */
function byteOffset({ bytes, at }: DecodedText, i: number): number {
  return at + bytesBefore(bytes, i)
}

function samePath(
  a: readonly (string | number)[] | undefined,
  b: readonly (string | number)[] | undefined,
): boolean {
  if (a === undefined || b === undefined) return a === b
  return a.length === b.length && a.every((segment, i) => segment === b[i])
}

const WAITED = Symbol('waited')

/** The shortest time between two snapshots nobody looks at. */
const QUIET_MS = 100

/** The read's chunk, or `WAITED` if `ms` pass first; the read stays in flight either way. */
function readOrWait(
  reading: Promise<Uint8Array | undefined>,
  ms: number,
): Promise<Uint8Array | undefined | typeof WAITED> {
  if (ms <= 0) return Promise.resolve(WAITED)
  let timer: ReturnType<typeof setTimeout> | undefined
  const waited = new Promise<typeof WAITED>((resolve) => {
    timer = setTimeout(resolve, ms, WAITED)
  })
  return Promise.race([reading, waited]).finally(() => clearTimeout(timer))
}
