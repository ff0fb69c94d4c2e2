import fc from 'fast-check'

const eol = fc.constantFrom('\n', '\r\n', '\r')
const id = fc.constantFrom('1', 'a7', 'é', '')
const retry = fc.constantFrom('0', '250', '3000', 'x', ' 7')
const data = fc.constantFrom('a', 'b c', '中', '{"n":1}', '')

/**
 * Event-stream bodies whose state matters between events: `id:` and `retry:` fields in events (before or after
 * their data), blocks that only set an id (an empty one resets it) or a retry time (a bad value is ignored),
 * comments and extra blank lines, with any line ending. An event's `id` and `retry` come from blocks before it,
 * so a stream continued from the middle must start with the state in force there.
 */
export const sseWithState: fc.Arbitrary<string> = sseBlocks().map((blocks) => blocks.join(''))

/**
 * The same bodies as their blocks, each with the blank line that ends it (its lines ended alike, or not): what a
 * server that answers `Last-Event-ID` replays is the blocks after the one that set the id (see `hasIdField`).
 */
export function sseBlocks(): fc.Arbitrary<string[]> {
  return fc
    .array(
      fc.oneof(
        fc
          .record({ id: fc.option(id), retry: fc.option(retry), data, retryFirst: fc.boolean() })
          .map(({ id, retry, data, retryFirst }) => {
            const r = retry === null ? [] : [`retry:${retry}`]
            return [
              ...(id === null ? [] : [`id: ${id}`]),
              ...(retryFirst ? r : []),
              `data: ${data}`,
              ...(retryFirst ? [] : r),
            ]
          }),
        id.map((value) => [`id: ${value}`]),
        retry.map((value) => [`retry: ${value}`]),
        fc.constant([': keep-alive']),
        fc.constant([]),
      ),
      { minLength: 1, maxLength: 8 },
    )
    .chain((blocks) =>
      fc.tuple(
        ...blocks.map((lines) =>
          // A block ends every line alike, or mixes its line ends (the blank line’s too), half of the time each.
          fc
            .oneof(
              eol.map((end) => Array<string>(lines.length + 1).fill(end)),
              fc.array(eol, { minLength: lines.length + 1, maxLength: lines.length + 1 }),
            )
            // (A line ended by CR, then an LF, is one line end: the blank line after a CR is a CR or a CRLF.)
            .map((ends) => {
              const last = lines.length
              const blank = ends[last - 1] === '\r' && ends[last] === '\n' ? '\r\n' : ends[last]
              return lines.map((line, i) => line + ends[i]).join('') + blank
            }),
        ),
      ),
    )
}

/** Whether a block of `sseBlocks` has an `id:` field (it sets, or with an empty value resets, the last event ID). */
export const hasIdField = (block: string): boolean => block.startsWith('id:')
