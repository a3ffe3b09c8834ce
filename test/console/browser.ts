import { type Browser, chromium } from "playwright-core";

/** Debian's Chromium (`apt-get install chromium`; `.ci/run` installs it when missing). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * Flags for a headless Chromium that touches no network of its own: without the background
 * ones it dials Google's services at start, and this machine's closed network refuses them.
 */
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * One headless Chromium, for one test file. Playwright gives every launch a fresh profile
 * (a new temporary `--user-data-dir`), and every test a fresh context (cookies, storage).
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: 30_000 });
}
