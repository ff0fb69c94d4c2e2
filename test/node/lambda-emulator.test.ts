import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DevServer, serve } from '../../src/dev/index.ts'

const marker = (bytes: number): string => `{"$sluice":"end","bytes":${bytes}}\n`
const fixture = fileURLToPath(new URL('../fixtures/lambda-handlers.mjs', import.meta.url))

let server: DevServer
const url = (path: string): string => new URL(path, server.url).href

beforeAll(async () => {
  server = await serve(fixture, { log: false })
})

afterAll(async () => {
  await server?.close()
})

describe('sluice/lambda under the function-URL emulator', () => {
  it('streams NDJSON with the marker announced in the headers and ending the body', async () => {
    const response = await fetch(url('/ndjson'))
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('application/x-ndjson')
    expect(response.headers.get('x-sluice-end')).toBe('marker')
    expect(await response.text()).toBe(`{"n":0}\n{"n":1}\n{"n":2}\n${marker(24)}`)
  })

  it('passes cookies through the prelude', async () => {
    const response = await fetch(url('/ndjson'))
    await response.arrayBuffer()
    expect(response.headers.getSetCookie()).toEqual(['session=abc; Path=/'])
  })

  it('declares a known length, which the client sees as x-amzn-remapped-content-length, and sends no marker', async () => {
    const response = await fetch(url('/ndjson-length'))
    expect(response.headers.get('x-amzn-remapped-content-length')).toBe('16')
    expect(response.headers.get('x-sluice-end')).toBeNull()
    expect(await response.text()).toBe('{"n":0}\n{"n":1}\n')
  })

  it('answers a Range request with 206, Content-Range and the bytes from the start offset', async () => {
    const response = await fetch(url('/bytes'), {
      headers: { range: 'bytes=7-', 'if-range': '"letters-v1"' },
    })
    expect(response.status).toBe(206)
    expect(response.headers.get('content-range')).toBe('bytes 7-25/26')
    expect(response.headers.get('x-amzn-remapped-content-length')).toBe('19')
    expect(response.headers.get('accept-ranges')).toBe('bytes')
    expect(response.headers.get('etag')).toBe('"letters-v1"')
    expect(await response.text()).toBe('hijklmnopqrstuvwxyz')
  })

  it('answers a Range request over a body of unknown length with bytes N-*/* and the marker of the whole body', async () => {
    const response = await fetch(url('/bytes-unknown-length'), { headers: { range: 'bytes=20-' } })
    expect(response.status).toBe(206)
    expect(response.headers.get('content-range')).toBe('bytes 20-*/*')
    expect(await response.text()).toBe(`uvwxyz${marker(26)}`)
  })

  it('answers the full body when If-Range names another version', async () => {
    const response = await fetch(url('/bytes'), {
      headers: { range: 'bytes=7-', 'if-range': '"letters-v0"' },
    })
    expect(response.status).toBe(200)
    expect(await response.text()).toBe('abcdefghijklmnopqrstuvwxyz')
  })

  it('answers 416 with the length when the range starts past the end', async () => {
    const response = await fetch(url('/bytes'), { headers: { range: 'bytes=26-' } })
    expect(response.status).toBe(416)
    expect(response.headers.get('content-range')).toBe('bytes */26')
    await response.arrayBuffer()
  })

  it('replays the SSE events after the Last-Event-ID', async () => {
    const response = await fetch(url('/sse'), { headers: { 'last-event-id': '1' } })
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    const events = 'id: 2\ndata:  brown\n\nid: 3\ndata:  fox\n\n'
    expect(await response.text()).toBe(`${events}${marker(events.length)}`)
  })

  it('cuts the body without a marker when the source fails after the first byte', async () => {
    const response = await fetch(url('/fail-after-first-byte'))
    expect(response.status).toBe(200)
    const reader = response.body!.getReader()
    const decoder = new TextDecoder()
    let text = ''
    const failure = await (async () => {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) return undefined
        text += decoder.decode(value, { stream: true })
      }
    })().catch((error: unknown) => error)
    // Whether the bytes before the cut arrive depends on socket timing; what matters is the failure and no marker.
    expect(failure).toBeInstanceOf(TypeError)
    expect(text).not.toContain('$sluice')
  })

  it('lets the invocation fail with an error status when the source fails before the first byte', async () => {
    const response = await fetch(url('/fail-before-first-byte'))
    expect(response.status).toBe(502)
    await response.arrayBuffer()
  })
})
