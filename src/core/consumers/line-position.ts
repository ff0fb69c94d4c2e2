import type { ChunkSource } from '../body-source.ts'
import type { LineDecoder } from '../decoders/lines.ts'

/**
 * Where a line-based consumer stands in its batch, told to the source so that a checkpoint or a restart lands
 * on a line boundary: after the line being handled (`at`, -1 before the batch's first), and `last`, the last
 * item delivered, for cursors.
 */
export class LinePosition {
  at = -1
  size = 0
  last: { value: unknown } | undefined

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
      lastItem: () => this.last,
    })
  }

  /** A new batch of `size` lines, none handled yet. */
  batch(size: number): void {
    this.at = -1
    this.size = size
  }
}
