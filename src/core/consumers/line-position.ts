import type { ChunkSource } from '../body-source.ts'
import type { LineDecoder } from '../decoders/lines.ts'

/**
 * Where a line-based consumer stands in its batch, told to the source so that a checkpoint or a restart lands
 * on a line boundary: after the line being handled (`at`, -1 before the batch's first), and `last`, the last
 * item delivered, for cursors (no allocation per item on the hot path).
 */
export class LinePosition {
  at = -1
  size = 0
  /** The last item delivered (meaningful once `delivered`): kept bare, boxed only when a cursor asks for it. */
  last: unknown
  delivered = false

  constructor(source: ChunkSource, decoder: LineDecoder) {
    source.attach?.({
      committed: () =>
        this.at !== -1
          ? decoder.offsetAfter(this.at)
          : this.size > 0
            ? decoder.lineOffset(0)
            : decoder.partialOffset(),
      restart: () => {
        decoder.reset()
        this.at = -1
        this.size = 0
      },
      lastItem: () => (this.delivered ? { value: this.last } : undefined),
    })
  }

  /** A new batch of `size` lines, none handled yet. */
  batch(size: number): void {
    this.at = -1
    this.size = size
  }
}
