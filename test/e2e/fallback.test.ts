/**
 * The official browser client, served by canal, in headless Chromium with WebSocket broken (a
 * page whose WebSocket fails as behind a proxy that refuses upgrades): it falls back to HTTP
 * streaming, and with that broken too to SSE; on each it subscribes, publishes, receives, and
 * recovers what was published while its connection was dropped (issue 15).
 *
 * @runtimes node bun
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { collectConsole, saveScreenshot, startBrowser } from '../helpers/browser.js';
import { disconnectClient, numClients } from '../helpers/server-api.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { until } from '../helpers/wait.js';

/** What PAGE_SCRIPT keeps on `window`. */
interface PageState {
  received: unknown[];
  events: string[];
  start(transports: unknown[], channel: string): Promise<{ transport: string; client: string }>;
  sub: { publish(data: unknown): Promise<unknown> };
}

/**
 * Plain JavaScript for the page: a WebSocket that always fails (no connection is ever opened,
 * like an upgrade a proxy refuses), and `start(transports, channel)`, which connects a client
 * with those transports, subscribes, keeps publications in `window.received` and events in
 * `window.events`, and resolves with the transport it connected over and its client id.
 */
const PAGE_SCRIPT = `
window.WebSocket = function BrokenWebSocket(url) {
  var self = this;
  self.url = url;
  self.readyState = 0;
  self.send = function () { throw new Error('not open'); };
  self.close = function () {};
  setTimeout(function () {
    self.readyState = 3;
    if (self.onerror) self.onerror(new Event('error'));
    if (self.onclose) self.onclose({ code: 1006, reason: '', wasClean: false });
  }, 5);
};
window.received = [];
window.events = [];
window.start = function (transports, channel) {
  var log = document.createElement('pre');
  document.body.append(log);
  function show(line) { window.events.push(line); log.textContent += line + '\\n'; }
  var client = new window.Centrifuge(transports, { minReconnectDelay: 300, maxReconnectDelay: 1000 });
  client.on('connected', function (ctx) { show('connected ' + ctx.transport); });
  client.on('disconnected', function (ctx) { show('disconnected ' + ctx.code); });
  var sub = client.newSubscription(channel);
  sub.on('subscribed', function (ctx) { show('subscribed recovered=' + ctx.recovered + ' wasRecovering=' + ctx.wasRecovering); });
  sub.on('publication', function (ctx) { window.received.push(ctx.data); show('publication ' + JSON.stringify(ctx.data)); });
  sub.subscribe();
  window.sub = sub;
  return new Promise(function (resolve) {
    client.once('connected', function (ctx) { sub.ready(5000).then(function () { resolve({ transport: ctx.transport, client: ctx.client }); }); });
    client.connect();
  });
};
`;

function state(page: Page): Promise<{ received: unknown[]; events: string[] }> {
  return page.evaluate(() => {
    const s = globalThis as unknown as PageState;
    return { received: s.received, events: s.events };
  });
}

async function fallBack(t: TestContext, browser: Browser, server: TestServer, breakStreaming: boolean, expected: string): Promise<void> {
  const page = await browser.newPage();
  t.after(() => page.close());
  const logged = collectConsole(page);
  if (breakStreaming) await page.route('**/connection/http_stream', (route) => route.abort('failed'));
  await page.goto(`${server.httpUrl}/`);
  await page.addScriptTag({ url: '/vendor/centrifuge/centrifuge.js' });
  await page.addScriptTag({ content: PAGE_SCRIPT });
  const host = `127.0.0.1:${server.port}`;
  const channel = `chat:fallback-${expected}`;
  const transports = [
    { transport: 'websocket', endpoint: `ws://${host}/connection/websocket` },
    { transport: 'http_stream', endpoint: `http://${host}/connection/http_stream` },
    { transport: 'sse', endpoint: `http://${host}/connection/sse` },
  ];
  const { transport, client } = await page.evaluate(([list, ch]) => (globalThis as unknown as PageState).start(list as unknown[], ch as string), [transports, channel] as const);
  assert.equal(transport, expected);

  // Receives from the server, and publishes (through /emulation) what it then receives too.
  await server.canal.publish(channel, { n: 1 });
  await page.evaluate(() => (globalThis as unknown as PageState).sub.publish({ n: 2, from: 'page' }));
  await page.waitForFunction(() => (globalThis as unknown as PageState).received.length >= 2, undefined, { timeout: 5000 });

  // The connection drops; what is published meanwhile is recovered on reconnect. The server
  // API answers once the server has dropped the page's session, so both publications come after.
  assert.equal(await numClients(server), 1, 'the page holds the server\'s one connection');
  await disconnectClient(server, '', client, 3011, 'force reconnect');
  await server.canal.publish(channel, { n: 3 });
  await server.canal.publish(channel, { n: 4 });
  await page.waitForFunction(() => (globalThis as unknown as PageState).received.length >= 4, undefined, { timeout: 8000 });
  const { received, events } = await state(page);
  assert.deepEqual(received, [{ n: 1 }, { n: 2, from: 'page' }, { n: 3 }, { n: 4 }]);
  assert.ok(events.includes('subscribed recovered=true wasRecovering=true'), `events: ${JSON.stringify(events)}`);
  assert.deepEqual(events.filter((e) => e.startsWith('connected')), [`connected ${expected}`, `connected ${expected}`]);
  t.diagnostic(`screenshot: ${await saveScreenshot(page, `fallback-${expected}`)}`);
  assert.deepEqual(logged.pageErrors, []);
}

describe('the browser client falls back when WebSocket is broken', async () => {
  const browser = await startBrowser();
  const server = await startServer();

  it('falls back to HTTP streaming: subscribes, publishes, receives, recovers after a drop', async (t) => {
    await fallBack(t, browser, server, false, 'http_stream');
  });

  it('falls back to SSE when HTTP streaming is broken too', async (t) => {
    await until(async () => await numClients(server) === 0, 'the previous page left');
    await fallBack(t, browser, server, true, 'sse');
  });
});
