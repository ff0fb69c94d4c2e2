/** How long after the bytes before it a mid-body error arrives (see the fault branch in `pull`). */
const FAULT_GRACE_MS = 20

/** A fault whose offset and error are final: counted in this response's body. */
export interface BodyFault {
  kind: 'drop' | 'stall' | 'error' | 'truncate'
  at: number
  error: unknown
}

/** How the body is paced, chunked and broken. */
export interface BodyPlan {
  chunkSize: number | undefined
  delayMs: number
  bytesPerSecond: number | undefined
  fault: BodyFault | undefined
  signal: AbortSignal | undefined
}

/**
 * A pull-based body over `source`: nothing is produced until the reader asks (high-water mark 0), each read
 * takes at most one chunk from the source (more only to fill `chunkSize`), and cancelling or aborting releases
 * the source with `return()` so its `finally` blocks run.
 */
export function createBodyStream(
  source: AsyncIterator<Uint8Array>,
  plan: BodyPlan,
): ReadableStream<Uint8Array> {
  let pending: Uint8Array | undefined
  let delivered = 0
  let chunks = 0
  let startedAt: number | undefined
  let finished = false
  let wake: (() => void) | undefined
  let onAbort: (() => void) | undefined

  const release = (): void => {
    if (finished) return
    finished = true
    wake?.()
    if (onAbort !== undefined) plan.signal?.removeEventListener('abort', onAbort)
    source.return?.()?.catch(() => {})
  }

  // Resolves after `ms`, or at once when the body is cancelled or aborted meanwhile; `Infinity` waits for that.
  const wait = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = Number.isFinite(ms) ? setTimeout(done, ms) : undefined
      function done(): void {
        if (timer !== undefined) clearTimeout(timer)
        wake = undefined
        resolve()
      }
      wake = done
    })

  const next = async (): Promise<Uint8Array | undefined> => {
    while (pending === undefined || pending.length === 0) {
      const result = await source.next()
      if (result.done || finished) return undefined
      pending = result.value
    }
    return pending
  }

  // Takes up to `limit` bytes; with `fill`, keeps reading parts until `limit` bytes or the end.
  const take = async (limit: number, fill: boolean): Promise<Uint8Array | undefined> => {
    const first = await next()
    if (first === undefined) return undefined
    if (first.length >= limit || !fill) {
      const out = first.length > limit ? first.subarray(0, limit) : first
      pending = first.length > limit ? first.subarray(limit) : undefined
      return out
    }
    const out = new Uint8Array(limit)
    let filled = 0
    for (let part = first; ; ) {
      const n = Math.min(limit - filled, part.length)
      out.set(part.subarray(0, n), filled)
      filled += n
      pending = n < part.length ? part.subarray(n) : undefined
      if (filled === limit) break
      const more = await next()
      if (more === undefined) break
      part = more
    }
    return out.subarray(0, filled)
  }

  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const signal = plan.signal
        if (signal === undefined) return
        onAbort = () => {
          if (finished) return
          controller.error(signal.reason)
          release()
        }
        if (signal.aborted) onAbort()
        else signal.addEventListener('abort', onAbort, { once: true })
      },

      async pull(controller) {
        try {
          const fault = plan.fault
          if (fault !== undefined && delivered >= fault.at) {
            if (fault.kind === 'stall') return await wait(Number.POSITIVE_INFINITY)
            if (fault.kind === 'truncate') controller.close()
            else {
              // An error discards chunks not yet read. A real connection fails a moment after its last bytes,
              // and a transport that relays eagerly (msw's browser worker) must get them to the page first.
              if (delivered > 0) await wait(FAULT_GRACE_MS)
              if (finished) return
              controller.error(fault.error)
            }
            return release()
          }
          let limit = plan.chunkSize ?? Number.POSITIVE_INFINITY
          // Without a chunk size, a large part would leave in one burst and then a long silence; tenths of a
          // second's worth keep the shaped pace smooth.
          if (plan.bytesPerSecond !== undefined && plan.chunkSize === undefined) {
            limit = Math.max(1, Math.floor(plan.bytesPerSecond / 10))
          }
          // Chunks end exactly at the fault so the client sees precisely `at` bytes before it.
          if (fault !== undefined) limit = Math.min(limit, fault.at - delivered)
          const chunk = await take(limit, plan.chunkSize !== undefined)
          if (finished) return
          if (chunk === undefined) {
            controller.close()
            return release()
          }
          if (chunks > 0 && plan.delayMs > 0) await wait(plan.delayMs)
          if (plan.bytesPerSecond !== undefined) {
            // A monotonic clock: with the system clock set back, the pace would stop until it caught up.
            startedAt ??= performance.now()
            const due = startedAt + (delivered / plan.bytesPerSecond) * 1000
            const now = performance.now()
            if (due > now) await wait(due - now)
          }
          if (finished) return
          controller.enqueue(chunk)
          delivered += chunk.length
          chunks++
        } catch (error) {
          // The source threw: the body fails with its error, like a server whose handler throws mid-body — a
          // moment after its last bytes, as a fault does, so that a relaying transport gets them to the page.
          if (delivered > 0 && !finished) await wait(FAULT_GRACE_MS)
          if (!finished) controller.error(error)
          release()
        }
      },

      cancel() {
        release()
      },
    },
    { highWaterMark: 0 },
  )
}
