/**
 * Where a decoder's input begins in the body, for the positions its errors report: `offset`, the byte offset of
 * its first byte, and `lines`, the lines before it. Both are 0 for a body read from its start; a stream that
 * continues from a checkpoint begins further on, and its errors still name places in the whole body.
 */
export interface Origin {
  offset: number
  lines: number
}

/** Asked when an error is made (rare), since a restart moves the byte origin back to 0. */
export type OriginOf = () => Origin

export const BODY_START: OriginOf = () => ({ offset: 0, lines: 0 })
