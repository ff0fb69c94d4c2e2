import { isRangeableStatus } from '../core/bodiless.ts'
import { idFromHeader } from '../core/resume/event-id-header.ts'
import { closing } from './closing.ts'
import type { ValidOptions } from './options.ts'
import { encodePart, hasId, type MockStreamParts } from './parts.ts'
import { planRange } from './range.ts'

/** Parts to answer with, and the body's length when pulling found its end. */
export interface PulledParts {
  parts: MockStreamParts
  length?: number | undefined
}

/**
 * For a `Range: bytes=N-` request over async parts, whose length is not known up front: pulls parts until byte N
 * is passed or the parts end, as sluice/lambda's helpers do before they send headers. A start at or past the
 * end is then answered `416` with the body's length, as those helpers answer it, instead of an empty `206`.
 * (See `pull` for what the parts returned replay.)
 */
export async function pullToRange(
  parts: MockStreamParts,
  o: ValidOptions,
  where: string,
): Promise<PulledParts> {
  const request = o.request
  // Range applies to the statuses respond() honours it for: any success with a body.
  if (!o.range || !isRangeableStatus(o.status) || request === undefined) return { parts }
  const source = asyncParts(parts)
  if (source === undefined) return { parts }
  // Last-Event-ID filters the parts first, and those filtered offsets are not the ones counted here.
  if (o.lastEventId && request.headers.get('last-event-id') !== null) return { parts }
  const headers = new Headers(o.headers)
  if (o.etag !== undefined) headers.set('etag', o.etag)
  const plan = planRange(request, undefined, headers)
  if (plan.kind !== 'partial') return { parts }
  let offset = 0
  const pulled = await pull(source, request, (part, index) => {
    offset += encodePart(part, o.format, index, where, o.endMarker).length
    return offset > plan.start
  })
  return pulled.ended === undefined ? pulled : { parts: replay(pulled.ended), length: offset }
}

/**
 * For a `Last-Event-ID` request over async parts: pulls parts until the event with that id, as sluice/lambda's
 * streamSse does before it sends headers. Parts that end without it are returned whole, as an array, so that the
 * request gets the `409` sluice/lambda answers rather than a `200` whose body fails. Undefined when there is
 * nothing to pull, as for a HEAD, whose head sluice/lambda sends without replaying async events.
 */
export async function pullToEvent(parts: MockStreamParts, o: ValidOptions): Promise<PulledParts | undefined> {
  const sent = o.lastEventId ? (o.request?.headers.get('last-event-id') ?? null) : null
  const source = asyncParts(parts)
  // Async parts with contentLength are rejected by respond().
  if (sent === null || source === undefined || o.contentLength !== false || o.request!.method === 'HEAD')
    return undefined
  // Read as mockStream reads it: its bytes as UTF-8.
  const id = idFromHeader(sent)
  const pulled = await pull(source, o.request!, (part) => hasId(part, id))
  return pulled.ended === undefined ? pulled : { parts: pulled.ended }
}

/** Async parts, the only ones pulled ahead; undefined for anything else (what is not parts is rejected by respond()). */
function asyncParts(parts: MockStreamParts): AsyncIterable<unknown> | undefined {
  return typeof parts === 'object' &&
    parts !== null &&
    !(Symbol.iterator in parts) &&
    Symbol.asyncIterator in parts
    ? (parts as AsyncIterable<unknown>)
    : undefined
}

/**
 * Pulls `source` until `enough` says so of the part just pulled (`index`: its place), or until it ends: then
 * `ended` holds every part. Otherwise the parts returned replay what was pulled, then go on with the rest; an error
 * while pulling is thrown where it happened in the body, as it would have been without the pull. A HEAD is never
 * pulled (see `planRange`, `pullToEvent`). The source stops where the pull did when the client aborts meanwhile:
 * msw never reads (or cancels) the body it would get, so nothing else would stop the source.
 */
async function pull(
  source: AsyncIterable<unknown>,
  { signal }: Request,
  enough: (part: unknown, index: number) => boolean,
): Promise<{ parts: MockStreamParts; ended?: undefined } | { ended: unknown[] }> {
  const iterator = source[Symbol.asyncIterator]()
  const head: unknown[] = []
  try {
    for (;;) {
      if (signal.aborted) break
      const next = await iterator.next()
      if (next.done === true) return { ended: head }
      head.push(next.value)
      if (enough(next.value, head.length - 1)) break
    }
  } catch (error) {
    // A part that cannot be encoded (`enough` threw) leaves the source suspended after it: closed, as a body that
    // fails on such a part closes it (a source whose next() threw has finished already).
    iterator.return?.()?.catch(() => {})
    return { parts: replay(head, undefined, { error }) }
  }
  if (signal.aborted) {
    await iterator.return?.()
    return { parts: replay(head) }
  }
  return { parts: replay(head, iterator) }
}

/**
 * The parts pulled, then the rest; its `return()` closes the source too (see `closing`), which the pull started and
 * an answer that reads none of the parts (a `416`, a body cancelled before its first read) would leave
 * suspended.
 */
function replay(
  head: readonly unknown[],
  rest?: AsyncIterator<unknown>,
  failure?: { error: unknown },
): AsyncIterableIterator<unknown> {
  return closing(replayFrom(head, rest, failure), () => rest?.return?.())
}

async function* replayFrom(
  head: readonly unknown[],
  rest?: AsyncIterator<unknown>,
  failure?: { error: unknown },
): AsyncGenerator<unknown> {
  try {
    yield* head
    if (failure !== undefined) throw failure.error
    if (rest === undefined) return
    for (let next = await rest.next(); next.done !== true; next = await rest.next()) yield next.value
    rest = undefined
  } finally {
    // A body cancelled part-way stops the source, as it would have without the pull (a generator's finally runs).
    await rest?.return?.()
  }
}
