/**
 * The official `centrifuge` npm client (5.x), unchanged, against canal: connect (anonymous and
 * with a token), subscribe and publish, RPC, unsubscribe, token refresh, pings, what each
 * disconnect code makes the client do, join/leave, presence and history.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WebSocketServer, type WebSocket as ServerSocket } from 'ws';
import type { Centrifuge } from 'centrifuge';
import { Canal } from '../../src/canal.js';
import { NAMESPACE_DEFAULTS } from '../../src/config/namespaces.js';
import { DisconnectError, ErrorCode, ReplyError } from '../../src/index.js';
import type { RpcContext } from '../../src/handlers.js';
import {
  clientId, collect, connectedCentrifuge, never, newClient, once, recordingWebSocket, subscribe, timeline, userToken,
} from '../helpers/centrifuge.js';
import { startServer } from '../helpers/server.js';
import { sleep, until } from '../helpers/wait.js';
import { HMAC_SECRET } from '../helpers/tokens.js';

/** RPC methods of the test servers: `echo` answers what it got, `forbidden` fails with 103, `disconnect` ends the connection. */
function onRpc(ctx: RpcContext): unknown {
  switch (ctx.method) {
    case 'echo':
      return { method: ctx.method, data: ctx.data, client: ctx.client, user: ctx.user };
    case 'forbidden':
      throw new ReplyError(ErrorCode.PermissionDenied);
    case 'disconnect': {
      const { code, reason } = ctx.data as { code: number; reason: string };
      throw new DisconnectError(code, reason);
    }
    default:
      throw new ReplyError(ErrorCode.MethodNotFound);
  }
}

/** Waits until a publication whose data equals `marker` is among `items`; resolves with the data of all of them. */
async function publicationsUntil(items: ReadonlyArray<{ data: unknown }>, marker: unknown, timeoutMs = 5000): Promise<unknown[]> {
  await until(() => items.some((p) => JSON.stringify(p.data) === JSON.stringify(marker)), `the marker ${JSON.stringify(marker)} arrived`, timeoutMs);
  return items.map((p) => p.data);
}

describe('the centrifuge client against a dev-mode canal', async () => {
  const server = await startServer({ onRpc });

  it('connects anonymously and gets a client id that the server knows', async (t) => {
    const client = newClient(t, server);
    const connecting = once(client, 'connecting');
    const connected = once(client, 'connected');
    client.connect();
    assert.deepEqual(await connecting, { code: 0, reason: 'connect called' });
    const ctx = await connected;
    assert.match(ctx.client, /^[0-9a-f-]{36}$/);
    assert.equal(ctx.transport, 'websocket');
    assert.equal(client.state, 'connected');
    const session = server.canal.node.session(ctx.client);
    assert.ok(session, 'the server has a session with the id the client got');
    assert.equal(session.user, '');
  });

  it('delivers a publication from one client to two other subscribers exactly once, with its data intact', async (t) => {
    const [a, b, c] = await Promise.all([connectedCentrifuge(t, server), connectedCentrifuge(t, server), connectedCentrifuge(t, server)]);
    const subB = await subscribe(b, 'chat:room');
    const subC = await subscribe(c, 'chat:room');
    const atB = collect(subB, 'publication');
    const atC = collect(subC, 'publication');
    const data = { text: 'ñandú 🚀 "quoted" \\ back\nslash', n: 42, float: 1.5, nested: { list: [1, null, true, 'x'] }, empty: {} };
    await a.publish('chat:room', data);
    const end = { end: 'publish from a client' };
    await server.canal.publish('chat:room', end);
    assert.deepEqual(await publicationsUntil(atB.items, end), [data, end]);
    assert.deepEqual(await publicationsUntil(atC.items, end), [data, end]);
    const first = atB.items[0]!;
    assert.equal(first.channel, 'chat:room');
    assert.equal(first.info?.client, clientId(a), 'info.client is the publisher');
    assert.equal(first.info?.user, '');
    assert.ok(typeof first.offset === 'number' && first.offset > 0, `a chat: publication has an offset, got ${first.offset}`);
    assert.equal(atB.items[1]!.offset, first.offset + 1);
    assert.equal(atB.items[1]!.info, undefined, 'Canal.publish publishes as the server: no client info');
  });

  it('delivers Canal.publish to every subscribed client, in order', async (t) => {
    const [a, b] = await Promise.all([connectedCentrifuge(t, server), connectedCentrifuge(t, server)]);
    const subA = await subscribe(a, 'chat:server-publish');
    const subB = await subscribe(b, 'chat:server-publish');
    const atA = collect(subA, 'publication');
    const atB = collect(subB, 'publication');
    const sent = Array.from({ length: 20 }, (_, i) => ({ i }));
    for (const d of sent) await server.canal.publish('chat:server-publish', d);
    await atA.waitFor(20);
    await atB.waitFor(20);
    await sleep(100);
    assert.deepEqual(atA.items.map((p) => p.data), sent);
    assert.deepEqual(atB.items.map((p) => p.data), sent);
  });

  it('answers an rpc through the onRpc handler', async (t) => {
    const client = await connectedCentrifuge(t, server);
    const result = await client.rpc('echo', { question: 'ping?', n: [1, 2] });
    assert.deepEqual(result, {
      data: { method: 'echo', data: { question: 'ping?', n: [1, 2] }, client: clientId(client), user: '' },
    });
  });

  it('rejects an rpc with code 103 when the handler throws ReplyError(PermissionDenied), and stays connected', async (t) => {
    const client = await connectedCentrifuge(t, server);
    const connecting = never(client, 'connecting', 300);
    await assert.rejects(client.rpc('forbidden', {}), (err: { code: number; message: string; temporary: boolean }) => {
      assert.equal(err.code, 103);
      assert.equal(err.message, 'permission denied');
      assert.equal(err.temporary, false);
      return true;
    });
    assert.deepEqual(await client.rpc('echo', 1).then((r) => (r.data as { data: unknown }).data), 1);
    await connecting;
    assert.equal(client.state, 'connected');
  });

  it('delivers nothing more after sub.unsubscribe()', async (t) => {
    const client = await connectedCentrifuge(t, server);
    const sub = await subscribe(client, 'chat:unsub');
    const got = collect(sub, 'publication');
    await server.canal.publish('chat:unsub', { before: true });
    await got.waitFor(1);
    const unsubscribed = once(sub, 'unsubscribed');
    sub.unsubscribe();
    assert.deepEqual(await unsubscribed, { channel: 'chat:unsub', code: 0, reason: 'unsubscribe called' });
    // Publish only once the server has forgotten the subscription (the unsubscribe command is in flight until then).
    const id = clientId(client);
    await until(() => ![...server.canal.node.session(id)!.channels()].includes('chat:unsub'), 'the server dropped the subscription');
    await server.canal.publish('chat:unsub', { after: true });
    await sleep(300);
    assert.deepEqual(got.items.map((p) => p.data), [{ before: true }]);
    assert.equal(sub.state, 'unsubscribed');
  });

  it('forgets a subscription after removeSubscription, and the channel can be subscribed again', async (t) => {
    const client = await connectedCentrifuge(t, server);
    const sub = await subscribe(client, 'chat:remove');
    const got = collect(sub, 'publication');
    client.removeSubscription(sub);
    assert.equal(client.getSubscription('chat:remove'), null);
    assert.deepEqual(Object.keys(client.subscriptions()), []);
    const id = clientId(client);
    await until(() => ![...server.canal.node.session(id)!.channels()].includes('chat:remove'), 'the server dropped the subscription');
    await server.canal.publish('chat:remove', { toRemoved: true });
    const again = await subscribe(client, 'chat:remove');
    const gotAgain = collect(again, 'publication');
    await server.canal.publish('chat:remove', { toNew: true });
    await gotAgain.waitFor(1);
    await sleep(100);
    assert.deepEqual(got.items, [], 'the removed subscription received nothing');
    assert.deepEqual(gotAgain.items.map((p) => p.data), [{ toNew: true }]);
  });

  it('sends join and leave to a joinLeave subscriber of chat:', async (t) => {
    const [a, b] = await Promise.all([connectedCentrifuge(t, server), connectedCentrifuge(t, server)]);
    const subA = await subscribe(a, 'chat:joins', { joinLeave: true });
    const joins = collect(subA, 'join');
    const leaves = collect(subA, 'leave');
    const bId = clientId(b);
    const join = once(subA, 'join', 5000, (ctx) => ctx.info.client === bId);
    const subB = await subscribe(b, 'chat:joins', { joinLeave: true });
    assert.deepEqual(await join, { channel: 'chat:joins', info: { client: bId, user: '' } });
    const leave = once(subA, 'leave', 5000, (ctx) => ctx.info.client === bId);
    subB.unsubscribe();
    assert.deepEqual(await leave, { channel: 'chat:joins', info: { client: bId, user: '' } });
    await sleep(100);
    assert.equal(joins.items.filter((j) => j.info.client === bId).length, 1, 'one join for B');
    assert.equal(leaves.items.filter((l) => l.info.client === bId).length, 1, 'one leave for B');
  });

  it('sends leave when a subscriber disconnects without unsubscribing, and presence drops it', async (t) => {
    const [a, b] = await Promise.all([connectedCentrifuge(t, server), connectedCentrifuge(t, server)]);
    const subA = await subscribe(a, 'chat:leaves', { joinLeave: true });
    await subscribe(b, 'chat:leaves');
    const bId = clientId(b);
    const leave = once(subA, 'leave', 5000, (ctx) => ctx.info.client === bId);
    b.disconnect();
    assert.deepEqual(await leave, { channel: 'chat:leaves', info: { client: bId, user: '' } });
    const aId = clientId(a);
    assert.deepEqual(await subA.presence(), { clients: { [aId]: { client: aId, user: '' } } });
  });

  it('lists both subscribers in presence() and presenceStats()', async (t) => {
    const [a, b] = await Promise.all([connectedCentrifuge(t, server), connectedCentrifuge(t, server)]);
    const subA = await subscribe(a, 'chat:presence');
    await subscribe(b, 'chat:presence');
    const aId = clientId(a);
    const bId = clientId(b);
    const presence = await subA.presence();
    assert.deepEqual(presence, { clients: { [aId]: { client: aId, user: '' }, [bId]: { client: bId, user: '' } } });
    assert.deepEqual(await subA.presenceStats(), { numClients: 2, numUsers: 1 });
    assert.deepEqual(await a.presenceStats('chat:presence'), { numClients: 2, numUsers: 1 });
  });

  it('returns publications with consecutive offsets from history()', async (t) => {
    const client = await connectedCentrifuge(t, server);
    const sub = await subscribe(client, 'chat:history');
    const positions = [];
    for (const i of [1, 2, 3]) positions.push(await server.canal.publish('chat:history', { i }));
    const h = await sub.history({ limit: 10 });
    assert.deepEqual(h.publications.map((p) => p.data), [{ i: 1 }, { i: 2 }, { i: 3 }]);
    assert.deepEqual(h.publications.map((p) => p.offset), positions.map((p) => p.offset));
    assert.deepEqual(positions.map((p) => p.offset), [1, 2, 3]);
    assert.equal(h.epoch, positions[0]!.epoch);
    assert.ok(h.epoch.length > 0);
    assert.equal(h.offset, 3);
    const since = await sub.history({ limit: 10, since: { offset: 1, epoch: h.epoch } });
    assert.deepEqual(since.publications.map((p) => p.data), [{ i: 2 }, { i: 3 }]);
    const reversed = await sub.history({ limit: 2, reverse: true });
    assert.deepEqual(reversed.publications.map((p) => p.data), [{ i: 3 }, { i: 2 }]);
  });
});

describe('the centrifuge client with connection tokens (dev off)', async () => {
  const server = await startServer({
    dev: false,
    token_hmac_secret: HMAC_SECRET,
    namespaces: {
      chat: { ...NAMESPACE_DEFAULTS, allow_subscribe_for_client: true, allow_publish_for_client: true, presence: true, allow_presence_for_subscriber: true },
    },
  });

  it('connects with a token and shows its user in presence', async (t) => {
    const client = await connectedCentrifuge(t, server, { token: await userToken('alice') });
    const sub = await subscribe(client, 'chat:room');
    const id = clientId(client);
    assert.deepEqual(await sub.presence(), { clients: { [id]: { client: id, user: 'alice' } } });
    assert.deepEqual(await sub.presenceStats(), { numClients: 1, numUsers: 1 });
  });

  it('subscribes the client to the channels of its token on the server side, and delivers their publications', async (t) => {
    const client = newClient(t, server, { token: await userToken('erin', { claims: { channels: ['chat:server-side'] } }) });
    const serverSubscribed = once(client, 'subscribed');
    client.connect();
    const ctx = await serverSubscribed;
    assert.equal(ctx.channel, 'chat:server-side');
    const publications = collect(client, 'publication');
    await server.canal.publish('chat:server-side', { hello: 'erin' });
    await publications.waitFor(1);
    assert.deepEqual(publications.items.map((p) => [p.channel, p.data]), [['chat:server-side', { hello: 'erin' }]]);
  });

  it('refuses an anonymous connection with 101, and the client does not retry', async (t) => {
    const client = newClient(t, server);
    const disconnected = once(client, 'disconnected');
    client.connect();
    const ctx = await disconnected;
    assert.equal(ctx.code, 101);
    await never(client, 'connecting', 300);
    assert.equal(client.state, 'disconnected');
  });
});

// Smoke tests with real timers, of what only the official client shows: that it refreshes, ends
// the connection itself, reconnects after 3005. The server's deadlines, to the millisecond, are in
// test/unit/session/client-session.test.ts under a fake clock. Tokens live 2 s (exp counts whole
// seconds: 1 to 2 s left when minted, the shortest that surely reaches the server alive); each test
// waits for events with bounds far past them, and none measures the time between two events.
describe('the centrifuge client and connection expiry (2 s tokens, 500 ms grace, 1 s pings)', { concurrency: true }, async () => {
  const server = await startServer({
    dev: false,
    token_hmac_secret: HMAC_SECRET,
    client_expired_close_delay: 500,
    ping_interval: 1000,
    pong_timeout: 500,
    namespaces: { chat: { ...NAMESPACE_DEFAULTS, allow_subscribe_for_client: true } },
  });

  it('calls getToken, sends refresh and stays connected well past the first expiry', async (t) => {
    // A test of real timeouts: the client's own refresh timer against the server's 1 s ticks.
    // The exact deadlines are in test/unit/session/client-session.test.ts, under a fake clock.
    let calls = 0;
    const client = newClient(t, server, {
      token: await userToken('bob', { expiresIn: 2 }),
      getToken: async () => {
        calls++;
        return userToken('bob', { expiresIn: 2 });
      },
    });
    const events = timeline(client, ['connecting', 'connected', 'disconnected']);
    const connected = once(client, 'connected');
    client.connect();
    const { client: id } = await connected;
    await until(() => calls >= 2, 'the client refreshed its 2 s token twice', 15_000);
    assert.deepEqual(events.map((e) => e.event), ['connecting', 'connected'], `no reconnect: ${JSON.stringify(events)}`);
    assert.equal(client.state, 'connected');
    assert.ok(server.canal.node.session(id), 'the same session is still on the server');
  });

  it('with a fixed short token and no getToken, the client ends the connection itself at the ttl: error "configuration", disconnected 1 "unauthorized"', async (t) => {
    const client = newClient(t, server, { token: await userToken('carol', { expiresIn: 2 }) });
    const errors = collect(client, 'error');
    const events = timeline(client, ['connecting', 'connected', 'disconnected']);
    const connected = once(client, 'connected');
    const disconnected = once(client, 'disconnected', 10_000);
    client.connect();
    await connected;
    // Code 1 is the client's own: had the server closed first, with 3005, the client would reconnect.
    assert.deepEqual(await disconnected, { code: 1, reason: 'unauthorized' });
    assert.equal(errors.items[0]?.type, 'configuration');
    await never(client, 'connecting', 500);
    assert.deepEqual(events.map((e) => e.event), ['connecting', 'connected', 'disconnected']);
  });

  it('closes with 3005 a connection whose refresh does not come, then the client gets 109, fetches a token and connects again', async (t) => {
    let calls = 0;
    let releaseFirst: (token: string) => void = () => {};
    const client = newClient(t, server, {
      token: await userToken('dave', { expiresIn: 2 }),
      getToken: () => {
        calls++;
        // The first call (the refresh) hangs until the test is done with it; later ones answer at once.
        if (calls === 1) return new Promise<string>((resolve) => (releaseFirst = resolve));
        return userToken('dave', { expiresIn: 60 });
      },
    });
    const errors = collect(client, 'error');
    const connected = once(client, 'connected');
    client.connect();
    const first = await connected;
    const connecting = await once(client, 'connecting', 10_000);
    assert.equal(connecting.code, 3005);
    assert.match(connecting.reason, /expired/);
    const again = await once(client, 'connected', 10_000);
    assert.notEqual(again.client, first.client);
    assert.ok(
      errors.items.some((e) => e.type === 'connect' && e.error.code === 109),
      `the reconnect with the old token got 109: ${JSON.stringify(errors.items)}`,
    );
    assert.equal(calls, 2, 'one hanging refresh, then one token for the reconnect');
    releaseFirst(await userToken('dave', { expiresIn: 60 }));
    await never(client, 'connecting', 300);
    assert.equal(client.state, 'connected');
  });
});

describe('the centrifuge client and server pings', async () => {
  it('stays connected through server pings with no other traffic (ping_interval 1 s, pong_timeout 500 ms, client tolerance 500 ms)', async (t) => {
    // Real timeouts on both sides: the client's ping tolerance and the server's pong check.
    const server = await startServer({ ping_interval: 1000, pong_timeout: 500 });
    const recorder = recordingWebSocket();
    const client = newClient(t, server, { maxServerPingDelay: 500, websocket: recorder.WebSocket });
    const events = timeline(client, ['connecting', 'connected', 'disconnected']);
    const connected = once(client, 'connected');
    client.connect();
    const { client: id } = await connected;
    let pings = 0;
    recorder.last().on('message', (data) => {
      if (String(data) === '{}') pings++;
    });
    // The second ping comes after the first pong check (500 ms after the first ping) passed.
    await until(() => pings >= 2, 'two server pings arrived', 4000);
    assert.deepEqual(events.map((e) => e.event), ['connecting', 'connected']);
    assert.equal(client.state, 'connected');
    assert.ok(server.canal.node.session(id));
  });

  it('reconnects with code 2 "no ping" when a server stops sending anything after connect', async (t) => {
    // A fake server: answers connect with ping 1 s and pong, then stays silent.
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    t.after(() => new Promise<void>((resolve) => {
      for (const ws of wss.clients) ws.terminate();
      wss.close(() => resolve());
    }));
    let connects = 0;
    wss.on('connection', (ws: ServerSocket) => {
      ws.on('message', (raw) => {
        for (const line of raw.toString().split('\n')) {
          if (line.trim() === '') continue;
          const cmd = JSON.parse(line) as { id?: number; connect?: unknown };
          if (cmd.connect !== undefined) {
            connects++;
            ws.send(JSON.stringify({ id: cmd.id, connect: { client: `fake-${connects}`, version: '0', ping: 1, pong: true } }));
          }
        }
      });
    });
    const { port } = wss.address() as { port: number };
    const client = newClient(t, `ws://127.0.0.1:${port}/connection/websocket`, { maxServerPingDelay: 300 });
    const connected = once(client, 'connected');
    client.connect();
    await connected;
    const started = Date.now();
    const ctx = await once(client, 'connecting', 4000);
    assert.deepEqual(ctx, { code: 2, reason: 'no ping' });
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 1200 && elapsed < 2500, `dropped after ${elapsed} ms (ping 1 s + 300 ms)`);
    await once(client, 'connected', 2000);
    assert.equal(connects, 2);
  });
});

describe('disconnect codes and what the centrifuge client does', async () => {
  const server = await startServer({ onRpc });

  /** Makes the server end `client`'s connection with `code` and `reason` through the onRpc handler. */
  function serverDisconnects(client: Centrifuge, code: number, reason: string): void {
    client.rpc('disconnect', { code, reason }).catch(() => {});
  }

  for (const code of [3001, 3008, 3010, 4000]) {
    it(`reconnects after the server closes with ${code}`, async (t) => {
      const client = await connectedCentrifuge(t, server);
      const sub = await subscribe(client, `chat:reconnect-${code}`);
      const firstId = clientId(client);
      const reason = `test reason ${code}`;
      const connecting = once(client, 'connecting');
      const resubscribed = once(sub, 'subscribed');
      serverDisconnects(client, code, reason);
      assert.deepEqual(await connecting, { code, reason });
      const again = await once(client, 'connected');
      assert.notEqual(again.client, firstId);
      const ctx = await resubscribed;
      assert.equal(ctx.wasRecovering, true, 'chat: is force_recovery: the resubscribe recovers');
      assert.equal(ctx.recovered, true);
    });
  }

  for (const code of [3500, 3501, 3503, 4500]) {
    it(`stays disconnected after the server closes with ${code}`, async (t) => {
      const client = await connectedCentrifuge(t, server);
      const id = clientId(client);
      const reason = `test reason ${code}`;
      const disconnected = once(client, 'disconnected');
      const noConnecting = never(client, 'connecting', 700);
      serverDisconnects(client, code, reason);
      assert.deepEqual(await disconnected, { code, reason });
      await noConnecting;
      assert.equal(client.state, 'disconnected');
      await until(() => server.canal.node.session(id) === undefined, 'the server forgot the session');
    });
  }

  it('reconnects after an onConnecting handler refuses the first connect with DisconnectError(4000), and stays disconnected for 3503', async (t) => {
    const attempts: string[] = [];
    const s = await startServer({
      onConnecting: (ctx) => {
        const mode = (ctx.data as { mode: string }).mode;
        attempts.push(mode);
        if (mode === 'once' && attempts.filter((m) => m === 'once').length === 1) throw new DisconnectError(4000, 'try again');
        if (mode === 'never') throw new DisconnectError(3503, 'go away');
      },
    });
    const client = newClient(t, s, { data: { mode: 'once' } });
    const events = timeline(client, ['connecting', 'connected', 'disconnected']);
    client.connect();
    await once(client, 'connected');
    // The server closes while the client is still 'connecting', so no second 'connecting' event.
    assert.deepEqual(events.map((e) => e.event), ['connecting', 'connected']);
    assert.deepEqual(attempts, ['once', 'once']);
    const refused = newClient(t, s, { data: { mode: 'never' } });
    const disconnected = once(refused, 'disconnected');
    refused.connect();
    assert.deepEqual(await disconnected, { code: 3503, reason: 'go away' });
    await never(refused, 'connecting', 500);
  });

  it('goes connecting with 3001 "shutdown" when the server closes, and reconnects to a new server on the same port', async (t) => {
    const first = new Canal({ host: '127.0.0.1', port: 0 });
    const { port } = await first.listen();
    t.after(() => first.close());
    const url = `ws://127.0.0.1:${port}/connection/websocket`;
    const client = await connectedCentrifuge(t, url);
    const sub = await subscribe(client, 'chat:shutdown');
    const connecting = once(client, 'connecting');
    await first.close();
    assert.deepEqual(await connecting, { code: 3001, reason: 'shutdown' });
    const second = new Canal({ host: '127.0.0.1', port });
    await second.listen();
    t.after(() => second.close());
    const resubscribed = once(sub, 'subscribed');
    await once(client, 'connected', 5000);
    const ctx = await resubscribed;
    assert.equal(ctx.wasRecovering, true);
    assert.equal(ctx.recovered, false, 'a new server has a new stream: nothing to recover from');
    assert.ok(second.node.numClients === 1);
  });
});
