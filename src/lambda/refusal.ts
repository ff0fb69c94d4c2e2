/**
 * A request that asks for a position the source cannot start from (a cursor given to a plain iterable, a
 * `Last-Event-ID` its events do not have). Thrown by a helper's source before the first byte, it is answered with
 * `status` and the message as a short text body: the request is impossible, not the server failing, and a
 * failed invocation (a 502) would make a resuming client ask again, a new invocation each time, to no end.
 */
export class Refusal extends Error {
  override readonly name = 'Refusal'
  readonly status: number

  constructor(status: number, message: string) {
    super(message)
    this.status = status
  }
}

/**
 * The status of a refusal: `409 Conflict`, the position the request names and the stream the source gives do not
 * agree. Not a 5xx or `408`/`425`/`429`, which clients ask again; not a `416`, which speaks of byte ranges.
 */
export const CONFLICT = 409
