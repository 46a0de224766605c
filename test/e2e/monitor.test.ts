/**
 * The monitor at /demo/monitor/ in headless Chromium: it polls GET /stats every second and
 * draws it, so with clients connected and messages flowing it shows non-zero figures and
 * charts that move.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { collectConsole, saveScreenshot, startBrowser } from '../helpers/browser.js';
import { connectedCentrifuge, subscribe } from '../helpers/centrifuge.js';
import { startDemoServer } from '../helpers/demo-server.js';

/** How many points the chart `id` holds (the chart keeps it in data-points). */
async function points(page: Page, id: string): Promise<number> {
  return Number((await page.locator(`#${id}`).getAttribute('data-points')) ?? 0);
}

/** What the chart `id` shows, as pixels (a data: URL of the canvas). */
async function pixels(page: Page, id: string): Promise<string> {
  return String(await page.evaluate(`document.getElementById(${JSON.stringify(id)}).toDataURL()`));
}

/** Resolves once the chart `id` holds at least `count` points. */
async function waitForPoints(page: Page, id: string, count: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await points(page, id)) < count) {
    if (Date.now() > deadline) throw new Error(`chart #${id} has ${await points(page, id)} points, not ${count}, after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('the monitor page /demo/monitor/', async () => {
  const browser = await startBrowser();
  const server = await startDemoServer();

  it('shows the connected clients and draws charts that move with the traffic', async (t) => {
    // Two protocol clients on one channel, and a steady trickle of publications to them.
    const a = await connectedCentrifuge(t, server);
    const b = await connectedCentrifuge(t, server);
    await subscribe(a, 'chat:monitor');
    await subscribe(b, 'chat:monitor');
    let n = 0;
    const traffic = setInterval(() => void server.canal.publish('chat:monitor', { text: `tick ${++n}` }), 50);
    t.after(() => clearInterval(traffic));

    // A high-density screen, as on most phones: the canvases must not look blurry.
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 }, deviceScaleFactor: 2 });
    t.after(() => page.close());
    const logged = collectConsole(page);
    const response = await page.goto(`${server.httpUrl}/demo/monitor/`);
    assert.equal(response?.status(), 200);
    await page.locator('#status[data-state="connected"]').waitFor({ timeout: 5000 });

    assert.equal(await page.locator('#connections-now').textContent(), String(server.canal.node.numClients));
    assert.equal(await page.locator('#connections-now').textContent(), '2');
    assert.match((await page.locator('#connections-detail').textContent()) ?? '', /protocol 2/);
    assert.equal(await page.locator('#channels-now').textContent(), '1');

    // Rates need two polls; then the charts grow by a point a second and their pixels change.
    await waitForPoints(page, 'messages-chart', 1);
    const before = { points: await points(page, 'messages-chart'), pixels: await pixels(page, 'messages-chart') };
    await waitForPoints(page, 'messages-chart', before.points + 2);
    assert.notEqual(await pixels(page, 'messages-chart'), before.pixels, 'the messages chart moved');
    assert.ok(await points(page, 'connections-chart') >= 3);

    const outPerSecond = Number(await page.locator('#messages-out-now').textContent());
    assert.ok(outPerSecond > 10, `about 2 × 20 publications/s go out, the page shows ${outPerSecond}`);
    assert.match((await page.locator('#latency-p50-now').textContent()) ?? '', /^(< 1|\d+(\.\d+)?) ms$/, 'whole ms from the server; 0 reads "< 1 ms"');
    // The charts are pictures, drawn at the screen's pixel density.
    const size = await page.evaluate(`(() => {
      const canvas = document.getElementById('latency-chart');
      return { pixels: canvas.width, css: canvas.getBoundingClientRect().width, dpr: devicePixelRatio };
    })()`) as { pixels: number; css: number; dpr: number };
    assert.equal(size.dpr, 2);
    assert.equal(size.pixels, Math.round(size.css * size.dpr), 'as many canvas pixels as screen pixels');

    t.diagnostic(await saveScreenshot(page, 'monitor-desktop'));
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(100); // the charts redraw at their new size (ResizeObserver)
    assert.equal(await page.evaluate('document.documentElement.scrollWidth <= innerWidth'), true, 'fits a 390 px phone');
    t.diagnostic(await saveScreenshot(page, 'monitor-phone'));
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.waitForTimeout(100); // the charts redraw in the dark scheme's colours
    t.diagnostic(await saveScreenshot(page, 'monitor-phone-dark'));
    assert.deepEqual([...logged.texts('error'), ...logged.pageErrors], []);
  });
});
