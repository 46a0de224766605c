/**
 * Several canal nodes behind any load balancer, with nothing lost: three `canal serve --engine
 * redis` processes on one Redis (one key prefix per cluster), official `centrifuge` clients
 * spread over them. A publication through one node reaches every subscriber on every node once,
 * in order; presence, join/leave, info, and the server API's disconnect and subscribe work across
 * nodes. When a node is killed (SIGKILL), its clients reconnect (through a TCP proxy that now
 * points at another node) and recover what was published meanwhile, and its presence expires.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { Centrifuge, Subscription } from 'centrifuge';
import { clientId, collect, type Collected, connectedCentrifuge, type EventCtx, never, once, userToken } from '../helpers/centrifuge.js';
import { startNodes, TcpProxy, type CanalProcess } from '../helpers/nodes.js';
import { deleteKeys, SHARED_REDIS_URL, testPrefix } from '../helpers/redis.js';
import { sleep, until } from '../helpers/wait.js';
import { HMAC_SECRET } from '../helpers/tokens.js';

/** Flags of every node: a shared token secret (users across nodes), presence that expires fast. */
const NODE_ARGS = ['--token-hmac-secret', HMAC_SECRET, '--presence-ttl', '2s', '--ping-interval', '1s', '--log-level', 'warn'];

interface PresenceResult {
  presence: Record<string, { client: string; user: string }>;
}

interface PublishResult {
  offset: number;
  epoch: string;
}

/**
 * Starts a three-node cluster under its own key prefix before the suite; stops it and removes its
 * keys after. Every test uses its own channel; the cluster is shared because starting a node
 * (tsx) costs seconds.
 */
function cluster(): { nodes: () => CanalProcess[] } {
  const prefix = testPrefix();
  let nodes: CanalProcess[] = [];
  // A failed start fails every test with its message (rather than cancelling them).
  let setupError: Error | undefined;
  before(async () => {
    try {
      nodes = await startNodes(3, { prefix, args: NODE_ARGS });
    } catch (err) {
      setupError = err as Error;
    }
  });
  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await deleteKeys(SHARED_REDIS_URL, prefix);
  });
  return {
    nodes: () => {
      if (setupError) throw setupError;
      return nodes;
    },
  };
}

/** Fails with the node's stderr when it is no longer running. */
function assertAlive(node: CanalProcess): void {
  assert.ok(node.alive, `${node.name} is not running; its stderr ends with:\n${node.stderr.slice(-4000)}`);
}

/** One client subscribed to a channel, with everything its subscription emitted. */
interface Member {
  readonly where: string;
  readonly client: Centrifuge;
  readonly sub: Subscription;
  readonly pubs: Collected<EventCtx<Subscription, 'publication'>>;
  /** Every subscription event in order: which one and its ctx. */
  readonly events: Array<{ event: string; ctx: any }>;
  id: string;
}

/** A connected client at `url` subscribed to `channel` (chat: recovery forced, so recoverable and positioned). */
async function member(t: TestContext, where: string, url: string, channel: string, options: { joinLeave?: boolean; token?: string } = {}): Promise<Member> {
  const client = await connectedCentrifuge(t, url, options.token ? { token: options.token } : {});
  const sub = client.newSubscription(channel, options.joinLeave ? { joinLeave: true } : {});
  const events: Array<{ event: string; ctx: any }> = [];
  for (const event of ['subscribing', 'subscribed', 'publication', 'unsubscribed', 'error']) {
    sub.on(event as 'subscribed', (ctx: unknown) => events.push({ event, ctx }));
  }
  const pubs = collect(sub, 'publication');
  const subscribed = once(sub, 'subscribed', 5000);
  sub.subscribe();
  await subscribed;
  const m: Member = { where, client, sub, pubs, events, id: clientId(client) };
  // The client id changes on every reconnect.
  client.on('connected', (ctx) => (m.id = ctx.client));
  return m;
}

/** The data.n of the publications a member received, in order. */
function received(m: Member): unknown[] {
  return m.pubs.items.map((p) => (p.data as { n?: unknown }).n);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** Publishes `{n}` for n in [from, to] through `node`, one after another; returns each position. */
async function publishRange(node: CanalProcess, channel: string, from: number, to: number): Promise<PublishResult[]> {
  const out: PublishResult[] = [];
  for (const n of range(from, to)) out.push(await node.apiResult<PublishResult>('publish', { channel, data: { n } }));
  return out;
}

describe('three canal nodes on one Redis', () => {
  const { nodes } = cluster();

  it('a publication through node 1 reaches the subscribers on every node exactly once, in order, with offsets increasing by 1', async (t) => {
    const channel = `chat:room-${randomUUID()}`;
    const ns = nodes();
    const members: Member[] = [];
    for (const [i, node] of ns.entries()) {
      for (const k of [1, 2]) members.push(await member(t, `node ${i + 1} client ${k}`, node.protocolUrl, channel));
    }
    for (const m of members) {
      const ctx = m.events.find((e) => e.event === 'subscribed')!.ctx;
      assert.equal(ctx.recoverable, true, `${m.where}: chat subscriptions are recoverable`);
      assert.equal(ctx.positioned, true, `${m.where}: chat subscriptions are positioned`);
    }

    const positions = await publishRange(ns[0]!, channel, 1, 100);
    assert.deepEqual(positions.map((p) => p.offset), range(1, 100), 'the API answers offsets 1..100 on a fresh channel');
    assert.equal(new Set(positions.map((p) => p.epoch)).size, 1, 'one epoch');

    await Promise.all(members.map((m) => m.pubs.waitFor(100, 10_000)));
    await sleep(300); // duplicates, if any, would arrive now
    for (const m of members) {
      assert.deepEqual(received(m), range(1, 100), `${m.where}: 1..100, each once, in order`);
      assert.deepEqual(m.pubs.items.map((p) => p.offset), range(1, 100), `${m.where}: offsets 1..100`);
      assert.deepEqual(m.events.map((e) => e.event).filter((e) => e !== 'publication'), ['subscribing', 'subscribed'], `${m.where}: subscribed once, never resubscribed`);
    }
  });

  it('publications made concurrently through all three nodes reach every subscriber in the one order their offsets give, once', async (t) => {
    const channel = `chat:concurrent-${randomUUID()}`;
    const ns = nodes();
    const members: Member[] = [];
    for (const [i, node] of ns.entries()) members.push(await member(t, `node ${i + 1} client`, node.protocolUrl, channel));
    const perNode = 40;
    const byOffset = new Map<number, string>();
    await Promise.all(ns.map(async (node, i) => {
      for (let k = 1; k <= perNode; k++) {
        const n = `via-${i + 1}-${k}`;
        const p = await node.apiResult<PublishResult>('publish', { channel, data: { n } });
        assert.ok(!byOffset.has(p.offset), `offset ${p.offset} given twice`);
        byOffset.set(p.offset, n);
      }
    }));
    const total = perNode * ns.length;
    assert.deepEqual([...byOffset.keys()].sort((a, b) => a - b), range(1, total), 'offsets 1..120, each given once');
    await Promise.all(members.map((m) => m.pubs.waitFor(total, 10_000)));
    await sleep(300);
    const order = range(1, total).map((o) => byOffset.get(o));
    for (const m of members) {
      assert.deepEqual(m.pubs.items.map((p) => p.offset), range(1, total), `${m.where}: offsets 1..${total}, in order, once`);
      assert.deepEqual(received(m), order, `${m.where}: each publication at the offset its publish was given`);
    }
  });

  it('API presence on node 3 lists the clients of all three nodes', async (t) => {
    const channel = `chat:presence-${randomUUID()}`;
    const ns = nodes();
    const members: Member[] = [];
    for (const [i, node] of ns.entries()) {
      for (const k of [1, 2]) members.push(await member(t, `node ${i + 1} client ${k}`, node.protocolUrl, channel));
    }
    const expected = members.map((m) => m.id).sort();
    for (const node of ns) {
      const { presence } = await node.apiResult<PresenceResult>('presence', { channel });
      assert.deepEqual(Object.keys(presence).sort(), expected, `presence through ${node.name}`);
      for (const [id, info] of Object.entries(presence)) assert.equal(info.client, id);
    }
    const stats = await ns[2]!.apiResult<{ num_clients: number; num_users: number }>('presence_stats', { channel });
    assert.deepEqual(stats, { num_clients: 6, num_users: 1 }, 'six anonymous clients: one user ""');
  });

  it('join and leave of a client on node 2 reach subscribers on nodes 1 and 3', async (t) => {
    const channel = `chat:joins-${randomUUID()}`;
    const [n1, n2, n3] = nodes() as [CanalProcess, CanalProcess, CanalProcess];
    const watchers = [
      await member(t, 'watcher on node 1', n1.protocolUrl, channel, { joinLeave: true }),
      await member(t, 'watcher on node 3', n3.protocolUrl, channel, { joinLeave: true }),
    ];
    const joiner = await connectedCentrifuge(t, n2.protocolUrl);
    const joinerId = clientId(joiner);
    const joins = watchers.map((w) => once(w.sub, 'join', 5000, (ctx) => ctx.info.client === joinerId));
    const sub = joiner.newSubscription(channel);
    sub.subscribe();
    for (const [i, ctx] of (await Promise.all(joins)).entries()) {
      assert.equal(ctx.channel, channel, watchers[i]!.where);
      assert.equal(ctx.info.client, joinerId, watchers[i]!.where);
      assert.equal(ctx.info.user, '', watchers[i]!.where);
    }
    const leaves = watchers.map((w) => once(w.sub, 'leave', 5000, (ctx) => ctx.info.client === joinerId));
    sub.unsubscribe();
    for (const [i, ctx] of (await Promise.all(leaves)).entries()) {
      assert.equal(ctx.info.client, joinerId, watchers[i]!.where);
    }
  });

  it('API info on any node lists the same 3 nodes', async () => {
    const uids: string[][] = [];
    for (const node of nodes()) {
      const info = await node.apiResult<{ nodes: Array<{ uid: string; name: string; num_clients: number }> }>('info');
      assert.equal(info.nodes.length, 3, `info through ${node.name}: ${JSON.stringify(info.nodes)}`);
      uids.push(info.nodes.map((n) => n.uid).sort());
    }
    assert.equal(new Set(uids[0]).size, 3, 'three distinct nodes');
    assert.deepEqual(uids[1], uids[0]);
    assert.deepEqual(uids[2], uids[0]);
  });

  it('API disconnect issued on node 1 disconnects the user\'s connections on nodes 2 and 3, and no one else', async (t) => {
    const [n1, n2, n3] = nodes() as [CanalProcess, CanalProcess, CanalProcess];
    const user = `user-${randomUUID()}`;
    const other = `other-${randomUUID()}`;
    const onNode2 = await connectedCentrifuge(t, n2.protocolUrl, { token: await userToken(user) });
    const onNode3 = await connectedCentrifuge(t, n3.protocolUrl, { token: await userToken(user) });
    const bystander = await connectedCentrifuge(t, n2.protocolUrl, { token: await userToken(other) });
    const gone = [once(onNode2, 'disconnected', 5000), once(onNode3, 'disconnected', 5000)];
    const quiet = never(bystander, 'disconnected', 1000);
    assert.deepEqual(await n1.apiResult('disconnect', { user }), {});
    const [ctx2, ctx3] = await Promise.all(gone);
    assert.equal(ctx2!.code, 3503, `node 2: ${JSON.stringify(ctx2)}`);
    assert.equal(ctx3!.code, 3503, `node 3: ${JSON.stringify(ctx3)}`);
    await quiet;
    assert.equal(bystander.state, 'connected');
  });

  it('API subscribe issued on node 1 subscribes a connection on node 3, which then receives publications made through node 2', async (t) => {
    const [n1, n2, n3] = nodes() as [CanalProcess, CanalProcess, CanalProcess];
    const user = `user-${randomUUID()}`;
    const channel = `chat:server-side-${randomUUID()}`;
    const client = await connectedCentrifuge(t, n3.protocolUrl, { token: await userToken(user) });
    const subscribed = once(client, 'subscribed', 5000, (ctx) => ctx.channel === channel);
    assert.deepEqual(await n1.apiResult('subscribe', { user, channel }), {});
    const ctx = await subscribed;
    assert.equal(ctx.channel, channel);
    const publication = once(client, 'publication', 5000, (p) => p.channel === channel);
    const position = await n2.apiResult<PublishResult>('publish', { channel, data: { n: 'server-side' } });
    const pub = await publication;
    assert.deepEqual(pub.data, { n: 'server-side' });
    assert.equal(pub.offset, position.offset);
    const { presence } = await n1.apiResult<PresenceResult>('presence', { channel });
    assert.deepEqual(Object.keys(presence), [clientId(client)], 'the server-side subscriber is in presence, seen from node 1');
  });

  // Last: it kills node 2.
  it('a node dies (SIGKILL): its clients reconnect to node 3 and recover exactly the 30 publications made meanwhile; its presence entries expire, live ones stay', async (t) => {
    const [n1, n2, n3] = nodes() as [CanalProcess, CanalProcess, CanalProcess];
    const channel = `chat:failover-${randomUUID()}`;
    // The load balancer in front of node 2: its clients know only the proxy's address.
    const proxy = await TcpProxy.start(n2.port);
    t.after(() => proxy.close());
    const direct = [
      await member(t, 'node 1 client 1', n1.protocolUrl, channel),
      await member(t, 'node 1 client 2', n1.protocolUrl, channel),
      await member(t, 'node 3 client 1', n3.protocolUrl, channel),
      await member(t, 'node 3 client 2', n3.protocolUrl, channel),
    ];
    const moved = [
      await member(t, 'node 2 client 1 (through the proxy)', proxy.protocolUrl, channel),
      await member(t, 'node 2 client 2 (through the proxy)', proxy.protocolUrl, channel),
    ];
    const all = [...direct, ...moved];
    const before = await publishRange(n1, channel, 1, 5);
    await Promise.all(all.map((m) => m.pubs.waitFor(5, 5000)));
    const liveIds = direct.map((m) => m.id).sort();
    const deadIds = moved.map((m) => m.id).sort();
    const { presence: atStart } = await n1.apiResult<PresenceResult>('presence', { channel });
    assert.deepEqual(Object.keys(atStart).sort(), [...liveIds, ...deadIds].sort(), 'presence lists all six before the kill');

    // Node 2 dies; while its clients are away (the proxy refuses them), 30 are published.
    proxy.target = undefined;
    const killedAt = Date.now();
    await n2.kill();
    await until(() => moved.every((m) => m.client.state === 'connecting'), 'the clients of node 2 noticed', 5000);
    const meanwhile = await publishRange(n1, channel, 6, 35);
    assert.deepEqual(meanwhile.map((p) => p.offset), range(6, 35));
    assert.ok(meanwhile.every((p) => p.epoch === before[0]!.epoch), 'same epoch throughout');
    assert.ok(moved.every((m) => m.client.state === 'connecting'), 'they were still away while all 30 were published');

    // The load balancer now sends them to node 3.
    proxy.target = n3.port;
    await Promise.all(all.map((m) => m.pubs.waitFor(35, 10_000)));
    await sleep(300); // duplicates, if any, would arrive now

    for (const m of direct) {
      assert.deepEqual(received(m), range(1, 35), `${m.where}: 1..35, each once, in order`);
      assert.deepEqual(m.pubs.items.map((p) => p.offset), range(1, 35), `${m.where}: offsets 1..35`);
      assert.deepEqual(m.events.filter((e) => e.event !== 'publication').map((e) => e.event), ['subscribing', 'subscribed'], `${m.where}: subscribed once, never interrupted`);
    }
    for (const m of moved) {
      assert.deepEqual(received(m), range(1, 35), `${m.where}: 1..35 in all, each once, in order`);
      const subscribedAt = m.events.map((e) => e.event).lastIndexOf('subscribed');
      const resubscribed = m.events[subscribedAt]!.ctx;
      assert.deepEqual(m.events.filter((e) => e.event !== 'publication').map((e) => [e.event, e.ctx.code]),
        [['subscribing', 0], ['subscribed', undefined], ['subscribing', 1], ['subscribed', undefined]], `${m.where}: subscribed, lost the transport, subscribed again`);
      assert.equal(resubscribed.wasRecovering, true, `${m.where}: ${JSON.stringify(resubscribed)}`);
      assert.equal(resubscribed.recovered, true, `${m.where}: ${JSON.stringify(resubscribed)}`);
      assert.deepEqual(resubscribed.streamPosition, { offset: 35, epoch: before[0]!.epoch }, m.where);
      const afterwards = m.events.slice(subscribedAt + 1);
      assert.deepEqual(afterwards.map((e) => e.event), Array(30).fill('publication'), `${m.where}: only publications after subscribed`);
      assert.deepEqual(afterwards.map((e) => e.ctx.data.n), range(6, 35), `${m.where}: exactly the 30 missed ones, in order, after subscribed`);
      assert.deepEqual(afterwards.map((e) => e.ctx.offset), range(6, 35), `${m.where}: their offsets`);
      assert.ok(!deadIds.includes(m.id), `${m.where}: a new connection`);
    }
    assertAlive(n1);
    assertAlive(n3);

    // Node 2's presence entries were last refreshed just before the kill (presence_ttl 2s,
    // refreshed every 1s): ~3 s after the kill they are gone; live entries stay throughout.
    const movedIds = moved.map((m) => m.id);
    const reads: Array<{ at: number; ids: string[] }> = [];
    do {
      const { presence } = await n1.apiResult<PresenceResult>('presence', { channel });
      reads.push({ at: Date.now() - killedAt, ids: Object.keys(presence) });
      await sleep(250);
    } while (Date.now() < killedAt + 3500);
    for (const r of reads) {
      for (const id of [...liveIds, ...movedIds]) assert.ok(r.ids.includes(id), `live client ${id} missing from presence ${r.at} ms after the kill: ${JSON.stringify(r.ids)}`);
    }
    const last = reads.at(-1)!;
    assert.ok(last.at >= 3000);
    assert.deepEqual(last.ids.sort(), [...liveIds, ...movedIds].sort(), `presence ${last.at} ms after the kill: node 2's clients gone, the others there`);
    const stats = await n3.apiResult<{ num_clients: number }>('presence_stats', { channel });
    assert.equal(stats.num_clients, 6);
  });
});
