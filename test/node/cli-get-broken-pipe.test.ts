// `sluice get … | head`: a reader that goes away ends the download quietly, exit 0, wherever the broken pipe shows
// — at a write, or only when the output is finished (the error of the last write comes after it was taken) — and
// the progress bar on a terminal is cleared and stopped either way, not left on the line for the prompt to follow.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest'
import type { OutputSink } from '../../src/cli/output-sink.ts'

/** Where standard output breaks: at the first write, or at the close that ends the download. */
const broken = vi.hoisted(() => ({ at: 'close' as 'write' | 'close' }))
vi.mock('../../src/cli/output-sink.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/cli/output-sink.ts')>()
  const epipe = () => Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })
  class BrokenPipe {
    written = 0
    opened = true
    failed = false
    async write(data: Uint8Array | string): Promise<void> {
      if (broken.at === 'write') throw epipe()
      this.written += data.length
    }
    writeFlushed(data: Uint8Array | string): Promise<void> {
      return this.write(data)
    }
    async close(): Promise<void> {
      throw epipe()
    }
  }
  return {
    OutputSink: {
      stdout: () => new BrokenPipe() as unknown as OutputSink,
      file: original.OutputSink.file,
    },
  }
})

const { run } = await import('../../src/cli/get.ts')

const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '3' })
  res.end('abc')
})
let url = ''
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/file`
})
afterAll(() => new Promise((resolve) => server.close(resolve)))
afterEach(() => {
  vi.useRealTimers()
  vi.restoreAllMocks()
})

for (const at of ['write', 'close'] as const) {
  it(`exits 0 with the bar cleared and stopped when standard output breaks at the ${at}`, async () => {
    broken.at = at
    // Standard error is a terminal: the bar is drawn at once, then redrawn on an interval (faked, to count it).
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    let screen = ''
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      screen += String(chunk)
      return true
    })
    const tty = Object.getOwnPropertyDescriptor(process.stderr, 'isTTY')
    Object.defineProperty(process.stderr, 'isTTY', { value: true, configurable: true })
    try {
      expect(await run([url])).toBe(0)
    } finally {
      if (tty === undefined) delete (process.stderr as { isTTY?: boolean }).isTTY
      else Object.defineProperty(process.stderr, 'isTTY', tty)
    }
    expect(screen).toContain('\r\x1b[2K') // the bar was drawn…
    expect(screen.endsWith('\r\x1b[2K')).toBe(true) // …and cleared last, with nothing printed after it
    expect(vi.getTimerCount()).toBe(0) // no redraw to come
  })
}
