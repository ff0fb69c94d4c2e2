/**
 * A browser answers a no-cors request with an opaque Response (status 0, no headers, no body) and a redirect
 * not followed with an "opaqueredirect" one: their body cannot be read, so streamed they would read as an empty
 * body, complete. sluice() and fromResponse() refuse them with a TypeError that says so.
 */
import { describe, expect, it } from 'vitest'
import { fromResponse, type Progress, sluice } from '../src/index.ts'

const url = 'https://fn.example/stream'

/** A Response as a browser hands over for a no-cors request (`opaque`) or a manual redirect (`opaqueredirect`). */
function opaque(type: 'opaque' | 'opaqueredirect'): Response {
  const response = new Response(null)
  Object.defineProperties(response, {
    type: { value: type },
    status: { value: 0 },
    ok: { value: false },
    statusText: { value: '' },
  })
  return response
}

describe.each(['opaque', 'opaqueredirect'] as const)('a Response of type "%s"', (type) => {
  const said = `a Response of type "${type}" (no-cors, or redirect: 'manual'), whose body cannot be read`

  it('answered to sluice() rejects with a TypeError that says its body cannot be read, not an empty stream', async () => {
    const states: Progress['state'][] = []
    const error = await sluice(url, {
      fetch: async () => opaque(type),
      retry: 0,
      onProgress: (progress) => states.push(progress.state),
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TypeError)
    expect((error as Error).message).toBe(
      `Requesting ${url} failed, not for a network error: The \`fetch\` option resolved to ${said}; it must resolve to a fresh Response.`,
    )
    expect(states.at(-1)).toBe('error')
  })

  it('given to fromResponse() is refused with a TypeError that says so, not an HTTPError for status 0', async () => {
    await expect(fromResponse(opaque(type))).rejects.toThrow(new TypeError(`fromResponse() got ${said}.`))
  })
})
