// The real browser of the page tests: Debian's chromium through playwright-core, never a download.
// Headless and quiet: no sandbox (root in CI), no GPU, no traffic of its own. Playwright gives
// each launch a fresh profile.
import { chromium, type Browser } from 'playwright-core';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.HURRYNET_CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
