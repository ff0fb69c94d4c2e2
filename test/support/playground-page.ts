import type { Browser, Page } from 'playwright'
import { type Playground, startPlayground } from '../../playground/server.ts'
import { launchChromium } from './chromium.ts'

/** The playground at full speed (no shaping, no pace) and a headless Chromium page to drive it. */
export interface PlaygroundPage {
  playground: Playground
  browser: Browser
  page: Page
  close(): Promise<void>
}

/** Starts the playground on a free port and opens a page in headless Chromium; `close()` ends both. */
export async function openPlaygroundPage(): Promise<PlaygroundPage> {
  const playground = await startPlayground({
    port: 0,
    binaryBytes: 1_000_000,
    shaping: false,
    pace: 0,
    log: false,
  })
  let browser: Browser | undefined
  try {
    browser = await launchChromium()
    const page = await browser.newPage()
    return {
      playground,
      browser,
      page,
      close: async () => {
        await browser?.close()
        await playground.close()
      },
    }
  } catch (error) {
    await browser?.close()
    await playground.close()
    throw error
  }
}
