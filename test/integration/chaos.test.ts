/**
 * The chaos verifier as `npm test` runs it: 30 seconds of every kind of fault, with a fixed seed,
 * against three canal nodes on a private Redis; it must pass (no silent loss, no duplicate, no
 * reordering, no crash) and every kind of fault must actually have happened. A run in which a
 * subscriber silently misses a publication must fail, and say where. And a run stopped with
 * Ctrl-C leaves no node, no redis-server and no temp dir behind.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { FAULT_KINDS } from '../../scripts/chaos/schedule.js';
import { requireRedisServer } from '../helpers/redis.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The seed of the run in `npm test`: its plan has each kind of fault once (schedule.test.ts checks every seed does). */
const SEED = '20261128';

/** A child in a process group of its own, so the group (the run, its nodes, its redis-server) can be killed at once. */
function spawnGroup(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): { child: ChildProcess; output: () => string } {
  const child = spawn(command, [...args], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  after(() => {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  });
  return { child, output: () => text };
}

/** Resolves with the exit code, or rejects (after killing the group) when it runs past `ms`. */
async function exitWithin(child: ChildProcess, ms: number, output: () => string): Promise<number | null> {
  const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), ms);
  const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
  clearTimeout(timer);
  if (signal === 'SIGKILL') throw new Error(`still running after ${ms} ms; output:\n${output().slice(-6000)}`);
  return code;
}

/** Whether something accepts connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('npm run chaos', () => {
  it(`passes 30 seconds of faults with seed ${SEED}: no silent loss, duplicate or reordering, and every kind of fault happened`, { timeout: 300_000 }, async () => {
    requireRedisServer();
    const dir = mkdtempSync(join(tmpdir(), 'canal-chaos-test-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const summaryFile = join(dir, 'summary.json');
    const { child, output } = spawnGroup('npm', ['run', '--silent', 'chaos', '--', '--seconds', '30', '--seed', SEED, '--summary', summaryFile]);
    const code = await exitWithin(child, 280_000, output);
    assert.equal(code, 0, `the chaos run failed:\n${output().slice(-8000)}`);

    const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as {
      passed: boolean;
      counts: Record<string, number>;
      faults: Record<string, { planned: number; applied: number }>;
      faultLog: Array<{ kind: string; detail: string }>;
      crashes: unknown[];
      closeCodes: Record<string, number>;
    };
    assert.equal(summary.passed, true);
    const c = summary.counts;
    assert.deepEqual({ silent: c.silentLosses, duplicates: c.duplicates, outOfOrder: c.outOfOrder, untoldGaps: c.untoldGaps, conflicts: c.conflicts },
      { silent: 0, duplicates: 0, outOfOrder: 0, untoldGaps: 0, conflicts: 0 });
    assert.deepEqual(summary.crashes, []);
    for (const kind of FAULT_KINDS) assert.ok(summary.faults[kind]!.applied >= 1, `no ${kind} fault was applied: ${JSON.stringify(summary.faultLog)}`);
    assert.ok(c.acknowledged! > 300 && c.deliveries! > 10_000, `publications ${c.acknowledged}, deliveries ${c.deliveries}`);
    // The faults had their effects: recoveries, and the Redis restart's new epoch was told.
    assert.ok(c.recoveries! > 0, 'some subscriber recovered (recovered: true)');
    assert.ok(c.epochChanges! > 0, 'the empty Redis made a new epoch, and subscribers were told recovered: false');
    const slow = summary.faultLog.find((f) => f.kind === 'slow-consumer')!;
    assert.match(slow.detail, /then it saw 3008 slow/, 'canal cut the consumer that stopped reading');
  });

  it('fails, naming the subscriber, the channel and the offsets, when a subscriber silently misses one publication (--self-check)', { timeout: 120_000 }, async () => {
    requireRedisServer();
    const { child, output } = spawnGroup(process.execPath, ['--import', 'tsx', 'scripts/chaos/main.ts', '--seconds', '10', '--subscribers', '5', '--faults', 'drop', '--seed', '8', '--self-check']);
    assert.equal(await exitWithin(child, 100_000, output), 1, output());
    assert.match(output(), /^silent losses +1$/m);
    assert.match(output(), /^ {2}silent-loss at [\d.]+ s \(subscriber #0, chaos:c\d\): publication \d+ at [\w-]+:\d+ skipped when the position moved from [\w-]+:\d+ to [\w-]+:\d+/m);
    assert.match(output(), /^FAIL: /m);
  });

  it('leaves no node, redis-server or temp dir behind when stopped with SIGINT', { timeout: 120_000 }, async () => {
    requireRedisServer();
    const tmp = mkdtempSync(join(tmpdir(), 'canal-chaos-sigint-'));
    after(() => rmSync(tmp, { recursive: true, force: true }));
    const { child, output } = spawnGroup(process.execPath, ['--import', 'tsx', 'scripts/chaos/main.ts', '--seconds', '60', '--subscribers', '10', '--seed', '5'], { ...process.env, TMPDIR: tmp });
    const started = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the run did not open its fault window within 90 s:\n${output()}`)), 90_000);
      child.stdout!.on('data', () => {
        if (/^fault window opens at/m.test(output())) {
          clearTimeout(timer);
          resolve(output());
        }
      });
      child.once('exit', () => reject(new Error(`the run exited early:\n${output()}`)));
    });
    const ports = [...started.matchAll(/on port (\d+)/g)].map((m) => Number(m[1]));
    assert.equal(ports.length, 4, `redis-server and 3 nodes: ${started}`);
    assert.ok(readdirSync(tmp).some((name) => name.startsWith('canal-chaos-')), 'the run made its temp dir under TMPDIR');

    child.kill('SIGINT');
    assert.equal(await exitWithin(child, 15_000, output), 130, output());
    const deadline = Date.now() + 5000;
    let open = ports;
    while (open.length > 0 && Date.now() < deadline) {
      open = (await Promise.all(ports.map(async (p) => ((await listening(p)) ? [p] : [])))).flat();
      if (open.length > 0) await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(open, [], 'nothing listens any more on the ports of redis-server and the nodes');
    assert.deepEqual(readdirSync(tmp).filter((name) => name.startsWith('canal-chaos-')), [], 'the temp dir is gone');
  });
});
