import type { ConsumerHooks, Place } from './body-source.ts'
import type { Trailing } from './decoders/sse.ts'
import { ResumeError } from './errors/resume-error.ts'
import { type Branch, Splice } from './tee.ts'

/** How the source resumes under a tee: the boundary a restarted answer starts after, and the position there. */
export interface Plan {
  at: number
  lastEventId: string | undefined
  /** What a Last-Event-ID answer replays from there (see `ConsumerHooks.since` and `trailing`). */
  since: number | undefined
  trailing: Trailing | undefined
  lastItem: { value: unknown } | undefined
  /** The leader's event as events({ json: true }) delivers it (see `ConsumerHooks.parsed`). */
  parsed: { value: unknown } | undefined
  retryMs: number | undefined
  /** Whether both consumers can meet a restarted answer at `at` (else only Range can continue the stream). */
  restartable: boolean
}

/** What `teeHooks` gives the tee: the hooks for its source, and the end of a read that may have recovered. */
export interface TeeHooks {
  hooks: ConsumerHooks
  /** The source's read is over, and with it a recovery in it, if any. */
  settled(): void
  /**
   * While a recovery that will restart is under way, the boundary (in the source's coordinates) its answer
   * begins after: a branch reads its queue up to there only, until the restart splits it.
   */
  hold(): number | undefined
}

/**
 * Where a branch's consumer has delivered whole units up to, in the source's current coordinates (by `planned`
 * hooks, where it will have).
 */
export function position(b: Branch, hooks: ConsumerHooks | undefined = b.hooks): number {
  return (hooks === undefined ? b.handed : hooks.committed(b.handed)) - b.behind
}

/**
 * A branch's hooks for a plan: as they will stand after the units it has decoded (see `ConsumerHooks.ahead`). A
 * live one delivers them before it reads on, so before it meets the restart. A cancelled one never will, but a
 * live branch of the same tee holds the bytes it was handed, and reads all it holds before it meets the restart
 * when that tee holds nothing back (it does only while its own read recovers, not when another branch of the
 * outer tee met the drop): a restart before those units would repeat them.
 */
function planned(b: Branch | undefined): ConsumerHooks | undefined {
  const ahead = b?.hooks?.ahead?.()
  // Without its last item there (a schema has yet to judge them), not the one before them, which would repeat them.
  return ahead ? ({ ...b?.hooks, lastItem: () => judging, ...ahead } as ConsumerHooks) : b?.hooks
}

/**
 * The last item of a branch that has yet to validate the units it was handed: a cursor, which continues after the
 * item as the schema gives it, is refused when it asks for it (Range and Last-Event-ID need none).
 */
const judging = {
  get value(): unknown {
    throw new ResumeError(
      'not-resumable',
      'A cursor cannot continue the stream: a tee() branch had items to validate when the connection dropped, and a cursor continues after the last as its schema gives it. Resume by Range or Last-Event-ID, or validate them yourself, reading that branch without a schema.',
      0,
    )
  },
}

/**
 * Whether a branch reads: its consumer is attached (a tee's once one of its own branches reads, whatever it was
 * handed for them: its queues hold that), or, read as raw bytes or as text (which carries no position a restart
 * must agree with), it was handed some of the answer. One that does not follows any restart, its queue holding
 * every byte up to it.
 */
function reads(b: Branch): boolean {
  const hooks = b.hooks
  if (hooks?.rebase !== undefined) return hooks.idle !== true
  return (hooks !== undefined && (hooks.restart === undefined || placed(hooks))) || b.handed > 0
}

/**
 * Whether a branch reads no more: cancelled, or a tee whose live branches do not read, which speaks only for those
 * that were cancelled (see `ConsumerHooks.left`): it has a say in a restart only as a cancelled branch has.
 */
const gone = (b: Branch): boolean => b.cancelled || b.hooks?.left === true

/** Whether a consumer carries a position a restart must agree with: an event id, an item, or a tee's. */
const placed = (hooks: ConsumerHooks): boolean =>
  hooks.rebase !== undefined || hooks.lastEventId !== undefined || hooks.lastItem !== undefined

/** 1 for a branch whose last item at its planned place is not known yet (see `judging`), as a tee's may be. */
const unsure = (b: Branch): number => (planned(b)?.lastItem?.() === judging ? 1 : 0)

/**
 * The restart point is the boundary of the branch that delivered more (a cancelled one too, see below; each counts
 * the units it was handed, see `planned`, which a live one delivers before it reads on, as one consumer alone has
 * delivered them before its read meets the drop): the other has not delivered past it, and its queue still holds
 * the bytes up to it, so neither branch loses or repeats a unit. The position sent (event id, last item) is that
 * leading branch's. Both consumers must be able to restart (as one consumer reading alone must), and both must carry
 * the kind of position the leader sends: an events() branch and a text() branch ahead of it have no common event id
 * to resume from.
 */
function plan(
  branches: readonly Branch[],
  began: Plan | undefined,
  continues: (place: Place) => boolean,
  received: number,
): Plan | undefined {
  const live = branches.filter((b) => !gone(b))
  // A cancelled branch has a say only where the answer being read has reached its place: not after a restart that
  // went back before it (it had no say there), which the live ones hold the bytes of only as far as it has come.
  const heard = (b: Branch) => position(b, planned(b)) <= received
  // Every branch cancelled: where the tee stands is where its consumers stopped, for the outer tee whose
  // branch it reads, if any (that branch is cancelled too, and its place counts as theirs) — not a text() one,
  // which has no place to continue after, and no say. A place the source cannot continue from (a line of an SSE
  // body for Last-Event-ID) leaves the branches read later to start over, as they would alone (see `leads`).
  if (live.length === 0) {
    const read = branches.filter((b) => b.hooks !== undefined && placed(b.hooks) && heard(b))
    let all = read[0] && planOver(read, [], began)
    // Leaders that give two kinds of position at one place (a lines() branch's line, a tee's event id) agree on
    // none: the restart is after the first's alone, if the source can continue from it.
    if (all?.restartable === false) {
      const { at } = all
      all = planOver([read.find((b) => position(b, planned(b)) === at)!], [], began)
    }
    return !all || all.at <= 0 || continues(all) ? all : ({ ...began, at: 0, restartable: true } as Plan)
  }
  const own = planOver(live, live, began)
  // A branch cancelled after it read still counts where it stands, when its consumer gives the same kind of
  // position: the live ones hold every byte up to there (they get every chunk), and may have been handed whole
  // units up to there that they have not delivered yet (the branch whose read pulled the source had delivered
  // every unit it was handed): a restart before them would repeat those. One that reads another kind of item
  // than a live one has no say: no cursor continues both, and the live ones resume as they would alone.
  const reading = live.filter(reads)
  const all = planOver(
    branches.filter(
      (b) =>
        !gone(b) ||
        (b.hooks !== undefined &&
          heard(b) &&
          reading.every(
            (r) =>
              r.hooks?.unit === b.hooks?.unit ||
              (r.hooks?.parsed !== undefined && b.hooks?.parsed !== undefined),
          )),
    ),
    live,
    began,
  )
  const keeps = (key: 'lastEventId' | 'lastItem') => own[key] === undefined || all[key] !== undefined
  // While no live branch reads, a cancelled one only saves asking again for bytes the live ones hold: a place
  // the source cannot continue from (text or bytes, events without ids, a line of an SSE body for Last-Event-ID)
  // could only be refused, where the live branches, alone, would start over.
  const leads = reading.length > 0 || all.at <= own.at || continues(all)
  return leads && all.restartable && keeps('lastEventId') && keeps('lastItem') ? all : own
}

/** The hooks that give a part of a plan's position. */
type Key = 'lastEventId' | 'lastItem' | 'retryMs' | 'since' | 'trailing'

/** The plan led by the furthest of `counted`, for the `live` branches to follow. */
function planOver(counted: readonly Branch[], live: readonly Branch[], began: Plan | undefined): Plan {
  const places = counted.map((b) => position(b, planned(b)))
  const top = Math.max(...places)
  // One that knows its last item there before one that does not (see `planned`).
  const lead = counted.filter((_, k) => places[k] === top).sort((x, y) => unsure(x) - unsure(y))
  const reading = live.filter(reads)
  // The branches whose positions must agree: those reading, and a cancelled one that leads.
  const judged = [...reading, ...lead.filter(gone)]
  const has = (key: Key) => (b: Branch) => b.hooks?.[key] !== undefined
  const from = (key: Key) => planned(lead.find(has(key)) ?? reading.find(has(key)))
  // Not a cancelled one at the start of the answer, where no branch has delivered from it: the restart asks for
  // it again as it was asked for, which every consumer can meet (a lines() branch cancelled before it read, beside
  // a tee that speaks for its events() branch cancelled mid-event, made a tee's branch read later refused).
  const agree = top > 0 ? judged : reading
  const consistent = (key: 'lastEventId' | 'lastItem') => agree.every(has(key)) || !agree.some(has(key))
  // A cursor continues after the leader's item: when both branches read the same kind of item, as they give
  // it; when they read events() and events({ json: true }), as the latter gives it, whichever is ahead, so that
  // the cursor sees one shape. Otherwise there is none to give it, and the source refuses a cursor rather than
  // start over — unless none reads: cancelled leaders of two kinds stand at one place, after the item of the first
  // that reads one kind (not a tee whose cancelled branches read two), which the branches read later follow.
  const unit = judged[0]?.hooks?.unit
  const sameUnit = unit !== undefined && judged.every((b) => b.hooks?.unit === unit)
  let parsed: { value: unknown } | undefined
  if (judged.every((b) => b.hooks?.parsed !== undefined))
    for (const b of lead) parsed ??= planned(b)?.parsed?.()
  const restartable =
    reading.every((b) => b.hooks?.restart !== undefined) &&
    consistent('lastEventId') &&
    consistent('lastItem')
  const lastItem = sameUnit
    ? from('lastItem')?.lastItem?.()
    : (parsed ?? (reading[0] ? undefined : planned(lead.find((b) => b.hooks?.unit))?.lastItem?.()))
  // Below 0 only after a restart, when every live branch is still reading an earlier answer (the branch that
  // read this one was cancelled): none has delivered from this one, so a restart replaces it whole, from the
  // position it began after, not from a branch's own, which its queue still holds the units after. So at its
  // start where the leaders give no item (a tee of a tee branch that met the restart while its branches read two
  // kinds, and gives none there since): the answer began after the one the restart was given.
  if (began && (top < 0 || (!top && !lastItem))) return { ...began, at: 0, restartable }
  return {
    at: top,
    lastEventId: from('lastEventId')?.lastEventId?.(),
    since: from('since')?.since?.(),
    trailing: from('trailing')?.trailing?.(),
    lastItem,
    parsed,
    retryMs: from('retryMs')?.retryMs?.(),
    restartable,
  }
}

/**
 * The consumer hooks a tee attaches to its source, combining both branches' consumers: where a reconnect
 * restarts, and what it sends. (A branch's checkpoint attaches that branch's own for the moment it is taken.)
 *
 * A recovery runs inside one read of the source, over awaits (backoff, the request) during which the branch
 * not waiting on that read may go on consuming its queue; the plan is fixed at its start, so the event id sent
 * and the boundary the source restarts after are the same.
 *
 * `replayed`: the bytes the answer being read starts with that the tee drops as a replay of what its branches had
 * (`undefined` while it does: see `teeSource`); `toSource`: a place of its branches in the answer, as its source
 * counts it (those bytes counted, less any the tee gives its branches in their place).
 */
export function teeHooks(
  branches: readonly Branch[],
  split: (at: number, plan?: Plan) => void,
  recovering: () => boolean,
  continues: (place: Place) => boolean,
  received: () => number,
  replayed: () => number | undefined,
  toSource: (at: number) => number,
): TeeHooks {
  // The branches that speak for the tee: the live ones that read, or while none does, those that read before they
  // were cancelled and left a place to continue after (as `plan` counts them) — not a text() one: cancelled, it
  // holds no restart back, as a cancelled bytes() one does not. (A tee of a branch that speaks only for its own
  // cancelled ones is one of them: see `gone`.)
  const speaking = (): Branch[] => {
    const live = branches.filter((b) => !gone(b) && reads(b))
    return live.length > 0
      ? live
      : branches.filter((b) => gone(b) && b.hooks !== undefined && placed(b.hooks) && reads(b))
  }
  const any = (key: Key): boolean => speaking().some((b) => b.hooks?.[key] !== undefined)
  let frozen: Plan | undefined
  // The plan of the last restart: the position the answer being read began after (none once a rebase moved it).
  let began: Plan | undefined
  const current = (): Plan | undefined => {
    if (!recovering()) return plan(branches, began, continues, received())
    frozen ??= plan(branches, began, continues, received())
    return frozen
  }
  const restart = (): void => {
    began = current()
    frozen = undefined
    split(began?.at ?? 0, began)
  }
  return {
    // `restart` is looked up when the source needs it, and its absence is how the source learns that the
    // consumers cannot restart; a getter that may return `undefined` is not an optional method to
    // exactOptionalPropertyTypes, hence the cast.
    // A tee of a tee branch reads these hooks as one consumer's: a key none of its branches has is absent, so
    // that the outer tee finds the same keys as on a plain consumer of that kind.
    hooks: {
      committed: (fed) => {
        const at = current()?.at
        return at === undefined ? fed : toSource(at)
      },
      replayed,
      // Its branches' places count from `at` on: a plan fixed before is in the coordinates the split left. The
      // answer now begins after the place its source restarted from (another branch's), not after its own last
      // restart's: with all its branches still behind, it stands before that answer, not at its start after an older
      // place (a restart from there would repeat the units after it).
      rebase: (at) => {
        frozen = began = undefined
        split(at)
      },
      get restart() {
        return current()?.restartable === true ? restart : undefined
      },
      get lastEventId() {
        return any('lastEventId') ? () => current()?.lastEventId : undefined
      },
      get retryMs() {
        return any('retryMs') ? () => current()?.retryMs : undefined
      },
      get since() {
        return any('since') ? () => current()?.since ?? 0 : undefined
      },
      get trailing() {
        return any('trailing') ? () => current()?.trailing ?? '' : undefined
      },
      get lastItem() {
        return any('lastItem') ? () => current()?.lastItem : undefined
      },
      get unit() {
        const units = speaking()
          .filter((b) => b.hooks !== undefined)
          .map((b) => b.hooks?.unit)
        return units.length > 0 && units.every((u) => u === units[0]) ? units[0] : undefined
      },
      // Only when every branch reading can give it, as `plan` asks of its own: a branch beside one that cannot
      // (events({ schema })) refuses a cursor whichever of them is ahead, as a plain tee of the two does.
      get parsed() {
        const reading = speaking().filter(reads)
        return reading.length > 0 && reading.every((b) => b.hooks?.parsed !== undefined)
          ? () => current()?.parsed
          : undefined
      },
      // A live events() or ndjson() branch tells whether the end cuts an event or a record: from what it decoded
      // and the bytes after that — those handed that its consumer has not fed yet (it takes a read's chunk some
      // microtasks later, and another branch may read the end meanwhile), its queue, and for a tee of it the bytes
      // its source holds for it too; an ndjson() branch with some says nothing — not behind a restart (its other
      // branch, past it, read the same answer, and tells).
      cut: (rest: readonly Uint8Array[] = []) =>
        branches
          .map((b) => {
            const unfed = b.handed - (b.hooks?.fed?.() ?? b.handed)
            return b.cancelled || b.queue.some((item) => item instanceof Splice)
              ? undefined
              : b.hooks?.cut?.([
                  ...(unfed > 0 ? [b.lastHanded!.subarray(-unfed)] : []),
                  ...(b.queue as Uint8Array[]),
                  ...rest,
                ])
          })
          .find((c) => c),
      fed: received,
      // None of its branches speaks: the outer tee plans as if this branch of its own were not read yet.
      get idle() {
        return speaking().length === 0
      },
      // Only cancelled branches speak for it.
      get left() {
        const [first] = speaking()
        return first !== undefined && gone(first)
      },
    } as ConsumerHooks,
    settled() {
      frozen = undefined
    },
    hold: () => (frozen?.restartable === true ? frozen.at : undefined),
  }
}
