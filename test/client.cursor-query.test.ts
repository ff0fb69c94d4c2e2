/**
 * A cursor's search params replace those of the same names wherever the request already had them — the input
 * URL, a client's default `searchParams`, the call's — on every request that carries the cursor: a reconnect,
 * and `resumeFrom` with a cursor checkpoint. ky would append them (`?after=-1&after=2`), and a server that reads
 * the first value would start over: the records already delivered would come again.
 */
import { describe, expect, it } from 'vitest'
import { type Checkpoint, createClient, type SluiceOptions, sluice } from '../src/index.ts'
import { encode } from './support/chunking.ts'
import { FAST, scripted } from './support/scripted.ts'

const rows = Array.from({ length: 6 }, (_, i) => JSON.stringify({ i, name: `row ${i}` }))
const ALL = rows.map((r) => JSON.parse(r) as unknown)
/** Inside the fourth record: the drop comes after rows 0, 1 and 2 were delivered. */
const INSIDE = encode(rows.slice(0, 3).join('\n')).length + 4
const after = (last: unknown) => ({ searchParams: { after: String((last as { i: number }).i) } })
const resume: SluiceOptions['resume'] = { strategy: 'cursor', cursor: after, backoff: FAST }

/** A cursor stream that drops inside the fourth record, and the query of each request it got. */
async function dropping(): Promise<{ url: string; queries: () => Promise<URLSearchParams[]> }> {
  const s = await scripted({ kind: 'cursor', records: rows, format: 'ndjson', attempts: [{ drop: INSIDE }] })
  return { url: s.url, queries: () => queriesOf(s.log) }
}

async function queriesOf(log: () => Promise<Array<{ event: string; search?: string }>>) {
  return (await log()).filter((e) => e.event === 'request').map((e) => new URLSearchParams(e.search))
}

describe('a reconnect sets the cursor over the search params the request already had', () => {
  it('in the input URL: the cursor value replaces it, and the other params stay', async () => {
    const s = await dropping()
    const res = await sluice(`${s.url}?after=-1&keep=1`, { resume })
    expect(await Array.fromAsync(res.ndjson())).toEqual(ALL)
    const [first, second] = await s.queries()
    expect(first?.getAll('after')).toEqual(['-1'])
    expect(second?.getAll('after')).toEqual(['2'])
    expect(second?.getAll('keep')).toEqual(['1'])
  })

  it('in a URL object given as the input', async () => {
    const s = await dropping()
    const res = await sluice(new URL(`${s.url}?after=-1`), { resume })
    expect(await Array.fromAsync(res.ndjson())).toEqual(ALL)
    expect((await s.queries()).map((q) => q.getAll('after'))).toEqual([['-1'], ['2']])
  })

  it('in a Request given as the input, whose body is sent again with the new URL', async () => {
    const s = await dropping()
    const bodies: string[] = []
    const res = await sluice(new Request(`${s.url}?after=-1`, { method: 'POST', body: 'query' }), {
      resume,
      fetch: async (input, init) => {
        const request = new Request(input, init)
        bodies.push(await request.clone().text())
        return fetch(request)
      },
    })
    expect(await Array.fromAsync(res.ndjson())).toEqual(ALL)
    expect((await s.queries()).map((q) => q.getAll('after'))).toEqual([['-1'], ['2']])
    expect(bodies).toEqual(['query', 'query'])
  })

  it("in a client's default searchParams and the call's own", async () => {
    const s = await dropping()
    const api = createClient({ searchParams: { after: '-1', keep: '1' }, resume })
    const res = await api(s.url, { searchParams: { after: '-1', also: '2' } })
    expect(await Array.fromAsync(res.ndjson())).toEqual(ALL)
    const [, second] = await s.queries()
    expect(second?.getAll('after')).toEqual(['2'])
    expect(second?.getAll('keep')).toEqual(['1'])
    expect(second?.getAll('also')).toEqual(['2'])
  })

  it("in a client's default searchParams given as a string, with a prefix", async () => {
    const s = await dropping()
    const { origin, pathname } = new URL(s.url)
    const api = createClient({ prefix: origin, searchParams: 'after=-1&keep=1', resume })
    const res = await api(pathname.slice(1))
    expect(await Array.fromAsync(res.ndjson())).toEqual(ALL)
    const [first, second] = await s.queries()
    expect(first?.getAll('after')).toEqual(['-1'])
    expect(second?.getAll('after')).toEqual(['2'])
    expect(second?.getAll('keep')).toEqual(['1'])
  })

  it("in a default a client's extend() removed: it stays out of the input URL", async () => {
    const s = await dropping()
    const api = createClient({ searchParams: { gone: '1', keep: '1' }, resume }).extend({
      searchParams: { gone: undefined },
    })
    const res = await api(`${s.url}?after=-1&gone=2`)
    expect(await Array.fromAsync(res.ndjson())).toEqual(ALL)
    const queries = await s.queries()
    expect(queries.map((q) => q.getAll('gone'))).toEqual([[], []])
    expect(queries.map((q) => q.getAll('keep'))).toEqual([['1'], ['1']])
    expect(queries[1]?.getAll('after')).toEqual(['2'])
  })

  it("in a client's baseUrl called with an empty input: the baseUrl's other params stay", async () => {
    const s = await dropping()
    const api = createClient({ baseUrl: `${s.url}?after=-1&keep=1`, resume })
    const res = await api('')
    expect(await Array.fromAsync(res.ndjson())).toEqual(ALL)
    const queries = await s.queries()
    expect(queries.map((q) => q.getAll('after'))).toEqual([['-1'], ['2']])
    expect(queries.map((q) => q.getAll('keep'))).toEqual([['1'], ['1']])
  })

  it('before the hooks run: a signing hook sees the URL that is sent', async () => {
    const s = await dropping()
    const signed: string[] = []
    const res = await sluice(`${s.url}?after=-1`, {
      resume,
      hooks: { beforeRequest: [({ request }) => void signed.push(new URL(request.url).search)] },
    })
    expect(await Array.fromAsync(res.ndjson())).toEqual(ALL)
    expect(signed).toEqual(['?after=-1', '?after=2'])
  })
})

describe('resumeFrom with a cursor checkpoint sets the cursor over the search params the request had', () => {
  it('in the input URL: the checkpoint matches, and only the rest is delivered', async () => {
    const s = await scripted({ kind: 'cursor', records: rows, format: 'ndjson' })
    const url = `${s.url}?after=-1&keep=1`
    const res = await sluice(url, { resume })
    let checkpoint: Checkpoint | undefined
    for await (const row of res.ndjson()) {
      if ((row as { i: number }).i === 2) {
        checkpoint = res.checkpoint()
        break
      }
    }
    expect(checkpoint?.cursor).toEqual({ searchParams: { after: '2' } })
    const again = await sluice(url, { resume, resumeFrom: checkpoint })
    expect(await Array.fromAsync(again.ndjson())).toEqual(ALL.slice(3))
    const [, second] = await queriesOf(s.log)
    expect(second?.getAll('after')).toEqual(['2'])
    expect(second?.getAll('keep')).toEqual(['1'])
  })

  it("in a client's default searchParams", async () => {
    const s = await scripted({ kind: 'cursor', records: rows, format: 'ndjson' })
    const api = createClient({ searchParams: { after: '-1' }, resume })
    const res = await api(s.url)
    let checkpoint: Checkpoint | undefined
    for await (const row of res.ndjson()) {
      if ((row as { i: number }).i === 2) {
        checkpoint = res.checkpoint()
        break
      }
    }
    const again = await api(s.url, { resumeFrom: checkpoint })
    expect(await Array.fromAsync(again.ndjson())).toEqual(ALL.slice(3))
    expect((await queriesOf(s.log)).map((q) => q.getAll('after'))).toEqual([['-1'], ['2']])
  })
})
