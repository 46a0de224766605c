/**
 * The Bun connection's native fan-out, on a fake Bun socket and server: which sockets a topic
 * publish reaches, and that every socket gets each channel message exactly once — by the
 * publish or by its own send — whatever the order in which sockets write it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NAMESPACE_DEFAULTS } from '../../../src/config/namespaces.js';
import { Hub } from '../../../src/hub/hub.js';
import { SharedMessage } from '../../../src/hub/shared-message.js';
import { FlushQueue, Outbox } from '../../../src/session/outbox.js';
import { Subscription } from '../../../src/session/subscription.js';
import type { BunServer, BunSocket } from '../../../src/transport/bun-api.js';
import { BunConnection, BunEndpoint, BunFanOut, SocketKind } from '../../../src/transport/bun-connection.js';
import { PROTOBUF_SUBPROTOCOL } from '../../../src/transport/protocol-endpoint.js';

/**
 * A fake server: topics hold sockets; publish delivers to the members of that moment and answers
 * as Bun does: -1 when a member is left with bytes unsent (backpressure), else the bytes sent.
 */
class FakeServer {
  readonly topics = new Map<string, Set<FakeSocket>>();
  publishes = 0;
  publish(topic: string, message: string | Uint8Array): number {
    this.publishes++;
    const text = typeof message === 'string' ? message : `bin ${Buffer.from(message).toString()}`;
    const members = this.topics.get(topic) ?? new Set();
    for (const s of members) s.received.push(`topic:${text}`);
    if (members.size === 0) return 0;
    return [...members].some((s) => s.buffered > 0) ? -1 : message.length;
  }
}

/** A fake socket: records what it was sent and which topics it is in. */
class FakeSocket {
  readonly received: string[] = [];
  readyState = 1;
  buffered = 0;
  data!: BunConnection;
  constructor(readonly server: FakeServer) {}
  sendText(text: string): number {
    this.received.push(`direct:${text}`);
    return text.length;
  }
  sendBinary(bytes: Uint8Array): number {
    this.received.push(`direct:bin ${Buffer.from(bytes).toString()}`);
    return bytes.length;
  }
  /** How many times getBufferedAmount was called (a native call on Bun). */
  bufferedAsked = 0;
  getBufferedAmount(): number {
    this.bufferedAsked++;
    return this.buffered;
  }
  subscribe(topic: string): void {
    let set = this.server.topics.get(topic);
    if (!set) this.server.topics.set(topic, (set = new Set()));
    set.add(this);
  }
  unsubscribe(topic: string): void {
    this.server.topics.get(topic)?.delete(this);
  }
}

/** `sockets` protocol sockets; those whose index is in `protobuf` speak Protobuf. */
function setUp(sockets: number, protobuf: readonly number[] = []) {
  const server = new FakeServer();
  const fanOut = new BunFanOut();
  fanOut.server = server as unknown as BunServer<BunConnection>;
  const json = new BunEndpoint(SocketKind.Protocol, 1 << 20, '', fanOut);
  const proto = new BunEndpoint(SocketKind.Protocol, 1 << 20, PROTOBUF_SUBPROTOCOL, fanOut);
  const conns = Array.from({ length: sockets }, (_, i) => {
    const conn = new BunConnection(protobuf.includes(i) ? proto : json, undefined);
    const ws = new FakeSocket(server);
    conn.ws = ws as unknown as BunSocket<BunConnection>;
    return { conn, ws };
  });
  return { server, conns };
}

/** A publication push of `channel` as the hub marks it. */
function pub(channel: string, text: string): SharedMessage {
  const m = new SharedMessage(text);
  m.channel = channel;
  return m;
}

/** What each socket received, by text, whatever the path. */
function texts(ws: FakeSocket): string[] {
  return ws.received.map((r) => r.slice(r.indexOf(':') + 1));
}

describe('BunConnection native fan-out', () => {
  it('sends the first channel message directly and joins the topic; the next one reaches every member through one publish', () => {
    const { server, conns } = setUp(3);
    const m1 = pub('c', 'm1');
    for (const { conn } of conns) conn.writeShared(m1);
    assert.deepEqual(conns.map(({ ws }) => ws.received), [['direct:m1'], ['direct:m1'], ['direct:m1']]);
    const m2 = pub('c', 'm2');
    for (const { conn } of conns) conn.writeShared(m2);
    assert.deepEqual(conns.map(({ ws }) => ws.received.slice(1)), [['topic:m2'], ['topic:m2'], ['topic:m2']]);
    assert.equal(server.publishes, 2, 'one publish per message (the first reached no member)');
  });

  it('sends directly, once, a message published before the socket joined (a socket that writes late in the turn)', () => {
    const { conns } = setUp(2);
    const [a, b] = conns;
    a!.conn.writeShared(pub('c', 'm0'));
    // m1 and m2 of one turn: b writes both only at the end of the turn, after a published them.
    const m1 = pub('c', 'm1');
    const m2 = pub('c', 'm2');
    a!.conn.writeShared(m1);
    a!.conn.writeShared(m2);
    b!.conn.writeShared(m1);
    b!.conn.writeShared(m2);
    assert.deepEqual(texts(a!.ws), ['m0', 'm1', 'm2']);
    assert.deepEqual(texts(b!.ws), ['m1', 'm2']);
    assert.deepEqual(b!.ws.received, ['direct:m1', 'direct:m2'], 'b joined after m1 and m2 were published: both came directly');
  });

  it('stops the topic reaching a socket whose subscription ended, and joins again at its next message', () => {
    const { conns } = setUp(2);
    const [a, b] = conns;
    const m1 = pub('c', 'm1');
    for (const { conn } of conns) conn.writeShared(m1);
    b!.conn.channelEnded('c');
    a!.conn.writeShared(pub('c', 'm2'));
    assert.deepEqual(texts(b!.ws), ['m1'], 'nothing after the end');
    const m3 = pub('c', 'm3');
    a!.conn.writeShared(m3);
    b!.conn.writeShared(m3); // subscribed again, caught up
    assert.deepEqual(texts(b!.ws), ['m1', 'm3']);
    const m4 = pub('c', 'm4');
    a!.conn.writeShared(m4);
    b!.conn.writeShared(m4);
    assert.deepEqual(texts(b!.ws), ['m1', 'm3', 'm4']);
    assert.deepEqual(texts(a!.ws), ['m1', 'm2', 'm3', 'm4']);
  });

  it('gets each message of a channel it is subscribed to once, through joins, holds and ends over several channels', () => {
    // A socket keeps its one channel in a field and several in a Map: a channel that joined
    // with another, held, joined again once the other ended, then ended itself must leave no
    // join behind, or a later message would be taken for delivered by the topic.
    const { conns } = setUp(2);
    const [p, b] = conns;
    const deliver = (ch: string, text: string, toB: boolean): void => {
      const m = pub(ch, text);
      p!.conn.writeShared(m);
      if (toB) b!.conn.writeShared(m);
    };
    deliver('a', 'a1', true);
    deliver('x', 'x1', true); // a and x: a Map
    b!.conn.channelEnded('a');
    b!.conn.holdChannel('x');
    deliver('x', 'x2', true); // joins x again, alone now
    b!.conn.channelEnded('x');
    deliver('x', 'x3', false);
    deliver('x', 'x4', true); // subscribed again
    deliver('a', 'a2', false);
    assert.deepEqual(texts(b!.ws), ['a1', 'x1', 'x2', 'x4']);

    // A seeded random walk over three channels (two in every other walk) for the rest.
    let seed = 7;
    const random = (n: number): number => { // mulberry32
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) % n;
    };
    for (let walk = 0; walk < 2000; walk++) {
      const { conns: [p2, b2] } = setUp(2);
      const channels = walk % 2 === 0 ? ['a', 'x'] : ['a', 'x', 'y'];
      const subscribed = new Set<string>();
      const expected: string[] = [];
      for (let step = 0; step < 64; step++) {
        const ch = channels[random(channels.length)]!;
        const op = random(4);
        if (op === 0) {
          subscribed.add(ch);
        } else if (op === 1 && subscribed.has(ch)) {
          b2!.conn.channelEnded(ch);
          subscribed.delete(ch);
        } else if (op === 2 && subscribed.has(ch)) {
          b2!.conn.holdChannel(ch);
        } else if (op === 3) {
          const m = pub(ch, `${ch}${step}`);
          p2!.conn.writeShared(m);
          if (subscribed.has(ch)) {
            b2!.conn.writeShared(m);
            expected.push(m.text);
          }
        }
      }
      assert.deepEqual(texts(b2!.ws), expected, `walk ${walk}`);
    }
  });

  it('keeps channels apart, and writes unmarked messages (replies, Protobuf, deltas) directly', () => {
    const { conns } = setUp(2);
    const x1 = pub('x', 'x1');
    for (const { conn } of conns) conn.writeShared(x1);
    conns[0]!.conn.writeShared(pub('y', 'y1'));
    conns[0]!.conn.writeShared(new SharedMessage('reply'));
    assert.deepEqual(texts(conns[0]!.ws), ['x1', 'y1', 'reply']);
    assert.deepEqual(texts(conns[1]!.ws), ['x1']);
  });

  it('leaves the topic while a channel message waits (holdChannel), skips what the topic brought before, and joins again at its next direct write', () => {
    const { server, conns } = setUp(2);
    const [a, b] = conns;
    const m1 = pub('c', 'm1');
    for (const { conn } of conns) conn.writeShared(m1);
    const m2 = pub('c', 'm2');
    a!.conn.writeShared(m2); // published: b gets it through the topic
    b!.conn.holdChannel('c'); // b's join waits in its outbox
    assert.equal(server.topics.get('c')!.has(b!.ws), false);
    const m3 = pub('c', 'm3');
    a!.conn.writeShared(m3); // published while b is out
    // b's outbox: m2 (queued before the hold), the join, m3.
    b!.conn.writeShared(m2);
    b!.conn.writeText('join');
    b!.conn.writeShared(m3);
    assert.deepEqual(b!.ws.received, ['direct:m1', 'topic:m2', 'direct:join', 'direct:m3']);
    assert.equal(server.topics.get('c')!.has(b!.ws), true, 'in the topic again');
    const m4 = pub('c', 'm4');
    a!.conn.writeShared(m4);
    b!.conn.writeShared(m4);
    assert.deepEqual(texts(b!.ws), ['m1', 'm2', 'join', 'm3', 'm4']);
  });

  it('holds nothing for a channel whose topic the socket is not in, and ends a held channel cleanly', () => {
    const { server, conns } = setUp(2);
    const [a, b] = conns;
    b!.conn.holdChannel('c'); // never joined: nothing to leave
    const m1 = pub('c', 'm1');
    a!.conn.writeShared(m1);
    b!.conn.writeShared(m1);
    assert.deepEqual(b!.ws.received, ['direct:m1']);
    b!.conn.holdChannel('c');
    b!.conn.channelEnded('c');
    const m2 = pub('c', 'm2');
    a!.conn.writeShared(m2);
    assert.deepEqual(texts(b!.ws), ['m1'], 'nothing after the end');
    b!.conn.writeShared(m2); // subscribed again
    assert.deepEqual(b!.ws.received, ['direct:m1', 'direct:m2']);
    assert.equal(server.topics.get('c')!.has(b!.ws), true);
  });

  it('keeps a channel\'s JSON and Protobuf sockets in topics of their own: each gets only its own form', () => {
    const { conns } = setUp(4, [2, 3]);
    for (let n = 1; n <= 3; n++) {
      const json = pub('c', `j${n}`);
      const protobuf = SharedMessage.binary(Buffer.from(`p${n}`));
      protobuf.channel = 'c';
      // Mixed order of writers: a Protobuf socket may publish first.
      for (const i of n === 2 ? [2, 0, 3, 1] : [0, 1, 2, 3]) conns[i]!.conn.writeShared(i < 2 ? json : protobuf);
    }
    for (const i of [0, 1]) assert.deepEqual(texts(conns[i]!.ws), ['j1', 'j2', 'j3'], `JSON socket ${i}`);
    for (const i of [2, 3]) assert.deepEqual(texts(conns[i]!.ws), ['bin p1', 'bin p2', 'bin p3'], `Protobuf socket ${i}`);
  });

  it("leaves Bun's readyState unasked for a member the publish reached and for the backlog (a native call per subscriber)", () => {
    const { conns } = setUp(2);
    const m1 = pub('c', 'm1');
    for (const { conn } of conns) conn.writeShared(m1);
    let asked = 0;
    for (const { ws } of conns) {
      Object.defineProperty(ws, 'readyState', { get: () => (asked++, 1) });
    }
    const m2 = pub('c', 'm2');
    for (const { conn } of conns) {
      assert.equal(conn.unsentBytes(), 0);
      conn.writeShared(m2);
    }
    assert.equal(asked, 1, 'only the socket that published asked, before publishing');
    assert.deepEqual(conns.map(({ ws }) => ws.received.slice(1)), [['topic:m2'], ['topic:m2']]);
  });

  it('asks a member the publish reached for its backlog only when the publish left some member with bytes unsent', () => {
    const { conns } = setUp(3);
    for (const { conn } of conns) conn.writeShared(pub('c', 'm1'));
    const asked = (): number[] => conns.map(({ ws }) => ws.bufferedAsked);
    const clean = pub('c', 'm2');
    for (const { conn } of conns) {
      assert.equal(conn.unsentBytes(clean), 0);
      conn.writeShared(clean);
    }
    assert.deepEqual(asked(), [1, 0, 0], 'only the socket that published asked, before publishing');
    conns[2]!.ws.buffered = 5000;
    const backlogged = pub('c', 'm3');
    const unsent = conns.map(({ conn }) => {
      const n = conn.unsentBytes(backlogged);
      conn.writeShared(backlogged);
      return n;
    });
    assert.deepEqual(unsent, [0, 0, 5000], "the member left with a backlog reports it: the outbox's slow-consumer limit sees it");
    assert.deepEqual(asked(), [2, 1, 1]);
    assert.equal(conns[0]!.conn.unsentBytes(pub('c', 'unpublished')), 0);
    assert.deepEqual(asked(), [3, 1, 1], 'a message not yet published: Bun is asked');
  });

  it('sends a message itself to a socket outside the topic that writes it after a member the publish reached', () => {
    const { conns } = setUp(3);
    const flushes = new FlushQueue(() => {});
    const outboxes = conns.map(({ conn }) => new Outbox(conn, { maxBytes: 1 << 20, flushes }));
    const m1 = pub('c', 'm1');
    outboxes[0]!.enqueue(m1, 'c');
    outboxes[1]!.enqueue(m1, 'c'); // a and b join the topic; c is not subscribed yet
    flushes.turn++;
    const m2 = pub('c', 'm2');
    for (const outbox of outboxes) outbox.enqueue(m2, 'c'); // a publishes, b was reached, c joins now
    assert.deepEqual(conns.map(({ ws }) => ws.received), [['direct:m1', 'topic:m2'], ['direct:m1', 'topic:m2'], ['direct:m2']]);
  });

  it("cuts off a slow member that the topic publish reached, as when it writes the message itself", () => {
    const { conns } = setUp(2);
    const flushes = new FlushQueue(() => {});
    const outboxes = conns.map(({ conn }) => new Outbox(conn, { maxBytes: 1000, flushes }));
    const first = pub('c', 'm1');
    assert.deepEqual(outboxes.map((o) => o.enqueue(first, 'c')), [false, false]);
    flushes.turn++;
    conns[1]!.ws.buffered = 999;
    const next = pub('c', 'm2');
    assert.deepEqual(outboxes.map((o) => o.enqueue(next, 'c')), [false, true], 'the member with 999 bytes unsent overflows at 1,000');
  });

  it('writes nothing once the socket is closed, and leaves the topics with it', () => {
    const { server, conns } = setUp(2);
    const m1 = pub('c', 'm1');
    for (const { conn } of conns) conn.writeShared(m1);
    conns[1]!.conn.markClosed();
    conns[1]!.conn.writeShared(pub('c', 'direct-after-close'));
    assert.deepEqual(texts(conns[1]!.ws), ['m1']);
    assert.equal(server.topics.get('c')!.size, 2, 'Bun drops a closed socket from its topics itself');
  });
});

/**
 * The session's side of native fan-out: a hub, subscriptions and outboxes over Bun connections,
 * each turn's end run by hand. What matters is what each socket receives, in order.
 */
describe('BunConnection native fan-out behind a session outbox', () => {
  const X = 'chat:x';

  function sessions(joinLeave: readonly boolean[]) {
    const deferredFlushes: Array<() => void> = [];
    const flushes = new FlushQueue((fn) => deferredFlushes.push(fn));
    const hub = new Hub(() => {});
    const { conns } = setUp(joinLeave.length);
    const peers = conns.map(({ conn, ws }, i) => {
      const outbox = new Outbox(conn, { maxBytes: 1 << 20, flushes });
      const sub = new Subscription({
        push: (message, channel) => {
          if (outbox.enqueue(message, channel)) assert.fail('unexpected overflow');
        },
        lostPosition: () => assert.fail('unexpected lost position'),
        info: { user: `u${i}`, client: `c${i}` },
      }, {
        channel: X,
        ns: NAMESPACE_DEFAULTS,
        joinLeave: joinLeave[i]!,
        positioned: false,
        info: { user: `u${i}`, client: `c${i}` },
        serverSide: false,
        expiresAt: undefined,
      });
      hub.addProtocol(X, sub, joinLeave[i]);
      sub.activate();
      return { outbox, ws };
    });
    const endTurn = (): void => {
      for (const fn of deferredFlushes.splice(0)) fn();
    };
    let published = 0;
    const publish = (data: string): void => {
      hub.publish(X, { data: JSON.stringify(data) }, { offset: 0, epoch: '' });
      published++;
    };
    // A first publication, written by each socket itself: every socket joins the topic.
    publish('p0');
    hub.flush();
    endTurn();
    return { hub, peers, endTurn, publish, published: () => published };
  }

  /** What a socket received, as the pushes' kinds and data, in order. */
  function pushes(ws: FakeSocket): string[] {
    return texts(ws).flatMap((t) => t.split('\n')).map((line) => {
      const push = (JSON.parse(line) as { push?: { pub?: { data: string }; join?: unknown } }).push;
      if (push?.pub) return push.pub.data;
      if (push?.join) return 'join';
      return line;
    });
  }

  it('delivers a join queued in a subscriber\'s outbox before the publication after it, when another socket publishes it first', () => {
    // a does not take joins; b does, and has written a reply this turn, so the join waits in its outbox.
    const { hub, peers, endTurn, publish } = sessions([false, true]);
    const [a, b] = peers;
    b!.outbox.enqueue('{"id":1}');
    hub.join(X, { user: 'u2', client: 'c2' });
    publish('p1');
    hub.flush(); // b queues the join, a writes p1 at once (a topic publish), b queues p1
    endTurn();
    assert.deepEqual(pushes(a!.ws), ['p0', 'p1']);
    assert.deepEqual(pushes(b!.ws), ['p0', '{"id":1}', 'join', 'p1']);
    publish('p2');
    hub.flush();
    endTurn();
    assert.deepEqual(pushes(b!.ws), ['p0', '{"id":1}', 'join', 'p1', 'p2'], 'back in the topic: the next one once');
  });

  it('delivers each publication once around a queued join, whichever outbox flushes first', () => {
    for (const bFirst of [true, false]) {
      const { hub, peers, endTurn, publish } = sessions([false, true]);
      const [a, b] = peers;
      // Each writes a reply at once; the one whose second reply waits in its outbox flushes first.
      const [first, second] = bFirst ? [b!, a!] : [a!, b!];
      first.outbox.enqueue('{"id":1}');
      first.outbox.enqueue('{"id":2}');
      second.outbox.enqueue('{"id":3}');
      // p1, then a join, then p2 in one turn: both outboxes queue all of it; the first to flush publishes.
      publish('p1');
      hub.flush();
      hub.join(X, { user: 'u2', client: 'c2' });
      publish('p2');
      hub.flush();
      endTurn();
      const channelPushes = (ws: FakeSocket): string[] => pushes(ws).filter((p) => !p.startsWith('{'));
      assert.deepEqual(channelPushes(a!.ws), ['p0', 'p1', 'p2'], `a (b flushes first: ${bFirst})`);
      assert.deepEqual(channelPushes(b!.ws), ['p0', 'p1', 'join', 'p2'], `b (b flushes first: ${bFirst})`);
    }
  });

  it('delivers a publication b received through the topic before its queued join once, and the one after the join once', () => {
    const { hub, peers, endTurn, publish } = sessions([false, true]);
    const [a, b] = peers;
    b!.outbox.enqueue('{"id":1}');
    publish('p1');
    hub.flush(); // a writes p1 at once: b gets it through the topic, and queues it too
    hub.join(X, { user: 'u2', client: 'c2' });
    publish('p2');
    hub.flush(); // b queues the join, then p2; a queues p2
    endTurn();
    assert.deepEqual(pushes(a!.ws), ['p0', 'p1', 'p2']);
    assert.deepEqual(pushes(b!.ws), ['p0', '{"id":1}', 'p1', 'join', 'p2']);
  });
});
