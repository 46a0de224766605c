/**
 * Centrifugo's proxy hooks against a real backend in another language: a Python program on the
 * standard library (test/fixtures/python/proxy_backend.py) that checks a session cookie,
 * moderates messages, answers RPC and prolongs sessions, driven by the official centrifuge
 * client through canal. Then the backend failing every way it can — down, slow past the timeout,
 * HTTP 500, not JSON — each a documented error for the client and a log line, never a hang.
 *
 * @runtimes node bun
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import type { Centrifuge } from 'centrifuge';
import WebSocket from 'ws';
import type { ConfigInput } from '../../src/canal.js';
import { NAMESPACE_DEFAULTS, type NamespaceOptions } from '../../src/config/namespaces.js';
import { collect, newClient, once, protocolUrl } from '../helpers/centrifuge.js';
import { captureLog } from '../helpers/log-capture.js';
import { closedWithin, expectReply, openProtocolClient } from '../helpers/protocol-client.js';
import { startPythonBackend, type RecordedRequest } from '../helpers/python-backend.js';
import { freePort } from '../helpers/redis.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { until } from '../helpers/wait.js';

const ns = (options: Partial<NamespaceOptions>): NamespaceOptions => ({ ...NAMESPACE_DEFAULTS, ...options });

/** A `ws` class for the centrifuge client that sends a session cookie with the upgrade request, as a browser would. */
function withCookie(session: string | undefined): typeof WebSocket {
  return class extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, session === undefined ? {} : { headers: { cookie: `theme=dark; session=${session}` } });
    }
  } as unknown as typeof WebSocket;
}

let unique = 0;
const fresh = (prefix: string): string => `${prefix}:p${++unique}`;

describe('proxies to a Python backend', async () => {
  const backend = await startPythonBackend();
  const log = captureLog();
  const config: ConfigInput = {
    dev: false,
    ping_interval: 1000,
    pong_timeout: 500,
    // A loaded CI machine can keep the Python backend past the default 1 s; a refresh proxy call
    // that times out is tried again only a minute later, past any wait here.
    proxy_timeout: 5000,
    proxies: {
      connect: { endpoint: `${backend.url}/connect`, http_headers: ['Cookie'] },
      refresh: { endpoint: `${backend.url}/refresh` },
      rpc: { endpoint: `${backend.url}/rpc`, http_headers: ['Cookie'], include_connection_meta: true },
      secret_subscribe: { endpoint: `${backend.url}/subscribe` },
      secret_sub_refresh: { endpoint: `${backend.url}/sub_refresh` },
      moderation: { endpoint: `${backend.url}/publish` },
    },
    namespaces: {
      news: ns({}),
      secret: ns({ subscribe_proxy: 'secret_subscribe', sub_refresh_proxy: 'secret_sub_refresh', presence: true, allow_presence_for_subscriber: true }),
      chat: ns({ allow_subscribe_for_client: true, publish_proxy: 'moderation', history_size: 10, history_ttl: 60_000, allow_history_for_subscriber: true }),
    },
  };
  const server = await startServer({ ...config, logger: log.logger });
  const lastRequest = async (path: string): Promise<RecordedRequest> => {
    const found = (await backend.requests()).filter((r) => r.path === path).at(-1);
    assert.ok(found, `the backend got no ${path} request`);
    return found;
  };

  const client = (t: Parameters<typeof newClient>[0], session: string | undefined, data?: unknown): Centrifuge =>
    newClient(t, server, { websocket: withCookie(session), ...(data !== undefined ? { data } : {}) });

  it('connects whoever the backend finds by the session cookie, with its user, info, data and server-side channels', async (t) => {
    const alice = client(t, 's-alice');
    const subscribed = once(alice, 'subscribed', 5000, (ctx) => ctx.channel === 'news:all');
    const connected = once(alice, 'connected');
    alice.connect();
    const ctx = await connected;
    assert.deepEqual(ctx.data, { welcome: 'hello Alice' });
    await subscribed;
    const publications = collect(alice, 'publication');
    await server.canal.publish('news:all', { headline: 'proxied' });
    const [pub] = await publications.waitFor(1);
    assert.deepEqual(pub!.data, { headline: 'proxied' });
    const sent = await lastRequest('/connect');
    assert.equal(sent.headers.cookie, 'theme=dark; session=s-alice', 'the upgrade request\'s Cookie reached the backend');
    assert.equal(sent.headers['content-type'], 'application/json');
    assert.deepEqual({ ...sent.body, client: 'C' }, { client: 'C', transport: 'websocket', protocol: 'json', encoding: 'json', name: 'js' });
  });

  it('gives the client the backend\'s error (101, no reconnect) when there is no session, and its disconnect code when it bans', async (t) => {
    const nobody = client(t, undefined);
    const refused = once(nobody, 'disconnected');
    nobody.connect();
    assert.equal((await refused).code, 101);
    const banned = client(t, 's-banned');
    const closed = once(banned, 'disconnected');
    banned.connect();
    const ctx = await closed;
    assert.deepEqual({ code: ctx.code, reason: ctx.reason }, { code: 4501, reason: 'banned' });
  });

  it('lets the subscribe proxy decide: alice gets its data and info, bob its 103', async (t) => {
    const alice = client(t, 's-alice');
    const bob = client(t, 's-bob');
    alice.connect();
    bob.connect();
    const channel = fresh('secret');
    const sub = alice.newSubscription(channel);
    const subscribed = once(sub, 'subscribed');
    sub.subscribe();
    assert.deepEqual((await subscribed).data, { motd: `welcome to ${channel}` });
    const presence = await sub.presence();
    assert.deepEqual(Object.values(presence.clients).map((c) => ({ user: c.user, chanInfo: c.chanInfo })), [{ user: 'alice', chanInfo: { role: 'reader' } }]);
    const denied = bob.newSubscription(channel);
    const unsubscribed = once(denied, 'unsubscribed');
    denied.subscribe();
    assert.equal((await unsubscribed).code, 103);
    const sent = await lastRequest('/subscribe');
    assert.deepEqual({ user: sent.body.user, channel: sent.body.channel }, { user: 'bob', channel });
  });

  it('publishes what the moderation backend makes of a message: rewritten, refused with its code, or as is', async (t) => {
    const alice = client(t, 's-alice');
    alice.connect();
    const channel = fresh('chat');
    const sub = alice.newSubscription(channel);
    const publications = collect(sub, 'publication');
    sub.subscribe();
    await sub.ready(5000);
    await sub.publish({ text: 'oh darn' });
    await assert.rejects(sub.publish({ text: 'buy spam' }), (err: { code: number; message: string }) =>
      err.code === 1000 && err.message === 'message refused: no spam here');
    await sub.publish({ text: 'hello' });
    const got = await publications.waitFor(2);
    assert.deepEqual(got.map((p) => p.data), [{ text: 'oh d**n', moderated: true }, { text: 'hello' }]);
    assert.deepEqual(got.map((p) => p.info?.user), ['alice', 'alice']);
    const history = await sub.history({ limit: 10 });
    assert.equal(history.publications.length, 2, 'the refused message is in no history');
  });

  it('answers RPC from the backend, with the connection\'s meta and cookie sent along, and 104 for what it does not know', async (t) => {
    const alice = client(t, 's-alice');
    alice.connect();
    assert.deepEqual((await alice.rpc('sum', { a: 2, b: 40 })).data, { sum: 42 });
    assert.deepEqual((await alice.rpc('whoami', {})).data, { user: 'alice', meta: { session: 's-alice' }, cookie: 'theme=dark; session=s-alice' });
    await assert.rejects(alice.rpc('fly', {}), (err: { code: number }) => err.code === 104);
  });

  it('refreshes connections on the server side: the client is told no expiry, alice is prolonged, bob ends with 3005', async (t) => {
    const alice = client(t, 's-alice', { expire_in: 1 });
    const bob = client(t, 's-bob', { expire_in: 1 });
    const aliceEvents = collect(alice, 'disconnected');
    const bobEnded = once(bob, 'connecting', 15_000, (ctx) => ctx.code === 3005);
    const connected = once(alice, 'connected');
    alice.connect();
    bob.connect();
    await connected;
    await bobEnded.catch(async (err: Error) => {
      // A refresh call that failed is tried again a minute later: say so if that is why, and
      // what the backend was asked for bob, and what bob's client saw.
      const asked = (await backend.requests()).filter((r) => r.body.user === 'bob' || r.headers.cookie?.includes('s-bob')).map((r) => r.path);
      throw new Error(`${err.message}; bob's state: ${bob.state}; the backend was asked for bob: ${JSON.stringify(asked)}; ` +
        `canal's proxy log: ${JSON.stringify(log.lines.filter((l) => String(l.msg).startsWith('proxy')))}`);
    });
    const refreshed = (await backend.requests()).filter((r) => r.path === '/refresh' && r.body.user === 'alice');
    assert.ok(refreshed.length >= 1, 'the backend was asked to refresh alice');
    assert.equal(alice.state, 'connected');
    assert.deepEqual(aliceEvents.items, []);
    const raw = await openProtocolClient(server.wsUrl, { headers: { cookie: 'session=s-alice' } });
    const result = await raw.connect({ data: { expire_in: 60 } });
    assert.equal(result.expires, undefined, 'the server refreshes: the client is not told of an expiry');
    assert.equal(result.ttl, undefined);
    const channel = fresh('secret:short-raw');
    const subResult = await raw.subscribe(channel);
    assert.equal(subResult.expires, undefined, 'the sub_refresh proxy prolongs it: no expiry for the client');
    raw.close();
  });

  it('refreshes subscriptions through sub_refresh: one prolonged, one that lapses unsubscribed with 2501', async (t) => {
    const alice = client(t, 's-alice');
    alice.connect();
    const kept = alice.newSubscription(fresh('secret:short-keep'));
    const lapsed = alice.newSubscription(fresh('secret:short-lapse'));
    const keptEvents = collect(kept, 'unsubscribed');
    // 2501 makes the client subscribe again, which the backend answers with a new short expiry.
    const resubscribing = once(lapsed, 'subscribing', 8000, (ctx) => ctx.code === 2501);
    kept.subscribe();
    lapsed.subscribe();
    await Promise.all([kept.ready(5000), lapsed.ready(5000)]);
    await resubscribing;
    await until(async () => (await backend.requests()).some((r) => r.path === '/sub_refresh' && r.body.channel === kept.channel), 'kept was refreshed');
    assert.equal(kept.state, 'subscribed');
    assert.deepEqual(keptEvents.items, []);
  });

  it('connects an HTTP-streaming client by the Cookie of its stream request, and keeps it for later RPC sent through /emulation', async (t) => {
    const stream = `${server.httpUrl}/connection/http_stream`;
    // A browser sends its cookies with every request; this fetch sends the cookie with the
    // stream request only, so the RPC's cookie can come from nowhere but the stream's headers.
    const cookieOnStream = (url: string, init: RequestInit): Promise<Response> =>
      fetch(url, url === stream ? { ...init, headers: { ...(init.headers as Record<string, string>), cookie: 'theme=dark; session=s-alice' } } : init);
    const alice = newClient(t, [{ transport: 'http_stream', endpoint: stream }],
      { emulationEndpoint: `${server.httpUrl}/emulation`, fetch: cookieOnStream });
    const connected = once(alice, 'connected');
    alice.connect();
    const ctx = await connected;
    assert.equal(ctx.transport, 'http_stream');
    assert.deepEqual(ctx.data, { welcome: 'hello Alice' });
    const sent = await lastRequest('/connect');
    assert.equal(sent.headers.cookie, 'theme=dark; session=s-alice', 'the stream request\'s Cookie reached the backend');
    assert.equal(sent.body.transport, 'http_stream');
    assert.deepEqual((await alice.rpc('whoami', {})).data, { user: 'alice', meta: { session: 's-alice' }, cookie: 'theme=dark; session=s-alice' });
  });

  it('connects an SSE client by the Cookie of its EventSource request, and gives one without a session the backend\'s 101', async () => {
    const sse = (cookie: string | undefined): Promise<{ first: Record<string, unknown>; abort(): void }> => {
      const connect = encodeURIComponent(JSON.stringify({ id: 1, connect: {} }));
      return new Promise((resolve, reject) => {
        const req = request(`${server.httpUrl}/connection/sse?cf_connect=${connect}`, { headers: cookie === undefined ? {} : { cookie } }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            text += chunk;
            const event = /^data: (.*)\n\n/.exec(text);
            if (event) resolve({ first: JSON.parse(event[1]!) as Record<string, unknown>, abort: () => req.destroy() });
          });
          res.on('close', () => reject(new Error(`the SSE stream ended before its first event: ${JSON.stringify(text)}`)));
        });
        req.on('error', reject);
        req.end();
      });
    };
    const alice = await sse('session=s-alice');
    alice.abort();
    assert.deepEqual((alice.first.connect as { data: unknown }).data, { welcome: 'hello Alice' });
    const sent = await lastRequest('/connect');
    assert.equal(sent.headers.cookie, 'session=s-alice', 'the SSE request\'s Cookie reached the backend');
    assert.equal(sent.body.transport, 'sse');
    const nobody = await sse(undefined);
    nobody.abort();
    assert.deepEqual(nobody.first, { id: 1, error: { code: 101, message: 'unauthorized: no session cookie' } });
  });

  it('refuses a client-side refresh where the server refreshes: 3501', async () => {
    const c = await openProtocolClient(server.wsUrl, { headers: { cookie: 'session=s-alice' } });
    await c.connect({});
    c.command('refresh', { token: 'x' });
    assert.equal((await closedWithin(c)).code, 3501);
  });
});

/** Servers whose every proxy points at a failing backend: `endpoint` gives the URL for a path. */
async function failingServer(endpoint: (path: string) => string, log: ReturnType<typeof captureLog>): Promise<TestServer> {
  return startServer({
    dev: false,
    allow_anonymous_connect: true,
    logger: log.logger,
    proxy_timeout: 300,
    proxies: {
      connect: { endpoint: endpoint('/connect') },
      rpc: { endpoint: endpoint('/rpc') },
      moderation: { endpoint: endpoint('/publish') },
    },
    namespaces: { chat: ns({ allow_subscribe_for_anonymous: true, publish_proxy: 'moderation' }) },
  });
}

describe('when the backend fails', async () => {
  const backend = await startPythonBackend();
  const down = `http://127.0.0.1:${await freePort()}`;
  const cases = [
    ['is down', (path: string) => `${down}${path}`, 'unreachable', 'could not be reached'],
    ['is slower than the timeout', () => `${backend.url}/slow`, 'timeout', 'did not answer in time'],
    ['answers HTTP 500', () => `${backend.url}/500`, 'status', 'the backend failed'],
    ['answers something that is not JSON', () => `${backend.url}/garbage`, 'invalid', 'could not be read'],
  ] as const;

  for (const [what, endpoint, cause, message] of cases) {
    it(`gives connect a temporary 100 within the timeout and logs the proxy and cause when it ${what}`, async (t) => {
      const log = captureLog();
      const server = await failingServer(endpoint, log);
      // connect: the exact reply, within the timeout, and the connection stays open for a retry.
      const raw = await openProtocolClient(server.wsUrl);
      const started = Date.now();
      const reply = await raw.call('connect', {});
      expectReply(reply, { id: 1, error: { code: 100, temporary: true } });
      assert.match(reply.error.message, new RegExp(message));
      assert.ok(Date.now() - started < 2000, `the answer took ${Date.now() - started} ms`);
      assert.ok(raw.isOpen);
      raw.close();
      await log.settled();
      const lines = log.withMessage(/^proxy call failed/);
      assert.ok(lines.length >= 1);
      assert.deepEqual({ proxy: lines[0]!.proxy, event: lines[0]!.event, cause: lines[0]!.cause }, { proxy: 'connect', event: 'connect', cause });
      t.after(() => server.canal.close());
    });
  }

  it('gives publish and RPC a temporary 100 from a failing backend while connected, and the connection lives on', async (t) => {
    const log = captureLog();
    const server = await startServer({
      dev: false, allow_anonymous_connect: true, logger: log.logger, proxy_timeout: 300,
      proxies: { rpc: { endpoint: `${backend.url}/slow` }, moderation: { endpoint: `${backend.url}/500` } },
      namespaces: { chat: ns({ allow_subscribe_for_anonymous: true, publish_proxy: 'moderation' }) },
    });
    const c = newClient(t, protocolUrl(server));
    c.connect();
    const sub = c.newSubscription('chat:fail');
    sub.subscribe();
    await sub.ready(5000);
    await assert.rejects(c.rpc('sum', { a: 1, b: 2 }), (err: { code: number; temporary: boolean }) => err.code === 100 && err.temporary);
    await assert.rejects(sub.publish({ text: 'hi' }), (err: { code: number }) => err.code === 100);
    assert.equal(c.state, 'connected');
    await log.settled();
    assert.deepEqual(log.withMessage(/^proxy call failed/).map((l) => [l.proxy, l.event, l.cause]), [['rpc', 'rpc', 'timeout'], ['moderation', 'publish', 'status']]);
    const closing = Date.now();
    await server.canal.close();
    assert.ok(Date.now() - closing < 3000, 'the server closes promptly: no call or connection to the backend holds it');
  });
});
