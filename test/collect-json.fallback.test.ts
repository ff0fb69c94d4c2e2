/**
 * collect.json() places a body JSON.parse refuses with the partial parser. Without it (its chunk failed to load),
 * the ParseError names the document's start, and its message does not claim the problem is there.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'

describe('collect.json() when the partial parser cannot load', () => {
  afterEach(() => {
    vi.doUnmock('../src/core/decoders/partial-json.ts')
    vi.resetModules()
  })

  /** The ParseError collect.json() fails with for `body`, its parser failing to load. */
  const failing = async (body: string | Uint8Array<ArrayBuffer>) => {
    vi.resetModules()
    vi.doMock('../src/core/decoders/partial-json.ts', () => {
      throw new Error('chunk partial-json failed to load')
    })
    const { fromResponse, isParseError } = await import('../src/index.ts')
    const error = await (await fromResponse(new Response(body))).collect
      .json()
      .catch((error: unknown) => error)
    expect(isParseError(error)).toBe(true)
    const { line, offset, excerpt, message } = error as import('../src/index.ts').ParseError
    return { line, offset, excerpt, message }
  }

  it('names the document from its start, not the problem as there', async () => {
    const body = '{"a": 1,\n "b": x}'
    const error = await failing(body)
    expect(error).toMatchObject({ line: 1, offset: 0, excerpt: body })
    expect(error.message).toMatch(
      /^The body is not valid JSON \(.+\), somewhere in the document that starts at line 1, byte 0: .+\.$/,
    )
  })
})
