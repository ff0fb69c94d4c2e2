import { useMemo, useSyncExternalStore } from 'react'
import type { StreamSnapshot, StreamStore } from '../core/store-types.ts'

/**
 * What `useStream()` and `useStreamStore()` return: the store's current snapshot plus its `cancel` and `retry`.
 *
 * @example
 * const { status, items, error, cancel, retry }: UseStreamResult<Row> = useStream(url, { as: 'ndjson', schema: Row })
 */
export interface UseStreamResult<Item = unknown, Data = unknown, Final = unknown>
  extends StreamSnapshot<Item, Data, Final> {
  /** Stops the stream and releases the connection; `status` becomes `cancelled`. */
  readonly cancel: (reason?: unknown) => void
  /**
   * Cancels the current stream, if any, and requests again from scratch. `useStream()`'s does nothing once the
   * component unmounted or the key changed (that stream is no longer the component's); `useStreamStore()`'s is
   * the store's own.
   */
  readonly retry: () => void
}

/**
 * Subscribes a component to a store created outside React (in a module, a router loader, a context), re-rendering
 * on each batched change. The first subscriber starts the store; unmounting does not cancel it: its creator owns
 * its lifetime and calls `store.cancel()`.
 *
 * @example
 * const reportStore = createStreamStore((signal) => sluice(reportUrl, { signal }), { as: 'ndjson', maxItems: 5000 })
 * function Report() {
 *   const { items, progress } = useStreamStore(reportStore)
 *   return <Table rows={items} percent={progress.percent} />
 * }
 */
export function useStreamStore<Item, Data, Final>(
  store: StreamStore<Item, Data, Final>,
): UseStreamResult<Item, Data, Final> {
  return useSnapshot(store, store.retry)
}

/** The store's snapshot with its `cancel` and the given `retry`: one object per snapshot. */
export function useSnapshot<Item, Data, Final>(
  store: StreamStore<Item, Data, Final>,
  retry: () => void,
): UseStreamResult<Item, Data, Final> {
  // The server snapshot is the idle one, also while hydrating a page whose store has started meanwhile.
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot, store.getServerSnapshot)
  return useMemo(() => ({ ...snapshot, cancel: store.cancel, retry }), [snapshot, store, retry])
}
