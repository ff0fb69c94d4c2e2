import type { ChunkSource } from './body-source.ts'
import { FINAL, type Progress, type ProgressSink, type ProgressState } from './progress.ts'

/**
 * Splits one source into two branches with a bounded buffer: a branch that runs more than `maxBuffer` bytes
 * ahead of the other waits for it, so memory stays bounded (unlike `ReadableStream.tee()`, which buffers
 * without limit). Cancelling one branch lets the other run free; the body is cancelled when both are.
 */
export function teeSource(source: ChunkSource, maxBuffer: number): [ChunkSource, ChunkSource] {
  const queues: [Uint8Array[], Uint8Array[]] = [[], []]
  const buffered = [0, 0]
  const cancelled: [boolean, boolean] = [false, false]
  let ended = false
  let failure: { error: unknown } | undefined
  let reading: Promise<void> | undefined
  let wake: (() => void) | undefined
  let drained = new Promise<void>((resolve) => {
    wake = resolve
  })

  const pullOnce = (): Promise<void> => {
    reading ??= source
      .read()
      .then(
        (chunk) => {
          if (chunk === undefined) ended = true
          else
            for (const i of [0, 1] as const) {
              if (cancelled[i]) continue
              queues[i].push(chunk)
              buffered[i]! += chunk.length
            }
        },
        (error: unknown) => {
          failure = { error }
        },
      )
      .finally(() => {
        reading = undefined
      })
    return reading
  }

  const branch = (i: 0 | 1): ChunkSource => {
    const other = i === 0 ? 1 : 0
    return {
      get cancelled() {
        return cancelled[i]
      },
      async read() {
        for (;;) {
          const chunk = queues[i].shift()
          if (chunk !== undefined) {
            buffered[i]! -= chunk.length
            wake?.()
            drained = new Promise<void>((resolve) => {
              wake = resolve
            })
            return chunk
          }
          if (failure) throw failure.error
          if (ended) return undefined
          // Reading more would grow the other branch's queue: wait until it drains below the bound.
          if (!cancelled[other] && buffered[other]! >= maxBuffer) await drained
          else await pullOnce()
        }
      },
      async cancel(reason?: unknown) {
        if (cancelled[i]) return
        cancelled[i] = true
        queues[i].length = 0
        buffered[i] = 0
        wake?.()
        if (cancelled[other]) await source.cancel(reason)
      },
    }
  }
  return [branch(0), branch(1)]
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
      if (state === 'done') shared.setState('done')
      else if (other !== undefined)
        shared.setState(state === 'error' || other === 'error' ? 'error' : 'cancelled')
    },
    snapshot: (): Progress => shared.snapshot(),
    // One body: a branch's state and attempt are the shared tracker's, and so are its watchers.
    watch: shared.watch?.bind(shared),
  })
  return [branch(0), branch(1)]
}
