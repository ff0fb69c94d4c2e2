import { createParser } from 'eventsource-parser'
import type { ServerSentEvent, SseState } from './sse.ts'

/** What the end of an event stream holds that a consumer has not judged yet (see `sseTail`). */
export interface SseTail {
  /** Events complete in it (a blank line ends them), in order. */
  events: ServerSentEvent[]
  /** The event its last block would dispatch, had a blank line ended it; none for a block without data. */
  unfinished: ServerSentEvent | undefined
}

/**
 * The events of `text`, the end of a stream that starts at a block's start with `state` in force there, and the
 * event its last block would be (`text` without the body's BOM): a scan on a parser of its own, which leaves the decoder's alone. It serves the
 * judgement of an end that nothing proves, where `until` names the stream's last event: one whose blank line
 * never came (`data: [DONE]` and the end) has still been sent.
 */
export function sseTail(text: string, state: SseState): SseTail {
  let { lastEventId, retry } = state
  const events: ServerSentEvent[] = []
  const parser = createParser({
    onId: (id) => {
      lastEventId = id === '' ? undefined : id
    },
    onRetry: (value) => {
      retry = value
    },
    onEvent: ({ event, data }) => {
      events.push({ id: lastEventId, event: event ?? 'message', data, retry })
    },
  })
  // A blank line first, which dispatches nothing, so that the parser strips no U+FEFF: the caller strips the body's.
  parser.feed('\n')
  parser.feed(text)
  const complete = events.length
  // A line end then a blank line: the line in progress ends, then the block, as a server that had ended it would.
  parser.feed('\n\n')
  return { events: events.slice(0, complete), unfinished: events[complete] }
}
