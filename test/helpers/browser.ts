/**
 * Debian's headless Chromium driven by playwright-core, for the browser tests: one browser per
 * test file, the console messages of a page in order, and screenshots kept where a person asks
 * for them (SCREENSHOT_DIR).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { after } from 'node:test';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';

/** The browser the tests drive: Debian's `chromium` package (scripts/test-env.ts installs it). */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Flags for a quiet, hermetic run: no sandbox (containers and CI run as root), no GPU, and no
 * network traffic of the browser's own (updates, sync, QUIC probes) beside what a test asks for.
 */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/**
 * Launches headless Chromium once for the current test file and closes it in `after`. Rejects
 * with an error naming the package to install when /usr/bin/chromium is missing: a browser test
 * never skips.
 */
export async function startBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: the browser tests need Debian's chromium (sudo apt-get install -y chromium; npm test installs it when run as root)`);
  }
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  after(() => browser.close());
  return browser;
}

/** One console message as a test asserts on it. */
export interface ConsoleEntry {
  /** `log`, `error`, `warning`... */
  readonly type: string;
  /** What the console shows: the arguments joined by one space (`console.log("a:", "b")` is `a: b`). */
  readonly text: string;
  /** The resource it is about: the script that logged it, or the URL a "Failed to load resource" names. */
  readonly url: string;
}

/** The console messages and uncaught errors of one page, in the order they happened. */
export interface ConsoleLog {
  readonly entries: readonly ConsoleEntry[];
  /** Uncaught exceptions thrown by the page's scripts. */
  readonly pageErrors: readonly string[];
  /** The texts of the entries of type `type` (every entry when omitted). */
  texts(type?: string): string[];
  /**
   * Resolves with the entry whose text is exactly `text` once it has been logged (at once when
   * it already was); rejects after `timeoutMs` with everything logged so far in the message.
   */
  waitFor(text: string, timeoutMs?: number): Promise<ConsoleEntry>;
}

/** Starts recording `page`'s console from now on; attach it before navigating. */
export function collectConsole(page: Page): ConsoleLog {
  const entries: ConsoleEntry[] = [];
  const pageErrors: string[] = [];
  const waiters: Array<{ text: string; resolve: (e: ConsoleEntry) => void }> = [];
  page.on('console', (m: ConsoleMessage) => {
    const entry = { type: m.type(), text: m.text(), url: m.location().url };
    entries.push(entry);
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i]!;
      if (w.text !== entry.text) continue;
      waiters.splice(i, 1);
      w.resolve(entry);
    }
  });
  page.on('pageerror', (err) => pageErrors.push(err.message));
  return {
    entries,
    pageErrors,
    texts: (type) => entries.filter((e) => type === undefined || e.type === type).map((e) => e.text),
    waitFor(text, timeoutMs = 5000) {
      const seen = entries.find((e) => e.text === text);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const waiter = {
          text,
          resolve: (e: ConsoleEntry): void => {
            clearTimeout(timer);
            resolve(e);
          },
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`console never showed ${JSON.stringify(text)} within ${timeoutMs} ms; it showed: ${JSON.stringify(entries)}`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
  };
}

/**
 * Takes a full-page PNG of `page` and resolves with where it went, for the test to print with
 * `t.diagnostic()`. Screenshots are kept only when SCREENSHOT_DIR names a folder (made if
 * missing): `SCREENSHOT_DIR=shots npm test -- e2e` writes `shots/<name>.png`. Otherwise the
 * picture is still taken (a page that cannot render fails the test) and dropped, so that a run
 * leaves nothing behind in the temp dir.
 */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  const file = `${name.replace(/[^a-z0-9_-]+/gi, '-')}.png`;
  const dir = process.env.SCREENSHOT_DIR;
  if (!dir) {
    const png = await page.screenshot({ fullPage: true });
    return `${file}: ${png.length} bytes, not kept (set SCREENSHOT_DIR to keep screenshots)`;
  }
  mkdirSync(dir, { recursive: true });
  const path = resolve(dir, file);
  await page.screenshot({ path, fullPage: true });
  return path;
}
