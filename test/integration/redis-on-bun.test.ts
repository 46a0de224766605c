/**
 * The Redis engine on Bun: two `canal serve --engine redis` nodes on one Redis (their own key
 * prefix), one on Node and one on Bun, each with an official `centrifuge` client. A publication
 * through either node's server API reaches the subscriber on the other node once, in order, with
 * offsets from the shared stream; history reads the same on both; and a subscriber on either
 * node whose connection drops recovers, with recovered: true, exactly what was published through
 * the other node meanwhile.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { Centrifuge, Subscription } from 'centrifuge';
import { collect, newClient, once, recordingWebSocket, timeline, type TimelineEntry } from '../helpers/centrifuge.js';
import type { Runtime } from '../helpers/cli.js';
import { startNode, type CanalProcess } from '../helpers/nodes.js';
import { deleteKeys, SHARED_REDIS_URL, testPrefix } from '../helpers/redis.js';
import { until } from '../helpers/wait.js';

interface PublishResult {
  offset: number;
  epoch: string;
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

/** A client of `node` subscribed to `channel` whose WebSocket a test can cut; it reconnects after 300-400 ms. */
async function subscriber(t: TestContext, node: CanalProcess, channel: string): Promise<{
  client: Centrifuge; sub: Subscription; events: TimelineEntry[]; cut(): void;
}> {
  const recorder = recordingWebSocket();
  const client = newClient(t, node.protocolUrl, { websocket: recorder.WebSocket, minReconnectDelay: 300, maxReconnectDelay: 400 });
  const connected = once(client, 'connected');
  client.connect();
  await connected;
  const sub = client.newSubscription(channel);
  const events = timeline(sub, ['subscribing', 'subscribed', 'publication', 'unsubscribed', 'error']);
  const subscribed = once(sub, 'subscribed');
  sub.subscribe();
  await subscribed;
  return { client, sub, events, cut: () => recorder.last().terminate() };
}

describe('the Redis engine with one node on Node and one on Bun', () => {
  const prefix = testPrefix();
  const nodes = new Map<Runtime, CanalProcess>();
  let setupError: Error | undefined;
  before(async () => {
    try {
      const started = await Promise.all((['node', 'bun'] as const).map((runtime) =>
        startNode({ prefix, runtime, name: `canal on ${runtime}`, args: ['--log-level', 'warn'] })));
      for (const n of started) nodes.set(n.name === 'canal on bun' ? 'bun' : 'node', n);
    } catch (err) {
      setupError = err as Error;
    }
  });
  after(async () => {
    await Promise.all([...nodes.values()].map((n) => n.stop()));
    await deleteKeys(SHARED_REDIS_URL, prefix);
  });
  const node = (runtime: Runtime): CanalProcess => {
    if (setupError) throw setupError;
    return nodes.get(runtime)!;
  };

  it('runs one node with Node and one with Bun', () => {
    assert.match(node('node').child.spawnfile, /node$/);
    assert.match(node('bun').child.spawnfile, /bun$/);
  });

  for (const [from, to] of [['node', 'bun'], ['bun', 'node']] as const) {
    it(`a publication through canal on ${from} reaches a subscriber on ${to} once, in order, and history reads the same on both`, async (t) => {
      const channel = `chat:across-${randomUUID()}`;
      const there = await subscriber(t, node(to), channel);
      const here = await subscriber(t, node(from), channel);
      const atThere = collect(there.sub, 'publication');
      const atHere = collect(here.sub, 'publication');
      const positions = await publishRange(node(from), channel, 1, 20);
      assert.deepEqual(positions.map((p) => p.offset), range(1, 20));
      await atThere.waitFor(20, 5000);
      await atHere.waitFor(20, 5000);
      for (const [where, got] of [[to, atThere], [from, atHere]] as const) {
        assert.deepEqual(got.items.map((p) => (p.data as { n: number }).n), range(1, 20), `on ${where}: 1..20, each once, in order`);
        assert.deepEqual(got.items.map((p) => p.offset), range(1, 20), `on ${where}: offsets 1..20`);
      }
      const histories = await Promise.all([from, to].map((r) =>
        node(r).apiResult<{ publications: Array<{ data: { n: number }; offset: number }>; epoch: string; offset: number }>('history', { channel, limit: -1 })));
      for (const [i, h] of histories.entries()) {
        assert.deepEqual(h.publications.map((p) => p.data.n), range(1, 20), `history through ${[from, to][i]}`);
        assert.deepEqual({ offset: h.offset, epoch: h.epoch }, { offset: 20, epoch: positions[0]!.epoch }, `stream position through ${[from, to][i]}`);
      }
    });

    it(`a subscriber on ${to} that drops recovers, with recovered: true, exactly what was published through canal on ${from} meanwhile`, async (t) => {
      const channel = `chat:recover-${randomUUID()}`;
      const s = await subscriber(t, node(to), channel);
      const before = await publishRange(node(from), channel, 1, 5);
      await until(() => s.events.filter((e) => e.event === 'publication').length === 5, `the subscriber on ${to} got 1..5`);
      const connecting = once(s.client, 'connecting');
      s.cut();
      await connecting;
      const meanwhile = await publishRange(node(from), channel, 6, 25);
      assert.ok(meanwhile.every((p) => p.epoch === before[0]!.epoch), 'one epoch throughout');
      await until(() => s.events.filter((e) => e.event === 'publication').length >= 25, `the subscriber on ${to} got 25 publications`, 10_000);
      const resubscribedAt = s.events.map((e) => e.event).lastIndexOf('subscribed');
      const resubscribed = s.events[resubscribedAt]!.ctx as { wasRecovering: boolean; recovered: boolean; streamPosition: unknown };
      assert.deepEqual(s.events.filter((e) => e.event !== 'publication').map((e) => e.event),
        ['subscribing', 'subscribed', 'subscribing', 'subscribed'], 'subscribed, lost the transport, subscribed again');
      assert.equal(resubscribed.wasRecovering, true, JSON.stringify(resubscribed));
      assert.equal(resubscribed.recovered, true, JSON.stringify(resubscribed));
      assert.deepEqual(resubscribed.streamPosition, { offset: 25, epoch: before[0]!.epoch });
      const afterwards = s.events.slice(resubscribedAt + 1) as Array<{ event: string; ctx: { data: { n: number }; offset: number } }>;
      assert.deepEqual(afterwards.map((e) => e.ctx.data.n), range(6, 25), 'exactly the 20 missed ones, in order, after subscribed');
      assert.deepEqual(afterwards.map((e) => e.ctx.offset), range(6, 25));
      await publishRange(node(from), channel, 26, 26);
      await until(() => s.events.filter((e) => e.event === 'publication').length === 26, 'live again: 26');
      assert.deepEqual(s.events.filter((e) => e.event === 'publication').map((e) => (e.ctx as { data: { n: number } }).data.n), range(1, 26));
    });
  }
});
