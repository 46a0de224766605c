/**
 * Private Redis set-ups for tests, each on its own free ports on 127.0.0.1, in a temporary
 * directory removed on stop (never the shared Redis on 6379): a Sentinel set (a master, a
 * replica and three sentinels, as Debian's redis-sentinel runs them) and a Redis Cluster of three
 * masters made with `redis-cli --cluster create`. Every process is killed on stop, and when the
 * test process exits however it exits (helpers/redis.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, redisCommand, requireRedisServer, RedisServerProcess } from './redis.js';

/** Throws a clear error when Debian's redis-sentinel is missing (npm test installs it where it can). */
export function requireRedisSentinel(): void {
  const r = spawnSync('redis-sentinel', ['--version'], { encoding: 'utf8', timeout: 5000 });
  if (r.error || r.status !== 0) {
    throw new Error('this test needs redis-sentinel (Debian package redis-sentinel), which is not installed; install it (apt-get install redis-sentinel) or run npm test as root, which installs it');
  }
}

/** Polls `check` every 50 ms until it is true; throws `what` after `timeoutMs`. */
export async function pollUntil(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${(last as Error).message})` : ''}`);
}

export const SENTINEL_MASTER = 'canal-test-master';

/** A master, a replica and three sentinels (quorum 2) that fail over within about a second. */
export class SentinelSet {
  readonly dir: string;
  readonly master: RedisServerProcess;
  readonly replica: RedisServerProcess;
  readonly sentinels: RedisServerProcess[];

  private constructor(dir: string, master: RedisServerProcess, replica: RedisServerProcess, sentinels: RedisServerProcess[]) {
    this.dir = dir;
    this.master = master;
    this.replica = replica;
    this.sentinels = sentinels;
  }

  /** `127.0.0.1:P,...` as --redis-sentinels takes it. */
  get sentinelList(): string {
    return this.sentinels.map((s) => `127.0.0.1:${s.port}`).join(',');
  }

  /** The servers (master and replica), whichever is master now. */
  get servers(): RedisServerProcess[] {
    return [this.master, this.replica];
  }

  static async start(): Promise<SentinelSet> {
    requireRedisServer();
    requireRedisSentinel();
    const dir = mkdtempSync(join(tmpdir(), 'canal-sentinel-'));
    // DEBUG SLEEP freezes a master in tests; only local connections may send DEBUG.
    // A replica syncs at once (the default waits 5 s for more replicas to share one transfer).
    // A replica writes the RDB it receives into its directory: the temporary one, not the cwd.
    const debug = ['--enable-debug-command', 'local', '--repl-diskless-sync-delay', '0', '--dir', dir];
    const set = new SentinelSet(dir, new RedisServerProcess(await freePort(), { args: debug }), new RedisServerProcess(0), []);
    try {
      await set.master.start();
      const replica = new RedisServerProcess(await freePort(), { args: [...debug, '--replicaof', '127.0.0.1', String(set.master.port)] });
      (set as { replica: RedisServerProcess }).replica = replica;
      await replica.start();
      await pollUntil(async () => String(await redisCommand(replica.url, ['INFO', 'replication'])).includes('master_link_status:up'), 'the replica synced');
      for (let i = 0; i < 3; i++) {
        const port = await freePort();
        const conf = join(dir, `sentinel-${port}.conf`);
        // Sentinels rewrite their config file: each gets its own, in the temporary directory.
        writeFileSync(conf, [
          `port ${port}`, 'bind 127.0.0.1', `dir ${dir}`,
          `sentinel monitor ${SENTINEL_MASTER} 127.0.0.1 ${set.master.port} 2`,
          `sentinel down-after-milliseconds ${SENTINEL_MASTER} 400`,
          `sentinel failover-timeout ${SENTINEL_MASTER} 2000`,
          `sentinel parallel-syncs ${SENTINEL_MASTER} 1`, '',
        ].join('\n'));
        const sentinel = new RedisServerProcess(port, { command: ['redis-sentinel', conf] });
        set.sentinels.push(sentinel);
        await sentinel.start();
      }
      // Ready when every sentinel knows the replica and the other sentinels (it can then fail over).
      await pollUntil(async () => {
        for (const s of set.sentinels) {
          const info = String(await redisCommand(s.url, ['INFO', 'sentinel']));
          if (!/slaves=1,sentinels=3/.test(info)) return false;
        }
        return true;
      }, 'the sentinels know the replica and each other', 15_000);
      return set;
    } catch (err) {
      await set.stop();
      throw err;
    }
  }

  /** The port of the master the sentinels report now. */
  async masterPort(): Promise<number> {
    const [, port] = (await redisCommand(this.sentinels[0]!.url, ['SENTINEL', 'get-master-addr-by-name', SENTINEL_MASTER])) as [string, string];
    return Number(port);
  }

  /**
   * Starts the server on `port` again (it was killed) as a replica of the current master, as the
   * sentinels would make it after a while, and waits until it has synced.
   */
  async rejoin(port: number): Promise<void> {
    const server = this.servers.find((s) => s.port === port);
    if (!server) throw new Error(`no server on port ${port}`);
    await server.start();
    await redisCommand(server.url, ['REPLICAOF', '127.0.0.1', String(await this.masterPort())]);
    await pollUntil(async () => String(await redisCommand(server.url, ['INFO', 'replication'])).includes('master_link_status:up'), `the server on ${port} synced`);
    // Each sentinel must see it as a healthy replica (not still down) before it can promote it.
    await pollUntil(async () => {
      for (const s of this.sentinels) {
        const replicas = (await redisCommand(s.url, ['SENTINEL', 'REPLICAS', SENTINEL_MASTER])) as string[][];
        const mine = replicas.map((r) => Object.fromEntries(r.flatMap((v, i) => (i % 2 === 0 ? [[v, r[i + 1]]] : []))))
          .find((r) => Number(r.port) === port);
        if (!mine || mine.flags !== 'slave' || mine['master-link-status'] !== 'ok') return false;
      }
      return true;
    }, `every sentinel sees the server on ${port} as a healthy replica`, 20_000);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.sentinels, this.master, this.replica].map((p) => p.kill()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A Redis Cluster of `n` masters (no replicas), made with redis-cli --cluster create. */
/** Resolves once every one of `nodes` says cluster_state:ok and knows all slots. */
export async function waitClusterHealthy(nodes: readonly RedisServerProcess[], timeoutMs = 15_000): Promise<void> {
  await pollUntil(async () => {
    for (const node of nodes) {
      const info = String(await redisCommand(node.url, ['CLUSTER', 'INFO']));
      if (!info.includes('cluster_state:ok') || !info.includes('cluster_slots_ok:16384')) return false;
    }
    return true;
  }, 'the cluster is healthy', timeoutMs);
}

export class RedisCluster {
  readonly dir: string;
  readonly nodes: RedisServerProcess[];

  private constructor(dir: string, nodes: RedisServerProcess[]) {
    this.dir = dir;
    this.nodes = nodes;
  }

  /** `127.0.0.1:P,...` as --redis-cluster takes it. */
  get nodeList(): string {
    return this.nodes.map((n) => `127.0.0.1:${n.port}`).join(',');
  }

  static async start(n = 3): Promise<RedisCluster> {
    requireRedisServer();
    const dir = mkdtempSync(join(tmpdir(), 'canal-cluster-'));
    const cluster = new RedisCluster(dir, []);
    try {
      for (let i = 0; i < n; i++) {
        const port = await freePort();
        // The bus port is its own free port: port + 10000 may be taken or past 65535.
        const bus = await freePort();
        cluster.nodes.push(new RedisServerProcess(port, {
          args: ['--cluster-enabled', 'yes', '--cluster-port', String(bus), '--cluster-config-file', join(dir, `nodes-${port}.conf`),
            '--cluster-node-timeout', '1000', '--dir', dir],
        }));
      }
      await Promise.all(cluster.nodes.map((node) => node.start()));
      const r = spawnSync('redis-cli', ['--cluster', 'create', ...cluster.nodes.map((x) => `127.0.0.1:${x.port}`), '--cluster-replicas', '0', '--cluster-yes'], {
        encoding: 'utf8', timeout: 20_000,
      });
      if (r.status !== 0) throw new Error(`redis-cli --cluster create failed (${r.status ?? r.error?.message}): ${r.stdout}${r.stderr}`);
      await cluster.waitHealthy();
      return cluster;
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }

  /** Resolves once every running node says cluster_state:ok and knows all slots. */
  waitHealthy(timeoutMs = 15_000): Promise<void> {
    return waitClusterHealthy(this.nodes.filter((x) => x.running), timeoutMs);
  }

  /** The node that serves `key`'s slot now. */
  async nodeOf(key: string): Promise<RedisServerProcess> {
    const slot = Number(await redisCommand(this.nodes[0]!.url, ['CLUSTER', 'KEYSLOT', key]));
    const slots = (await redisCommand(this.nodes[0]!.url, ['CLUSTER', 'SLOTS'])) as Array<[number, number, [string, number]]>;
    const range = slots.find(([from, to]) => slot >= from && slot <= to);
    const node = this.nodes.find((x) => x.port === Number(range?.[2][1]));
    if (!node) throw new Error(`no node serves slot ${slot}`);
    return node;
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((x) => x.kill()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
