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

/**
 * Starts the playground on a free port and opens a page in headless Chromium; `close()` ends both. `pace` slows the
 * functions down (1 is their real pace), `backForwardCache` leaves Chromium's back/forward cache on.
 */
export async function openPlaygroundPage(
  options: { pace?: number; backForwardCache?: boolean } = {},
): Promise<PlaygroundPage> {
  const playground = await startPlayground({
    port: 0,
    binaryBytes: 1_000_000,
    shaping: false,
    pace: options.pace ?? 0,
    log: false,
  })
  let browser: Browser | undefined
  try {
    browser = await launchChromium({ backForwardCache: options.backForwardCache ?? false })
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
