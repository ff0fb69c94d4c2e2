import { describe, expect, it } from 'vitest'
import { devProcesses, servedUrl } from '../support/dev-processes.ts'
import { fixture } from '../support/emulator.ts'

const { run } = devProcesses()

/** Starts `sluice dev` on the sluice/lambda fixture with `args`; its URL once printed. */
const serve = (args: string[]): Promise<string> =>
  servedUrl(run([fixture('lambda-handlers.mjs'), '--port', '0', ...args]))

const preflight = (url: string, origin: string) =>
  fetch(url, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'if-range' },
  })

describe('sluice dev --cors', () => {
  it('answers preflights from each origin given (repeated or comma-separated) with what a sluice client sends', async () => {
    const url = await serve([
      '--cors',
      'http://localhost:5173, http://localhost:4173',
      '--cors',
      'http://[::1]:3001',
    ])
    for (const origin of ['http://localhost:5173', 'http://localhost:4173', 'http://[::1]:3001']) {
      const response = await preflight(new URL('bytes', url).href, origin)
      expect(response.headers.get('access-control-allow-origin')).toBe(origin)
      expect(response.headers.get('access-control-allow-methods')).toBe('*')
      expect(response.headers.get('access-control-allow-headers')).toBe(
        'content-type,range,if-range,last-event-id,x-sluice-cursor',
      )
    }
    const other = await preflight(url, 'http://localhost:8080')
    expect(other.headers.get('access-control-allow-origin')).toBeNull()
  })

  it('exposes the response headers sluice reads on the function’s answers', async () => {
    const url = await serve(['--cors', '*'])
    const response = await fetch(new URL('bytes', url), { headers: { origin: 'http://localhost:5173' } })
    expect(response.headers.get('access-control-allow-origin')).toBe('*')
    expect(response.headers.get('access-control-expose-headers')).toBe(
      'x-sluice-end,x-amzn-remapped-content-length,content-range,accept-ranges,etag,content-encoding,date,retry-after',
    )
    expect(await response.text()).toBe('abcdefghijklmnopqrstuvwxyz')
  })

  it.each([
    ['http://localhost:5173/', 'http://localhost:5173/'],
    ['localhost:5173', 'localhost:5173'],
    ['http://localhost:5173,', 'an empty one'],
  ])('exits 2 with the usage for --cors %s', async (value, shown) => {
    const { code, stderr } = await run([fixture('lambda-handlers.mjs'), '--port', '0', '--cors', value]).exit
    expect(code).toBe(2)
    expect(stderr).toContain(
      `sluice dev: --cors takes origins such as http://localhost:5173 (scheme, host and port, no path), or *; got ${shown}.\n\nUsage: sluice dev`,
    )
  })

  it('is in the usage --help prints', async () => {
    const { code, stdout } = await run(['--help']).exit
    expect(code).toBe(0)
    expect(stdout.replace(/\s+/g, ' ')).toContain(
      '--cors <origin> answer CORS as a function URL configured for this origin (repeat it, or separate origins with commas; * for any): preflights answered without invoking the function, any method, the request headers sluice sends allowed (content-type, range, if-range, last-event-id, x-sluice-cursor) and the response headers it reads exposed (x-sluice-end, x-amzn-remapped-content-length, content-range, accept-ranges, etag, content-encoding, date, retry-after)',
    )
  })
})
