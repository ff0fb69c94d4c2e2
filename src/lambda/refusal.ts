import { QUOTED_CHARS } from '../runtime/refusal-text.ts'

/**
 * What a helper reports of a request it refused before the first byte of the body: the status it answered, why,
 * and what the request asked for, so that whoever reads the function's log can tell why a client failed to resume.
 * `streamSse` reports the same of a `409` it sent in-band, as an `event: error`, once heartbeats had sent the `200`.
 *
 * @example
 * const report: RefusalReport = { status: 409, message: 'sluice/lambda: streamNdjson cannot continue after a cursor: …', helper: 'streamNdjson', asked: { cursor: '42' } }
 */
export interface RefusalReport {
  /** The status answered: `409` for a position the source cannot start from, `416` for a range past the end. */
  status: number
  /** Why, as the answer's text body says it (without its final line break). */
  message: string
  /** The helper that answered: `'streamNdjson'`, `'streamSse'` or `'streamBytes'`. */
  helper: 'streamNdjson' | 'streamSse' | 'streamBytes'
  /**
   * What the request asked for that could not be served, as it sent it: its cursor, its `Last-Event-ID` or its
   * `Range`. Each value is cut to {@link QUOTED_CHARS} characters (and ends with `…` when it was).
   */
  asked: { cursor?: string; lastEventId?: string; range?: string }
}

/**
 * A request that asks for a position the source cannot start from (a cursor given to a plain iterable, a
 * `Last-Event-ID` its events do not have). Thrown by a helper's source before the first byte, it is answered with
 * `status` and the message as a short text body: the request is impossible, not the server failing, and a
 * failed invocation (a 502) would make a resuming client ask again, a new invocation each time, to no end.
 */
export class Refusal extends Error {
  override readonly name = 'Refusal'
  readonly status: number
  /** What the request asked for, for the report (see {@link RefusalReport}). */
  readonly asked: RefusalReport['asked']

  constructor(status: number, message: string, asked: RefusalReport['asked'] = {}) {
    super(message)
    this.status = status
    this.asked = asked
  }
}

/**
 * The status of a refusal: `409 Conflict`, the position the request names and the stream the source gives do not
 * agree. Not a 5xx or `408`/`425`/`429`, which clients ask again; not a `416`, which speaks of byte ranges.
 */
export const CONFLICT = 409

/** `value` cut to {@link QUOTED_CHARS} characters, with `…` when it was longer. */
export function bounded(value: string): string {
  return value.length <= QUOTED_CHARS ? value : `${value.slice(0, QUOTED_CHARS)}…`
}

const ASKED_NAMES: Record<keyof RefusalReport['asked'], string> = {
  cursor: 'cursor',
  lastEventId: 'Last-Event-ID',
  range: 'Range',
}

/**
 * The line the default report writes: the status, what the request asked, and why, on one line (the message and
 * the values are quoted or bounded, so a request cannot break it or make it long).
 */
export function refusalLine(report: RefusalReport): string {
  const asked = Object.entries(report.asked)
    .map(([key, value]) => `${ASKED_NAMES[key as keyof RefusalReport['asked']]} ${JSON.stringify(value)}`)
    .join(', ')
  const reason = report.message.replace(/^sluice\/lambda: /, '')
  return `sluice/lambda: ${report.helper} refused a request with ${report.status}${asked === '' ? '' : ` (it asked for ${asked})`}: ${reason}`
}

/** Reports a refusal where the options say: `console.warn` by default (CloudWatch Logs on Lambda), or nowhere. */
export function reportRefusal(
  report: RefusalReport,
  onRefusal: ((refusal: RefusalReport) => void) | false | undefined,
): void {
  if (onRefusal === false) return
  if (onRefusal === undefined) console.warn(refusalLine(report))
  else onRefusal(report)
}
