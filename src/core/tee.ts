import type { ChunkSource, ConsumerHooks, Place, SourceOrigin } from './body-source.ts'
import { concatBytes } from './concat-bytes.ts'
import { originOf } from './consumers/context.ts'
import { SseDecoder, type Trailing } from './decoders/sse.ts'
import { DECODE_SLICE_BYTES } from './decoders/utf8.ts'
import { ResumeError } from './errors/resume-error.ts'
import type { ErrorContext } from './errors/sluice-error.ts'
import { FINAL, type Progress, type ProgressSink, type ProgressState } from './progress.ts'
import { type Checkpoint, sealCheckpoint } from './resume/checkpoint.ts'
import { position, teeHooks } from './tee-hooks.ts'

/**
 * Where a restarted answer joins a branch's queue: the bytes before it end at `at` (a unit boundary, in the
 * coordinates of the answer they belong to), the bytes after it start a fresh answer.
 */
export class Splice {
  readonly at: number
  constructor(at: number) {
    this.at = at
  }
}

/** One branch of a tee: its queue and where its consumer stands. */
export interface Branch {
  queue: Array<Uint8Array | Splice>
  /** Bytes in `queue`. */
  buffered: number
  cancelled: boolean
  /** Its consumer's hooks; `undefined` while nothing attached (not read yet, or read as raw bytes). */
  hooks: ConsumerHooks | undefined
  /** Bytes handed to the consumer since its decoder started, or restarted at a splice. */
  handed: number
  /** The bytes it handed last, which its consumer may not have decoded yet (see `ConsumerHooks.fed`). */
  lastHanded?: Uint8Array
  /**
   * How far the branch's coordinates lag the source's: the sum of the `at` of the splices it has not reached
   * yet (a source coordinate is a branch coordinate minus `behind`).
   */
  behind: number
  /** Where its consumer's first byte stands in the body, for the positions of errors. */
  origin: SourceOrigin
  /** The request and response of the last chunk handed out: a branch behind may still read an earlier answer's. */
  context: ErrorContext | undefined
  /** Who waits to hear that the branch was cancelled (see `ChunkSource.onStop`). */
  stopListeners: Set<() => void>
}

/** Two branches over one source, and what a checkpoint taken on either needs. */
export interface Tee {
  branches: [ChunkSource, ChunkSource]
  /** The checkpoint `take` makes, as branch `i`'s consumer sees the stream, with its own `items`. */
  checkpoint(i: 0 | 1, take: () => Checkpoint, items: number): Checkpoint
}

/**
 * Splits one source into two branches with a bounded buffer: a branch that runs more than `maxBuffer` bytes
 * ahead of the other waits for it, so memory stays bounded (unlike `ReadableStream.tee()`, which buffers
 * without limit). Cancelling one branch lets the other run free; the body is cancelled when both are.
 *
 * Resume goes through both consumers (see `teeHooks`): a restarted answer begins at the boundary of the branch
 * that delivered more, and the other reads its queued bytes up to there before it restarts too.
 */
export function teeSource(source: ChunkSource, maxBuffer: number): Tee {
  // An answer to Last-Event-ID (this one, continued from a checkpoint, or one a restart gets) first replays what the
  // branches had: the tee drops it for all of them (text() and bytes() too, which could not), so their origin says
  // there is none. `skipped`: the bytes it dropped, which the source counts and the branches do not; `blank`: those
  // of the blank line their place stood before, which the answer does not send again (see `SseDecoder.trailing`):
  // the tee gives them in its place (one that replays the events before it sends it again: handed from there).
  const origin = originOf(source)()
  let skipper = skipperOf(origin.replay, origin.since, origin.trailing)
  let withheld: Uint8Array[] = []
  let heldAt = 0
  let skipped = 0
  let blank = skipper && typeof origin.trailing === 'number' ? Math.abs(origin.trailing) : 0
  const replayed = (): number | undefined => (skipper ? skipper.replayed : skipped)
  // (A branch behind a restart stands in the answer before, which has its own.)
  const toSource = (at: number): number => (at < 0 ? at : at + (replayed() ?? 0) - blank)
  const branches = [0, 1].map(
    (): Branch => ({
      queue: [],
      buffered: 0,
      cancelled: false,
      hooks: undefined,
      handed: 0,
      behind: 0,
      origin: { ...origin, replay: false },
      context: undefined,
      stopListeners: new Set(),
    }),
  ) as [Branch, Branch]
  // The first chunk of each connection, with its request and response (see `Branch.context`).
  const marks = new WeakMap<Uint8Array, ErrorContext>()
  // The chunks that are their branch's alone: a copy, or the source's own (see `ChunkSource.owned`).
  const owned = new WeakSet<Uint8Array>()
  let connection: Response | undefined
  let ended = false
  let failure: { error: unknown } | undefined
  let reading: Promise<void> | undefined
  // Bytes of the answer being read that the source gave since its last restart.
  let received = 0
  let wake: (() => void) | undefined
  let drained = new Promise<void>((resolve) => {
    wake = resolve
  })
  const release = (): void => {
    wake?.()
    drained = new Promise<void>((resolve) => {
      wake = resolve
    })
  }

  // Without the source's word, a place continues if it has an event id or an item to continue after.
  const continues = (place: Place): boolean =>
    source.continues?.(place) ?? (place.lastEventId !== undefined || place.lastItem !== undefined)
  const combined = teeHooks(
    branches,
    (at, plan) => {
      received = 0
      skipper = skipperOf(plan && originOf(source)().replay, plan?.since, plan?.trailing)
      withheld = []
      skipped = 0
      blank = skipper && typeof plan?.trailing === 'number' ? Math.abs(plan.trailing) : 0
      split(branches, at, release, marks)
    },
    () => reading !== undefined,
    continues,
    () => received,
    replayed,
    toSource,
  )
  source.attach?.(combined.hooks)
  // Its own restart's place, or its source's when that comes first: a tee of a tee branch hands its branches
  // nothing past where its source restarts (a branch of it read since is held there, not at a cancelled one's place).
  const held = (): number | undefined => {
    const own = combined.hold()
    const outer = source.hold?.()
    return own === undefined ? outer : outer === undefined ? own : Math.min(own, outer)
  }

  const pullOnce = (): Promise<void> => {
    reading ??= source
      .read()
      .then(
        (read) => {
          let chunk = read
          if (skipper !== undefined) {
            const fed = skipper.fed
            if (chunk !== undefined) skipper.push(chunk)
            // (An answer that ends first replayed all it sent.)
            const to = chunk === undefined ? fed : skipper.replayed
            if (to === undefined) {
              // The events it skips are no branch's; what follows them waits until the blocks the replay sends
              // again after them are matched (see `SseDecoder.reset`), or something else came.
              if (skipper.skipping) return
              if (withheld.length === 0) heldAt = fed
              withheld.push(chunk!)
              return
            }
            // The blank line the branches' place stood before, as far as the answer holds it again: from where it
            // starts (an answer that ended with its CR, waiting for what follows: that CR); else (nothing replayed, a
            // block with an id ended the skip, the answer ended before) as they guessed it.
            const own =
              chunk !== undefined ? skipper.replayedBlank : skipper.replayedBlank && !skipper.skipping ? 1 : 0
            skipper = undefined
            skipped = to
            const rest = concatBytes([...withheld, chunk ?? new Uint8Array()]).subarray(
              to - own - (withheld.length === 0 ? fed : heldAt),
            )
            withheld = []
            chunk = own || !blank ? rest : concatBytes([new Uint8Array([13, 10]).subarray(0, blank), rest])
            // (At the end, read again: the source ends again.)
            if (chunk.length === 0 && read !== undefined) return
          }
          // (An empty chunk the source hands, as at a restart, is no end: only the end of a replay that held nothing.)
          if (chunk === undefined || (read === undefined && chunk.length === 0)) {
            ended = true
            return
          }
          received += chunk.length
          const context = source.context?.()
          if (context !== undefined && context.response !== connection) {
            connection = context.response
            marks.set(chunk, context)
          }
          const mark = marks.get(chunk)
          let copy = false
          for (const b of branches) {
            if (b.cancelled) continue
            // The second live branch gets a copy, as ReadableStream's byte tee gives: a consumer that changes a
            // chunk in place, or transfers its buffer to a worker, must leave the other branch's bytes intact.
            const own = copy ? chunk.slice() : chunk
            if (copy || source.owned) owned.add(own)
            if (copy && mark !== undefined) marks.set(own, mark)
            copy = true
            b.queue.push(own)
            b.buffered += own.length
          }
        },
        (error: unknown) => {
          failure = { error }
        },
      )
      .finally(() => {
        reading = undefined
        combined.settled()
      })
    return reading
  }

  const branch = (i: 0 | 1): ChunkSource => {
    const b = branches[i]
    const other = branches[i === 0 ? 1 : 0]
    // The chunk a part of which it handed last.
    let last: Uint8Array | undefined
    return {
      // Whether the chunk it handed last is its consumer's, when whole: a byte stream (`body`) takes it over.
      get owned() {
        return owned.has(last!)
      },
      // The whole response cancelled (`res.cancel()`, `detach()`, an abort) ends the body under both branches:
      // its end then is no end of the body, and a consumer must not flush a partial unit as whole.
      get cancelled() {
        return b.cancelled || source.cancelled === true
      },
      get abortReason() {
        return source.abortReason
      },
      attach(hooks) {
        b.hooks = hooks
      },
      // The branch's own cancel, or the whole response's (the listener may hear both).
      onStop(listener) {
        if (b.cancelled || source.cancelled === true) {
          listener()
          return () => {}
        }
        b.stopListeners.add(listener)
        const off = source.onStop?.(listener)
        return () => {
          b.stopListeners.delete(listener)
          off?.()
        }
      },
      origin: () => b.origin,
      context: () => b.context ?? source.context?.() ?? {},
      hold: () => (b.cancelled ? undefined : (b.queue.find((item) => item instanceof Splice)?.at ?? held())),
      continues,
      async read() {
        for (;;) {
          // A cancelled branch reads no more, nor pulls for the other: a read it had pending ends here.
          if (b.cancelled) return undefined
          const item = b.queue.shift()
          if (item instanceof Splice) {
            rejoin(b, item.at, source)
            continue
          }
          // The source is restarting after `hold`, where the plan fixed at the drop put it (after less than this
          // queue holds, when the branch that pulled the rest was cancelled or reads no units): units past it
          // come again in the restarted answer, so they wait for the split that drops them.
          // (A split still queued is that restart's: the queue is looked through only when a chunk crosses it.)
          // (A tee of a tee branch holds at its source's restart too: see `ChunkSource.hold`.)
          const hold = held()
          if (item !== undefined) {
            let size = item.length
            if (
              hold !== undefined &&
              b.handed + size > hold &&
              !b.queue.some((next) => next instanceof Splice)
            ) {
              if (b.handed >= hold) {
                b.queue.unshift(item)
                // Held by its source's restart, none of its reads may be pending: pull it to meet the restart, whatever
                // the other branch holds (waiting for that to drain, both branches held would wait for ever). A failed
                // source reads nothing more: this would loop for ever, in microtasks no timer can interrupt.
                if (failure) throw failure.error
                await (reading ?? pullOnce())
                continue
              }
              size = hold - b.handed
            }
            // A consumer that decodes units takes a longer chunk in slices, and decodes the next only once it has
            // delivered the units of the last: handed one at a time, it has decoded all it was handed, which a
            // restart is planned after (see `ConsumerHooks.ahead`). So does a tee of this branch (the one consumer
            // with `rebase`), whose branches decode: holding no more than a slice, none of them reads past the plan.
            if (b.hooks?.ahead !== undefined || b.hooks?.rebase !== undefined) {
              size = Math.min(size, DECODE_SLICE_BYTES)
            }
            const mark = marks.get(item)
            const head = size < item.length ? item.subarray(0, size) : item
            if (mark !== undefined) marks.set(head, mark)
            if (head !== item) b.queue.unshift(item.subarray(size))
            b.buffered -= size
            b.handed += size
            b.lastHanded = head
            b.context = mark ?? b.context
            last = item
            release()
            return head
          }
          if (failure) throw failure.error
          if (ended) return undefined
          // Reading more would grow the other branch's queue: wait until it drains below the bound.
          if (!other.cancelled && other.buffered >= maxBuffer) await drained
          // Or until a restart splits its queue (see `split`): a tee of this branch meets it there, not only once the
          // restarted answer sends a byte, and plans the next drop from where its branches stand then.
          else await Promise.race([pullOnce(), drained])
        }
      },
      async cancel(reason?: unknown) {
        if (b.cancelled) return
        b.cancelled = true
        b.queue.length = 0
        b.buffered = 0
        release()
        for (const listener of [...b.stopListeners]) listener()
        b.stopListeners.clear()
        if (other.cancelled) await source.cancel(reason)
      },
    }
  }
  return {
    branches: [branch(0), branch(1)],
    checkpoint(i, take, items) {
      // For the moment it is taken, the source sees branch i's consumer alone, where that consumer stands (its
      // hooks are a plain object of closures: a copy with `committed` mapped to the source's coordinates).
      const b = branches[i]
      const at = toSource(position(b))
      source.attach?.({ ...b.hooks, committed: () => at, replayed })
      let checkpoint: Checkpoint
      try {
        checkpoint = take()
      } finally {
        source.attach?.(combined.hooks)
      }
      const { version: _, check: __, ...fields } = checkpoint
      // A branch that has not reached the point where the source restarted stands in the previous answer,
      // before this one's byte 0: only a restart strategy does that, and its checkpoint resumes from the
      // branch's event id or cursor, the offset naming only where errors count from.
      return sealCheckpoint({ ...fields, offset: Math.max(0, fields.offset), items })
    },
  }
}

/**
 * The source restarted after byte `at` of its answer: each live branch keeps the queued bytes up to there (a
 * branch behind reads them first), drops the rest (the new answer repeats them), and meets a splice.
 */
function split(
  branches: readonly Branch[],
  at: number,
  release: () => void,
  marks: WeakMap<Uint8Array, ErrorContext>,
): void {
  for (const b of branches) {
    // A cancelled branch reads nothing more, but its checkpoint still maps its place onto the new answer.
    b.behind += at
    if (b.cancelled) continue
    const queue = b.queue
    let k = queue.findLastIndex((item) => item instanceof Splice) + 1
    // The current answer's bytes in the queue start where the branch stands in it, or at 0 after a splice.
    let pos = k === 0 ? b.handed : 0
    for (; k < queue.length && pos < at; k++) {
      const chunk = queue[k] as Uint8Array
      if (pos + chunk.length > at) {
        const head = chunk.subarray(0, at - pos)
        const mark = marks.get(chunk)
        if (mark !== undefined) marks.set(head, mark)
        queue[k] = head
        b.buffered -= chunk.length - head.length
      }
      pos += chunk.length
    }
    for (const item of queue.splice(k)) b.buffered -= (item as Uint8Array).length
    queue.push(new Splice(at))
  }
  release()
}

/**
 * A branch reaches a splice: its consumer must stand on the boundary the new answer starts after, and drop
 * any partial unit, as a consumer reading the source alone would at a restart.
 */
function rejoin(b: Branch, at: number, source: ChunkSource): void {
  const committed = b.hooks === undefined ? b.handed : b.hooks.committed(b.handed)
  // A tee of this branch behind the restart (a branch of it cancelled while its read pulled the bytes up to there,
  // which a live one still holds), or on it with a branch that cannot restart (bytes() handed up to it while the
  // restart was held), or past it (it spoke for a cancelled one, which had no say, and a live one read from it only
  // since the restart was planned, held at its place): its branches read what they hold first, as this tee's do,
  // then meet the restart where it splits them, to continue there or not each.
  const behind = b.hooks?.rebase !== undefined && (committed !== at || b.hooks.restart === undefined)
  if (!behind && (committed !== at || (b.handed !== at && b.hooks?.restart === undefined))) {
    throw new ResumeError(
      'not-resumable',
      `The stream restarted after byte ${at}, where this tee() branch's consumer, at byte ${committed}, cannot continue: read both branches with lines(), ndjson() or events(), or resume by Range.`,
      0,
    )
  }
  // The new answer's origin first: its consumer's restart asks it whether the answer replays (see `SourceOrigin`):
  // it does not, as the tee drops the replay (see `teeSource`).
  b.origin = { ...originOf(source)(), replay: false }
  // A tee of this branch that cannot restart still counts its branches' places from the new answer's byte 0.
  if (!behind && b.hooks?.restart !== undefined) b.hooks.restart()
  else b.hooks?.rebase?.(at)
  b.handed = 0
  b.behind -= at
}

/**
 * The progress of each branch of a `tee()`: one body, so one `loaded` and one state. `items` is the larger
 * branch's count. `done` as soon as a branch has read the body to its proven end; `cancelled` or `error`
 * only once neither branch reads any more.
 */
export function teeProgress(shared: ProgressSink): [ProgressSink, ProgressSink] {
  const counts = [shared.items, shared.items]
  const outcomes: [ProgressState | undefined, ProgressState | undefined] = [undefined, undefined]
  const branch = (i: 0 | 1): ProgressSink => ({
    get items() {
      return counts[i]!
    },
    set items(n) {
      counts[i] = n
      if (n > shared.items) shared.items = n
    },
    item() {
      this.items++
    },
    setState(state) {
      if (!FINAL.has(state)) return shared.setState(state)
      if (outcomes[i] !== undefined) return
      outcomes[i] = state
      const other = outcomes[i === 0 ? 1 : 0]
      if (state === 'done') return shared.setState('done')
      if (other !== undefined)
        return shared.setState(state === 'error' || other === 'error' ? 'error' : 'cancelled')
    },
    snapshot: (): Progress => shared.snapshot(),
    // One body: a branch's state and attempt are the shared tracker's, and so are its watchers.
    watch: shared.watch?.bind(shared),
  })
  return [branch(0), branch(1)]
}

/**
 * For an answer to Last-Event-ID (`replay`): a decoder that skips the `since` events it starts by replaying and
 * the blocks `trailing` after them, and tells where they end.
 */
function skipperOf(replay: boolean | undefined, since = 0, trailing?: Trailing): SseDecoder | undefined {
  return replay ? new SseDecoder({ maxEventBytes: Infinity, skip: since, trailing }) : undefined
}
