/**
 * The official centrifuge browser build, served by canal itself (/vendor/centrifuge/), running
 * in headless Chromium: it connects to canal, receives a publication made from Node, and
 * publishes one that a Node client receives. Nothing is loaded from anywhere but canal.
 *
 * @runtimes node bun
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { collectConsole, saveScreenshot, startBrowser } from '../helpers/browser.js';
import { collect, connectedCentrifuge, once } from '../helpers/centrifuge.js';
import { presentClients } from '../helpers/server-api.js';
import { startServer } from '../helpers/server.js';

/** What PAGE_SCRIPT keeps on `window`. */
interface PageState {
  received: unknown[];
  events: string[];
}

/**
 * What the page runs, as plain JavaScript (a function passed to page.evaluate would carry the
 * helpers tsx adds to named functions, which the page does not have): `startCentrifuge(url)`
 * connects a client, subscribes to chat:browser, keeps what arrives in `window.received`, shows
 * every event in a <pre> (for the screenshot) and resolves with the client id.
 */
const PAGE_SCRIPT = `
window.received = [];
window.events = [];
window.startCentrifuge = async function (url) {
  var log = document.createElement('pre');
  log.id = 'centrifuge-log';
  document.body.append(log);
  function show(line) {
    window.events.push(line);
    log.textContent += line + '\\n';
  }
  var client = new window.Centrifuge(url);
  var id = '';
  client.on('connecting', function (ctx) { show('connecting ' + ctx.code + ' ' + ctx.reason); });
  client.on('connected', function (ctx) { id = ctx.client; show('connected ' + id); });
  client.on('disconnected', function (ctx) { show('disconnected ' + ctx.code + ' ' + ctx.reason); });
  var sub = client.newSubscription('chat:browser');
  sub.on('subscribed', function () { show('subscribed chat:browser'); });
  sub.on('publication', function (ctx) {
    window.received.push(ctx.data);
    show('publication ' + JSON.stringify(ctx.data));
  });
  sub.subscribe();
  client.connect();
  await client.ready(5000);
  await sub.ready(5000);
  window.client = client;
  window.sub = sub;
  return id;
};
`;

/** The publications the page received so far. */
function received(page: Page): Promise<unknown[]> {
  return page.evaluate(() => (globalThis as unknown as PageState).received);
}

describe('the centrifuge browser client served by canal, in headless Chromium', async () => {
  const browser = await startBrowser();
  const server = await startServer();
  const origin = `127.0.0.1:${server.port}`;

  it('loads centrifuge.js from canal, receives Canal.publish on chat:browser, and publishes to a Node client', async (t) => {
    const page = await browser.newPage();
    t.after(() => page.close());
    const logged = collectConsole(page);
    const requested: string[] = [];
    const sockets: string[] = [];
    page.on('request', (r) => requested.push(r.url()));
    page.on('websocket', (ws) => sockets.push(ws.url()));

    const landing = await page.goto(`${server.httpUrl}/`);
    assert.equal(landing?.status(), 200);
    const scriptResponse = page.waitForResponse((r) => r.url().endsWith('/vendor/centrifuge/centrifuge.js'), { timeout: 5000 });
    await page.addScriptTag({ url: '/vendor/centrifuge/centrifuge.js' });
    const script = await scriptResponse;
    assert.equal(script.url(), `${server.httpUrl}/vendor/centrifuge/centrifuge.js`);
    assert.equal(script.status(), 200);
    assert.match(script.headers()['content-type'] ?? '', /javascript/);
    assert.equal(await page.evaluate(() => typeof (globalThis as unknown as { Centrifuge: unknown }).Centrifuge), 'function');

    // A Node client on the same channel, to receive what the page publishes.
    const node = await connectedCentrifuge(t, server);
    const nodeSub = node.newSubscription('chat:browser');
    const nodeSubscribed = once(nodeSub, 'subscribed');
    nodeSub.subscribe();
    await nodeSubscribed;
    const atNode = collect(nodeSub, 'publication');

    const endpoint = `ws://${origin}/connection/websocket`;
    await page.addScriptTag({ content: PAGE_SCRIPT });
    const pageClientId = await page.evaluate((url) => (globalThis as unknown as { startCentrifuge(url: string): Promise<string> }).startCentrifuge(url), endpoint);
    assert.match(pageClientId, /^[0-9a-f-]{36}$/);
    assert.ok((await presentClients(server, 'chat:browser')).includes(pageClientId), 'canal knows the page\'s connection');

    const fromNode = { from: 'node', text: 'hola desde Node 🚀', n: [1, 2, 3] };
    await server.canal.publish('chat:browser', fromNode);
    await page.waitForFunction(() => (globalThis as unknown as PageState).received.length >= 1, undefined, { timeout: 5000 });
    assert.deepEqual(await received(page), [fromNode]);

    const fromPage = { from: 'browser', text: 'hello from Chromium' };
    await page.evaluate((data) => (globalThis as unknown as { sub: { publish(d: unknown): Promise<unknown> } }).sub.publish(data), fromPage);
    await atNode.waitFor(2);
    assert.deepEqual(atNode.items.map((p) => p.data), [fromNode, fromPage]);
    assert.equal(atNode.items[1]!.info?.client, pageClientId, 'the Node client sees the page as the publisher');
    await page.waitForFunction(() => (globalThis as unknown as PageState).received.length >= 2, undefined, { timeout: 5000 });
    assert.deepEqual(await received(page), [fromNode, fromPage], 'the page receives its own publication too');

    const shot = await saveScreenshot(page, 'centrifuge-browser');
    t.diagnostic(`screenshot: ${shot}`);

    assert.ok(requested.length >= 2, `requests: ${JSON.stringify(requested)}`);
    for (const url of [...requested, ...sockets]) assert.equal(new URL(url).host, origin, `${url} is not canal's`);
    assert.deepEqual(sockets, [endpoint]);
    assert.deepEqual(await page.evaluate(() => (globalThis as unknown as PageState).events.filter((e) => e.startsWith('disconnected') || e.startsWith('connecting 1'))), []);
    assert.deepEqual(logged.entries.filter((e) => e.type === 'error'), []);
    assert.deepEqual(logged.pageErrors, []);
  });
});
