let takesNoStore: boolean | undefined

/**
 * The `cache` mode of a request that continues a stream (a reconnect, or the request of `resumeFrom`): `no-store`,
 * unless the caller chose a mode (`chosen`) or the runtime takes none. An HTTP cache keys an answer by its URL, not
 * by the `Last-Event-ID`, cursor header or `Range` the continuation carries: a browser may give it the answer to an
 * earlier request instead (a fresh one, or on a back/forward navigation even a stale one), the stream from its
 * start or cut where it was cut, whose items sluice cannot tell from new ones.
 *
 * @example
 * uncached(undefined) // { cache: 'no-store' }, where the runtime takes it
 * uncached('reload') // {}: the caller's choice stands
 */
export function uncached(chosen: RequestCache | undefined): { cache?: RequestCache } {
  if (chosen !== undefined) return {}
  // Asked once: workerd before its compatibility date 2024-11-11 refuses a Request with any `cache`.
  if (takesNoStore === undefined) {
    try {
      takesNoStore = !!new Request('http://h', { cache: 'no-store' })
    } catch {
      takesNoStore = false
    }
  }
  return takesNoStore ? { cache: 'no-store' } : {}
}
