/**
 * The hub: who is subscribed where on this node, and the local fan-out. A publication is encoded
 * once per kind of subscriber (protocol push, bare text for /raw/ clients) and the same message
 * object reaches every subscriber of that kind (STYLE rule 7).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Hub, plainText, type PlainSubscriber, type ProtocolSubscriber } from '../../../src/hub/hub.js';
import type { ClientInfo, Publication, JsonText, StreamPosition } from '../../../src/protocol/types.js';
import type { SharedMessage } from '../../../src/hub/shared-message.js';
import { WireFormat, type PublicationBatch, type PublicationEncodings, type PushEncodings } from '../../../src/hub/publication-encodings.js';

/** A JSON subscriber without deltas: it takes the JSON push of each publication. */
class FakeProtocolSubscriber implements ProtocolSubscriber {
  hubSeq = 0;
  readonly publications: Array<{ message: SharedMessage; position: StreamPosition }> = [];
  readonly joinLeave: SharedMessage[] = [];

  deliverPublication(encodings: PublicationEncodings, position: StreamPosition): void {
    this.publications.push({ message: encodings.messageFor(WireFormat.Json, 0), position });
  }

  deliverPublications(batch: PublicationBatch): void {
    this.batches.push(batch.json());
    batch.encodings.forEach((e, i) => this.publications.push({ message: e.messageFor(WireFormat.Json, 0), position: batch.positions[i]! }));
  }

  readonly batches: SharedMessage[] = [];

  deliverJoinLeave(message: PushEncodings): boolean {
    this.joinLeave.push(message.messageFor(false));
    return true;
  }
}

/** A hub whose end of turn comes at once: every event is delivered as it happens. */
const immediate = (): Hub => new Hub((fn) => fn());

class FakePlainSubscriber implements PlainSubscriber {
  readonly messages: SharedMessage[] = [];

  deliverText(message: SharedMessage): void {
    this.messages.push(message);
  }
}

const raw = (text: string): JsonText => text as JsonText;
const ann: ClientInfo = { user: 'ann', client: 'c1' };
const position: StreamPosition = { offset: 3, epoch: 'e1' };
const hello: Publication = { data: raw('{"text":"hello"}'), offset: 3 };
/** Publication number `n`, at offset `n`, and its position. */
const pub = (n: number): Publication => ({ data: raw(`{"n":${n}}`), offset: n });
const at = (offset: number): StreamPosition => ({ offset, epoch: 'e1' });

describe('Hub add and remove', () => {
  it('returns true only for the first local subscriber of a channel, protocol or plain', () => {
    const hub = immediate();
    const a = new FakeProtocolSubscriber();
    const b = new FakeProtocolSubscriber();
    const r = new FakePlainSubscriber();
    assert.equal(hub.addProtocol('chat:1', a), true);
    assert.equal(hub.addProtocol('chat:1', b), false);
    assert.equal(hub.addPlain('chat:1', r), false);
    assert.equal(hub.addPlain('chat:2', r), true);
  });

  it('returns true when a plain subscriber is the first and a protocol subscriber follows', () => {
    const hub = immediate();
    assert.equal(hub.addPlain('chat:1', new FakePlainSubscriber()), true);
    assert.equal(hub.addProtocol('chat:1', new FakeProtocolSubscriber()), false);
  });

  it('returns true only when the last local subscriber of either kind leaves', () => {
    const hub = immediate();
    const a = new FakeProtocolSubscriber();
    const r = new FakePlainSubscriber();
    hub.addProtocol('chat:1', a);
    hub.addPlain('chat:1', r);
    assert.equal(hub.removeProtocol('chat:1', a), false);
    assert.equal(hub.has('chat:1'), true);
    assert.equal(hub.removePlain('chat:1', r), true);
    assert.equal(hub.has('chat:1'), false);
  });

  it('returns true again for the first subscriber after the channel emptied', () => {
    const hub = immediate();
    const a = new FakeProtocolSubscriber();
    hub.addProtocol('chat:1', a);
    hub.removeProtocol('chat:1', a);
    assert.equal(hub.addProtocol('chat:1', a), true);
  });

  it('counts a subscriber added twice once', () => {
    const hub = immediate();
    const a = new FakeProtocolSubscriber();
    assert.equal(hub.addProtocol('chat:1', a), true);
    assert.equal(hub.addProtocol('chat:1', a), false);
    assert.equal(hub.count('chat:1'), 1);
    assert.equal(hub.numSubscriptions, 1);
    assert.equal(hub.removeProtocol('chat:1', a), true);
    assert.equal(hub.numSubscriptions, 0);
  });

  it('keeps numChannels and numSubscriptions right through adds and removes', () => {
    const hub = immediate();
    const subs = [new FakeProtocolSubscriber(), new FakeProtocolSubscriber(), new FakeProtocolSubscriber()];
    const r = new FakePlainSubscriber();
    hub.addProtocol('a', subs[0]!);
    hub.addProtocol('a', subs[1]!);
    hub.addProtocol('b', subs[0]!);
    hub.addPlain('b', r);
    hub.addPlain('c', r);
    assert.deepEqual({ channels: hub.numChannels, subscriptions: hub.numSubscriptions }, { channels: 3, subscriptions: 5 });
    assert.deepEqual({ a: hub.count('a'), b: hub.count('b'), c: hub.count('c'), d: hub.count('d') }, { a: 2, b: 2, c: 1, d: 0 });
    assert.deepEqual([...hub.channels()].sort(), ['a', 'b', 'c']);

    hub.removeProtocol('a', subs[0]!);
    hub.removePlain('b', r);
    assert.deepEqual({ channels: hub.numChannels, subscriptions: hub.numSubscriptions }, { channels: 3, subscriptions: 3 });
    hub.removeProtocol('a', subs[1]!);
    hub.removeProtocol('b', subs[0]!);
    hub.removePlain('c', r);
    assert.deepEqual({ channels: hub.numChannels, subscriptions: hub.numSubscriptions }, { channels: 0, subscriptions: 0 });
    assert.deepEqual([...hub.channels()], []);
  });

  it('ignores the removal of a subscriber that is not there', () => {
    const hub = immediate();
    const a = new FakeProtocolSubscriber();
    const stranger = new FakeProtocolSubscriber();
    const r = new FakePlainSubscriber();
    assert.equal(hub.removeProtocol('nowhere', a), false);
    assert.equal(hub.removePlain('nowhere', r), false);
    hub.addProtocol('chat:1', a);
    assert.equal(hub.removeProtocol('chat:1', stranger), false);
    assert.equal(hub.removePlain('chat:1', r), false);
    assert.equal(hub.removeProtocol('chat:1', a), true);
    assert.equal(hub.removeProtocol('chat:1', a), false);
    assert.deepEqual({ channels: hub.numChannels, subscriptions: hub.numSubscriptions }, { channels: 0, subscriptions: 0 });
  });

  it('does not mistake a plain removal for a protocol one when the same object is both', () => {
    const hub = immediate();
    const both = Object.assign(new FakeProtocolSubscriber(), { deliverText(): void {} });
    hub.addProtocol('chat:1', both);
    assert.equal(hub.removePlain('chat:1', both), false);
    assert.equal(hub.count('chat:1'), 1);
    assert.equal(hub.numSubscriptions, 1);
  });
});

describe('Hub publish', () => {
  it('delivers the same push message instance to every protocol subscriber, with the position', () => {
    const hub = immediate();
    const subs = [new FakeProtocolSubscriber(), new FakeProtocolSubscriber(), new FakeProtocolSubscriber()];
    for (const s of subs) hub.addProtocol('chat:1', s);
    assert.equal(hub.publish('chat:1', hello, position), 3);
    const frames = subs.map((s) => s.publications[0]!.message);
    assert.ok(frames.every((f) => f === frames[0]), 'every subscriber got the same SharedMessage');
    assert.equal(frames[0]!.text, '{"push":{"channel":"chat:1","pub":{"data":{"text":"hello"},"offset":3}}}');
    for (const s of subs) assert.deepEqual(s.publications.map((p) => p.position), [position]);
  });

  it('delivers another single message, the bare payload, to every plain subscriber', () => {
    const hub = immediate();
    const p = new FakeProtocolSubscriber();
    const raws = [new FakePlainSubscriber(), new FakePlainSubscriber()];
    hub.addProtocol('chat:1', p);
    for (const r of raws) hub.addPlain('chat:1', r);
    assert.equal(hub.publish('chat:1', hello, position), 3);
    const rawFrame = raws[0]!.messages[0]!;
    assert.equal(raws[1]!.messages[0], rawFrame);
    assert.notEqual(rawFrame, p.publications[0]!.message);
    assert.equal(rawFrame.text, '{"text":"hello"}');
  });

  it('sends a JSON string to plain subscribers as its bare text', () => {
    const hub = immediate();
    const r = new FakePlainSubscriber();
    hub.addPlain('chat:1', r);
    hub.publish('chat:1', { data: raw('"hi there"') }, { offset: 0, epoch: '' });
    assert.equal(r.messages[0]!.text, 'hi there');
  });

  it('delivers nothing and returns 0 when the channel has no local subscriber', () => {
    const hub = immediate();
    const a = new FakeProtocolSubscriber();
    hub.addProtocol('chat:2', a);
    assert.equal(hub.publish('chat:1', hello, position), 0);
    assert.deepEqual(a.publications, []);
  });

  it('stops delivering to a subscriber once it is removed', () => {
    const hub = immediate();
    const a = new FakeProtocolSubscriber();
    const b = new FakeProtocolSubscriber();
    hub.addProtocol('chat:1', a);
    hub.addProtocol('chat:1', b);
    hub.removeProtocol('chat:1', a);
    assert.equal(hub.publish('chat:1', hello, position), 1);
    assert.equal(a.publications.length, 0);
    assert.equal(b.publications.length, 1);
  });
});

describe('Hub join and leave', () => {
  it('delivers one join frame instance to every protocol subscriber that asked for them and nothing to plain subscribers', () => {
    const hub = immediate();
    const a = new FakeProtocolSubscriber();
    const b = new FakeProtocolSubscriber();
    const r = new FakePlainSubscriber();
    hub.addProtocol('chat:1', a, true);
    hub.addProtocol('chat:1', b, true);
    hub.addPlain('chat:1', r);
    hub.join('chat:1', ann);
    assert.equal(a.joinLeave[0]!, b.joinLeave[0]!);
    assert.equal(a.joinLeave[0]!.text, '{"push":{"channel":"chat:1","join":{"info":{"user":"ann","client":"c1"}}}}');
    assert.deepEqual(r.messages, []);
  });

  it('delivers a leave frame to protocol subscribers only', () => {
    const hub = immediate();
    const a = new FakeProtocolSubscriber();
    const r = new FakePlainSubscriber();
    hub.addProtocol('chat:1', a, true);
    hub.addPlain('chat:1', r);
    hub.leave('chat:1', ann);
    assert.equal(a.joinLeave[0]!.text, '{"push":{"channel":"chat:1","leave":{"info":{"user":"ann","client":"c1"}}}}');
    assert.deepEqual(r.messages, []);
  });

  it('offers joins and leaves only to the subscribers that asked for them, and forgets them on removal', () => {
    const hub = immediate();
    const asked = new FakeProtocolSubscriber();
    const quiet = new FakeProtocolSubscriber();
    hub.addProtocol('chat:1', asked, true);
    hub.addProtocol('chat:1', quiet);
    hub.join('chat:1', ann);
    assert.equal(asked.joinLeave.length, 1);
    assert.equal(quiet.joinLeave.length, 0);
    hub.removeProtocol('chat:1', asked);
    hub.leave('chat:1', ann);
    assert.equal(asked.joinLeave.length, 1, 'no leave after removal');
    assert.equal(quiet.joinLeave.length, 0);
  });

  it('does nothing when the channel has only plain subscribers or none', () => {
    const hub = immediate();
    const r = new FakePlainSubscriber();
    hub.addPlain('chat:1', r);
    hub.join('chat:1', ann);
    hub.leave('chat:9', ann);
    assert.deepEqual(r.messages, []);
  });
});

describe('plainText', () => {
  it('turns a JSON string into its bare text, unescaped', () => {
    assert.equal(plainText('"hello"'), 'hello');
    assert.equal(plainText('"line one\\nline \\"two\\""'), 'line one\nline "two"');
    assert.equal(plainText('"\\u00f1and\\u00fa"'), '\u00f1and\u00fa');
    assert.equal(plainText('""'), '');
  });

  it('keeps objects, arrays, numbers, booleans and null as their JSON text', () => {
    for (const text of ['{"a":1}', '[1,2]', '42', '-1.5', 'true', 'null']) assert.equal(plainText(text), text);
  });
});

describe('Hub end of turn', () => {
  /** A hub whose end of turn the test runs with `endTurn()`. */
  function deferred(): { hub: Hub; endTurn(): void } {
    const waiting: Array<() => void> = [];
    return { hub: new Hub((fn) => waiting.push(fn)), endTurn: () => waiting.splice(0).forEach((fn) => fn()) };
  }

  it('delivers nothing before the end of the turn, then every publication of the turn in order', () => {
    const { hub, endTurn } = deferred();
    const a = new FakeProtocolSubscriber();
    hub.addProtocol('chat:1', a);
    assert.equal(hub.publish('chat:1', pub(1), at(1)), 1);
    hub.publish('chat:1', pub(2), at(2));
    assert.equal(a.publications.length, 0);
    endTurn();
    assert.deepEqual(a.publications.map((p) => p.position.offset), [1, 2]);
  });

  it('hands several publications of a turn as one batch: newline-separated pushes, the same object for every subscriber', () => {
    const { hub, endTurn } = deferred();
    const subs = [new FakeProtocolSubscriber(), new FakeProtocolSubscriber()];
    for (const s of subs) hub.addProtocol('chat:1', s);
    for (const n of [1, 2, 3]) hub.publish('chat:1', pub(n), at(n));
    endTurn();
    assert.equal(subs[0]!.batches.length, 1);
    assert.equal(subs[0]!.batches[0], subs[1]!.batches[0]);
    assert.deepEqual(subs[0]!.batches[0]!.text.split('\n').map((l) => JSON.parse(l).push.pub.data.n), [1, 2, 3]);
  });

  it('gives plain subscribers one message of several frames for a turn of several publications', () => {
    const { hub, endTurn } = deferred();
    const p = new FakePlainSubscriber();
    hub.addPlain('chat:1', p);
    hub.publish('chat:1', pub(1), at(1));
    hub.publish('chat:1', pub(2), at(2));
    endTurn();
    assert.equal(p.messages.length, 1);
    assert.deepEqual(p.messages[0]!.parts?.map((m) => m.text), ['{"n":1}', '{"n":2}']);
  });

  it('keeps the order of publications, joins and leaves within a turn', () => {
    const { hub, endTurn } = deferred();
    const order: string[] = [];
    const sub: ProtocolSubscriber = {
      hubSeq: 0,
      deliverPublication: (e) => order.push(`pub ${JSON.parse(e.json().text).push.pub.data.n}`),
      deliverPublications: (b) => b.encodings.forEach((e) => order.push(`pub ${JSON.parse(e.json().text).push.pub.data.n}`)),
      deliverJoinLeave: (m) => order.push(Object.keys(JSON.parse(m.messageFor(false).text).push).find((k) => k !== 'channel')!) > 0,
    };
    hub.addProtocol('chat:1', sub, true);
    hub.publish('chat:1', pub(1), at(1));
    hub.join('chat:1', ann);
    hub.publish('chat:1', pub(2), at(2));
    hub.publish('chat:1', pub(3), at(3));
    hub.leave('chat:1', ann);
    endTurn();
    assert.deepEqual(order, ['pub 1', 'join', 'pub 2', 'pub 3', 'leave']);
  });
});

describe('Hub passes in slices', () => {
  /** A hub reaching `slice` protocol subscribers per channel per turn, whose turns the test ends with `endTurn()`. */
  function sliced(slice: number): { hub: Hub; endTurn(): void; pending(): number } {
    const waiting: Array<() => void> = [];
    const hub = new Hub((fn) => waiting.push(fn));
    hub.sliceSize = slice;
    return { hub, endTurn: () => waiting.splice(0).forEach((fn) => fn()), pending: () => waiting.length };
  }
  const offsets = (s: FakeProtocolSubscriber): number[] => s.publications.map((p) => p.position.offset);

  it('reaches sliceSize subscribers per turn, each once, until the pass is over', () => {
    const { hub, endTurn, pending } = sliced(2);
    const subs = Array.from({ length: 5 }, () => new FakeProtocolSubscriber());
    for (const s of subs) hub.addProtocol('chat:1', s);
    hub.publish('chat:1', pub(1), at(1));
    endTurn();
    assert.deepEqual(subs.map((s) => s.publications.length), [1, 1, 0, 0, 0]);
    endTurn();
    assert.deepEqual(subs.map((s) => s.publications.length), [1, 1, 1, 1, 0]);
    endTurn();
    assert.deepEqual(subs.map((s) => s.publications.length), [1, 1, 1, 1, 1]);
    endTurn();
    assert.equal(pending(), 0, 'nothing left to do: no further turn is asked for');
    assert.deepEqual(subs.map(offsets), subs.map(() => [1]));
  });

  it('gives a publication that comes during a pass to the subscribers not yet reached in the same message, and to the others in the next pass', () => {
    const { hub, endTurn, pending } = sliced(2);
    const subs = Array.from({ length: 5 }, () => new FakeProtocolSubscriber());
    for (const s of subs) hub.addProtocol('chat:1', s);
    hub.publish('chat:1', pub(1), at(1));
    endTurn(); // 0 and 1 have 1
    hub.publish('chat:1', pub(2), at(2));
    endTurn(); // 2 and 3 take 1 and 2 together
    assert.deepEqual(subs.map(offsets), [[1], [1], [1, 2], [1, 2], []]);
    assert.equal(subs[2]!.batches.length, 1);
    assert.equal(subs[2]!.batches[0], subs[3]!.batches[0], 'one message for both');
    assert.equal(subs[2]!.batches[0]!.channel, undefined, 'not every subscriber takes it: no native fan-out');
    while (pending() > 0) endTurn();
    assert.deepEqual(subs.map(offsets), subs.map(() => [1, 2]));
    assert.deepEqual(subs.map((s) => s.batches.length), [0, 0, 1, 1, 1]);
  });

  it('skips a subscriber removed during a pass, and gives one added during it only what is published from its turn on', () => {
    const { hub, endTurn, pending } = sliced(1);
    const [a, b, c] = [new FakeProtocolSubscriber(), new FakeProtocolSubscriber(), new FakeProtocolSubscriber()];
    hub.addProtocol('chat:1', a);
    hub.addProtocol('chat:1', b);
    hub.publish('chat:1', pub(1), at(1));
    endTurn(); // a has 1
    hub.removeProtocol('chat:1', b);
    hub.addProtocol('chat:1', c);
    hub.publish('chat:1', pub(2), at(2));
    while (pending() > 0) endTurn();
    assert.deepEqual(offsets(a), [1, 2]);
    assert.deepEqual(offsets(b), []);
    assert.deepEqual(offsets(c), [2]);
  });

  it('finishes a pass before a join or leave, so that every subscriber has the publications before it first', () => {
    const { hub, endTurn, pending } = sliced(1);
    const order: string[] = [];
    const watcher: ProtocolSubscriber = {
      hubSeq: 0,
      deliverPublication: (e) => order.push(`pub ${JSON.parse(e.json().text).push.pub.data.n}`),
      deliverPublications: (b) => b.encodings.forEach((e) => order.push(`pub ${JSON.parse(e.json().text).push.pub.data.n}`)),
      deliverJoinLeave: () => order.push('join') > 0,
    };
    const first = new FakeProtocolSubscriber();
    hub.addProtocol('chat:1', first);
    hub.addProtocol('chat:1', watcher, true);
    hub.publish('chat:1', pub(1), at(1));
    endTurn(); // the pass reached `first` only
    assert.deepEqual(order, []);
    hub.join('chat:1', ann);
    hub.publish('chat:1', pub(2), at(2));
    endTurn();
    while (pending() > 0) endTurn();
    assert.deepEqual(order, ['pub 1', 'join', 'pub 2']);
    assert.deepEqual(offsets(first), [1, 2]);
  });

  it('keeps one message for every subscriber, marked for native fan-out, while a channel fits in one slice', () => {
    const { hub, endTurn } = sliced(3);
    const subs = Array.from({ length: 3 }, () => new FakeProtocolSubscriber());
    for (const s of subs) hub.addProtocol('chat:1', s);
    for (const n of [1, 2]) hub.publish('chat:1', pub(n), at(n));
    endTurn();
    assert.equal(subs[0]!.batches[0], subs[2]!.batches[0]);
    assert.equal(subs[0]!.batches[0]!.channel, 'chat:1');
  });

  it('delivers every publication once and in order to each subscriber through random publishes, subscribes and unsubscribes', () => {
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let trial = 0; trial < 20; trial++) {
      const { hub, endTurn, pending } = sliced(1 + random(4));
      let turn = 0;
      let next = 1;
      const publishedIn: number[] = []; // the turn of each publication, by offset
      const live = new Map<FakeProtocolSubscriber, number>(); // subscriber -> the turn it was added
      const gone = new Map<FakeProtocolSubscriber, number>();
      // One subscriber stays throughout: a channel left empty drops what was published into it
      // this turn, which is not what this test is about.
      const anchor = new FakeProtocolSubscriber();
      hub.addProtocol('chat:1', anchor);
      live.set(anchor, 0);
      for (let step = 0; step < 200; step++) {
        const what = random(10);
        if (what < 4) {
          publishedIn[next] = turn;
          hub.publish('chat:1', pub(next), at(next));
          next++;
        } else if (what < 6) {
          const s = new FakeProtocolSubscriber();
          hub.addProtocol('chat:1', s);
          live.set(s, turn);
        } else if (what < 7 && live.size > 1) {
          const s = [...live.keys()].slice(1)[random(live.size - 1)]!;
          hub.removeProtocol('chat:1', s);
          gone.set(s, live.get(s)!);
          live.delete(s);
        } else {
          endTurn();
          turn++;
        }
      }
      while (pending() > 0) endTurn();
      const expected = (added: number): number[] => publishedIn.flatMap((t, n) => (t >= added ? [n] : []));
      for (const [s, added] of live) assert.deepEqual(offsets(s), expected(added), `trial ${trial}: a subscriber still there has everything from its turn on`);
      for (const [s, added] of gone) {
        const got = offsets(s);
        assert.deepEqual(got, expected(added).slice(0, got.length), `trial ${trial}: a removed subscriber had a prefix of it, in order`);
      }
    }
  });
});
