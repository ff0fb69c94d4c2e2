import type { ChunkSource } from '../body-source.ts'
import type { ProgressTracker } from '../progress.ts'

/** Memory bounds for the decoders, in bytes; every buffer that grows with input has one. */
export interface Limits {
  /** Longest line `lines()` and `ndjson()` accept. Default 8 MiB. */
  maxLineBytes: number
  /** Largest single SSE event `events()` accepts. Default 8 MiB. */
  maxEventBytes: number
  /** Largest body the whole-body helpers (`collect.*`) and any consumer accept. Default: no limit. */
  maxBytes: number
}

/** What a consumer reads from and reports to. */
export interface ConsumeContext {
  source: ChunkSource
  progress: ProgressTracker
  limits: Limits
}

/**
 * Settles the progress state and the connection when a consumer stops: `done` after a proven end, `error`
 * when it threw, `cancelled` when the caller broke out early — in which case the body is cancelled, once.
 */
export async function settle(
  context: ConsumeContext,
  outcome: 'done' | 'error' | 'cancelled',
): Promise<void> {
  context.progress.setState(outcome)
  if (outcome !== 'done')
    await context.source.cancel(outcome === 'cancelled' ? 'The consumer stopped reading.' : undefined)
}
