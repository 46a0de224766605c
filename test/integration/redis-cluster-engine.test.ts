/**
 * Redis Cluster (issue 12 item 2) and the cluster-wide channels API (item 6): two canal nodes on
 * a private Redis Cluster of three masters (free ports), official centrifuge clients. Channels
 * spread over the shards; a publication goes only to its channel's shard (sharded pub/sub);
 * delivery, history and presence work across nodes; `channels` on one node lists every node's
 * channels and names a node that does not answer; a master restarted during traffic (its data
 * gone) loses nothing silently.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { connectedCentrifuge, subscribe } from '../helpers/centrifuge.js';
import { startNodes, type CanalProcess } from '../helpers/nodes.js';
import { redisCommand, testPrefix } from '../helpers/redis.js';
import { pollUntil, RedisCluster } from '../helpers/redis-topologies.js';
import { member, publications, runTraffic } from '../helpers/stream-verifier.js';
import { until } from '../helpers/wait.js';

describe('canal on a Redis Cluster (3 masters, two canal nodes)', () => {
  const prefix = testPrefix();
  let cluster: RedisCluster | undefined;
  let nodes: CanalProcess[] = [];
  let setupError: Error | undefined;

  before(async () => {
    try {
      cluster = await RedisCluster.start(3);
      nodes = await startNodes(2, {
        prefix,
        args: ['--redis-cluster', cluster.nodeList, '--redis-timeout', '500ms', '--position-check-interval', '1s',
          '--insufficient-state-window', '500ms', '--presence-ttl', '2s', '--ping-interval', '1s', '--log-level', 'warn'],
      });
    } catch (err) {
      setupError = err as Error;
    }
  });
  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await cluster?.stop();
  });

  function setup(): [CanalProcess, CanalProcess, RedisCluster] {
    if (setupError) throw setupError;
    return [nodes[0]!, nodes[1]!, cluster!];
  }

  it('delivers across nodes on channels spread over every shard, each publication only through its own shard', async (t) => {
    const [n1, n2, c] = setup();
    const client = await connectedCentrifuge(t, n2.protocolUrl);
    const channels = Array.from({ length: 24 }, (_, i) => `chat:spread-${i}-${randomUUID()}`);
    const subs = await Promise.all(channels.map((ch) => subscribe(client, ch)));
    const got = new Map<string, number[]>(channels.map((ch) => [ch, []]));
    subs.forEach((s, i) => s.on('publication', (ctx) => got.get(channels[i]!)!.push((ctx.data as { n: number }).n)));
    const shards = new Set<number>();
    for (const ch of channels) shards.add((await c.nodeOf(`${prefix}.stream.{${ch}}`)).port);
    assert.equal(shards.size, 3, 'the channels live on all three masters');
    for (let n = 1; n <= 5; n++) await Promise.all(channels.map((ch) => n1.apiResult('publish', { channel: ch, data: { n } })));
    await until(() => channels.every((ch) => got.get(ch)!.length === 5), 'every channel delivered 5 publications on node 2');
    for (const ch of channels) assert.deepEqual(got.get(ch), [1, 2, 3, 4, 5], ch);
    // Sharded pub/sub: the channel is subscribed on its own shard only, and nowhere as a plain channel.
    const ch = channels[0]!;
    const pubsub = `${prefix}.ch.{${ch}}`;
    const owner = await c.nodeOf(pubsub);
    for (const node of c.nodes) {
      const sharded = (await redisCommand(node.url, ['PUBSUB', 'SHARDCHANNELS', `${prefix}.*`])) as string[];
      assert.equal(sharded.includes(pubsub), node === owner, `shard ${node.port}: ${JSON.stringify(sharded)}`);
      const plain = (await redisCommand(node.url, ['PUBSUB', 'CHANNELS', `${prefix}.*`])) as string[];
      assert.deepEqual(plain.filter((x) => x !== `${prefix}.control`), [], `no plain subscription on ${node.port}`);
    }
    const history = await n2.apiResult<{ publications: Array<{ data: { n: number } }> }>('history', { channel: ch, limit: -1 });
    assert.deepEqual(history.publications.map((p) => p.data.n), [1, 2, 3, 4, 5]);
  });

  it('keeps presence across nodes', async (t) => {
    const [n1, n2] = setup();
    const channel = `chat:presence-${randomUUID()}`;
    const a = await connectedCentrifuge(t, n1.protocolUrl);
    const b = await connectedCentrifuge(t, n2.protocolUrl);
    await subscribe(a, channel);
    await subscribe(b, channel);
    await pollUntil(async () => Object.keys((await n2.apiResult<{ presence: Record<string, unknown> }>('presence', { channel })).presence).length === 2,
      'presence on node 2 lists both clients');
  });

  it('answers channels with every node\'s channels merged, and names a node that does not answer', async (t) => {
    const [n1, n2] = setup();
    const tag = randomUUID();
    const a = await connectedCentrifuge(t, n1.protocolUrl);
    const b = await connectedCentrifuge(t, n2.protocolUrl);
    await subscribe(a, `chat:both-${tag}`);
    await subscribe(b, `chat:both-${tag}`);
    await subscribe(b, `chat:only2-${tag}`);
    const all = await n1.apiResult<{ channels: Record<string, { num_clients: number }>; incomplete?: boolean }>('channels', { pattern: `chat:*-${tag}` });
    assert.deepEqual(all, { channels: { [`chat:both-${tag}`]: { num_clients: 2 }, [`chat:only2-${tag}`]: { num_clients: 1 } } });
    // Node 2 frozen: node 1 answers after its timeout with what it has, and says who is missing.
    n2.child.kill('SIGSTOP');
    try {
      const started = Date.now();
      const partial = await n1.apiResult<{ channels: Record<string, { num_clients: number }>; incomplete?: boolean; missing_nodes?: string[] }>(
        'channels', { pattern: `chat:*-${tag}` });
      assert.ok(Date.now() - started < 2000, `answered in ${Date.now() - started} ms`);
      assert.deepEqual(partial.channels, { [`chat:both-${tag}`]: { num_clients: 1 } });
      assert.equal(partial.incomplete, true);
      assert.equal(partial.missing_nodes?.length, 1);
    } finally {
      n2.child.kill('SIGCONT');
    }
  });

  it('a master restarted during traffic (its data gone): no subscriber silently misses an acknowledged publication', async (t) => {
    const [n1, n2, c] = setup();
    const channel = `chat:restart-${randomUUID()}`;
    const members = [
      await member(t, 'node 1 client', n1.protocolUrl, channel), await member(t, 'node 2 client 1', n2.protocolUrl, channel),
      await member(t, 'node 2 client 2', n2.protocolUrl, channel),
    ];
    const owner = await c.nodeOf(`${prefix}.stream.{${channel}}`);
    const report = await runTraffic({
      nodes: [n1, n2], members, channel, count: 150, everyMs: 20, faultAfter: 50,
      fault: async () => {
        await owner.kill('SIGKILL');
        await owner.start();
        await c.waitHealthy();
      },
      finalTimeoutMs: 25_000,
    });
    t.diagnostic(`cluster master restart: sent ${report.sent}, accepted ${report.accepted}, refused ${report.refused}, unanswered ${report.unanswered}, ` +
      `outage ${report.outageMs} ms, told recovered: false ${report.toldLost}`);
    assert.deepEqual(report.problems, []);
    assert.equal(report.unanswered, 0);
    assert.ok(members.every((m) => publications(m).length > 0));
    for (const n of [n1, n2]) assert.ok(n.alive, `${n.name}: ${n.stderr.slice(-3000)}`);
  });
});
