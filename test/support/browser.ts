/**
 * Test support: the Debian `chromium` driven headless through playwright-core (no browser of its
 * own is downloaded). Each launch gets its own temp profile; close() ends the browser process.
 */
import { access } from 'node:fs/promises';
import { chromium, type Browser } from 'playwright-core';

/** Where Debian installs chromium. */
export const CHROMIUM = '/usr/bin/chromium';

/** Launches headless chromium; fails with the install command when it is missing. */
export async function launchChromium(): Promise<Browser> {
  await access(CHROMIUM).catch(() => {
    throw new Error(`chromium is not installed at ${CHROMIUM}: apt-get install -y --no-install-recommends chromium`);
  });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // --no-sandbox: tests run as root in a container, where chromium's own sandbox cannot start.
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    timeout: 60_000,
  });
}
