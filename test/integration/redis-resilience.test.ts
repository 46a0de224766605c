/**
 * Redis goes away under traffic and comes back empty (a restart without persistence): two canal
 * nodes on a private redis-server (never the shared one), subscribers on both, a publisher
 * through the server API. Nothing crashes, calls fail fast as temporary (code 100) instead of
 * hanging, local service (echo, open protocol connections) goes on, the nodes reconnect, and no
 * subscriber silently misses an accepted publication: it has them all, in order, or it was told
 * recovered: false.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { connectedCentrifuge } from '../helpers/centrifuge.js';
import { checkMember, member, publications, type PublishResult } from '../helpers/stream-verifier.js';
import { echoRoundTrip, healthz, startNodes, type ApiReply, type CanalProcess } from '../helpers/nodes.js';
import { redisCommand, RedisServerProcess, startRedisServer, testPrefix } from '../helpers/redis.js';
import { sleep, until } from '../helpers/wait.js';

/** Every Redis call times out after this long (--redis-timeout). */
const REDIS_TIMEOUT_MS = 500;
/** A call that fails because of Redis must answer within this. */
const FAIL_FAST_MS = REDIS_TIMEOUT_MS + 1000;

/** One API publish of the publisher loop: what it sent and what it got. */
interface Attempt {
  readonly n: number | string;
  readonly at: number;
  readonly reply?: ApiReply<PublishResult>;
  /** Set when no answer came at all (a hang). */
  readonly failure?: string;
}

describe('Redis restarts (a private redis-server, two canal nodes)', () => {
  const prefix = testPrefix();
  let redis: RedisServerProcess | undefined;
  let nodes: CanalProcess[] = [];

  /** Why the setup failed (e.g. no redis-server): every test then fails with it, none is skipped. */
  let setupError: Error | undefined;

  before(async () => {
    try {
      redis = await startRedisServer();
      nodes = await startNodes(2, { prefix, redisUrl: redis.url, args: ['--redis-timeout', `${REDIS_TIMEOUT_MS}ms`, '--log-level', 'warn'] });
    } catch (err) {
      setupError = err as Error;
    }
  });

  /** The private Redis and the two nodes, or the setup's failure. */
  function setup(): { r: RedisServerProcess; n1: CanalProcess; n2: CanalProcess } {
    if (setupError) throw setupError;
    return { r: redis!, n1: nodes[0]!, n2: nodes[1]! };
  }

  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await redis?.kill();
  });

  function assertAlive(): void {
    for (const node of nodes) assert.ok(node.alive, `${node.name} crashed: ${JSON.stringify(node.child.exitCode ?? node.child.signalCode)}; stderr ends with:\n${node.stderr.slice(-4000)}`);
  }

  async function assertServing(when: string): Promise<void> {
    for (const node of nodes) {
      const h = await healthz(node.httpUrl);
      assert.equal(h.status, 200, `${when}: ${node.name} /healthz: ${h.body}`);
      assert.equal(await echoRoundTrip(node.wsUrl, `hello ${node.name}`), `echo: hello ${node.name}`, `${when}: echo on ${node.name}`);
    }
  }

  /** A temporary error as the server API gives it while Redis is away, answered fast. */
  function assertTemporary(reply: ApiReply, what: string): void {
    assert.equal(reply.status, 200, `${what}: ${reply.text}`);
    assert.equal(reply.error?.code, 100, `${what}: ${reply.text}`);
    assert.equal(reply.error?.temporary, true, `${what}: ${reply.text}`);
    assert.ok(reply.ms < FAIL_FAST_MS, `${what}: answered after ${Math.round(reply.ms)} ms (redis_timeout ${REDIS_TIMEOUT_MS} ms)`);
  }

  it('the nodes\' pub/sub connections drop (CLIENT KILL TYPE pubsub) while publishing goes on: the nodes repair from history, every subscriber gets every publication once, in order, with no disconnect', async (t) => {
    const { r, n1, n2 } = setup();
    const channel = `chat:pubsub-drop-${randomUUID()}`;
    const members = [
      await member(t, 'node 1 client 1', n1.protocolUrl, channel),
      await member(t, 'node 1 client 2', n1.protocolUrl, channel),
      await member(t, 'node 2 client 1', n2.protocolUrl, channel),
      await member(t, 'node 2 client 2', n2.protocolUrl, channel),
    ];
    const positions = new Map<unknown, PublishResult>();
    const publisher = (async () => {
      for (let n = 1; n <= 80; n++) {
        positions.set(n, await n1.apiResult<PublishResult>('publish', { channel, data: { n } }));
        await sleep(10);
      }
    })();
    // The command connections stay; only the subscriber connections (pub/sub delivery) are cut, twice.
    await until(() => positions.size >= 20, '20 publishes were made', 10_000);
    const killed1 = await redisCommand(r.url, ['CLIENT', 'KILL', 'TYPE', 'pubsub']);
    await until(() => positions.size >= 50, '50 publishes were made', 10_000);
    const killed2 = await redisCommand(r.url, ['CLIENT', 'KILL', 'TYPE', 'pubsub']);
    assert.ok(Number(killed1) >= 2 && Number(killed2) >= 1, `pub/sub connections killed: ${String(killed1)}, ${String(killed2)}`);
    await publisher;
    const ids = Array.from({ length: 80 }, (_, i) => i + 1);
    await until(() => members.every((m) => ids.every((n) => publications(m).some((p) => p.id === n))), 'every subscriber has all 80', 10_000)
      .catch((err: Error) => {
        throw new Error(`${err.message}:\n${members.map((m) => `${m.where}: ${JSON.stringify(publications(m).map((p) => p.id))} ${JSON.stringify(m.events.filter((e) => e.event !== 'publication'))}`).join('\n')}`);
      });
    await sleep(300);
    const top = positions.get(80)!;
    for (const m of members) {
      assert.deepEqual(checkMember(m, positions, top), [], m.where);
      assert.deepEqual(publications(m).map((p) => p.id), ids, `${m.where}: 1..80, each once, in order`);
      const resubscribes = m.events.filter((e) => e.event === 'subscribed').slice(1);
      for (const e of resubscribes) assert.equal(e.ctx.recovered, true, `${m.where}: the stream is intact, so recovery succeeds: ${JSON.stringify(e.ctx)}`);
    }
    // Repaired on the nodes from history (issue 12 item 3): nobody was disconnected.
    for (const m of members) {
      assert.equal(m.events.filter((e) => e.event === 'subscribed').length, 1, `${m.where}: subscribed once, never disconnected: ${JSON.stringify(m.events.filter((e) => e.event !== 'publication'))}`);
    }
    assertAlive();
  });

  it('restart under traffic: no crash, fast temporary errors, local service goes on, nodes reconnect, no subscriber silently misses an accepted publication', async (t) => {
    const { r, n1, n2 } = setup();
    const channel = `chat:restart-${randomUUID()}`;
    const members = [
      await member(t, 'node 1 client 1', n1.protocolUrl, channel),
      await member(t, 'node 1 client 2', n1.protocolUrl, channel),
      await member(t, 'node 2 client 1', n2.protocolUrl, channel),
      await member(t, 'node 2 client 2', n2.protocolUrl, channel),
    ];

    // The publisher: 300 publishes through node 1 on a fixed schedule, one every 20 ms (at most
    // 8 unanswered at a time), whatever the answers: about 6 s however slow the machine is.
    const attempts: Attempt[] = [];
    const started = Date.now();
    const publisher = (async () => {
      const inFlight = new Set<Promise<void>>();
      for (let n = 1; n <= 300; n++) {
        await sleep(Math.max(0, started + 20 * n - Date.now()));
        while (inFlight.size >= 8) await Promise.race(inFlight);
        const at = Date.now();
        const call: Promise<void> = n1.api<PublishResult>('publish', { channel, data: { n } }, 5000).then(
          (reply) => void attempts.push({ n, at, reply }),
          (err: Error) => void attempts.push({ n, at, failure: err.message }),
        ).finally(() => inFlight.delete(call));
        inFlight.add(call);
      }
      await Promise.all(inFlight);
    })();

    // Kill Redis a third of the way through.
    await until(() => attempts.length >= 100, '100 publishes were answered', 15_000);
    const accepted = (): number => attempts.filter((a) => a.reply?.result).length;
    assert.equal(accepted(), attempts.length, `publishes succeed while Redis is up: ${JSON.stringify(attempts.filter((a) => !a.reply?.result).slice(0, 3))}`);
    await r.kill();
    const killedAt = Date.now();

    // While it is down: fast temporary errors, local echo and health, open protocol connections.
    await until(() => attempts.some((a) => a.at > killedAt + 50 && a.reply?.error), 'a publish failed while Redis was down', 3000);
    await assertServing('while Redis is down');
    await sleep(Math.max(0, killedAt + 1000 - Date.now()));
    for (const m of members) {
      assert.equal(m.client.state, 'connected', `${m.where}: the protocol connection stays open while Redis is down`);
      assert.ok(!m.events.some((e) => e.at >= killedAt && e.event.startsWith('client ')), `${m.where}: not disconnected while Redis is down: ${JSON.stringify(m.events.filter((e) => e.at >= killedAt))}`);
    }
    assertAlive();

    // Redis comes back, empty.
    await r.start();
    const restartedAt = Date.now();
    await publisher;
    assertAlive();

    // Every publish got an answer: an offset, or a fast temporary error; no hang, no other error.
    for (const a of attempts) {
      assert.equal(a.failure, undefined, `publish ${a.n} got no answer: ${a.failure}`);
      if (a.reply!.result) continue;
      assertTemporary(a.reply!, `publish ${a.n}`);
    }
    const failedWhileDown = attempts.filter((a) => a.reply?.error && a.at >= killedAt && a.at < restartedAt);
    assert.ok(failedWhileDown.length >= 10, `publishes failed while Redis was down: ${failedWhileDown.length}`);
    const acceptedAfter = attempts.filter((a) => a.reply?.result && a.at >= restartedAt);
    assert.ok(acceptedAfter.length > 0, 'publishes were accepted again after the restart');
    const epochs = [...new Set(attempts.flatMap((a) => (a.reply?.result ? [a.reply.result.epoch] : [])))];
    assert.equal(epochs.length, 2, `the restart (no persistence) began a new epoch: ${JSON.stringify(epochs)}`);

    // The nodes reconnected: publications through each node reach the subscribers on both.
    const finals: Array<{ id: string; position: PublishResult }> = [];
    const deadline = Date.now() + 15_000;
    for (let round = 0; ; round++) {
      for (const [i, node] of [n1, n2].entries()) {
        const id = `final-${round}-via-node-${i + 1}`;
        const reply = await node.api<PublishResult>('publish', { channel, data: { n: id } });
        if (reply.result) finals.push({ id, position: reply.result });
      }
      const ids = finals.filter((f) => f.id.startsWith(`final-${round}-`)).map((f) => f.id);
      const everyone = async (): Promise<boolean> => ids.length === 2 && members.every((m) => ids.every((id) => publications(m).some((p) => p.id === id)));
      try {
        await until(everyone, `round ${round} of final publications reached every subscriber`, 2000);
        break;
      } catch (err) {
        if (Date.now() > deadline) {
          const states = members.map((m) => `${m.where}: ${m.client.state}/${m.sub.state}, last events ${JSON.stringify(m.events.slice(-4))}`);
          throw new Error(`after the restart, publications through both nodes did not reach every subscriber within 15 s:\n${states.join('\n')}`, { cause: err });
        }
      }
    }
    await sleep(300);
    await assertServing('after the restart');
    assertAlive();

    const positions = new Map<unknown, PublishResult>();
    for (const a of attempts) if (a.reply?.result) positions.set(a.n, a.reply.result);
    for (const f of finals) positions.set(f.id, f.position);
    const top = finals.at(-1)!.position;
    const report: string[] = [];
    for (const m of members) {
      const problems = checkMember(m, positions, top);
      if (problems.length > 0) report.push(`${m.where}:\n  ${problems.slice(0, 20).join('\n  ')}`);
    }
    assert.deepEqual(report, [], 'every subscriber has every accepted publication in order, or was told recovered: false');
    // And the epoch change was told: each subscriber saw 'subscribed' with the new epoch.
    for (const m of members) {
      const last = m.events.filter((e) => e.event === 'subscribed').at(-1)!.ctx;
      assert.equal(last.streamPosition.epoch, top.epoch, `${m.where}: resubscribed in the new epoch`);
    }
  });

  it('with Redis unresponsive or stopped, publish (protocol and API) answers 100 temporary within redis_timeout + 1 s, not a hang', async (t) => {
    const { r, n1, n2 } = setup();
    if (!r.running) await r.start();
    const channel = `chat:timing-${randomUUID()}`;
    const client = await connectedCentrifuge(t, n1.protocolUrl);
    // Redis is reachable again for the nodes: a publish succeeds.
    await until(async () => (await n1.api('publish', { channel, data: { n: 0 } })).result !== undefined, 'node 1 publishes again', 10_000);
    await client.publish(channel, { n: 'up' });

    const protocolPublish = async (what: string): Promise<void> => {
      const started = performance.now();
      const outcome = await client.publish(channel, { n: what }).then(() => undefined, (err: { code: number; message: string; temporary?: boolean }) => err);
      const ms = performance.now() - started;
      assert.ok(outcome, `${what}: the publish succeeded, but Redis is not answering`);
      assert.equal(outcome.code, 100, `${what}: ${JSON.stringify(outcome)}`);
      assert.equal(outcome.temporary, true, `${what}: ${JSON.stringify(outcome)}`);
      assert.ok(ms < FAIL_FAST_MS, `${what}: the error came after ${Math.round(ms)} ms (redis_timeout ${REDIS_TIMEOUT_MS} ms)`);
      assert.equal(client.state, 'connected', `${what}: the connection stays open`);
    };

    // Frozen (SIGSTOP): connections stay open but nothing answers, so only the timeout helps.
    r.pause();
    try {
      await protocolPublish('frozen Redis');
      assertTemporary(await n2.api('publish', { channel, data: { n: 'frozen via API' } }, 5000), 'API publish, frozen Redis');
      assert.equal(await echoRoundTrip(n1.wsUrl, 'still here'), 'echo: still here');
    } finally {
      r.resume();
    }

    // Stopped (killed, not restarted in this test).
    await r.kill();
    await protocolPublish('stopped Redis');
    assertTemporary(await n2.api('publish', { channel, data: { n: 'stopped via API' } }, 5000), 'API publish, stopped Redis');
    await assertServing('with Redis stopped');
    assertAlive();
  });
});
