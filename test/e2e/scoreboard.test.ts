/**
 * The live scoreboard at /demo/scoreboard/ and its admin page /demo/scoreboard/admin in
 * headless Chromium: a viewer sees the current score the moment it opens (latest-value
 * channels), and follows updates from `canal publish` and from the admin's buttons.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { collectConsole, saveScreenshot, startBrowser, type ConsoleLog } from '../helpers/browser.js';
import { runCli } from '../helpers/cli.js';
import { startDemoServer } from '../helpers/demo-server.js';

/** What a match card shows: home goals, away goals, and the line under them. */
interface Shown {
  readonly home: string;
  readonly away: string;
  readonly minute: string;
}

/** Reads the viewer's card for `match`. */
async function shownScore(page: Page, match: string): Promise<Shown> {
  const card = page.locator(`#matches > li[data-match="${match}"]`);
  return {
    home: (await card.locator('.side[data-side="home"] .goals').textContent()) ?? '',
    away: (await card.locator('.side[data-side="away"] .goals').textContent()) ?? '',
    minute: (await card.locator('.minute').textContent()) ?? '',
  };
}

/** Waits until the card for `match` shows the published score `score` ("2-1"). */
async function waitForScore(page: Page, match: string, score: string, timeout = 5000): Promise<void> {
  await page.locator(`#matches > li[data-match="${match}"][data-score="${score}"]`).waitFor({ timeout });
}

describe('the live scoreboard /demo/scoreboard/ and its admin page', async () => {
  const browser = await startBrowser();
  const server = await startDemoServer();

  async function open(path: string, viewport = { width: 1100, height: 700 }): Promise<{ page: Page; logged: ConsoleLog; frames: string[] }> {
    const page = await browser.newPage({ viewport });
    const logged = collectConsole(page);
    // What the page's WebSocket receives, to see updates arrive as fossil deltas.
    const frames: string[] = [];
    page.on('websocket', (ws) => ws.on('framereceived', (f) => frames.push(String(f.payload))));
    const response = await page.goto(`${server.httpUrl}${path}`);
    assert.equal(response?.status(), 200, `GET ${path}`);
    await page.locator('#state[data-state="connected"]').waitFor({ timeout: 5000 });
    return { page, logged, frames };
  }

  function problems(logged: ConsoleLog): string[] {
    return [...logged.texts('error'), ...logged.pageErrors];
  }

  it('shows a score published before the page opened at once, with no flash', async (t) => {
    await server.canal.publish('scores:semi-1', { home: 3, away: 0, minute: 88 });
    const { page, logged } = await open('/demo/scoreboard/');
    t.after(() => page.close());
    await waitForScore(page, 'semi-1', '3-0');
    assert.deepEqual(await shownScore(page, 'semi-1'), { home: '3', away: '0', minute: "88'" });
    assert.equal(await page.locator('#matches .goals.changed').count(), 0, 'nothing flashes on opening');
    assert.deepEqual(await page.locator('#matches > li .title').allTextContents(), ['Final', 'Semi-final 1', 'Semi-final 2']);
    assert.equal(await page.locator('a[href="/demo/scoreboard/admin"]').count(), 1, 'links to the admin page');
    assert.deepEqual(problems(logged), []);
  });

  it('follows `canal publish scores:final` from a terminal, flashing the numbers that changed', async (t) => {
    const { page, logged, frames } = await open('/demo/scoreboard/');
    t.after(() => page.close());
    assert.equal((await shownScore(page, 'final')).minute, 'no score yet');
    await server.canal.publish('scores:final', { home: 1, away: 1 });
    await waitForScore(page, 'final', '1-1');
    const cli = await runCli(['publish', 'scores:final', '{"home":2,"away":1}', '--url', server.httpUrl, '--api-key', server.canal.apiKey!]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /^published to scores:final: offset 2, epoch /);
    await waitForScore(page, 'final', '2-1');
    assert.deepEqual(await shownScore(page, 'final'), { home: '2', away: '1', minute: 'live' });
    // Tiny updates go in full: their fossil delta would not be smaller than the data.
    assert.equal(frames.filter((f) => f.includes('"channel":"scores:final"') && f.includes('"delta":true')).length, 0);
    // Only the home number changed, so only it flashes; a screen reader hears one sentence.
    const final = page.locator('#matches > li[data-match="final"]');
    assert.equal(await final.locator('.side[data-side="home"] .goals').getAttribute('class'), 'goals changed');
    assert.equal(await final.locator('.side[data-side="away"] .goals').getAttribute('class'), 'goals');
    assert.equal(await page.locator('#announce').textContent(), 'Final: Ravens 2, Comets 1');
    const animation = (): Promise<unknown> => page.evaluate('getComputedStyle(document.querySelector(\'[data-match="final"] [data-side="home"] .goals\')).animationName');
    assert.equal(await animation(), 'goal');
    await page.emulateMedia({ reducedMotion: 'reduce' });
    assert.equal(await animation(), 'goal-still', 'with reduced motion the number glows without moving');
    t.diagnostic(await saveScreenshot(page, 'scoreboard-viewer-desktop'));
    assert.deepEqual(problems(logged), []);
  });

  it('receives a match report that grows by a little as a fossil delta, and still shows the score published', async (t) => {
    const { page, logged, frames } = await open('/demo/scoreboard/');
    t.after(() => page.close());
    const events = Array.from({ length: 12 }, (_, i) => ({ minute: 3 * i + 1, kind: i % 3 === 0 ? 'corner' : 'foul', team: i % 2 === 0 ? 'home' : 'away' }));
    await server.canal.publish('scores:semi-1', { home: 3, away: 0, minute: 80, events });
    await waitForScore(page, 'semi-1', '3-0');
    await server.canal.publish('scores:semi-1', { home: 3, away: 1, minute: 84, events: [...events, { minute: 84, kind: 'goal', team: 'away' }] });
    await waitForScore(page, 'semi-1', '3-1');
    assert.deepEqual(await shownScore(page, 'semi-1'), { home: '3', away: '1', minute: "84'" });
    const deltas = frames.filter((f) => f.includes('"channel":"scores:semi-1"') && f.includes('"delta":true'));
    assert.equal(deltas.length, 1, `the second report arrives as a delta: ${JSON.stringify(frames.filter((f) => f.includes('semi-1')))}`);
    assert.deepEqual(problems(logged), []);
  });

  it('updates an open viewer when the admin page\'s buttons are pressed', async (t) => {
    const [viewer, admin] = await Promise.all([
      open('/demo/scoreboard/', { width: 390, height: 844 }),
      // sirv serves admin.html for the extension-less path.
      open('/demo/scoreboard/admin', { width: 390, height: 844 }),
    ]);
    t.after(() => Promise.all([viewer.page.close(), admin.page.close()]));
    const card = admin.page.locator('#matches > li[data-match="semi-2"]');
    const home = card.locator('.side[data-side="home"]');
    const away = card.locator('.side[data-side="away"]');
    await home.locator('button[data-delta="1"]:enabled').waitFor({ timeout: 5000 });
    assert.equal(await home.locator('button[data-delta="-1"]').isDisabled(), true, 'no goals below zero');

    // Three quick clicks add three goals, not one.
    for (let i = 0; i < 3; i++) await home.locator('button[data-delta="1"]').click();
    await away.locator('button[data-delta="1"]').click();
    await waitForScore(viewer.page, 'semi-2', '3-1');
    await home.getByRole('button', { name: 'Comets (Semi-final 2): one goal less' }).click();
    await waitForScore(viewer.page, 'semi-2', '2-1');
    await waitForScore(admin.page, 'semi-2', '2-1');
    assert.deepEqual(await shownScore(viewer.page, 'semi-2'), { home: '2', away: '1', minute: 'live' });

    // What the server keeps: the latest score only, published by the RPC scores.set.
    const res = await fetch(`${server.httpUrl}/api/history`, {
      method: 'POST',
      headers: { 'x-api-key': server.canal.apiKey!, 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'scores:semi-2', limit: 10 }),
    });
    const { result } = (await res.json()) as { result: { publications: Array<{ data: unknown }> } };
    assert.deepEqual(result.publications.map((p) => p.data), [{ home: 2, away: 1 }]);

    for (const page of [viewer.page, admin.page]) {
      assert.equal(await page.evaluate('document.documentElement.scrollWidth <= innerWidth'), true, 'fits a 390 px phone');
    }
    t.diagnostic(await saveScreenshot(admin.page, 'scoreboard-admin-phone'));
    t.diagnostic(await saveScreenshot(viewer.page, 'scoreboard-viewer-phone'));
    await viewer.page.emulateMedia({ colorScheme: 'dark' });
    t.diagnostic(await saveScreenshot(viewer.page, 'scoreboard-viewer-phone-dark'));
    assert.deepEqual([...problems(viewer.logged), ...problems(admin.logged)], []);
  });
});
