/**
 * What a ky hook can make of a request sluice sends: ky resolves with no response at all when a `beforeRetry`
 * hook returns `ky.stop`, and sluice, which has nothing to stream then, says so instead of failing on it.
 */
import ky from 'ky'
import { describe, expect, it } from 'vitest'
import { type Progress, sluice } from '../src/index.ts'
import { responseOf } from './support/streams.ts'

const url = 'https://fn.example/stream'

describe('a beforeRetry hook that returns ky.stop', () => {
  it.each([
    ['a busy status', async () => new Response('busy', { status: 503 })],
    ['a network failure', async (): Promise<Response> => Promise.reject(new TypeError('fetch failed'))],
  ])('after %s rejects with an error that names the hook, ky.stop and the URL', async (_, answer) => {
    let calls = 0
    const states: Progress['state'][] = []
    const error = await sluice(url, {
      fetch: () => (++calls === 1 ? answer() : Promise.resolve(responseOf(['never']))),
      retry: { limit: 2, delay: () => 0 },
      hooks: { beforeRetry: [() => ky.stop] },
      onProgress: (progress) => states.push(progress.state),
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Error)
    expect((error as Error).message).toBe(
      `A beforeRetry hook returned ky.stop: ${url} has no response to stream; throw an error instead.`,
    )
    expect(calls).toBe(1)
    expect(states.at(-1)).toBe('error')
  })
})
