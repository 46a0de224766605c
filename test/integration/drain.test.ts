/**
 * Draining a node: two canal processes, A and B, behind a tiny TCP proxy standing in for a load
 * balancer. SIGTERM to A: A reports 503 on /healthz while it drains, closes its protocol
 * clients with 3001 (shutdown) spread over shutdown_drain_window, and exits 0; the official
 * centrifuge client reconnects through the proxy, now pointing at B, and its subscription works
 * there.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { Centrifuge, type PublicationContext } from 'centrifuge';
import WebSocket from 'ws';
import { serveProcess, type ServedProcess } from '../helpers/cli.js';
import { connectedClient, type Closed, type ProtocolClient } from '../helpers/protocol-client.js';
import { sleep } from '../helpers/wait.js';

const DRAIN_WINDOW_MS = 2000;
const PROTOCOL_CLIENTS = 6;


/** `promise`'s value, or undefined when it has not settled within `ms` (the timer is cleared either way). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<undefined>((r) => (timer = setTimeout(r, ms, undefined)))]);
  } finally {
    clearTimeout(timer);
  }
}

type Node = ServedProcess;

/** Spawns `canal serve --port 0 ARGS`; killed (SIGKILL) after the file if a test left it running. */
function serve(args: readonly string[]): Promise<ServedProcess> {
  return serveProcess(args, { stopWith: 'SIGKILL' });
}

/** A TCP proxy on 127.0.0.1: each new connection goes to `target` (changeable), as a load balancer would. */
interface Proxy {
  readonly port: number;
  target: number;
}

async function startProxy(target: number): Promise<Proxy> {
  const sockets = new Set<Socket>();
  const proxy: { port: number; target: number } = { port: 0, target };
  const server: Server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port: proxy.target });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  proxy.port = (server.address() as { port: number }).port;
  after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return proxy;
}

/** One GET /healthz answer (or why there was none), and when. */
interface HealthSample {
  readonly at: number;
  readonly status?: number;
  readonly body?: unknown;
  readonly error?: string;
}

describe('drain: SIGTERM to canal A while clients move to canal B', async () => {
  const [a, b] = await Promise.all([serve(['--shutdown-drain-window', `${DRAIN_WINDOW_MS}ms`]), serve([])]);
  const proxy = await startProxy(a.port);
  const channel = 'chat:drain';

  // Protocol clients connected to A directly, to see when and how each is closed.
  const direct: ProtocolClient[] = [];
  for (let i = 0; i < PROTOCOL_CLIENTS; i++) direct.push(await connectedClient(a.wsUrl));
  const closes: Array<Promise<Closed & { at: number }>> = direct.map((c) => c.closed.then((x) => ({ ...x, at: Date.now() })));

  // The official client, through the proxy.
  const client = new Centrifuge(`ws://127.0.0.1:${proxy.port}/connection/websocket`, {
    websocket: WebSocket, minReconnectDelay: 50, maxReconnectDelay: 200,
  });
  client.on('error', () => {});
  after(() => client.disconnect());
  const connectedEvents: Array<{ at: number }> = [];
  const disconnectCodes: number[] = [];
  client.on('connected', () => connectedEvents.push({ at: Date.now() }));
  client.on('connecting', (ctx) => disconnectCodes.push(ctx.code));
  const sub = client.newSubscription(channel);
  const publications: PublicationContext[] = [];
  sub.on('publication', (ctx) => publications.push(ctx));
  const subscribed: number[] = [];
  sub.on('subscribed', () => subscribed.push(Date.now()));
  client.connect();
  sub.subscribe();
  for (let i = 0; i < 500 && subscribed.length === 0; i++) await sleep(20);
  assert.equal(subscribed.length, 1, 'the centrifuge client did not subscribe on A within 10 s');
  const onA = (await (await fetch(`${a.httpUrl}/api/info`, { method: 'POST', headers: { 'x-api-key': a.apiKey }, body: '{}' })).json()) as { result: { nodes: Array<{ num_clients: number }> } };

  // SIGTERM to A; the "load balancer" sends new connections to B from now on.
  const exited = new Promise<{ code: number | null; signal: string | null; at: number }>((resolve) => {
    a.child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() }));
  });
  proxy.target = b.port;
  const signalledAt = Date.now();
  a.child.kill('SIGTERM');
  // Draining has begun once the first client is closed (the signal is handled asynchronously).
  const drainingSince = await within(Promise.race(closes), 5000);
  assert.ok(drainingSince, 'no client of A was closed within 5 s of SIGTERM');

  // A WebSocket upgrade while A drains: A no longer takes connections.
  const upgradeRefusal = new Promise<string>((resolve) => {
    const ws = new WebSocket(`${a.wsUrl}/connection/websocket`);
    ws.once('open', () => {
      ws.terminate();
      resolve('101');
    });
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve(String(res.statusCode));
    });
    ws.once('error', (err) => resolve(err.message));
  });

  // Poll A's /healthz while it drains, until it exits (at most 10 s, every 25 ms).
  const health: HealthSample[] = [];
  let exitedYet = false;
  void exited.then(() => (exitedYet = true));
  for (let i = 0; i < 400 && !exitedYet && Date.now() - signalledAt < 10_000; i++) {
    try {
      const res = await fetch(`${a.httpUrl}/healthz`, { signal: AbortSignal.timeout(500) });
      health.push({ at: Date.now(), status: res.status, body: await res.json() });
    } catch (err) {
      health.push({ at: Date.now(), error: ((err as Error).cause as Error | undefined)?.message ?? (err as Error).message });
    }
    await sleep(25);
  }

  const upgradeOutcome = await within(upgradeRefusal, 5000);
  const exit = await within(exited, 10_000);
  const closed = await within(Promise.all(closes), 10_000);
  for (let i = 0; i < 500 && subscribed.length < 2; i++) await sleep(20);
  const resubscribedAt = subscribed[1];

  // A publication through B's API must reach the client's subscription, now on B.
  let delivered: PublicationContext | undefined;
  if (resubscribedAt !== undefined) {
    const res = await fetch(`${b.httpUrl}/api/publish`, {
      method: 'POST', headers: { 'x-api-key': b.apiKey }, body: JSON.stringify({ channel, data: { from: 'B' } }),
    });
    assert.equal(res.status, 200);
    for (let i = 0; i < 100 && publications.length === 0; i++) await sleep(20);
    delivered = publications[0];
  }

  it('had the centrifuge client and the protocol clients on A before the signal', () => {
    assert.equal(onA.result.nodes[0]!.num_clients, PROTOCOL_CLIENTS + 1);
  });

  it('answers /healthz on A with 503 {"status":"draining"} while it drains', () => {
    const draining = health.filter((h) => h.status === 503);
    assert.ok(draining.length > 0, `no 503 among the answers after SIGTERM: ${JSON.stringify(health.slice(0, 10))}`);
    assert.deepEqual(draining[0]!.body, { status: 'draining' });
    assert.equal(health.filter((h) => h.status === 200).length, 0, 'no 200 once draining began');
  });

  it('refuses a new WebSocket upgrade on A with HTTP 503 while it drains', () => {
    assert.equal(upgradeOutcome, '503');
  });

  it('closes every protocol client on A with 3001 "shutdown"', () => {
    assert.ok(closed, `not every client on A was closed within 10 s of SIGTERM`);
    for (const c of closed) {
      assert.equal(c.code, 3001);
      assert.equal(c.reason, 'shutdown');
    }
  });

  it('spreads the 3001 closes over shutdown_drain_window instead of closing all at once', () => {
    assert.ok(closed);
    const times = closed.map((c) => c.at).sort((x, y) => x - y);
    const spread = times.at(-1)! - times[0]!;
    assert.ok(spread >= DRAIN_WINDOW_MS / 20, `closes spread over ${spread} ms: ${times.map((t) => t - signalledAt).join(', ')}`);
    assert.ok(new Set(times).size > 1, 'the clients were not all closed in the same instant');
    assert.ok(times.at(-1)! - signalledAt <= DRAIN_WINDOW_MS + 1500, `the last close came ${times.at(-1)! - signalledAt} ms after the signal`);
  });

  it('exits 0 once drained, within shutdown_timeout', () => {
    assert.ok(exit, 'A did not exit within 10 s of SIGTERM');
    assert.equal(exit.signal, null);
    assert.equal(exit.code, 0);
    assert.ok(exit.at - signalledAt < 5000 + 1500, `exited ${exit.at - signalledAt} ms after the signal`);
  });

  it('lets the centrifuge client reconnect to B after 3001, where its subscription receives B\'s publication', () => {
    assert.ok(disconnectCodes.includes(3001), `the client went connecting with ${JSON.stringify(disconnectCodes)}`);
    assert.ok(connectedEvents.length >= 2, `connected ${connectedEvents.length} times`);
    assert.ok(resubscribedAt !== undefined, 'the subscription did not come back within 10 s');
    assert.ok(delivered, 'the publication through B did not arrive');
    assert.deepEqual(delivered.data, { from: 'B' });
  });
});
