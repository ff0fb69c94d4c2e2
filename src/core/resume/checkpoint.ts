import { ResumeError } from '../errors/resume-error.ts'
import type { CursorRequest, ResumeStrategy } from './options.ts'

/**
 * A small, JSON-serialisable record of where a stream stands, from `res.checkpoint()`; pass it back as
 * `resumeFrom` to continue in another process or after a page reload. `offset` is always at a unit boundary
 * of the consumer that was reading (a line, record or event), so a new consumer starts clean. A type alias
 * rather than an interface, so that it is assignable to a JSON value type (`{ [key: string]: JsonValue }`).
 *
 * @example
 * localStorage.setItem('report', JSON.stringify(res.checkpoint()))
 * const res2 = await sluice(url, { resumeFrom: JSON.parse(localStorage.getItem('report')!) })
 */
export type Checkpoint = {
  version: 1
  url: string
  method: string
  strategy: ResumeStrategy
  /** Byte offset in the body up to which the consumer has delivered whole units. */
  offset: number
  etag?: string
  lastModified?: string
  /**
   * Whether `lastModified` is a strong validator, the first answer's `Date` 60 s or more after it (RFC 9110
   * §8.8.2.2): only then does the resume send it as `If-Range`. Absent (as in a checkpoint from before this field):
   * weak, and the `Range` goes alone, its answer still checked against `lastModified`.
   */
  strongDate?: boolean
  /** The complete length the server declared for the body, to tell another version of it on resume. */
  length?: number
  /**
   * Whether `length` is a Range answer's, which fetch asks for uncoded: no coding CORS hid counted it, so from
   * another origin too it is the end to reach, and another length is another version's. Absent: not known.
   */
  plain?: boolean
  /** The stream's media type, and whether it announced an end marker: what a resumed answer must match. */
  contentType?: string
  marker?: boolean
  /**
   * Whether it stands at the stream's end: proven (the declared length, the end marker), or the terminal event
   * `events({ until })` names consumed. A stream continued from it has nothing more to send, and an end that nothing
   * proves, with no terminal event of its own, is its end, not a cut.
   */
  ended?: boolean
  /** The last SSE event ID in force at `offset` (also what `Last-Event-ID` carries). */
  lastEventId?: string
  /**
   * SSE events dispatched after the block that set `lastEventId`, up to `offset` (absent: none): a server asked
   * with `Last-Event-ID` replays every event after the id's, those without an id included, and the stream
   * continued from the checkpoint skips this many of them.
   */
  since?: number
  /**
   * What lies between the last SSE event (or id) and `offset`, which a server asked with `Last-Event-ID` sends again
   * after the events it replays (absent: nothing): the blocks that dispatch nothing (a comment, a `retry:` line, an
   * `event:` alone), as text; or, where `offset` stands before the CR that ended the last event's block (the bytes
   * received ended there), the bytes that blank line was taken to have, negated: -1, the CR alone; -2, a CRLF (the
   * line before ended so); those bytes (1, 2) where `loaded` counts them already (taken while a restarted answer
   * replayed that event). The stream continued from it counts each byte of the answer once in `loaded`.
   */
  trailing?: string | number
  /** The SSE reconnection time (`retry:`, in ms) in force at `offset`: a continued stream's events carry it. */
  retry?: number
  cursor?: CursorRequest
  /**
   * Lines, and records (items numbered by the consumer, invalid ones it skipped included), before `offset`: a
   * resumed stream's errors go on counting from them.
   */
  lines?: number
  records?: number
  /** Where a part the caller asked for with its own bounded Range ends (exclusive): the resume asks for no more. */
  partEnd?: number
  loaded: number
  items: number
  total?: number
  /**
   * The requests sent for the stream before the checkpoint, the first included: not a reconnect still waiting out
   * its backoff, whose place the request that continues from the checkpoint takes.
   */
  attempt: number
  /** An integrity check over the other fields: a hand-edited checkpoint is refused. */
  check: string
}

/** Builds a checkpoint with its integrity check. */
export function sealCheckpoint(fields: Omit<Checkpoint, 'check' | 'version'>): Checkpoint {
  const body = { version: 1 as const, ...fields }
  return { ...body, check: checksum(body) }
}

/**
 * Validates a checkpoint loaded from storage: shape, version and integrity. Throws a `ResumeError` with reason
 * `invalid-checkpoint` that says what is wrong.
 */
export function openCheckpoint(value: unknown): Checkpoint {
  const fail = (why: string): never => {
    throw new ResumeError(
      'invalid-checkpoint',
      `The checkpoint passed as \`resumeFrom\` ${why}; take a new one with res.checkpoint().`,
      0,
    )
  }
  // Read as its JSON, which is what storage keeps: one passed directly behaves exactly as its round trip does (a
  // key set to `undefined` or a function is absent, in its cursor too, rather than sent as "undefined").
  let json: unknown
  try {
    json = JSON.parse(JSON.stringify(value) ?? 'null')
  } catch (error) {
    return fail(`cannot be written as JSON (${error instanceof Error ? error.message : String(error)})`)
  }
  if (typeof json !== 'object' || json === null) return fail('is not an object')
  const c = json as Partial<Checkpoint>
  if (c.version !== 1) return fail(`has version ${String(c.version)}, not 1`)
  if (typeof c.url !== 'string' || typeof c.method !== 'string') return fail('has no url or method')
  if (!['range', 'last-event-id', 'cursor'].includes(String(c.strategy)))
    return fail(`names an unknown strategy (${String(c.strategy)})`)
  for (const key of ['offset', 'loaded', 'items', 'attempt'] as const) {
    const n = c[key]
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) return fail(`has an invalid ${key}`)
  }
  for (const key of ['length', 'lines', 'records', 'partEnd', 'retry', 'since'] as const) {
    const n = c[key]
    if (n !== undefined && !(typeof n === 'number' && Number.isInteger(n) && n >= 0))
      return fail(`has an invalid ${key}`)
  }
  const { trailing } = c
  if (trailing !== undefined && typeof trailing !== 'string' && ![-2, -1, 1, 2].includes(trailing))
    return fail('has an invalid trailing')
  const { check, ...body } = c as Checkpoint
  if (check !== checksum(body)) return fail('does not match its integrity check (it was edited or corrupted)')
  return c as Checkpoint
}

// FNV-1a over a canonical serialisation: an integrity check against edits and corruption, not a signature.
function checksum(value: object): string {
  const text = canonical(value)
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash.toString(16).padStart(8, '0')
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined)
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}
