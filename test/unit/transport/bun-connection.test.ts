/**
 * The Bun connection's native fan-out, on a fake Bun socket and server: which sockets a topic
 * publish reaches, and that every socket gets each channel message exactly once — by the
 * publish or by its own send — whatever the order in which sockets write it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SharedMessage } from '../../../src/hub/shared-message.js';
import type { BunServer, BunSocket } from '../../../src/transport/bun-api.js';
import { BunConnection, BunFanOut, SocketKind } from '../../../src/transport/bun-connection.js';

/** A fake server: topics hold sockets; publish delivers to the members of that moment. */
class FakeServer {
  readonly topics = new Map<string, Set<FakeSocket>>();
  publishes = 0;
  publish(topic: string, message: string | Uint8Array): number {
    this.publishes++;
    for (const s of this.topics.get(topic) ?? []) s.received.push(`topic:${String(message)}`);
    return 1;
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
  sendBinary(): number {
    return 0;
  }
  getBufferedAmount(): number {
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

function setUp(sockets: number) {
  const server = new FakeServer();
  const fanOut = new BunFanOut();
  fanOut.server = server as unknown as BunServer<BunConnection>;
  const conns = Array.from({ length: sockets }, () => {
    const conn = new BunConnection(SocketKind.Protocol, 1 << 20, '', undefined, fanOut);
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

  it('keeps channels apart, and writes unmarked messages (replies, Protobuf, deltas) directly', () => {
    const { conns } = setUp(2);
    const x1 = pub('x', 'x1');
    for (const { conn } of conns) conn.writeShared(x1);
    conns[0]!.conn.writeShared(pub('y', 'y1'));
    conns[0]!.conn.writeShared(new SharedMessage('reply'));
    assert.deepEqual(texts(conns[0]!.ws), ['x1', 'y1', 'reply']);
    assert.deepEqual(texts(conns[1]!.ws), ['x1']);
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
