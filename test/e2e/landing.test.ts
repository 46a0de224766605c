/**
 * The landing page / in headless Chromium: a card for every demo, each link leading to a page
 * that exists, and the server's live figures.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { collectConsole, saveScreenshot, startBrowser } from '../helpers/browser.js';
import { connectedCentrifuge } from '../helpers/centrifuge.js';
import { startDemoServer } from '../helpers/demo-server.js';

describe('the landing page /', async () => {
  const browser = await startBrowser();
  const server = await startDemoServer();

  it('has a card linking to every demo, and every link is a page of this server', async (t) => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    t.after(() => page.close());
    const logged = collectConsole(page);
    const response = await page.goto(`${server.httpUrl}/`);
    assert.equal(response?.status(), 200);
    const cards = await page.locator('.cards > li.card h3 a').evaluateAll((links) => links.map((a) => [a.textContent, a.getAttribute('href')]));
    assert.deepEqual(cards, [
      ['Echo', '/demo/echo/'],
      ['Chat', '/demo/chat/'],
      ['Live scoreboard', '/demo/scoreboard/'],
      ['Multiplayer game', '/demo/game/'],
      ['Monitor', '/demo/monitor/'],
    ]);
    const links = await page.locator('a[href]').evaluateAll((as) => as.map((a) => a.getAttribute('href') ?? ''));
    for (const href of links) {
      assert.ok(href.startsWith('/'), `${href}: only links to this server, nothing external`);
      const res = await fetch(`${server.httpUrl}${href}`);
      assert.equal(res.status, 200, `GET ${href}`);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html\b/, href);
    }
    assert.equal(await page.locator('#echo-url').textContent(), `ws://127.0.0.1:${server.port}/`);
    assert.equal(await page.locator('#protocol-url').textContent(), `ws://127.0.0.1:${server.port}/connection/websocket`);
    assert.deepEqual([...logged.texts('error'), ...logged.pageErrors], []);
  });

  it('shows the live client and channel counts from GET /stats, updated every 2 s', async (t) => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    t.after(() => page.close());
    await page.goto(`${server.httpUrl}/`);
    await page.locator('#stat-clients', { hasText: /^0$/ }).waitFor({ timeout: 5000 });
    assert.equal(await page.locator('#stat-channels').textContent(), '0');

    const client = await connectedCentrifuge(t, server);
    client.newSubscription('chat:landing').subscribe();
    client.newSubscription('scores:final').subscribe();
    await page.locator('#stat-clients', { hasText: /^1$/ }).waitFor({ timeout: 5000 });
    await page.locator('#stat-channels', { hasText: /^2$/ }).waitFor({ timeout: 5000 });
    assert.equal(server.canal.node.numClients, 1);
    // When the page sent each GET /stats, by the browser's own clock.
    const polls = (await page.evaluate(`performance.getEntriesByType('resource')
      .filter((e) => new URL(e.name).pathname === '/stats').map((e) => e.startTime)`)) as number[];
    assert.ok(polls.length >= 2, `polled ${polls.length} times`);
    const gaps = polls.slice(1).map((at, i) => Math.round(at - polls[i]!));
    assert.ok(gaps.every((gap) => gap >= 1990), `GET /stats every 2 s, not more often: gaps ${gaps.join(', ')} ms`);
    assert.equal(await page.evaluate('document.documentElement.scrollWidth <= innerWidth'), true, 'fits a 390 px phone');
    t.diagnostic(await saveScreenshot(page, 'landing-phone'));
    await page.emulateMedia({ colorScheme: 'dark' });
    t.diagnostic(await saveScreenshot(page, 'landing-phone-dark'));
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 1100, height: 900 });
    t.diagnostic(await saveScreenshot(page, 'landing-desktop'));
  });
});
