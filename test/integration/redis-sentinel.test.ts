/**
 * Redis Sentinel (issue 12 item 1): two canal nodes find their Redis through three sentinels
 * (Debian's redis-sentinel) watching a master and a replica, all private processes on free
 * ports. Recovering subscribers on both nodes, publications through both; the master is killed
 * (SIGKILL), and later the new master is frozen (DEBUG SLEEP), each during the stream of
 * publications. The nodes follow the new master; afterwards every subscriber has every
 * acknowledged publication, in order, exactly once, or was told recovered: false.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startNodes, type CanalProcess } from '../helpers/nodes.js';
import { redisCommand, testPrefix } from '../helpers/redis.js';
import { SENTINEL_MASTER, SentinelSet } from '../helpers/redis-topologies.js';
import { member, runTraffic, type TrafficReport } from '../helpers/stream-verifier.js';

function figures(r: TrafficReport): string {
  return `sent ${r.sent}, accepted ${r.accepted}, refused (temporary) ${r.refused}, unanswered ${r.unanswered}, ` +
    `outage ${r.outageMs} ms, subscribers told recovered: false ${r.toldLost}, resubscribes recovered: true ${r.recovered}`;
}

describe('Redis Sentinel failover under traffic (master, replica, 3 sentinels; two canal nodes)', () => {
  let set: SentinelSet | undefined;
  let nodes: CanalProcess[] = [];
  let setupError: Error | undefined;

  before(async () => {
    try {
      set = await SentinelSet.start();
      nodes = await startNodes(2, {
        prefix: testPrefix(),
        args: ['--redis-sentinels', set.sentinelList, '--redis-sentinel-master', SENTINEL_MASTER, '--redis-timeout', '500ms',
          '--position-check-interval', '1s', '--insufficient-state-window', '500ms', '--log-level', 'info'],
      });
    } catch (err) {
      setupError = err as Error;
    }
  });
  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await set?.stop();
  });

  /** Runs `traffic`; a failure carries the end of each node's log, which says what Redis did. */
  async function withLogs<T>(traffic: Promise<T>): Promise<T> {
    try {
      return await traffic;
    } catch (err) {
      const logs = [
        ...nodes.map((n) => `${n.name} log:\n${n.stderr.slice(-3000)}`),
        ...(set?.sentinels ?? []).map((x) => `sentinel ${x.port} log:\n${x.output.slice(-2000)}`),
      ];
      throw new Error(`${(err as Error).message}\n${logs.join('\n')}`, { cause: err });
    }
  }

  function alive(): void {
    for (const n of nodes) assert.ok(n.alive, `${n.name} died: ${n.stderr.slice(-3000)}`);
  }

  it('the master is killed (SIGKILL) mid-stream: the nodes follow the promoted replica; no subscriber silently misses an acknowledged publication', async (t) => {
    if (setupError) throw setupError;
    const [n1, n2] = nodes as [CanalProcess, CanalProcess];
    const channel = `chat:sentinel-kill-${randomUUID()}`;
    const members = [
      await member(t, 'node 1 client 1', n1.protocolUrl, channel), await member(t, 'node 1 client 2', n1.protocolUrl, channel),
      await member(t, 'node 2 client 1', n2.protocolUrl, channel), await member(t, 'node 2 client 2', n2.protocolUrl, channel),
    ];
    const oldMaster = await set!.masterPort();
    const report = await withLogs(runTraffic({
      nodes: [n1, n2], members, channel, count: 200, everyMs: 20, faultAfter: 60, finalTimeoutMs: 30_000,
      fault: async () => {
        const master = set!.servers.find((s) => s.port === oldMaster)!;
        await master.kill('SIGKILL');
      },
    }));
    t.diagnostic(`SIGKILL master: ${figures(report)}`);
    assert.notEqual(await set!.masterPort(), oldMaster, 'the sentinels promoted the replica');
    assert.deepEqual(report.problems, [], 'every acknowledged publication arrived once, in order, or its subscriber was told');
    assert.equal(report.unanswered, 0, 'every publish was answered (an offset or a temporary error)');
    assert.ok(report.outageMs > 0, `publishing went on after the failover: ${figures(report)}`);
    alive();
    // The killed master comes back as a replica of the new one, so a second failover can happen.
    await set!.rejoin(oldMaster);
  });

  it('the new master freezes (DEBUG SLEEP 5) mid-stream: failover again, and still nothing is silently lost', async (t) => {
    if (setupError) throw setupError;
    const [n1, n2] = nodes as [CanalProcess, CanalProcess];
    const channel = `chat:sentinel-sleep-${randomUUID()}`;
    const members = [
      await member(t, 'node 1 client 1', n1.protocolUrl, channel), await member(t, 'node 2 client 1', n2.protocolUrl, channel),
    ];
    const master = await set!.masterPort();
    const report = await withLogs(runTraffic({
      nodes: [n1, n2], members, channel, count: 300, everyMs: 20, faultAfter: 60, finalTimeoutMs: 30_000,
      fault: async () => {
        // DEBUG SLEEP blocks this connection's answer too: send it and do not wait for the reply.
        void redisCommand(`redis://127.0.0.1:${master}/0`, ['DEBUG', 'SLEEP', '5'], 8000).catch(() => {});
      },
    }));
    t.diagnostic(`DEBUG SLEEP 5 on the master: ${figures(report)}`);
    assert.notEqual(await set!.masterPort(), master, 'the sentinels promoted the replica');
    assert.deepEqual(report.problems, [], 'every acknowledged publication arrived once, in order, or its subscriber was told');
    assert.equal(report.unanswered, 0);
    alive();
  });
});
