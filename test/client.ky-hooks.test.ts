/**
 * What a ky hook can make of a request sluice sends: ky resolves with no response at all when a `beforeRetry`
 * hook returns `ky.stop`, and sluice, which has nothing to stream then, says so instead of failing on it; a
 * `beforeError` hook rewords or replaces the error the call rejects with, as it does for ky's own calls.
 */
import ky, { isHTTPError as isKyHTTPError } from 'ky'
import { describe, expect, it } from 'vitest'
import { isHTTPError, isNetworkError, isTimeoutError, type Progress, sluice } from '../src/index.ts'
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

describe('a beforeError hook', () => {
  // ky's readme: a hook that puts what the server said into the message.
  const reword = ({ error }: { error: Error }): Error => {
    if (isKyHTTPError(error))
      error.message = `${(error.data as { message: string }).message} (${error.response.status})`
    else error.message = `API unreachable: ${error.message}`
    return error
  }
  const denied = async (): Promise<Response> =>
    Response.json({ message: 'Token expired' }, { status: 401, statusText: 'Unauthorized' })

  it("that rewords ky's HTTPError gives its words to the HTTPError the call rejects with", async () => {
    const error = await sluice(url, { retry: 0, fetch: denied, hooks: { beforeError: [reword] } }).catch(
      (e: unknown) => e,
    )
    expect(isHTTPError(error)).toBe(true)
    expect(error).toMatchObject({
      message: 'Token expired (401)',
      status: 401,
      excerpt: '{"message":"Token expired"}',
    })
    expect(isKyHTTPError((error as Error).cause)).toBe(true)
  })

  it("that rewords ky's TimeoutError or NetworkError gives its words to sluice's", async () => {
    const never = (_: unknown, init?: RequestInit): Promise<Response> =>
      new Promise((_, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)))
    const timedOut = await sluice(url, {
      retry: 0,
      timeout: 20,
      fetch: never,
      hooks: { beforeError: [reword] },
    }).catch((e: unknown) => e)
    expect(isTimeoutError(timedOut) && timedOut.message).toBe(
      `API unreachable: Request timed out: GET ${url}`,
    )
    const failed = await sluice(url, {
      retry: 0,
      fetch: () => Promise.reject(new TypeError('fetch failed')),
      hooks: { beforeError: [reword] },
    }).catch((e: unknown) => e)
    expect(isNetworkError(failed) && failed.message).toBe(
      `API unreachable: Request failed due to a network error: GET ${url}`,
    )
  })

  it("that returns ky's error as it was leaves sluice's own message", async () => {
    const error = await sluice(url, {
      retry: 0,
      fetch: denied,
      hooks: { beforeError: [({ error }) => error] },
    }).catch((e: unknown) => e)
    expect(isHTTPError(error) && error.message).toBe(
      `Request to ${url} failed with status 401 Unauthorized: {"message":"Token expired"}`,
    )
  })

  it('that returns an error of its own makes the call reject with that error', async () => {
    class ApiError extends Error {}
    const mine = new ApiError('session over')
    const error = await sluice(url, { retry: 0, fetch: denied, hooks: { beforeError: [() => mine] } }).catch(
      (e: unknown) => e,
    )
    expect(error).toBe(mine)
  })
})
