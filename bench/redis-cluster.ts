/**
 * Redis Cluster throughput (issue 12): how many publications per second canal's Redis engine
 * carries on one Redis and on a Redis Cluster of three masters, and how much Redis CPU each
 * publication costs. A standalone script (not a `npm run bench` target while bench/ is being
 * restructured): `npx tsx bench/redis-cluster.ts [--seconds 5] [--in-flight 128] [--channels 1000]`.
 *
 * It starts its own servers on free ports of 127.0.0.1 (a redis-server, and three
 * `--cluster-enabled` ones joined with redis-cli), publishes with history (size 100) through
 * `createRedisEngine` from this process, each node subscribed to every channel, with a fixed
 * number of publishes in flight, for a fixed time, and reads each server's CPU time (INFO cpu)
 * before and after. The publish script and the pub/sub delivery are the work a Redis does per
 * publication; "publications per Redis CPU-second" is what one Redis core carries, and a cluster
 * carries that per master. On a small machine the client (this process) is the limit of the
 * publications per second; the CPU figures still show where the Redis work goes.
 */
import { parseArgs } from 'node:util';
import { createRedisEngine, type RedisEngine, type RedisTopology } from '../src/engine/redis/redis-engine.js';
import type { BrokerEventHandler } from '../src/engine/types.js';
import type { JsonText } from '../src/protocol/types.js';
import { redisCommand, RedisServerProcess, startRedisServer } from '../test/helpers/redis.js';
import { RedisCluster } from '../test/helpers/redis-topologies.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    'in-flight': { type: 'string', default: '128' },
    channels: { type: 'string', default: '1000' },
  },
});
const seconds = Number(values.seconds);
const inFlight = Number(values['in-flight']);
const channelCount = Number(values.channels);
for (const [name, v, max] of [['seconds', seconds, 60], ['in-flight', inFlight, 4096], ['channels', channelCount, 100_000]] as const) {
  if (!Number.isInteger(v) || v < 1 || v > max) {
    process.stderr.write(`bench redis-cluster: --${name} must be an integer from 1 to ${max}, got ${String(v)}\n`);
    process.exit(1);
  }
}

/** Seconds of CPU a Redis server has used (user + system), from INFO cpu. */
async function cpuSeconds(server: RedisServerProcess): Promise<number> {
  const info = String(await redisCommand(server.url, ['INFO', 'cpu']));
  const field = (name: string): number => Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info)?.[1] ?? 0);
  return field('used_cpu_user') + field('used_cpu_sys');
}

interface Result {
  readonly target: string;
  readonly publications: number;
  readonly perSecond: number;
  readonly redisCpu: number[];
}

async function measure(target: string, topology: RedisTopology, servers: RedisServerProcess[]): Promise<Result> {
  let delivered = 0;
  const handler: BrokerEventHandler = {
    onPublication: () => void delivered++, onJoin() {}, onLeave() {}, onInsufficientState() {}, onControl() {},
  };
  const engine: RedisEngine = createRedisEngine({ topology, prefix: `bench-${process.pid}`, timeoutMs: 5000 });
  await engine.broker.start(handler);
  const channels = Array.from({ length: channelCount }, (_, i) => `bench:ch-${i}`);
  for (const ch of channels) await engine.broker.subscribe(ch);
  const options = { history: { size: 100, ttlMs: 60_000 } };
  const data = '{"score":"2-1","minute":73}' as JsonText;
  // Warm up: scripts loaded, connections open.
  await Promise.all(channels.slice(0, 100).map((ch) => engine.broker.publish(ch, { data }, options)));
  const before = await Promise.all(servers.map(cpuSeconds));
  let published = 0;
  let next = 0;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      await engine.broker.publish(channels[next++ % channels.length]!, { data }, options);
      published++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const elapsed = (performance.now() - started) / 1000;
  const after = await Promise.all(servers.map(cpuSeconds));
  await engine.close();
  void delivered;
  return { target, publications: published, perSecond: published / elapsed, redisCpu: after.map((a, i) => a - before[i]!) };
}

const single = await startRedisServer();
let cluster: RedisCluster | undefined;
try {
  cluster = await RedisCluster.start(3);
  const results = [
    await measure('1 Redis', { kind: 'single', url: single.url }, [single]),
    await measure('Cluster, 3 masters', { kind: 'cluster', nodes: cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })) }, cluster.nodes),
  ];
  const rows = results.map((r) => {
    const total = r.redisCpu.reduce((a, b) => a + b, 0);
    const busiest = Math.max(...r.redisCpu);
    return [
      r.target, r.perSecond.toFixed(0), total.toFixed(2), (r.publications / total).toFixed(0),
      `${((busiest / seconds) * 100).toFixed(0)}%`, (r.publications / busiest).toFixed(0),
    ];
  });
  const head = ['target', 'publications/s', 'Redis CPU s', 'pubs per Redis CPU-s', 'busiest Redis core', 'capacity (pubs/s at the busiest core = 100%)'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  process.stdout.write(`${seconds} s per target, ${inFlight} publishes in flight, ${channelCount} channels, history 100, one process publishing and subscribed to every channel\n`);
  process.stdout.write(`${line(head)}\n${rows.map(line).join('\n')}\n`);
} finally {
  await cluster?.stop();
  await single.kill();
}
process.exit(0);
