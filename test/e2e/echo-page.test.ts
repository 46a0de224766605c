/**
 * The echo demo at /demo/echo/ in headless Chromium: what a person sees in the page and what
 * the console shows, like the seed's client.html.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { collectConsole, saveScreenshot, startBrowser, type ConsoleLog } from '../helpers/browser.js';
import { startServer } from '../helpers/server.js';

/** One line of the page's message log: its kind (the `li` class) and the message after the label. */
interface LogLine {
  readonly kind: string | null;
  readonly text: string;
}

/** The page's message log, top to bottom, read through the DOM. */
async function logLines(page: Page): Promise<LogLine[]> {
  const lines: LogLine[] = [];
  for (const li of await page.locator('#log > li').all()) {
    const label = (await li.locator('.dir').textContent()) ?? '';
    const whole = (await li.textContent()) ?? '';
    assert.ok(whole.startsWith(label), `log line ${JSON.stringify(whole)} does not start with its label ${JSON.stringify(label)}`);
    lines.push({ kind: await li.getAttribute('class'), text: whole.slice(label.length) });
  }
  return lines;
}

/** Waits until the state badge shows `state`, both as its text and as its data-state. */
async function waitForState(page: Page, state: string): Promise<void> {
  await page.locator(`#state[data-state="${state}"]`).waitFor({ timeout: 5000 });
  assert.equal(await page.locator('#state').textContent(), state);
}

/** Waits until the log holds `count` lines of kind `kind`. */
async function waitForLines(page: Page, kind: string, count: number): Promise<void> {
  await page.locator(`#log > li.${kind}`).nth(count - 1).waitFor({ timeout: 5000 });
}

/** Every console error the page logged (a missing favicon or script would show here). */
function pageConsoleErrors(logged: ConsoleLog): string[] {
  return logged.entries.filter((e) => e.type === 'error').map((e) => `${e.text} (${e.url})`);
}

/** Types `text` into the message box as a person would and presses Enter. */
async function typeAndSend(page: Page, text: string): Promise<void> {
  const input = page.locator('#message');
  await input.pressSequentially(text);
  await input.press('Enter');
}

describe('the echo demo page /demo/echo/', async () => {
  const browser: Browser = await startBrowser();
  const server = await startServer();

  /** Opens the demo on `httpUrl` and waits until its first "echo: hello" is in the log. */
  async function openDemo(httpUrl = server.httpUrl): Promise<{ page: Page; logged: ConsoleLog; dialogs: string[] }> {
    const page = await browser.newPage();
    const logged = collectConsole(page);
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    const response = await page.goto(`${httpUrl}/demo/echo/`);
    assert.equal(response?.status(), 200);
    await waitForLines(page, 'received', 1);
    return { page, logged, dialogs };
  }

  it('shows "echo: hello" in the console, the log and an "open" badge after opening /demo/echo/', async () => {
    const { page, logged } = await openDemo();
    await logged.waitFor('he recibido un mensaje: echo: hello');
    await waitForState(page, 'open');
    assert.deepEqual(await logLines(page), [
      { kind: 'sent', text: 'hello' },
      { kind: 'received', text: 'echo: hello' },
    ]);
    assert.deepEqual(pageConsoleErrors(logged), []);
    assert.deepEqual(logged.pageErrors, []);
    await page.close();
  });

  it('shows "echo: ñandú 🚀" when "ñandú 🚀" is typed and Enter pressed', async (t) => {
    const { page, logged } = await openDemo();
    await typeAndSend(page, 'ñandú 🚀');
    await waitForLines(page, 'received', 2);
    assert.deepEqual((await logLines(page)).slice(2), [
      { kind: 'sent', text: 'ñandú 🚀' },
      { kind: 'received', text: 'echo: ñandú 🚀' },
    ]);
    await logged.waitFor('he recibido un mensaje: echo: ñandú 🚀');
    assert.equal(await page.locator('#message').inputValue(), '', 'the input is emptied after sending');
    t.diagnostic(await saveScreenshot(page, 'echo-page-open'));
    await page.close();
  });

  it('shows a message that looks like HTML as text, creating no element and running no script', async () => {
    const { page, dialogs } = await openDemo();
    const html = '<img src=x onerror=alert(1)>';
    await typeAndSend(page, html);
    await waitForLines(page, 'received', 2);
    assert.deepEqual((await logLines(page)).slice(2), [
      { kind: 'sent', text: html },
      { kind: 'received', text: `echo: ${html}` },
    ]);
    assert.equal(await page.locator('#log img').count(), 0);
    assert.deepEqual(dialogs, []);
    await page.close();
  });

  it('opens a new connection that says hello again when Reconnect is clicked', async () => {
    const { page, logged } = await openDemo();
    await page.locator('#reconnect').click();
    await waitForLines(page, 'received', 2);
    await waitForState(page, 'open');
    // The replaced socket's close is not reported in the page: only the new hello/echo pair.
    assert.deepEqual(await logLines(page), [
      { kind: 'sent', text: 'hello' },
      { kind: 'received', text: 'echo: hello' },
      { kind: 'sent', text: 'hello' },
      { kind: 'received', text: 'echo: hello' },
    ]);
    assert.deepEqual(pageConsoleErrors(logged), []);
    await page.close();
  });

  it('shows "closed" and the close code 1001 when the server shuts down', async (t) => {
    const other = await startServer();
    const { page, logged } = await openDemo(other.httpUrl);
    await waitForState(page, 'open');
    await other.canal.close();
    await waitForState(page, 'closed');
    assert.deepEqual((await logLines(page)).slice(2), [{ kind: 'event', text: 'closed (code 1001: server shutting down)' }]);
    assert.equal(await page.locator('#send').isDisabled(), true, 'Send is disabled while closed');
    await logged.waitFor('closed');
    t.diagnostic(await saveScreenshot(page, 'echo-page-closed'));
    await page.close();
  });
});
