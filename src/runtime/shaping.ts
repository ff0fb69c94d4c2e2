import { describeValue } from './describe-value.ts'

/**
 * Bandwidth shaping of a streamed response: a burst sent at full speed, then a steady rate.
 *
 * @example
 * const slow: Shaping = { burstBytes: 64 * 1024, bytesPerSecond: 256 * 1024 }
 */
export interface Shaping {
  /** Bytes sent uncapped at the start of the response. */
  burstBytes: number
  /** The rate after the burst. */
  bytesPerSecond: number
}

/**
 * The shaping of a real function URL: the first 6 MiB uncapped, then about 2 MiB/s.
 *
 * @example
 * serve(handler, { shaping: 'lambda' }) // same as { shaping: LAMBDA_SHAPING }
 */
export const LAMBDA_SHAPING: Shaping = { burstBytes: 6 * 1024 * 1024, bytesPerSecond: 2 * 1024 * 1024 }

/** One piece of a chunk and the time (ms on the caller's clock, a monotonic one) at which it may be sent. */
export interface ShapedPiece {
  length: number
  atMs: number
}

/** Plans when each piece of a response may leave, given the shaping. */
export interface Shaper {
  /** Splits the next `length` bytes into pieces, each with the earliest time it may be sent. */
  plan(length: number, nowMs: number): ShapedPiece[]
}

/** Pieces last about this long at the shaped rate, so delivery looks smooth instead of bursting per chunk. */
const SLICE_MS = 50

/**
 * Resolves the `shaping` option: `'lambda'`, a custom {@link Shaping}, or none.
 *
 * @example
 * resolveShaping('lambda') // LAMBDA_SHAPING
 */
export function resolveShaping(
  shaping: 'lambda' | Shaping | false | undefined,
  where = 'shaping',
): Shaping | undefined {
  if (shaping === undefined || shaping === false) return undefined
  if (shaping === 'lambda') return LAMBDA_SHAPING
  const keys = typeof shaping === 'object' && shaping !== null ? Object.keys(shaping) : undefined
  if (keys === undefined || keys.some((key) => key !== 'burstBytes' && key !== 'bytesPerSecond')) {
    throw new TypeError(
      `${where}: shaping must be 'lambda', false or { burstBytes, bytesPerSecond }, got ${keys === undefined ? describeValue(shaping) : `an object with ${keys.join(', ')}`}.`,
    )
  }
  const { burstBytes, bytesPerSecond } = shaping
  if (
    !(
      typeof bytesPerSecond === 'number' &&
      bytesPerSecond > 0 &&
      typeof burstBytes === 'number' &&
      burstBytes >= 0
    )
  ) {
    throw new RangeError(
      `${where}: shaping needs burstBytes ≥ 0 and bytesPerSecond > 0; got burstBytes ${describeValue(burstBytes)} and bytesPerSecond ${describeValue(bytesPerSecond)}. Pass 'lambda' for the service's own figures.`,
    )
  }
  return shaping
}

/**
 * Creates the planner for one response: bytes within the burst go at once, later ones at the configured rate.
 *
 * Pure arithmetic over the times the caller passes in; the caller does the waiting.
 *
 * @example
 * const shaper = createShaper({ burstBytes: 0, bytesPerSecond: 1000 })
 * shaper.plan(100, 0) // [{ length: 50, atMs: 0 }, { length: 50, atMs: 50 }]
 */
export function createShaper(shaping: Shaping): Shaper {
  const slice = Math.max(1, Math.floor((shaping.bytesPerSecond * SLICE_MS) / 1000))
  let sent = 0
  let nextAt = Number.NEGATIVE_INFINITY
  return {
    plan(length, nowMs) {
      const pieces: ShapedPiece[] = []
      const free = Math.min(length, Math.max(0, shaping.burstBytes - sent))
      if (free > 0) pieces.push({ length: free, atMs: nowMs })
      sent += free
      let at = Math.max(nextAt, nowMs)
      for (let left = length - free; left > 0; ) {
        const piece = Math.min(slice, left)
        pieces.push({ length: piece, atMs: at })
        at += (piece * 1000) / shaping.bytesPerSecond
        sent += piece
        left -= piece
      }
      nextAt = at
      return pieces
    },
  }
}
