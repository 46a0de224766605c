/**
 * The Sentinel and Cluster example files of docs/scaling.md work: their Redis configuration
 * files start real servers (ports and directories moved to free ones in a temporary directory,
 * nothing else changed), and `canal serve --config` with the example canal configuration
 * (addresses moved the same way) connects, publishes and reads history through them.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startNode, type CanalProcess } from '../helpers/nodes.js';
import { HMAC_SECRET } from '../helpers/tokens.js';
import { freePort, RedisServerProcess } from '../helpers/redis.js';
import { pollUntil, requireRedisSentinel, waitClusterHealthy } from '../helpers/redis-topologies.js';

const EXAMPLES = new URL('../../examples/', import.meta.url);

/** An example file with its ports and directory replaced as `ports` says, written into `dir`. */
function moved(file: string, dir: string, ports: ReadonlyMap<number, number>): string {
  let text = readFileSync(new URL(file, EXAMPLES), 'utf8').replaceAll('dir /tmp', `dir ${dir}`);
  for (const [from, to] of ports) text = text.replace(new RegExp(`\\b${from}\\b`, 'g'), String(to));
  const out = join(dir, file.replaceAll('/', '-'));
  writeFileSync(out, text);
  return out;
}

describe('the Redis example set-ups of docs/scaling.md', () => {
  const dir = mkdtempSync(join(tmpdir(), 'canal-examples-'));
  const processes: RedisServerProcess[] = [];
  const nodes: CanalProcess[] = [];
  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await Promise.all(processes.map((p) => p.kill()));
    rmSync(dir, { recursive: true, force: true });
  });

  async function publishAndRead(node: CanalProcess): Promise<void> {
    const channel = `chat:example-${process.pid}`;
    const published = await node.apiResult<{ offset: number; epoch: string }>('publish', { channel, data: { text: 'hi' } }, 5000);
    assert.equal(published.offset, 1);
    const history = await node.apiResult<{ publications: Array<{ data: unknown }> }>('history', { channel, limit: -1 });
    assert.deepEqual(history.publications.map((p) => p.data), [{ text: 'hi' }]);
  }

  it('examples/sentinel: a master, a replica and three sentinels from the example files; canal-sentinel.json connects through them', async () => {
    requireRedisSentinel();
    const ports = new Map<number, number>();
    for (const p of [6380, 6381, 26380, 26381, 26382]) ports.set(p, await freePort());
    const server = (file: string, port: number, program = 'redis-server'): RedisServerProcess => {
      const p = new RedisServerProcess(ports.get(port)!, { command: [program, moved(file, dir, ports)] });
      processes.push(p);
      return p;
    };
    await server('sentinel/redis-master.conf', 6380).start();
    await server('sentinel/redis-replica.conf', 6381).start();
    for (const p of [26380, 26381, 26382]) await server(`sentinel/sentinel-${p}.conf`, p, 'redis-sentinel').start();
    const config = moved('sentinel/canal-sentinel.json', dir, ports);
    const node = await startNode({ prefix: 'canal-example', args: ['--config', config, '--host', '127.0.0.1', '--port', '0', '--token-hmac-secret', HMAC_SECRET] });
    nodes.push(node);
    // min-replicas-to-write: the master accepts writes once its replica is connected.
    await pollUntil(async () => (await node.api('publish', { channel: 'chat:warmup', data: 1 })).result !== undefined, 'the master accepts writes', 15_000);
    await publishAndRead(node);
  });

  it('examples/cluster: three nodes from redis-node.conf joined with redis-cli; canal-cluster.json connects to them', async () => {
    const ports = new Map<number, number>();
    for (const p of [7000, 7001, 7002]) ports.set(p, await freePort());
    const members: RedisServerProcess[] = [];
    for (const p of [7000, 7001, 7002]) {
      const port = ports.get(p)!;
      const nodeDir = join(dir, `cluster-${port}`);
      mkdirSync(nodeDir);
      // As the file's comment says: the port and the directory on the command line; the bus port
      // too, here, because port + 10000 may not be free on a test machine.
      const server = new RedisServerProcess(port, {
        command: ['redis-server', new URL('cluster/redis-node.conf', EXAMPLES).pathname, '--port', String(port), '--dir', nodeDir,
          '--cluster-port', String(await freePort())],
      });
      processes.push(server);
      members.push(server);
    }
    await Promise.all(members.map((m) => m.start()));
    const r = spawnSync('redis-cli', ['--cluster', 'create', ...members.map((m) => `127.0.0.1:${m.port}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    // As docs/scaling.md says: canal starts once the nodes agree the cluster is ok (on a busy
    // machine that can take longer than canal's start budget).
    await waitClusterHealthy(members);
    const config = moved('cluster/canal-cluster.json', dir, ports);
    const node = await startNode({ prefix: 'canal-example', args: ['--config', config, '--host', '127.0.0.1', '--port', '0', '--token-hmac-secret', HMAC_SECRET] });
    nodes.push(node);
    await pollUntil(async () => (await node.api('publish', { channel: 'chat:warmup', data: 1 })).result !== undefined, 'the cluster accepts writes', 15_000);
    await publishAndRead(node);
  });
});
