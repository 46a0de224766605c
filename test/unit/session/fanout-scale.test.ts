/**
 * The fan-out guarantees at 1,000 subscribers of one channel, through the hub's batched pass
 * (several publications of a turn in one frame): every subscriber gets every publication once,
 * in offset order; a subscriber that stops reading is closed with 3008 and the others lose
 * nothing; subscribers that drop and come back with their position recover exactly what they
 * missed. Sessions run on fake connections (test/helpers/session.ts), so the scale costs no
 * sockets and no sleeping. Each runs twice: with the hub's pass whole (Bun's, and any channel of
 * up to 512 subscribers), and in slices of 128 subscribers per turn (Node's, for large channels).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClientSession } from '../../../src/session/client-session.js';
import type { JsonText } from '../../../src/protocol/types.js';
import { sessionHarness, type FakeConnection, type SessionHarness } from '../../helpers/session.js';

const N = 1000;
const CHANNEL = 'chat:wide';

interface Subscriber {
  readonly session: ClientSession;
  readonly conn: FakeConnection;
}

/** Opens `n` sessions, connects them and subscribes them to CHANNEL, all in the same turns. */
async function subscribers(h: SessionHarness, n: number, subscribe: Record<string, unknown> = {}): Promise<Subscriber[]> {
  const out = Array.from({ length: n }, () => h.open());
  for (const { session } of out) session.handleFrame('{"id":1,"connect":{}}');
  await h.settleUntil(() => out.every(({ conn }) => conn.lines.some((l) => l.id === 1)), 'every connect reply');
  for (const { session } of out) session.handleFrame(JSON.stringify({ id: 2, subscribe: { channel: CHANNEL, ...subscribe } }));
  await h.settleUntil(() => out.every(({ conn }) => conn.lines.some((l) => l.id === 2)), 'every subscribe reply');
  for (const { conn } of out) {
    const reply = conn.lines.find((l) => l.id === 2);
    assert.ok(reply?.subscribe, `subscribe failed: ${JSON.stringify(reply)}`);
  }
  return out;
}

/** Publishes `count` publications numbered from `from`, `perTurn` of them in each turn. */
async function publish(h: SessionHarness, from: number, count: number, perTurn: number): Promise<void> {
  for (let n = from; n < from + count; n += perTurn) {
    const turn: Array<Promise<unknown>> = [];
    for (let i = n; i < Math.min(n + perTurn, from + count); i++) {
      turn.push(h.node.publish(CHANNEL, { data: JSON.stringify({ n: i, pad: 'x'.repeat(200) }) as JsonText }));
    }
    await Promise.all(turn);
    await h.settle();
  }
}

/** The publications a connection received in CHANNEL: [offset, n] pairs, in order. */
function received(conn: FakeConnection): Array<[number, number]> {
  return conn.lines.filter((l) => l.push?.pub && l.push.channel === CHANNEL).map((l) => [l.push.pub.offset as number, l.push.pub.data.n as number]);
}

function range(from: number, to: number): Array<[number, number]> {
  return Array.from({ length: to - from + 1 }, (_, i) => [from + i, from + i]);
}

for (const slice of [Infinity, 128]) describe(`fan-out to ${N.toLocaleString('en')} subscribers of one channel, ${slice === Infinity ? 'one pass' : `passes in slices of ${slice}`}`, () => {
  const harness = (options: Record<string, unknown>): SessionHarness => {
    const h = sessionHarness(options);
    h.node.hub.sliceSize = slice;
    return h;
  };

  it('gives every subscriber every publication once, in offset order, several per frame when they come in one turn', async () => {
    const h = harness({ client_queue_max_bytes: 64 * 1024 });
    const subs = await subscribers(h, N);
    await publish(h, 1, 100, 10);
    for (const { conn } of subs) {
      assert.deepEqual(received(conn), range(1, 100));
      assert.equal(conn.closedWith(), undefined);
    }
    // 10 publications per turn went out as one frame each turn: 10 publication frames, not 100.
    const frames = subs[0]!.conn.frames.filter((f) => f.includes('"pub"'));
    assert.equal(frames.length, 10, `publication frames: ${frames.length}`);
  });

  it('delivers publications that come while a fan-out is under way once each, in order, to every subscriber', async () => {
    const h = harness({ client_queue_max_bytes: 64 * 1024 });
    const subs = await subscribers(h, N);
    // One publication per turn of the event loop: in slices, each comes while the pass of the
    // ones before it is still under way.
    for (let n = 1; n <= 40; n++) {
      await h.node.publish(CHANNEL, { data: JSON.stringify({ n, pad: 'x'.repeat(200) }) as JsonText });
      await h.settleUntil(() => true, 'one turn');
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await h.settle();
    for (const { conn } of subs) {
      assert.deepEqual(received(conn), range(1, 40));
      assert.equal(conn.closedWith(), undefined);
    }
    const frames = subs[N - 1]!.conn.frames.filter((f) => f.includes('"pub"')).length;
    if (slice === Infinity) assert.equal(frames, 40, 'one pass per turn: one frame per publication');
    else assert.ok(frames < 40, `the last subscriber took publications that came during a pass together: ${frames} frames`);
  });

  it('closes the one subscriber that stops reading with 3008 and delivers everything to the other 999', async () => {
    const h = harness({ client_queue_max_bytes: 16 * 1024 });
    const subs = await subscribers(h, N);
    const slow = subs[N / 2]!;
    slow.conn.stopReading();
    // 120 publications of ~300 bytes: 36 KB, more than twice the 16 KiB limit.
    await publish(h, 1, 120, 4);
    assert.equal(slow.conn.closedWith()?.code, 3008);
    assert.match(slow.conn.closedWith()!.reason, /^slow/);
    assert.equal(slow.session.closed, true);
    for (const { conn } of subs) {
      if (conn === slow.conn) continue;
      assert.equal(conn.closedWith(), undefined);
      assert.deepEqual(received(conn), range(1, 120));
    }
  });

  it('lets 100 subscribers that dropped recover exactly what they missed, in order, once, then go on live', async () => {
    const h = harness({ client_queue_max_bytes: 64 * 1024 });
    const subs = await subscribers(h, N);
    await publish(h, 1, 20, 5);
    const { epoch } = subs[0]!.conn.lines.find((l) => l.id === 2)!.subscribe;
    const dropped = subs.slice(0, 100);
    for (const { session } of dropped) session.connectionClosed(1006);
    await h.settle();
    await publish(h, 21, 30, 5);
    const back = await subscribers(h, dropped.length, { recover: true, offset: 20, epoch });
    for (const { conn } of back) {
      const reply = conn.lines.find((l) => l.id === 2)!.subscribe;
      assert.equal(reply.recovered, true);
      assert.deepEqual((reply.publications as Array<{ offset: number; data: { n: number } }>).map((p) => [p.offset, p.data.n]), range(21, 50));
    }
    await publish(h, 51, 10, 5);
    for (const { conn } of back) assert.deepEqual(received(conn), range(51, 60));
    for (const { conn } of dropped) assert.deepEqual(received(conn), range(1, 20));
    for (const { conn } of subs.slice(100)) assert.deepEqual(received(conn), range(1, 60));
  });
});
