import type { Input } from 'ky'
import { useCallback, useEffect, useInsertionEffect, useRef, useState } from 'react'
import { sluiceWith } from '../core/client.ts'
import { must, type SluiceOptions } from '../core/options.ts'
import { namedStreamStore } from '../core/store.ts'
import type {
  ExactStoreOptions,
  StreamData,
  StreamFinal,
  StreamItem,
  StreamStatus,
  StreamStore,
  StreamStoreOptions,
} from '../core/store-types.ts'
import type { StreamResponse } from '../core/stream-response.ts'
import { useRequestKey } from './use-request-key.ts'
import { type UseStreamResult, useSnapshot } from './use-stream-store.ts'

/**
 * What `useStream()` requests: a URL or `Request` (sent with `options.sluice`), or a function that requests with
 * the hook's `AbortSignal`. A function may be written inline: the latest one is called at each (re)start, and
 * `options.key` says when to restart.
 *
 * @example
 * const request: UseStreamRequest = (signal) => api('report', { signal, json: { month } })
 */
export type UseStreamRequest = Input | ((signal: AbortSignal) => Promise<StreamResponse>)

/** The hook's own options, beside those of the store's mode. */
interface UseStreamOwnOptions {
  /** Options of the `sluice()` call for a URL or `Request`: `method`, `json`, `headers`, `fetch`, `resume`, … */
  sluice?: SluiceOptions | undefined
  /**
   * The stream's identity: a new key cancels the stream and starts another. Default: derived from the URL and
   * the non-function sluice options; for a request function, none — it starts once, and restarts only when
   * `key` changes, so pass the inputs it reads (`key: month`) to restart on new ones.
   */
  key?: string | undefined
}

/**
 * `sluice` configures the request made from a URL or `Request`; a request function makes its own, so `sluice`
 * beside one would be ignored without a word: a type error instead (R, a union, allows it). Not done by leaving
 * `sluice` out of the keys `ExactStoreOptions` allows: dead there, a key of `O`'s constraint left `O` uninferred
 * beside a callback (`onInvalid`, `until`), and the options refused.
 */
type SluiceFor<R> = R extends Input ? unknown : { sluice?: undefined }

/**
 * A misspelt key of `sluice` typed `never`: `O` is inferred with the `sluice` object in it, so its keys escape the
 * check of an object literal against `SluiceOptions`, and ky's options, open to any key, would ignore it.
 */
type ExactSluice<O> = O extends { sluice?: infer S }
  ? { sluice?: { [K in Exclude<keyof S, keyof SluiceOptions>]: never } | undefined }
  : unknown

/**
 * Options of `useStream()`: a store mode and its options (`as`, `schema`, `maxItems`, `throttleMs`, …), plus
 * `sluice` (request options) and `key`.
 *
 * @example
 * const options: UseStreamOptions = { as: 'ndjson', schema: Row, sluice: { method: 'POST', json: { month } } }
 */
export type UseStreamOptions = StreamStoreOptions & UseStreamOwnOptions

const LIVE: ReadonlySet<StreamStatus> = new Set(['idle', 'connecting', 'streaming'])

/**
 * Streams a response into a component: the accumulated items, text or partial JSON document, `status`,
 * `progress` and `error`, re-rendered once per batch, with `cancel()` and `retry()`.
 *
 * The stream starts after mount and is cancelled on unmount and when its key changes (then the new one
 * starts). The key of a URL or `Request` is the URL plus a stable serialisation of `options.sluice` (functions
 * and its `signal` excluded), so an inline options object does not restart anything; it is serialised again only
 * when a value in it is not the one of the last render, so an object changed in place is not seen (as by React's
 * dependencies): pass a new one. A request function is not keyed by its identity, so an inline
 * `(signal) => sluice(…)` is fine: the latest function is called at each (re)start, and the stream restarts only
 * when `options.key` changes — pass the inputs the function reads as `key` to restart on new ones. The mode's
 * options (`schema`, `maxItems`, …) are those of the render where the key last changed; the request and `sluice`
 * options are the latest at each (re)start. `retry()` does nothing once the component unmounted or the key
 * changed. Under `<StrictMode>` the first mount's stream is cancelled and one stream remains.
 *
 * @example
 * function Tokens({ prompt }: { prompt: string }) {
 *   const { items } = useStream((signal) => api('chat', { signal, json: { prompt } }), { as: 'events', key: prompt })
 *   return <p>{items.map((event) => event.data).join('')}</p>
 * }
 *
 * @example
 * function Report({ month }: { month: string }) {
 *   const { items, status, progress, error, retry } = useStream(`${base}/report`, {
 *     as: 'ndjson',
 *     schema: Row,
 *     maxItems: 5000,
 *     sluice: { method: 'POST', json: { month } },
 *   })
 *   if (status === 'error') return <button onClick={retry}>Retry ({String(error)})</button>
 *   return <Table rows={items} percent={progress.percent} />
 * }
 */
export function useStream<const O extends UseStreamOptions, R extends UseStreamRequest = UseStreamRequest>(
  request: R,
  options: ExactStoreOptions<O, keyof UseStreamOwnOptions> & SluiceFor<R> & ExactSluice<O>,
): UseStreamResult<StreamItem<O>, StreamData<O>, StreamFinal<O>> {
  // Plain JavaScript may leave them out: say so, not "cannot read properties of undefined".
  must(
    typeof options === 'object' && options !== null,
    'useStream(): options',
    'an object with `as`',
    options,
    TypeError,
  )
  const key = useRequestKey(options.as, request, options.sluice, options.key)
  const latest = useRef({ request, options })
  const [held, setHeld] = useState(() => ({ key, store: storeFor(latest, options) }))
  let { store } = held
  if (held.key !== key) {
    // Derived state: a new key makes a new (lazy) store during render; the effects below swap the streams.
    store = storeFor(latest, options)
    setHeld({ key, store })
  }
  // Set before the layout effects of this commit (the component's own, its children's), any of which may call
  // retry(): a passive effect runs after them all, and that retry would send the last render's request. An
  // insertion effect runs before every layout effect, and on the server, unlike React 18's useLayoutEffect, it
  // is skipped without a warning.
  useInsertionEffect(() => {
    latest.current = { request, options }
  })
  const interrupted = useRef<StreamStore | undefined>(undefined)
  const mounted = useRef<StreamStore | undefined>(undefined)
  useEffect(() => {
    // A remount after our own cleanup cancelled this store (StrictMode, <Activity>): start it over.
    if (interrupted.current === store) store.retry()
    else store.start()
    interrupted.current = undefined
    mounted.current = store
    return () => {
      if (mounted.current === store) mounted.current = undefined
      if (!LIVE.has(store.getSnapshot().status)) return
      interrupted.current = store
      // The same cleanup runs for an unmount and for a new key: the reason names both.
      store.cancel(
        new DOMException('The component using the stream unmounted, or its key changed.', 'AbortError'),
      )
    }
  }, [store])
  // The hook owns its stores: a retry() kept from an earlier render must not start a stream that no cleanup
  // will cancel (the component is gone, or shows another key's stream).
  const retry = useCallback(() => {
    if (mounted.current === store) store.retry()
  }, [store])
  return useSnapshot(store, retry) as UseStreamResult<StreamItem<O>, StreamData<O>, StreamFinal<O>>
}

/**
 * A store with the mode options of the render that made it, whose request reads the hook's latest request and
 * `sluice` options each time it (re)starts — so a retry sends the current `fetch`, hooks and headers.
 */
function storeFor(
  latest: { readonly current: { request: UseStreamRequest; options: UseStreamOptions } },
  options: UseStreamOptions,
): StreamStore {
  const send = (signal: AbortSignal): Promise<StreamResponse> => {
    const { request, options: now } = latest.current
    if (typeof request === 'function') return request(signal)
    const { signal: own, ...rest } = now.sluice ?? {}
    // A Request with a body can be sent once; a clone per attempt keeps the original reusable for retry().
    const input = request instanceof Request ? request.clone() : request
    // Both signals end the stream: sluice follows `own` only until the stream settles (see linkSignals).
    const res = sluiceWith(input, { ...rest, signal }, own)
    // sluice rejects with the signal's reason, whatever it is: the store cannot tell a custom one from a
    // failure, but here the signal is in sight, and its abort is a cancellation.
    return own == null
      ? res
      : res.catch((error: unknown) => {
          if (!own.aborted) throw error
          throw new DOMException('The request was aborted by options.sluice.signal.', 'AbortError')
        })
  }
  return namedStreamStore('useStream()', send, withoutHookOptions(options))
}

function withoutHookOptions(options: UseStreamOptions): StreamStoreOptions {
  const { sluice: _request, key: _key, ...store } = options
  return store
}
