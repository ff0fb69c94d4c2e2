import { whileIdle } from './heartbeat.ts'

/**
 * How `streamNdjson` and `streamSse` pad a small write so that it leaves the runtime at once.
 *
 * A function URL in `RESPONSE_STREAM` mode can hold back writes until tens of KB have accumulated, so a lone token
 * or row would reach the client only with the next ones. `padding: true` takes both defaults.
 *
 * @example
 * await streamSse(responseStream, tokens, { request: event, padding: { bytes: 32_768, idleMs: 20 } })
 */
export interface PaddingOptions {
  /**
   * The most bytes the runtime holds back: after a pause, what was written since the last padding is topped up
   * with filler to this many bytes. Writes that reach it by themselves are not padded (the count starts again
   * after them). Raise it if writes still arrive late. Default 16384 (16 KiB); at most 1048576.
   */
  bytes?: number | undefined
  /**
   * How long the source must be silent after a write before it is padded, in milliseconds: long enough that a
   * steady stream of items is never padded, short enough that a pause is not felt. Default 50.
   */
  idleMs?: number | undefined
}

/** The defaults of {@link PaddingOptions}. */
export const PADDING_DEFAULTS: { bytes: number; idleMs: number } = { bytes: 16_384, idleMs: 50 }

/** The most bytes of {@link PaddingOptions.bytes}: a threshold reported at about 100 KB, with room to spare. */
export const MAX_PADDING_BYTES = 1_048_576

/**
 * The shape of a format's filler: lines of `head`, spaces, then `tail`, each at most {@link LINE} bytes and at
 * least `min`: a client that reads by line, or by event, never meets a long one (its `maxLineBytes`,
 * `maxEventBytes`).
 */
export interface FillerShape {
  head: string
  tail: string
  min: number
}

/** NDJSON: lines of spaces, which sluice's `ndjson()` (and any reader that skips blank lines) passes over. */
export const NDJSON_FILLER: FillerShape = { head: '', tail: '\n', min: 2 }

/** SSE: comment lines, each followed by a blank line, so that they form no event with what comes next. */
export const SSE_FILLER: FillerShape = { head: ':', tail: '\n\n', min: 3 }

const LINE = 1024
const SPACE = 0x20
const encoder = new TextEncoder()

/** At least `total` bytes of filler of the given shape (a byte or two more when the last line needs them). */
export function filler(total: number, shape: FillerShape): Uint8Array {
  const sizes: number[] = []
  let length = 0
  for (let left = total; left > 0; ) {
    const size = Math.min(LINE, Math.max(left, shape.min))
    sizes.push(size)
    length += size
    left -= size
  }
  const head = encoder.encode(shape.head)
  const tail = encoder.encode(shape.tail)
  const out = new Uint8Array(length).fill(SPACE)
  let at = 0
  for (const size of sizes) {
    out.set(head, at)
    out.set(tail, at + size - tail.byteLength)
    at += size
  }
  return out
}

/**
 * Yields `source`'s chunks and, once it has been silent for `idleMs` after a write, filler that tops the bytes
 * written since the runtime last had `bytes` of them up to `bytes`, so that what was written leaves the runtime.
 * At most once per pause (not again before the next write), and never before the first write: the prelude goes
 * out with the first body bytes, and an early failure can still become an error status.
 */
export function withPadding(
  source: AsyncIterable<Uint8Array>,
  padding: boolean | PaddingOptions | undefined,
  shape: FillerShape,
): AsyncIterable<Uint8Array> {
  if (padding === undefined || padding === false) return source
  const { bytes, idleMs } = { ...PADDING_DEFAULTS, ...(padding === true ? {} : definedOf(padding)) }
  // The bytes a runtime that sends once it holds `bytes` of them may still hold: counted from the last padding,
  // and from zero again whenever that many have been written.
  let held = 0
  return whileIdle(source, {
    delay: () => (held > 0 ? idleMs : undefined),
    fill: () => {
      const out = filler(bytes - held, shape)
      held = 0
      return out
    },
    wrote: (chunk) => {
      held += chunk.byteLength
      if (held >= bytes) held = 0
    },
  })
}

/** The options that are set: `{ bytes: undefined }` takes the default, as a missing key does. */
function definedOf(padding: PaddingOptions): { bytes?: number; idleMs?: number } {
  const out: { bytes?: number; idleMs?: number } = {}
  if (padding.bytes !== undefined) out.bytes = padding.bytes
  if (padding.idleMs !== undefined) out.idleMs = padding.idleMs
  return out
}
