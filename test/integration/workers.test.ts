/**
 * `canal serve --workers 2` on Redis: two worker processes share one port, each a node. Clients
 * land on both; a publication through the API reaches every one of them once; dev mode's secrets,
 * /metrics, /stats and `info` cover both workers whichever answers; a worker killed with SIGKILL
 * is replaced and its clients reconnect and recover; SIGTERM drains both and exits 0. (A worker
 * that keeps failing at start: workers-give-up.test.ts.)
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { hostname } from 'node:os';
import { after, describe, it } from 'node:test';
import { Centrifuge, type PublicationContext, type Subscription } from 'centrifuge';
import WebSocket from 'ws';
import { Canal } from '../../src/canal.js';
import { readDevFile } from '../../src/cli/dev-file.js';
import { ConfigError } from '../../src/config/resolve.js';
import { once, timeline, type TimelineEntry } from '../helpers/centrifuge.js';
import { runCli } from '../helpers/cli.js';
import { apiCall } from '../helpers/nodes.js';
import { parseExposition, seriesKey } from '../helpers/prometheus.js';
import { openProtocolClient, type Closed, type ProtocolClient } from '../helpers/protocol-client.js';
import { deleteKeys, SHARED_REDIS_URL, testPrefix } from '../helpers/redis.js';
import { until } from '../helpers/wait.js';
import { startWorkers, type NodeInfo, type WorkersProcess } from '../helpers/workers.js';

/** One HTTP request on a connection of its own, so node:cluster hands each to the next worker in turn. */
function freshRequest(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers, agent: false, timeout: 5000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: no answer within 5 s`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The worker slot (1, 2) of a node named `HOST_PORT_wSLOT`. */
function slotOf(node: NodeInfo): number {
  return Number(/_w(\d+)$/.exec(node.name)?.[1]);
}

/** A centrifuge client subscribed to `channel`, with what happened to it. */
interface Subscriber {
  readonly client: Centrifuge;
  readonly sub: Subscription;
  readonly events: TimelineEntry[];
  readonly publications: PublicationContext[];
}

describe('canal serve --workers 2 on Redis, in dev mode', async () => {
  const prefix = testPrefix();
  after(() => deleteKeys(SHARED_REDIS_URL, prefix));
  const server: WorkersProcess = await startWorkers([
    '--workers', '2', '--engine', 'redis', '--redis-prefix', prefix, '--shutdown-drain-window', '1s', '--log-level', 'info',
  ], { devMode: true });
  const names = [1, 2].map((slot) => `${hostname()}_${server.port}_w${slot}`);
  const channel = 'chat:workers';
  const subscribers: Subscriber[] = [];
  let published = 0;

  /** Publishes `count` more numbered publications to `channel` through the server API. */
  async function publish(count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      const n = ++published;
      const reply = await apiCall(server.httpUrl, 'publish', { channel, data: { n } }, 5000, server.apiKey);
      assert.equal(reply.status, 200, reply.text);
      assert.equal(reply.error, undefined, reply.text);
    }
  }

  after(() => subscribers.forEach((s) => s.client.disconnect()));

  /**
   * A new subscriber that lives until the end of the file and reconnects after 500-600 ms: long
   * enough to miss what is published meanwhile.
   */
  async function subscriber(): Promise<Subscriber> {
    const client = new Centrifuge(`${server.wsUrl}/connection/websocket`, { websocket: WebSocket, minReconnectDelay: 500, maxReconnectDelay: 600 });
    client.on('error', () => {});
    const sub = client.newSubscription(channel);
    const events = timeline(sub, ['subscribed', 'publication']);
    const publications: PublicationContext[] = [];
    sub.on('publication', (ctx) => publications.push(ctx));
    const subscribed = once(sub, 'subscribed');
    client.connect();
    sub.subscribe();
    await subscribed;
    const s = { client, sub, events, publications };
    subscribers.push(s);
    return s;
  }

  /** Every subscriber has publications 1..published, each once, in order. */
  async function everyoneHasAll(what: string): Promise<void> {
    const expected = Array.from({ length: published }, (_, i) => i + 1);
    const got = (s: Subscriber): number[] => s.publications.map((p) => (p.data as { n: number }).n);
    await until(() => subscribers.every((s) => got(s).length >= published),
      () => `${what}: not every subscriber got ${published} publications: ${JSON.stringify(subscribers.map(got))}`, 8000);
    for (const [i, s] of subscribers.entries()) assert.deepEqual(got(s), expected, `${what}: subscriber ${i + 1}`);
  }

  it('prints its listening line and dev key once; both workers listen on that port, as nodes named HOST_PORT_w1 and HOST_PORT_w2', async () => {
    assert.equal(server.stdout.filter((l) => l.startsWith('canal listening on ')).length, 1, server.stdout.join('\n'));
    assert.equal(server.stdout.filter((l) => l.startsWith('dev mode: server API key ')).length, 1, server.stdout.join('\n'));
    const devFile = readDevFile(server.port);
    assert.equal(devFile?.api_key, server.apiKey);
    assert.ok(devFile?.token_hmac_secret, 'the dev file has the token secret dev mode made');
    const listening = server.logs.filter((l) => l.msg === 'worker listening');
    assert.deepEqual(listening.map((l) => [l.worker, l.port]).sort(), [[1, server.port], [2, server.port]]);
    await until(async () => (await server.nodes()).map((n) => n.name).sort().join() === names.join(),
      async () => `info lists ${JSON.stringify((await server.nodes()).map((n) => n.name))}, not ${JSON.stringify(names)}`);
  });

  it('shares dev mode\'s secrets: the API key, /demo/token\'s tokens and an admin login are good on either worker', async () => {
    // Tokens that /demo/token makes (on whichever worker) connect on both: each connect reply names its node.
    const tokenNodes = new Set<string>();
    const clients: ProtocolClient[] = [];
    after(() => clients.forEach((c) => c.ws.terminate()));
    for (let i = 0; i < 4 && tokenNodes.size < 2; i++) {
      const minted = await freshRequest(`${server.httpUrl}/demo/token?user=ana${i}`);
      assert.equal(minted.status, 200, minted.text);
      const { token } = JSON.parse(minted.text) as { token: string };
      // Two connections in a row: node:cluster hands them to different workers.
      for (let j = 0; j < 2; j++) {
        const client = await openProtocolClient(server.wsUrl);
        clients.push(client);
        tokenNodes.add((await client.connect({ token })).node as string);
      }
    }
    assert.equal(tokenNodes.size, 2, 'tokens from /demo/token connected on both workers');

    const login = await freshRequest(`${server.httpUrl}/admin/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: server.apiKey }),
    });
    assert.equal(login.status, 200, login.text);
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    // Consecutive connections go to the workers in turn: each loop reaches both.
    for (let i = 0; i < 4; i++) {
      const session = await freshRequest(`${server.httpUrl}/admin/session`, { headers: { cookie } });
      assert.equal(session.status, 200, `admin session, request ${i + 1}: ${session.text}`);
    }
    for (let i = 0; i < 4; i++) {
      const api = await freshRequest(`${server.httpUrl}/api/info`, { method: 'POST', headers: { 'x-api-key': server.apiKey }, body: '{}' });
      assert.equal(api.status, 200, `server API, request ${i + 1}: ${api.text}`);
    }
    // Both workers took API calls with that key: their counters say so.
    const metrics = parseExposition((await freshRequest(`${server.httpUrl}/metrics`)).text);
    const ok = metrics.get('canal_api_requests_total')!.samples.filter((s) => s.labels.method === 'info' && s.labels.outcome === 'ok');
    assert.deepEqual(ok.map((s) => s.labels.worker).sort(), ['1', '2'], JSON.stringify(ok));
  });

  it('spreads clients over both workers, and a publication through the API reaches every client once, in order', async () => {
    // node:cluster hands connections to the workers in turn; `info` (figures up to 5 s old) says where they are.
    let nodes: NodeInfo[] = [];
    for (let round = 0; round < 4; round++) {
      await subscriber();
      await subscriber();
      const settled = Date.now() + 6000;
      await until(async () => {
        nodes = await server.nodes();
        return nodes.filter((n) => n.num_clients > 0).length >= 2 || Date.now() > settled;
      }, 'info settled', 8000);
      if (nodes.filter((n) => n.num_clients > 0).length >= 2) break;
    }
    assert.deepEqual(nodes.filter((n) => n.num_clients > 0).map(slotOf).sort(), [1, 2], `clients on both workers: ${JSON.stringify(nodes)}`);
    await publish(10);
    await everyoneHasAll('after 10 publications');
  });

  it('answers GET /metrics with every worker\'s series, labelled worker="1" and "2", and GET /stats with their sum, whichever worker answers', async () => {
    const clients = (await server.nodes()).reduce((sum, n) => sum + n.num_clients, 0);
    for (let i = 0; i < 4; i++) {
      const res = await freshRequest(`${server.httpUrl}/metrics`);
      assert.equal(res.status, 200);
      const families = parseExposition(res.text);
      const byWorker = new Map(families.get('canal_clients')!.samples.map((s) => [s.labels.worker, s.value]));
      assert.deepEqual([...byWorker.keys()].sort(), ['1', '2'], `scrape ${i + 1}: canal_clients of both workers`);
      assert.ok([...byWorker.values()].every((n) => n > 0), `scrape ${i + 1}: both workers have clients: ${JSON.stringify([...byWorker])}`);
      const delivered = families.get('canal_publications_total')!.samples;
      assert.ok(delivered.some((s) => seriesKey(s.name, s.labels) === seriesKey('canal_publications_total', { worker: '1' })), `scrape ${i + 1}`);
      const stats = JSON.parse((await freshRequest(`${server.httpUrl}/stats`)).text) as { clients: number; workers: number };
      assert.equal(stats.workers, 2, JSON.stringify(stats));
      assert.equal(stats.clients, [...byWorker.values()].reduce((a, b) => a + b, 0), JSON.stringify(stats));
      assert.equal((await freshRequest(`${server.httpUrl}/healthz`)).status, 200);
    }
    assert.ok(clients > 0);
  });

  it('replaces a worker killed with SIGKILL; its clients reconnect and recover what was published while they were away', async () => {
    const nodes = await server.nodes();
    const victim = slotOf(nodes.find((n) => n.num_clients > 0)!);
    const oldUids = new Set(nodes.map((n) => n.uid));
    const pid = server.workerPid(victim);
    const from = server.logs.length;
    process.kill(pid, 'SIGKILL');
    await server.waitForLog((l) => l.worker === victim && l.signal === 'SIGKILL' && typeof l.msg === 'string' && l.msg.includes('starting a new one'),
      `saying worker ${victim} is replaced`, 5000, from);
    // Its clients wait 500-600 ms before reconnecting: these are published while they are away.
    await publish(10);
    const replaced = await server.waitForLog((l) => l.msg === 'worker listening' && l.worker === victim, `of the new worker ${victim} listening`, 20_000, from);
    assert.notEqual(replaced.pid, pid);
    await everyoneHasAll('after the kill');
    const moved = subscribers.filter((s) => s.events.filter((e) => e.event === 'subscribed').length > 1);
    assert.ok(moved.length > 0, 'some subscribers were on the killed worker');
    for (const s of moved) {
      const last = [...s.events].reverse().find((e) => e.event === 'subscribed')!.ctx;
      assert.equal(last.wasRecovering, true);
      assert.equal(last.recovered, true, JSON.stringify(last));
    }
    await until(async () => (await server.nodes()).some((n) => n.name === names[victim - 1] && !oldUids.has(n.uid)),
      `info lists the new worker ${victim} as a node`, 8000);
    await publish(1);
    await everyoneHasAll('a publication after the replacement');
  });

  it('drains both workers on SIGTERM: 3001 to their protocol clients, 503 from /healthz while draining, then exit 0 and no dev file', async () => {
    // Enough clients that each worker's drain takes most of the 1 s window (it closes them in 20 batches).
    const byNode = new Map<string, ProtocolClient[]>();
    for (let i = 0; i < 40; i++) {
      const client = await openProtocolClient(server.wsUrl);
      const { node } = await client.connect({});
      byNode.set(node as string, [...(byNode.get(node as string) ?? []), client]);
    }
    assert.equal(byNode.size, 2, 'protocol clients on both workers');
    const closes: Array<Promise<Closed>> = [...byNode.values()].flat().map((c) => c.closed);
    const health: number[] = [];
    const polling = (async () => {
      while (server.alive) {
        try {
          const res = await freshRequest(`${server.httpUrl}/healthz`);
          health.push(res.status);
          if (res.status === 503) assert.deepEqual(JSON.parse(res.text), { status: 'draining' });
        } catch {
          // The port closes once the last worker has drained.
        }
      }
    })();
    const exit = await server.terminate();
    await polling;
    assert.deepEqual(exit, { code: 0, signal: null }, server.stderr.slice(-4000));
    for (const closed of await Promise.all(closes)) assert.equal(closed.code, 3001, JSON.stringify(closed));
    assert.ok(health.includes(503), `/healthz answered 503 while draining: ${health.join(', ')}`);
    assert.equal(readDevFile(server.port), undefined, 'the dev file is removed');
  });
});

describe('canal serve --workers refusals', () => {
  it('refuses more than one worker with the memory engine, saying why', async () => {
    const r = await runCli(['serve', '--workers', '2', '--port', '0']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^canal: workers: is 2 but engine is "memory": each worker process would keep its own channels, history and presence, so clients on different workers would not see each other's publications; use --engine redis/m);
  });

  it('refuses workers in the embedding API: one Canal is one node', () => {
    assert.throws(() => new Canal({ workers: 2, engine: 'redis' }), (err: unknown) => err instanceof ConfigError &&
      /^workers: is an option of canal serve, which starts the processes; one Canal is one node/.test(err.message));
  });
});
