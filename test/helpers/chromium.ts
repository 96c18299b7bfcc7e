// Debian's Chromium driven by playwright-core, for the tests that check pages in a real browser.
// A missing browser fails the test with what to install: a silent skip would let CI pass
// without ever looking at the pages (.ci/run installs it).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.AMPHI_CHROMIUM ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} not found: the browser tests need Chromium (Debian: apt-get install -y chromium; or set AMPHI_CHROMIUM)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Where AMPHI_SCREENSHOTS=1 puts the pictures the docs show; other runs write nothing. */
export const SCREENSHOT_DIR = join(import.meta.dirname, '..', '..', 'docs', 'screenshots');

export async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.AMPHI_SCREENSHOTS !== '1') return;
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, name), fullPage: true });
}
