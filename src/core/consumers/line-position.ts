import type { ChunkSource, ConsumerHooks } from '../body-source.ts'
import type { LineDecoder } from '../decoders/lines.ts'
import { LimitError } from '../errors/limit-error.ts'

/**
 * Where a line-based consumer stands in its batch, told to the source so that a checkpoint or a restart lands
 * on a line boundary: after the last line consumed (`at`, -1 before the batch's first), and `last`, the last
 * item delivered, for cursors (no allocation per item on the hot path). A line is consumed once it is
 * delivered or skipped on purpose (blank, or invalid with `onInvalid` skipping it); never one that failed, nor
 * one whose validation is still pending, so a checkpoint taken then lands before it.
 */
export class LinePosition {
  at = -1
  /** The batch's lines. */
  lines: readonly string[] = []
  /** The last item delivered (meaningful once `delivered`): kept bare, boxed only when a cursor asks for it. */
  last: unknown
  delivered = false
  /** Records consumed so far (for `ndjson()`, the non-blank lines; for `lines()`, every line). */
  records = 0

  /**
   * `unit`: what a line is to a cursor (see `ConsumerHooks.unit`); `itemOf`, when it can be known before the line
   * is consumed (not with a schema): the item a line will be, `undefined` for none (blank, or skipped as invalid).
   * `cut`: see `ConsumerHooks.cut`.
   */
  constructor(
    source: ChunkSource,
    decoder: LineDecoder,
    unit: unknown,
    itemOf?: (line: string) => { value: unknown } | undefined,
    cut?: ConsumerHooks['cut'],
  ) {
    const lastItem = () => (this.delivered ? { value: this.last } : undefined)
    source.attach?.({
      unit,
      committed: () =>
        // A line over maxLineBytes among the batch's is not among its lines, and the decoder's partial line
        // is past it: the boundary is where that line starts, after the last line consumed.
        decoder.failure instanceof LimitError
          ? decoder.lineOffset(this.at + 1)
          : this.at !== -1
            ? decoder.offsetAfter(this.at)
            : this.lines.length > 0
              ? decoder.lineOffset(0)
              : decoder.partialOffset(),
      restart: () => {
        decoder.reset()
        this.at = -1
        this.lines = []
      },
      lastItem,
      cut,
      fed: () => decoder.fed,
      // Every boundary `committed` picks lies after line `at` of the batch (before it, at -1).
      units: () => ({ lines: decoder.linesThrough(this.at), records: this.records }),
      // After the batch's last line (whole: no failure), and the last item among the lines not consumed yet (not
      // known before a schema judges it: see `planned`).
      ahead: () => {
        let item: { value: unknown } | undefined
        const last = this.lines.length - 1
        if (itemOf) for (let j = last; j > this.at && !item; j--) item = itemOf(this.lines[j]!)
        if (this.at < last && decoder.failure === undefined)
          return {
            committed: () => decoder.offsetAfter(last),
            ...(itemOf && { lastItem: () => item ?? lastItem() }),
          }
      },
    })
  }

  /**
   * The next line of the batch is consumed. Lines are taken in order, once each, and one that is not consumed
   * ends the stream: counting is enough, and asynchronous validation needs no index kept per item.
   */
  consumed(): void {
    this.at++
  }

  /** A new batch of lines, none handled yet. */
  batch(lines: readonly string[]): void {
    this.at = -1
    this.lines = lines
  }
}
