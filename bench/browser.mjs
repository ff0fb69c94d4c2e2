// The races of races.mjs in real headless Chromium (Debian's chromium, driven by playwright): sluice is used in
// browsers first, and each engine's streams have their own costs. Bundled with esbuild, served on 127.0.0.1.
import { createServer } from 'node:http'
import { build } from 'esbuild'
import { chromium } from 'playwright'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/lib/chromium/chromium'

/** Runs the races in a fresh Chromium page; returns their markdown sections and the targets table. */
export async function runInChromium({ sizeMiB, rounds, log = () => {} }) {
  const bundle = await build({
    entryPoints: [new URL('./browser-entry.mjs', import.meta.url).pathname],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    logLevel: 'warning',
  })
  const script = bundle.outputFiles[0].text
  const server = createServer((request, response) => {
    if (request.url === '/bench.js') {
      response.setHeader('content-type', 'text/javascript')
      return response.end(script)
    }
    if (request.url === '/') {
      response.setHeader('content-type', 'text/html')
      return response.end(
        '<!doctype html><title>sluice bench</title><script type="module" src="/bench.js"></script>',
      )
    }
    response.statusCode = 404
    response.end()
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true })
  try {
    const page = await browser.newPage()
    page.on('console', (message) => log(message.text()))
    await page.goto(`http://127.0.0.1:${server.address().port}/`)
    await page.waitForFunction(() => typeof globalThis.runBench === 'function')
    return await page.evaluate((options) => globalThis.runBench(options), { sizeMiB, rounds })
  } finally {
    await browser.close()
    server.close()
  }
}
