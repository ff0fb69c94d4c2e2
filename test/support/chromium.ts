import { type Browser, chromium } from 'playwright'

/**
 * Debian's headless Chromium, as the playground tests drive it (`CHROMIUM_PATH` overrides where it is), without
 * the background traffic and updates a fresh profile would start. Playwright turns the back/forward cache off;
 * `backForwardCache` leaves it on, as a user's browser has it.
 */
export function launchChromium(options: { backForwardCache?: boolean } = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/lib/chromium/chromium',
    ...(options.backForwardCache ? { ignoreDefaultArgs: ['--disable-back-forward-cache'] } : {}),
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
