/**
 * What canal's direct write path relies on in `ws` (src/transport/ws-connection.ts): that canal's
 * own frames are the bytes ws's `send` writes; a socket's `_socket` and `_extensions`; and that
 * without compression ws's sender hands every message to the TCP socket at once (an idle
 * `_state`, an empty `_queue`, no `_bufferedBytes`), so a frame written straight onto the socket
 * keeps its order. @types/ws declares none of the internals, so a ws upgrade that changes them
 * would break canal silently; this test makes it loud.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { SharedMessage } from '../../../src/hub/shared-message.js';
import { FlushQueue, Outbox } from '../../../src/session/outbox.js';
import { socketWrites } from '../../../src/transport/socket-writes.js';
import { adoptCompression, binaryFrame, textFrame, WsConnection, type WsInternals } from '../../../src/transport/ws-connection.js';

/** ws's sender, as far as this test reads it (lib/sender.js). */
interface SenderInternals {
  _state: number;
  _queue: unknown[];
  _bufferedBytes: number;
}

/** ws Sender state when it is not deflating or reading a Blob (lib/sender.js `DEFAULT`). */
const SENDER_IDLE = 0;

describe('the ws internals canal writes through', async () => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, WebSocket: WsConnection });
  await once(wss, 'listening');
  after(() => wss.close());
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;

  /** A connected pair: the server side and a client that collects raw TCP bytes. */
  async function pair(): Promise<{ server: WsConnection; client: WebSocket; bytes: () => Buffer }> {
    const accepted = once(wss, 'connection');
    const client = new WebSocket(url, { perMessageDeflate: false });
    await once(client, 'open');
    const [server] = (await accepted) as [WsConnection];
    const chunks: Buffer[] = [];
    (client as unknown as WsInternals)._socket!.prependListener('data', (d: Buffer) => chunks.push(d));
    after(() => client.terminate());
    return { server, client, bytes: () => Buffer.concat(chunks) };
  }

  it('frames exactly the bytes ws.send puts on the wire, text and binary, at each header size', async () => {
    // 2-byte header below 126 bytes, 4 bytes up to 65,535, 10 bytes beyond; multi-byte UTF-8 counted in bytes.
    const cases: Array<[string | Buffer, Buffer]> = [];
    for (const text of ['hi', '', 'x'.repeat(125), 'x'.repeat(126), 'é'.repeat(100), 'x'.repeat(65_535), 'x'.repeat(70_000)]) {
      cases.push([text, textFrame(text)]);
    }
    for (const size of [3, 126, 65_536]) {
      const bytes = Buffer.alloc(size, 7);
      cases.push([bytes, binaryFrame(new Uint8Array(bytes))]);
    }
    for (const [data, expected] of cases) {
      const { server, bytes } = await pair();
      server.send(data, { binary: typeof data !== 'string' });
      while (bytes().length < expected.length) await new Promise((r) => setTimeout(r, 5));
      assert.ok(bytes().equals(expected), `the frame of ${data.length} ${typeof data === 'string' ? 'characters' : 'bytes'} differs from ws's own`);
    }
  });

  it('exposes _socket and _extensions, and without compression its sender never queues', async () => {
    const { server } = await pair();
    const internals = server as unknown as WsInternals & { _sender: SenderInternals };
    assert.ok(internals._socket && typeof internals._socket.write === 'function', '_socket is the TCP socket');
    assert.equal(typeof internals._extensions, 'object');
    assert.equal(internals._extensions['permessage-deflate'], undefined, 'no compression negotiated');
    const sender = internals._sender;
    for (const data of ['text', Buffer.from([1, 2, 3]), 'x'.repeat(200_000)]) {
      server.send(data);
      assert.equal(sender._state, SENDER_IDLE, "the sender's _state after a send");
      assert.ok(Array.isArray(sender._queue) && sender._queue.length === 0, "the sender's _queue after a send");
      assert.equal(sender._bufferedBytes, 0, 'nothing held in the sender: the TCP socket has it');
    }
  });

  it('delivers a shared message written directly, in order with ws.send traffic', async () => {
    const { server, client } = await pair();
    assert.ok(server instanceof WsConnection, "the server's sockets are connections themselves");
    const conn = adoptCompression(server);
    assert.equal(Object.getPrototypeOf(conn), WsConnection.prototype, 'no compression: the plain connection class');
    const got: string[] = [];
    client.on('message', (d) => got.push(String(d)));
    const shared = new SharedMessage('shared');
    conn.writeText('one');
    conn.writeShared(shared);
    conn.writeText('two');
    conn.writeShared(shared);
    while (got.length < 4) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(got, ['one', 'shared', 'two', 'shared']);
    assert.ok(shared.wire, 'the frame was cached on the message');
  });

  it("keeps direct writes in order with ws's own frames: send, ping and the closing frame", async () => {
    const { server, client, bytes } = await pair();
    const got: string[] = [];
    client.on('message', (d, binary) => got.push(binary ? `bytes ${[...(d as Buffer)].join(',')}` : String(d)));
    client.on('ping', () => got.push('ping'));
    const closed = once(client, 'close');
    server.writeText('one');
    server.send('two');
    server.writeBinary(new Uint8Array([1, 2]));
    server.ping();
    server.writeText('three');
    server.closeWith(4000, 'bye');
    server.writeText('after close'); // not open any more: dropped, not written after the close frame
    const [code, reason] = (await closed) as [number, Buffer];
    assert.deepEqual(got, ['one', 'two', 'bytes 1,2', 'ping', 'three']);
    assert.equal(code, 4000);
    assert.equal(String(reason), 'bye');
    const closeFrame = Buffer.from([0x88, 5, 0x0f, 0xa0, ...Buffer.from('bye')]);
    assert.ok(bytes().subarray(-closeFrame.length).equals(closeFrame), 'the closing frame is the last thing on the wire');
  });

  it("lets an outbox write shared frames to the TCP socket, and stops it before ws's closing frame", async () => {
    const { server, client, bytes } = await pair();
    const outbox = new Outbox(server, { maxBytes: 1 << 20, flushes: new FlushQueue((fn) => setImmediate(fn)), direct: socketWrites });
    const got: string[] = [];
    client.on('message', (d) => got.push(String(d)));
    const closed = once(client, 'close');
    outbox.enqueue(new SharedMessage('direct'));
    await new Promise((r) => setImmediate(r));
    // ws calls close() itself when the peer's closing frame comes; the socket is still writable
    // until that frame is written, so only being told keeps the outbox from writing after it.
    server.close(4001, 'closing');
    outbox.enqueue(new SharedMessage('after the closing frame'));
    await closed;
    assert.deepEqual(got, ['direct']);
    const closeFrame = Buffer.from([0x88, 9, 0x0f, 0xa1, ...Buffer.from('closing')]);
    assert.ok(bytes().subarray(-closeFrame.length).equals(closeFrame), 'the closing frame is the last thing on the wire');
  });

  it('with permessage-deflate, keeps a shared message behind one being compressed', async () => {
    const deflating = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: { threshold: 0 }, WebSocket: WsConnection });
    await once(deflating, 'listening');
    after(() => deflating.close());
    const accepted = once(deflating, 'connection');
    const client = new WebSocket(`ws://127.0.0.1:${(deflating.address() as AddressInfo).port}`, { perMessageDeflate: true });
    after(() => client.terminate());
    await once(client, 'open');
    const [server] = (await accepted) as [WsConnection];
    const conn = adoptCompression(server);
    assert.notEqual(Object.getPrototypeOf(conn), WsConnection.prototype, 'compression negotiated: the deflate connection class');
    assert.ok(conn instanceof WsConnection);
    const got: string[] = [];
    client.on('message', (d) => got.push(String(d)));
    conn.writeText('compressed first'); // ws's sender is now busy deflating it
    assert.ok(conn.unsentBytes() > 0, "unsent bytes count ws's sender queue too");
    conn.writeShared(new SharedMessage('shared second'));
    while (got.length < 2) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(got, ['compressed first', 'shared second']);
  });
});
