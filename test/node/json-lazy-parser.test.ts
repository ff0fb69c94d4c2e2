import { afterEach, describe, expect, it, vi } from 'vitest'
import { bodyOf } from '../support/streams.ts'

// json() loads its parser on first use. When that load fails (a chunk that cannot be fetched offline, a
// broken deploy), the document fails like any other error: the iteration and `final` reject with the
// loader's error, and the body is cancelled rather than left open.
describe('res.json() when its parser cannot load', () => {
  afterEach(() => {
    vi.doUnmock('../../src/core/decoders/partial-json.ts')
    vi.resetModules()
  })

  it('rejects the iteration and final with the load error and cancels the body', async () => {
    vi.resetModules()
    vi.doMock('../../src/core/decoders/partial-json.ts', () => {
      throw new Error('chunk partial-json failed to load')
    })
    const { fromResponse } = await import('../../src/index.ts')
    const body = bodyOf(['{"a":', '1}'])
    const res = await fromResponse(new Response(body.stream))
    const doc = res.json()
    // vitest wraps a throwing mock factory's error; the loader's own error is its cause.
    const loadError = (error: unknown): string => String((error as Error).cause ?? error)
    const iterated = await doc[Symbol.asyncIterator]().next().catch(loadError)
    expect(iterated).toMatch(/chunk partial-json failed to load/)
    expect(await doc.final.catch(loadError)).toMatch(/chunk partial-json failed to load/)
    expect(body.cancels()).toBe(1)
    expect(res.progress.state).toBe('error')
  })

  it('loads the parser once and parses as usual', async () => {
    const { fromResponse } = await import('../../src/index.ts')
    const first = await fromResponse(new Response(bodyOf(['{"a":', '1}']).stream))
    const second = await fromResponse(new Response(bodyOf(['[1,', '2]']).stream))
    expect(await first.json().final).toEqual({ a: 1 })
    expect(await second.json().final).toEqual([1, 2])
  })
})
