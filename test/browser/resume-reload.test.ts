/**
 * README's "Resume across reloads" guide, followed literally in a page: the checkpoint is saved to localStorage on
 * `pagehide` (after `res.detach()`), and the "next page load" is a new sluice call with that checkpoint. The guide's
 * block itself runs in test/node/readme-run.test.ts, and in Chromium with its back/forward cache in
 * test/node/readme-reload-bfcache.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest'
import {
  type Checkpoint,
  createStreamStore,
  isResumeError,
  type ResumeError,
  type StreamResponse,
  sluice,
} from '../../src/index.ts'
import { encode } from '../support/chunking.ts'
import { base64, FAST, type Script, scripted } from '../support/scripted.ts'

const KEY = 'report'
afterEach(() => localStorage.removeItem(KEY))

const RECORDS = Array.from({ length: 40 }, (_, i) => ({ i, text: `row ${i} é中😀 ${'x'.repeat(i % 7)}` }))
const NDJSON = encode(RECORDS.map((r) => `${JSON.stringify(r)}\n`).join(''))

type Read = (res: StreamResponse) => AsyncIterable<unknown>
interface Kind {
  name: string
  script: (chunk: number) => Script
  read: Read
  options: Parameters<typeof sluice>[1]
  all: unknown[]
}
const KINDS: Kind[] = [
  {
    name: 'NDJSON by Range',
    script: (chunk) => ({ kind: 'range', body: base64(NDJSON), etag: ['"v1"'], chunk, pace: 1 }),
    read: (res) => res.ndjson(),
    options: {},
    all: RECORDS,
  },
  {
    name: 'SSE by Last-Event-ID',
    script: (chunk) => ({
      kind: 'sse',
      events: RECORDS.map((r) => ({ id: String(r.i), data: JSON.stringify(r) })),
      chunk,
      pace: 1,
    }),
    read: (res) => mapAsync(res.events({ json: true }), (e) => e.data),
    options: {},
    all: RECORDS,
  },
  {
    name: 'NDJSON by cursor',
    script: (chunk) => ({
      kind: 'cursor',
      records: RECORDS.map((r) => JSON.stringify(r)),
      type: 'application/x-ndjson',
      chunk,
      pace: 1,
    }),
    read: (res) => res.ndjson(),
    options: {
      resume: { cursor: (last) => ({ searchParams: { after: String((last as { i: number }).i) } }) },
    },
    all: RECORDS,
  },
]

async function* mapAsync<T, U>(source: AsyncIterable<T>, f: (t: T) => U): AsyncIterable<U> {
  for await (const t of source) yield f(t)
}

/**
 * One page load, as the guide writes it. `items` fires `pagehide` after that many items (in the loop body),
 * `bytes` from a progress report once that many bytes arrived (between items, a unit cut anywhere), or
 * `reconnecting` as soon as a drop has the stream reconnect.
 */
async function pageLoad(
  url: string,
  kind: Kind,
  hide: { items?: number; bytes?: number; reconnecting?: boolean } = {},
): Promise<{ rows: unknown[]; res: StreamResponse }> {
  const saved = localStorage.getItem(KEY)
  let hidden = false
  const pagehide = () => {
    if (hidden) return
    hidden = true
    dispatchEvent(new PageTransitionEvent('pagehide'))
  }
  const res = await sluice(url, {
    ...kind.options,
    resume: { backoff: FAST, ...(kind.options?.resume as object) },
    ...(saved ? { resumeFrom: JSON.parse(saved) as Checkpoint } : {}),
    progressInterval: 0,
    onProgress: (p) => {
      if (hide.bytes !== undefined && p.loaded >= hide.bytes && p.state === 'streaming') pagehide()
      if (hide.reconnecting && p.state === 'reconnecting') pagehide()
    },
  })
  const onHide = () => {
    res.detach() // drop the connection, keep the place
    localStorage.setItem(KEY, JSON.stringify(res.checkpoint()))
  }
  addEventListener('pagehide', onHide)
  const rows: unknown[] = []
  try {
    for await (const row of kind.read(res)) {
      rows.push(row)
      if (rows.length === hide.items) pagehide()
    }
    if (res.progress.state === 'done') localStorage.removeItem(KEY)
  } finally {
    removeEventListener('pagehide', onHide)
  }
  return { rows, res }
}

describe('resume across a reload, as the guide writes it', () => {
  for (const kind of KINDS) {
    for (const chunk of [7, 64]) {
      for (const items of [1, 2, 13, 39]) {
        it(`${kind.name}, ${chunk}-byte chunks: hidden after ${items} items`, async () => {
          const { url } = await scripted(kind.script(chunk))
          const first = await pageLoad(url, kind, { items })
          expect(first.rows).toHaveLength(items)
          expect(localStorage.getItem(KEY)).not.toBeNull()
          const second = await pageLoad(url, kind)
          expect([...first.rows, ...second.rows]).toEqual(kind.all)
          expect(second.res.progress).toMatchObject({ state: 'done', items: RECORDS.length })
          // Progress goes on counting from the checkpoint: a Range continuation ends at the body's length.
          if (kind.script(chunk).kind === 'range') expect(second.res.progress.loaded).toBe(NDJSON.length)
          expect(localStorage.getItem(KEY)).toBeNull()
        })
      }
      for (const drop of [100, 777]) {
        it(`${kind.name}, ${chunk}-byte chunks: hidden while reconnecting after a drop at byte ${drop}`, async () => {
          const { url } = await scripted({ ...kind.script(chunk), attempts: [{ drop }, {}, {}] })
          const first = await pageLoad(url, kind, { reconnecting: true })
          expect(first.res.progress.state).toBe('cancelled')
          const second = await pageLoad(url, kind)
          expect([...first.rows, ...second.rows]).toEqual(kind.all)
          expect(second.res.progress).toMatchObject({ state: 'done', items: RECORDS.length })
        })
      }
      for (const bytes of [1, 50, 333, 1500]) {
        it(`${kind.name}, ${chunk}-byte chunks: hidden once ${bytes} bytes arrived`, async () => {
          const { url } = await scripted(kind.script(chunk))
          const first = await pageLoad(url, kind, { bytes })
          const second = await pageLoad(url, kind)
          expect([...first.rows, ...second.rows]).toEqual(kind.all)
          expect(second.res.progress).toMatchObject({ state: 'done', items: RECORDS.length })
          expect(localStorage.getItem(KEY)).toBeNull()
        })
      }
    }
  }
})

describe('a saved checkpoint the next load cannot continue', () => {
  it('of a report that changed since (another ETag) is refused as validator-changed, naming the change, its request the URL', async () => {
    const kind = KINDS[0]!
    const { url, log } = await scripted({ ...kind.script(64), etag: ['"v1"', '"v2"'] })
    await pageLoad(url, kind, { items: 13 })
    const error = await pageLoad(url, kind).catch((e: unknown) => e)
    expect(isResumeError(error) && error.reason).toBe('validator-changed')
    expect((error as Error).message).toContain('ETag "v1" became "v2"')
    expect((error as ResumeError).request?.url).toBe(url)
    // No row of the new version was delivered: only the request was made.
    expect((await log()).filter((e) => e.event === 'request')).toHaveLength(2)
  })

  it('of a report read to its end resumes into nothing: no row twice', async () => {
    for (const kind of KINDS) {
      const { url } = await scripted(kind.script(64))
      const res = await sluice(url, kind.options)
      await Array.fromAsync(kind.read(res))
      const again = await sluice(url, { ...kind.options, resumeFrom: res.checkpoint() })
      expect(await Array.fromAsync(kind.read(again))).toEqual([])
      expect(again.progress).toMatchObject({ state: 'done', items: RECORDS.length })
    }
  })
})

describe('a store over the response', () => {
  it('saved in the same pagehide handler, its items agree with the checkpoint, a throttled batch included', async () => {
    const kind = KINDS[0]!
    const { url } = await scripted(kind.script(64))
    let res: StreamResponse | undefined
    let hidden: { items: readonly unknown[]; checkpoint: Checkpoint } | undefined
    const pagehide = () => {
      if (hidden !== undefined || res === undefined) return
      res.detach()
      hidden = { items: store.getSnapshot().items, checkpoint: res.checkpoint() }
    }
    const store = createStreamStore(
      async (signal) => {
        res = await sluice(url, {
          signal,
          progressInterval: 0,
          onProgress: (p) => void (p.items >= 5 && queueMicrotask(pagehide)),
        })
        return res
      },
      { as: 'ndjson', throttleMs: 60_000 },
    )
    await new Promise<void>((resolve) => {
      store.subscribe(() => {
        if (!['idle', 'connecting', 'streaming'].includes(store.getSnapshot().status)) resolve()
      })
    })
    expect(store.getSnapshot().status).toBe('cancelled')
    expect(hidden!.items).toEqual(RECORDS.slice(0, hidden!.checkpoint.items))
    const again = await sluice(url, { resumeFrom: hidden!.checkpoint })
    expect([...hidden!.items, ...(await Array.fromAsync(again.ndjson()))]).toEqual(RECORDS)
  })
})

describe('a store continued from a saved checkpoint', () => {
  /** Runs a store over `request` to its end. */
  async function settle<S extends ReturnType<typeof createStreamStore>>(store: S) {
    await new Promise<void>((resolve) => {
      store.subscribe(() => {
        if (!['idle', 'connecting', 'streaming'].includes(store.getSnapshot().status)) resolve()
      })
    })
    return store.getSnapshot()
  }

  it('has the rows after the checkpoint, and `dropped` is the index of its first one in the stream', async () => {
    const kind = KINDS[0]!
    const { url } = await scripted(kind.script(64))
    const first = await pageLoad(url, kind, { items: 13 })
    const saved = JSON.parse(localStorage.getItem(KEY)!) as Checkpoint
    const snapshot = await settle(
      createStreamStore((signal) => sluice(url, { signal, resumeFrom: saved }), { as: 'ndjson' }),
    )
    expect(snapshot.status).toBe('done')
    expect([...first.rows, ...snapshot.items]).toEqual(RECORDS)
    expect(snapshot.dropped).toBe(13)
    expect(snapshot.progress.items).toBe(snapshot.dropped + snapshot.items.length)
  })

  it('with maxItems, `dropped` counts the rows before the checkpoint too', async () => {
    const kind = KINDS[0]!
    const { url } = await scripted(kind.script(64))
    await pageLoad(url, kind, { items: 13 })
    const saved = JSON.parse(localStorage.getItem(KEY)!) as Checkpoint
    const snapshot = await settle(
      createStreamStore((signal) => sluice(url, { signal, resumeFrom: saved }), {
        as: 'ndjson',
        maxItems: 5,
      }),
    )
    expect(snapshot.items).toEqual(RECORDS.slice(35))
    expect(snapshot.dropped).toBe(35)
  })
})

it('a store over a tee() branch started after the other branch read some rows has them all, and `dropped` 0', async () => {
  const { url } = await scripted(KINDS[0]!.script(64))
  const [a, b] = (await sluice(url)).tee()
  const ahead = a.ndjson()[Symbol.asyncIterator]()
  for (let i = 0; i < 5; i++) await ahead.next()
  const store = createStreamStore(b, { as: 'ndjson' })
  const reading = Array.fromAsync({ [Symbol.asyncIterator]: () => ahead })
  await new Promise<void>((resolve) => {
    store.subscribe(() => {
      if (!['idle', 'connecting', 'streaming'].includes(store.getSnapshot().status)) resolve()
    })
  })
  await reading
  expect(store.getSnapshot()).toMatchObject({ status: 'done', items: RECORDS, dropped: 0 })
})
