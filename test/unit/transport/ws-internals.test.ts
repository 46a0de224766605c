/**
 * The `ws` internals that canal's direct write path relies on (src/transport/ws-connection.ts):
 * the exported Sender's static frame(), and a socket's `_socket`, `_sender` (`_state`,
 * `_queue`) and `_extensions`. @types/ws declares none of them, so a ws upgrade that changes
 * them would break canal silently; this test makes it loud.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { SharedMessage } from '../../../src/hub/shared-message.js';
import { SENDER_IDLE, textFrame, WsConnection, type WsInternals } from '../../../src/transport/ws-connection.js';

describe('the ws internals canal writes through', async () => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await once(wss, 'listening');
  after(() => wss.close());
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;

  /** A connected pair: the server side and a client that collects raw TCP bytes. */
  async function pair(): Promise<{ server: WebSocket; client: WebSocket; bytes: () => Buffer }> {
    const accepted = once(wss, 'connection');
    const client = new WebSocket(url, { perMessageDeflate: false });
    await once(client, 'open');
    const [server] = (await accepted) as [WebSocket];
    const chunks: Buffer[] = [];
    (client as unknown as WsInternals)._socket!.prependListener('data', (d: Buffer) => chunks.push(d));
    after(() => client.terminate());
    return { server, client, bytes: () => Buffer.concat(chunks) };
  }

  it('builds with Sender.frame exactly the bytes ws.send puts on the wire, short and long', async () => {
    for (const text of ['hi', 'é'.repeat(100), 'x'.repeat(70_000)]) {
      const { server, bytes } = await pair();
      server.send(text);
      const expected = textFrame(text);
      while (bytes().length < expected.length) await new Promise((r) => setTimeout(r, 5));
      assert.ok(bytes().equals(expected), `the frame of ${text.length} characters differs from ws's own`);
    }
  });

  it('exposes _socket, _sender with an idle _state and an empty _queue, and _extensions on an open socket', async () => {
    const { server } = await pair();
    const internals = server as unknown as WsInternals;
    assert.ok(internals._socket && typeof internals._socket.write === 'function', '_socket is the TCP socket');
    assert.ok(internals._sender, '_sender exists');
    assert.equal(internals._sender._state, SENDER_IDLE, "an idle sender's _state");
    assert.ok(Array.isArray(internals._sender._queue) && internals._sender._queue.length === 0, '_sender._queue is an empty array');
    assert.equal(typeof internals._extensions, 'object');
    assert.equal(internals._extensions['permessage-deflate'], undefined, 'no compression negotiated');
  });

  it('delivers a shared message written directly, in order with ws.send traffic', async () => {
    const { server, client } = await pair();
    const conn = new WsConnection(server);
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
});
