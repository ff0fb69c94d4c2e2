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

  it('fails collect.json() with a ParseError whose cause, quoting the body, shows its control characters escaped', async () => {
    vi.resetModules()
    vi.doMock('../../src/core/decoders/partial-json.ts', () => {
      throw new Error('chunk partial-json failed to load')
    })
    const { fromResponse, isParseError } = await import('../../src/index.ts')
    // An escape sequence that would colour a terminal: JSON.parse quotes it in its message.
    const body = '{"a": 1,\n "b": \u001b[31mred}'
    const error = await (await fromResponse(new Response(body))).collect
      .json()
      .catch((error: unknown) => error)
    expect(isParseError(error)).toBe(true)
    const parseError = error as import('../../src/index.ts').ParseError
    // Where the position is unknown (V8 gives none for an unexpected token), the document's start, as an NDJSON
    // record names its line's.
    expect({ line: parseError.line, offset: parseError.offset, excerpt: parseError.excerpt }).toStrictEqual({
      line: 1,
      offset: 0,
      excerpt: body,
    })
    expect(parseError.message).toMatch(
      /^The body is not valid JSON \(.+\), somewhere in the document that starts at line 1, byte 0: ".+"\.$/,
    )
    const cause = parseError.cause as Error
    expect(cause).toBeInstanceOf(SyntaxError)
    for (const text of [parseError.message, cause.message]) expect(text).not.toMatch(/\p{Cc}/u)
    // The stack repeats the message, as console.error prints it.
    expect(cause.stack).not.toContain('\u001b')
    expect(cause.message).toContain('\\u001b[31mred')
  })

  it('loads the parser once and parses as usual', async () => {
    const { fromResponse } = await import('../../src/index.ts')
    const first = await fromResponse(new Response(bodyOf(['{"a":', '1}']).stream))
    const second = await fromResponse(new Response(bodyOf(['[1,', '2]']).stream))
    expect(await first.json().final).toEqual({ a: 1 })
    expect(await second.json().final).toEqual([1, 2])
  })
})
