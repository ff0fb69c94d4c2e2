/**
 * Measures the data of SSE events in bytes of the body, from the bytes themselves: the syntax of an event stream
 * is ASCII, and invalid UTF-8 never hides a CR, an LF or an ASCII byte, nor makes one, so its lines, `data`
 * fields and blank lines are where the decoded text has them — but a U+FFFD of the text stands for 1 to 3 bytes
 * of the body. A loop over bytes, slower than the parser: run only where the text leaves a doubt.
 */
export interface EventSizer {
  /** Where the block in progress starts (after the last blank line scanned), in bytes since the decoder started. */
  start: number
  /** Events dispatched since whoever reads it set it to 0. */
  events: number
  /**
   * Scans `chunk`, which starts at byte `base`, on from where the last scan stopped: whether the data of an event
   * (a data line in progress included) takes more than `max` bytes. That event is the next after `events`, and
   * its block starts at `start`.
   */
  scan(chunk: Uint8Array, base: number, max: number): boolean
}

/** A sizer of the events from byte `start` on, where a block starts; `bom`: the bytes of a BOM there, not a line's. */
export function eventSizer(start: number, bom: number): EventSizer {
  // Where the scan stands and the line in progress starts, the first bytes of that line (up to 6, one character
  // each), whether a CR ended the line before (an LF right after it is part of that line end), and the data of
  // the event in progress: its bytes (its data lines and the line feeds that join them) and data lines.
  let at = start + bom
  let line = at
  let head = ''
  let afterCR = false
  let bytes = 0
  let lines = 0
  const sizer: EventSizer = {
    start,
    events: 0,
    scan(chunk, base, max) {
      for (let i = at - base; i < chunk.length; i++) {
        const b = chunk[i]!
        if (b !== 10 && b !== 13) {
          if (head.length < 6) head += String.fromCharCode(b)
          continue
        }
        const length = base + i - line
        const cut = afterCR && b === 10 && length === 0
        afterCR = b === 13
        line = base + i + 1
        if (cut) {
          // The LF of a CRLF: the block after a blank line starts after it.
          if (sizer.start === line - 1) sizer.start = line
          continue
        }
        const field = head
        head = ''
        if (length === 0) {
          // A blank line: it dispatches the event, if it has data, and a block starts after it.
          if (lines > 0) sizer.events++
          bytes = lines = 0
          sizer.start = line
        } else if (field.startsWith('data:') || (length === 4 && field === 'data')) {
          bytes += (lines++ > 0 ? 1 : 0) + length - prefix(field)
          if (bytes > max) return true
        }
      }
      // A chunk may end before where the scan starts (inside a BOM).
      at = Math.max(at, base + chunk.length)
      // The value of a data line in progress: its size so far, which only grows.
      return head.startsWith('data:') && bytes + (lines > 0 ? 1 : 0) + at - line - prefix(head) > max
    },
  }
  return sizer
}

/** The bytes before the value of a data line: `data`, its colon and one space after it. */
function prefix(head: string): number {
  return head === 'data' ? 4 : head.charCodeAt(5) === 32 ? 6 : 5
}
