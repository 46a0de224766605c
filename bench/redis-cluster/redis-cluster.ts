/**
 * Redis Cluster throughput (issue 12): how many publications per second canal's Redis engine
 * carries on one Redis and on a Redis Cluster of three masters, and how much Redis CPU each
 * publication costs: `npm run bench -- redis-cluster [--seconds 5] [--in-flight 128] [--channels 1000]`.
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
import { createRedisEngine, type RedisEngine, type RedisTopology } from '../../src/engine/redis/redis-engine.js';
import type { BrokerEventHandler } from '../../src/engine/types.js';
import type { JsonText } from '../../src/protocol/types.js';
import { BenchError, type Benchmark } from '../lib/benchmark.js';
import { flagsHelp, int, parseFlags } from '../lib/flags.js';
import { redisCommand, RedisServerProcess, startRedisServer } from '../../test/helpers/redis.js';
import { RedisCluster } from '../../test/helpers/redis-topologies.js';

const FLAGS = {
  seconds: int(5, 1, 60, 'seconds of publishing per target'),
  'in-flight': int(128, 1, 4096, 'publishes in flight at once'),
  channels: int(1000, 1, 100_000, 'channels, published to in turn'),
} as const;

interface Settings {
  readonly seconds: number;
  readonly inFlight: number;
  readonly channelCount: number;
}

function usage(): string {
  return [
    'Usage: npm run bench -- redis-cluster [flags]',
    '',
    'Publications per second through canal\'s Redis engine on one Redis and on a Redis Cluster of three',
    'masters, and the Redis CPU each costs. Starts its own redis-servers on free ports of 127.0.0.1',
    '(redis-server and redis-cli must be installed). About 15 s with the defaults.',
    '',
    'Flags:',
    ...flagsHelp(FLAGS),
  ].join('\n');
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

async function measure(settings: Settings, target: string, topology: RedisTopology, servers: RedisServerProcess[]): Promise<Result> {
  const { seconds, inFlight, channelCount } = settings;
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

export const redisCluster: Benchmark = {
  summary: 'publications/s and Redis CPU: canal\'s Redis engine on one Redis and on a 3-master Cluster (issue 12)',
  async run(argv) {
    const flags = parseFlags(argv, FLAGS, 'redis-cluster');
    if (flags === undefined) {
      process.stdout.write(`${usage()}\n`);
      return 0;
    }
    const settings: Settings = { seconds: flags.seconds, inFlight: flags['in-flight'], channelCount: flags.channels };
    let single: RedisServerProcess;
    try {
      single = await startRedisServer();
    } catch (err) {
      throw new BenchError(`could not start redis-server (${(err as Error).message}); install redis-server and redis-cli`);
    }
    let cluster: RedisCluster | undefined;
    try {
      cluster = await RedisCluster.start(3);
      const results = [
        await measure(settings, '1 Redis', { kind: 'single', url: single.url }, [single]),
        await measure(settings, 'Cluster, 3 masters', { kind: 'cluster', nodes: cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })) }, cluster.nodes),
      ];
      const rows = results.map((r) => {
        const total = r.redisCpu.reduce((a, b) => a + b, 0);
        const busiest = Math.max(...r.redisCpu);
        return [
          r.target, r.perSecond.toFixed(0), total.toFixed(2), (r.publications / total).toFixed(0),
          `${((busiest / settings.seconds) * 100).toFixed(0)}%`, (r.publications / busiest).toFixed(0),
        ];
      });
      const head = ['target', 'publications/s', 'Redis CPU s', 'pubs per Redis CPU-s', 'busiest Redis core', 'capacity (pubs/s at the busiest core = 100%)'];
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
      process.stdout.write(`${settings.seconds} s per target, ${settings.inFlight} publishes in flight, ${settings.channelCount} channels, history 100, one process publishing and subscribed to every channel\n`);
      process.stdout.write(`${line(head)}\n${rows.map(line).join('\n')}\n`);
      const capacity = (r: Result): number => r.publications / Math.max(...r.redisCpu);
      process.stdout.write(`cluster/1 Redis: capacity ${(capacity(results[1]!) / capacity(results[0]!)).toFixed(2)}, `
        + `publications/s ${(results[1]!.perSecond / results[0]!.perSecond).toFixed(2)} (the second is bounded by this one process where its CPU is the limit)\n`);
    } finally {
      await cluster?.stop();
      await single.kill();
    }
    return 0;
  },
};
