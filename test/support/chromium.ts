import { type Browser, chromium } from 'playwright'

/**
 * Debian's headless Chromium, as the playground tests drive it (`CHROMIUM_PATH` overrides where it is), without
 * the background traffic and updates a fresh profile would start.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/lib/chromium/chromium',
    args: [
      '--no-sandbox',
      '--headless',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}
