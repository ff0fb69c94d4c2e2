/** A signal of sluice's own that follows others (see `linkSignals`). */
export interface LinkedSignal {
  /** Aborts with the reason of the first source to abort, as `AbortSignal.any()`'s signal does. */
  readonly signal: AbortSignal
  /** Follows the sources (at once, a source already aborted) until the function it returns is called. */
  hold(): () => void
}

/**
 * What `AbortSignal.any(sources)` makes, but following its sources only while held: let go, it leaves nothing on
 * them. Node 22's `AbortSignal.any()` keeps memory alive for each call for as long as its sources live
 * (nodejs/node#55351), and an app may pass one signal to every request for as long as it runs.
 */
export function linkSignals(sources: ReadonlyArray<AbortSignal | null | undefined>): LinkedSignal {
  const controller = new AbortController()
  const follow = (event: Event): void => controller.abort((event.target as AbortSignal).reason)
  let holders = 0
  const each = (add: boolean): void => {
    for (const source of sources) {
      if (add && source?.aborted) {
        controller.abort(source.reason)
        return
      }
      source?.[add ? 'addEventListener' : 'removeEventListener']('abort', follow)
    }
  }
  return {
    signal: controller.signal,
    hold() {
      if (holders++ === 0) each(true)
      let held = true
      return () => {
        if (held && --holders === 0) each(false)
        held = false
      }
    },
  }
}
