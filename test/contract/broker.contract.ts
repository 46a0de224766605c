/**
 * The Broker contract: every engine's Broker passes these same tests (STYLE rule 4). Time is
 * real (engines may keep it in another process), so TTLs are short and waits bounded.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  UnrecoverablePositionError, type Broker, type BrokerEventHandler, type ControlMessage, type PublishOptions,
} from '../../src/engine/types.js';
import type { ClientInfo, Publication, JsonText, StreamPosition } from '../../src/protocol/types.js';
import { sleep } from '../helpers/wait.js';

/** A broker under test, started with `handler`, and how to stop it. */
export interface BrokerUnderTest {
  readonly broker: Broker;
  close(): Promise<void>;
}

/** Records everything a broker delivers, and waits for it. */
export class RecordingHandler implements BrokerEventHandler {
  readonly publications: Array<{ channel: string; pub: Publication; position: StreamPosition }> = [];
  readonly joins: Array<{ channel: string; info: ClientInfo }> = [];
  readonly leaves: Array<{ channel: string; info: ClientInfo }> = [];
  readonly insufficient: Array<string | undefined> = [];
  readonly controls: ControlMessage[] = [];

  onPublication(channel: string, pub: Publication, position: StreamPosition): void {
    this.publications.push({ channel, pub, position });
  }
  onJoin(channel: string, info: ClientInfo): void {
    this.joins.push({ channel, info });
  }
  onLeave(channel: string, info: ClientInfo): void {
    this.leaves.push({ channel, info });
  }
  onInsufficientState(channel?: string): void {
    this.insufficient.push(channel);
  }
  onControl(message: ControlMessage): void {
    this.controls.push(message);
  }

  /** Resolves once `count` publications were delivered in `channel` (or rejects after `ms`). */
  async waitForPublications(channel: string, count: number, ms = 3000): Promise<Publication[]> {
    const deadline = Date.now() + ms;
    for (;;) {
      const got = this.publications.filter((p) => p.channel === channel).map((p) => p.pub);
      if (got.length >= count) return got;
      if (Date.now() > deadline) throw new Error(`expected ${count} publications in ${channel}, got ${got.length}`);
      await sleep(5);
    }
  }
}

const data = (v: unknown): JsonText => JSON.stringify(v) as JsonText;
const withHistory = (size: number, ttlMs = 60_000): PublishOptions => ({ history: { size, ttlMs } });
const noHistory: PublishOptions = { history: { size: 0, ttlMs: 0 } };
const info: ClientInfo = { user: 'u1', client: 'c1', conn_info: data({ name: 'Ana' }) };

let counter = 0;
/** A channel name no other test uses. */
function channel(label: string): string {
  return `contract:${label}-${process.pid}-${Date.now()}-${counter++}`;
}

/**
 * Registers the contract's tests for the broker made by `create` (called once per suite, with a
 * handler to start it with).
 */
export function runBrokerContract(name: string, create: (handler: RecordingHandler) => Promise<BrokerUnderTest>): void {
  describe(`Broker contract: ${name}`, () => {
    let handler: RecordingHandler;
    let under: BrokerUnderTest;
    let broker: Broker;

    before(async () => {
      handler = new RecordingHandler();
      under = await create(handler);
      broker = under.broker;
    });
    after(() => under.close());

    it('delivers a publication once to a subscribed node, with no offset when the channel keeps no history', async () => {
      const ch = channel('plain');
      await broker.subscribe(ch);
      const position = await broker.publish(ch, { data: data({ n: 1 }), info }, noHistory);
      assert.deepEqual(position, { offset: 0, epoch: '' });
      const [pub] = await handler.waitForPublications(ch, 1);
      assert.equal(pub!.data, '{"n":1}');
      assert.deepEqual(pub!.info, info);
      assert.equal(pub!.offset, undefined);
      assert.equal(typeof pub!.time, 'number');
      await sleep(50);
      assert.equal(handler.publications.filter((p) => p.channel === ch).length, 1);
    });

    it('does not deliver publications of channels the node is not subscribed to', async () => {
      const ch = channel('unsubscribed');
      await broker.subscribe(ch);
      await broker.unsubscribe(ch);
      await broker.publish(ch, { data: data(1) }, noHistory);
      await broker.publish(channel('never'), { data: data(2) }, withHistory(10));
      await sleep(100);
      assert.equal(handler.publications.filter((p) => p.channel === ch).length, 0);
    });

    it('gives strictly increasing offsets within one epoch and resolves after the publication is in history', async () => {
      const ch = channel('offsets');
      await broker.subscribe(ch);
      const positions: StreamPosition[] = [];
      for (let i = 0; i < 5; i++) positions.push(await broker.publish(ch, { data: data(i) }, withHistory(10)));
      assert.deepEqual(positions.map((p) => p.offset), [1, 2, 3, 4, 5]);
      assert.equal(new Set(positions.map((p) => p.epoch)).size, 1);
      assert.ok(positions[0]!.epoch.length > 0);
      const page = await broker.history(ch, { limit: -1, history: { size: 10, ttlMs: 60_000 } });
      assert.deepEqual(page.publications.map((p) => p.data), ['0', '1', '2', '3', '4']);
      assert.deepEqual(page.publications.map((p) => p.offset), [1, 2, 3, 4, 5]);
      assert.deepEqual(page.position, positions[4]);
      const delivered = await handler.waitForPublications(ch, 5);
      assert.deepEqual(delivered.map((p) => p.offset), [1, 2, 3, 4, 5]);
      assert.deepEqual(handler.publications.filter((p) => p.channel === ch).map((p) => p.position), positions);
    });

    it('delivers concurrent publishes in offset order, each once', async () => {
      const ch = channel('concurrent');
      await broker.subscribe(ch);
      const positions = await Promise.all(Array.from({ length: 500 }, (_, i) => broker.publish(ch, { data: data(i) }, withHistory(1000))));
      assert.deepEqual(positions.map((p) => p.offset).sort((a, b) => a - b), Array.from({ length: 500 }, (_, i) => i + 1));
      const delivered = await handler.waitForPublications(ch, 500);
      assert.deepEqual(delivered.map((p) => p.offset), Array.from({ length: 500 }, (_, i) => i + 1));
    });

    it('keeps only the newest history_size publications', async () => {
      const ch = channel('trim');
      for (let i = 1; i <= 5; i++) await broker.publish(ch, { data: data(i) }, withHistory(3));
      const page = await broker.history(ch, { limit: -1, history: { size: 3, ttlMs: 60_000 } });
      assert.deepEqual(page.publications.map((p) => p.offset), [3, 4, 5]);
      assert.equal(page.position.offset, 5);
    });

    it('pages history with limit, reverse and since', async () => {
      const ch = channel('paging');
      const opts = { size: 10, ttlMs: 60_000 };
      let top: StreamPosition = { offset: 0, epoch: '' };
      for (let i = 1; i <= 6; i++) top = await broker.publish(ch, { data: data(i) }, { history: opts });
      const offsets = async (q: Parameters<Broker['history']>[1]): Promise<number[]> => (await broker.history(ch, q)).publications.map((p) => p.offset!);
      assert.deepEqual(await offsets({ limit: 0, history: opts }), []);
      assert.deepEqual(await offsets({ limit: 2, history: opts }), [1, 2]);
      assert.deepEqual(await offsets({ limit: 2, reverse: true, history: opts }), [6, 5]);
      assert.deepEqual(await offsets({ limit: -1, since: { offset: 3, epoch: top.epoch }, history: opts }), [4, 5, 6]);
      assert.deepEqual(await offsets({ limit: 2, since: { offset: 3, epoch: top.epoch }, history: opts }), [4, 5]);
      assert.deepEqual(await offsets({ limit: -1, since: { offset: 6, epoch: top.epoch }, history: opts }), []);
      assert.deepEqual(await offsets({ limit: 2, since: { offset: 4, epoch: top.epoch }, reverse: true, history: opts }), [3, 2]);
    });

    /** Publishes 1..count to `ch` (each one's data is its number), 100 at a time; returns the top position. */
    async function publishNumbered(ch: string, count: number, history: { size: number; ttlMs: number }): Promise<StreamPosition> {
      let top: StreamPosition = { offset: 0, epoch: '' };
      for (let i = 1; i <= count; i += 100) {
        const positions = await Promise.all(Array.from({ length: Math.min(100, count - i + 1) }, (_, j) => broker.publish(ch, { data: data(i + j) }, { history })));
        top = positions.reduce((a, b) => (b.offset > a.offset ? b : a), top);
      }
      return top;
    }

    it('reads a history longer than one engine read (1,000) whole and in order, from any position and in both directions', async () => {
      const ch = channel('long');
      const opts = { size: 3000, ttlMs: 60_000 };
      const top = await publishNumbered(ch, 2500, opts);
      const range = (from: number, to: number): number[] => {
        const step = from <= to ? 1 : -1;
        return Array.from({ length: Math.abs(to - from) + 1 }, (_, i) => from + i * step);
      };
      const read = async (q: Omit<Parameters<Broker['history']>[1], 'history'>): Promise<{ offsets: number[]; top: StreamPosition }> => {
        const page = await broker.history(ch, { ...q, history: opts });
        page.publications.forEach((p) => assert.equal(p.data, String(p.offset)));
        return { offsets: page.publications.map((p) => p.offset!), top: page.position };
      };
      const since = (offset: number): StreamPosition => ({ offset, epoch: top.epoch });
      const all = await read({ limit: -1 });
      assert.deepEqual(all.offsets, range(1, 2500));
      assert.deepEqual(all.top, top);
      assert.deepEqual((await read({ limit: 2200 })).offsets, range(1, 2200));
      assert.deepEqual((await read({ limit: -1, reverse: true })).offsets, range(2500, 1));
      assert.deepEqual((await read({ limit: -1, since: since(700) })).offsets, range(701, 2500), 'a gap repaired from offset 700');
      assert.deepEqual((await read({ limit: 1500, since: since(0) })).offsets, range(1, 1500));
      assert.deepEqual((await read({ limit: 1001, since: since(1499) })).offsets, range(1500, 2500));
      assert.deepEqual((await read({ limit: 1200, since: since(2001), reverse: true })).offsets, range(2000, 801));
      assert.deepEqual((await read({ limit: 5, since: since(2500) })).offsets, []);
    });

    it('reads a trimmed long history from its oldest publication when asked from before it', async () => {
      const ch = channel('long-trimmed');
      const opts = { size: 1500, ttlMs: 60_000 };
      const top = await publishNumbered(ch, 2500, opts);
      const page = await broker.history(ch, { limit: -1, since: { offset: 10, epoch: top.epoch }, history: opts });
      assert.deepEqual(page.publications.map((p) => p.offset), Array.from({ length: 1500 }, (_, i) => 1001 + i), 'the reader sees the jump from 10 to 1001');
    });

    it('refuses a since position of another epoch or past the top', async () => {
      const ch = channel('since');
      const opts = { size: 10, ttlMs: 60_000 };
      const top = await broker.publish(ch, { data: data(1) }, { history: opts });
      await assert.rejects(broker.history(ch, { limit: -1, since: { offset: 0, epoch: 'other' }, history: opts }), UnrecoverablePositionError);
      await assert.rejects(broker.history(ch, { limit: -1, since: { offset: 2, epoch: top.epoch }, history: opts }), UnrecoverablePositionError);
    });

    it('gives a channel that never had a publication offset 0 and an epoch that the first publish keeps', async () => {
      const ch = channel('fresh');
      const opts = { size: 10, ttlMs: 60_000 };
      const before = await broker.history(ch, { limit: -1, history: opts });
      assert.equal(before.position.offset, 0);
      assert.ok(before.position.epoch.length > 0);
      assert.deepEqual(before.publications, []);
      const first = await broker.publish(ch, { data: data(1) }, { history: opts });
      assert.deepEqual(first, { offset: 1, epoch: before.position.epoch });
    });

    it('forgets publications after history_ttl, and the whole stream (new epoch) after it with no publish', async () => {
      const ch = channel('ttl');
      const opts = { size: 10, ttlMs: 400 };
      const first = await broker.publish(ch, { data: data(1) }, { history: opts });
      await sleep(250);
      await broker.publish(ch, { data: data(2) }, { history: opts });
      await sleep(250);
      const mid = await broker.history(ch, { limit: -1, history: opts });
      assert.deepEqual(mid.publications.map((p) => p.offset), [2], 'the first publication expired, the second not yet');
      assert.equal(mid.position.epoch, first.epoch);
      await sleep(500);
      const later = await broker.history(ch, { limit: -1, history: opts });
      assert.deepEqual(later.publications, []);
      assert.notEqual(later.position.epoch, first.epoch, 'an expired stream starts a new epoch');
      assert.equal(later.position.offset, 0);
    });

    it('removes history but keeps the offset and epoch', async () => {
      const ch = channel('remove');
      const opts = { size: 10, ttlMs: 60_000 };
      await broker.publish(ch, { data: data(1) }, { history: opts });
      const top = await broker.publish(ch, { data: data(2) }, { history: opts });
      await broker.removeHistory(ch);
      const page = await broker.history(ch, { limit: -1, history: opts });
      assert.deepEqual(page.publications, []);
      assert.deepEqual(page.position, top);
      assert.deepEqual(await broker.publish(ch, { data: data(3) }, { history: opts }), { offset: 3, epoch: top.epoch });
    });

    it('publishes once per idempotency key and answers the repeat with the first position', async () => {
      const ch = channel('idempotent');
      await broker.subscribe(ch);
      const options: PublishOptions = { ...withHistory(10), idempotencyKey: 'order-17', idempotencyTtlMs: 60_000 };
      const a = await broker.publish(ch, { data: data('x') }, options);
      const b = await broker.publish(ch, { data: data('x') }, options);
      const c = await broker.publish(ch, { data: data('y') }, { ...options, idempotencyKey: 'order-18' });
      assert.deepEqual(b, a);
      assert.equal(c.offset, a.offset + 1);
      await handler.waitForPublications(ch, 2);
      await sleep(50);
      assert.equal(handler.publications.filter((p) => p.channel === ch).length, 2);
    });

    it('delivers joins and leaves to subscribed nodes', async () => {
      const ch = channel('joinleave');
      await broker.subscribe(ch);
      await broker.publishJoin(ch, info);
      await broker.publishLeave(ch, info);
      const deadline = Date.now() + 3000;
      while ((handler.joins.every((j) => j.channel !== ch) || handler.leaves.every((l) => l.channel !== ch)) && Date.now() < deadline) await sleep(5);
      assert.deepEqual(handler.joins.filter((j) => j.channel === ch).map((j) => j.info), [info]);
      assert.deepEqual(handler.leaves.filter((l) => l.channel === ch).map((l) => l.info), [info]);
    });

    it('delivers control messages to every node, this one included, as they were sent', async () => {
      const marker = channel('control');
      await broker.publishControl({ op: 'disconnect', user: 'ana', code: 3503, reason: 'bye', marker });
      const deadline = Date.now() + 3000;
      while (!handler.controls.some((m) => m.marker === marker) && Date.now() < deadline) await sleep(5);
      assert.deepEqual(handler.controls.filter((m) => m.marker === marker), [{ op: 'disconnect', user: 'ana', code: 3503, reason: 'bye', marker }]);
    });

    it('keeps tags and info through history', async () => {
      const ch = channel('tags');
      const opts = { size: 10, ttlMs: 60_000 };
      await broker.publish(ch, { data: data({ a: 'ñandú 🚀' }), info, tags: { kind: 'goal' } }, { history: opts });
      const [pub] = (await broker.history(ch, { limit: -1, history: opts })).publications;
      assert.equal(pub!.data, '{"a":"ñandú 🚀"}');
      assert.deepEqual(pub!.info, info);
      assert.deepEqual(pub!.tags, { kind: 'goal' });
    });
  });
}
