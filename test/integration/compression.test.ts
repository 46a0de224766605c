/**
 * `websocket_compression` off by default: no endpoint negotiates permessage-deflate. On:
 * /connection/websocket offers permessage-deflate, a client that takes it reads the same messages
 * in fewer bytes (a publication compressed once per connection), a client that declines it reads
 * them uncompressed from the same server, and the echo endpoint never compresses.
 *
 * @runtimes node bun
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectedClient } from '../helpers/protocol-client.js';
import { serverRuntime, startServer } from '../helpers/server.js';
import { connectClient } from '../helpers/ws-client.js';

/** Bytes the client's TCP socket has read so far. */
const bytesRead = (ws: { _socket?: { bytesRead: number } }): number => ws._socket!.bytesRead;

describe('websocket_compression at its default', async () => {
  const server = await startServer();

  it('negotiates no permessage-deflate with a client that offers it, on the protocol and echo endpoints', async () => {
    const c = await connectedClient(server.wsUrl, {}, { perMessageDeflate: true });
    assert.equal(c.ws.extensions, '');
    c.close();
    const echo = await connectClient(server.wsUrl, { perMessageDeflate: true });
    assert.equal(echo.ws.extensions, '');
    echo.close();
  });
});

describe('websocket_compression', async () => {
  const server = await startServer({ websocket_compression: true });
  const big = { rows: Array.from({ length: 400 }, (_, i) => ({ id: i, name: 'player', score: 1000 + i, team: 'blue' })) };
  const size = Buffer.byteLength(JSON.stringify(big));

  it('negotiates permessage-deflate and delivers a publication in fewer bytes than its text', async () => {
    const c = await connectedClient(server.wsUrl, {}, { perMessageDeflate: true });
    assert.match(c.ws.extensions, /permessage-deflate/);
    await c.subscribe('chat:deflate');
    const before = bytesRead(c.ws as never);
    await server.canal.publish('chat:deflate', big);
    const pub = await c.nextPush({ kind: 'pub', channel: 'chat:deflate' });
    assert.deepEqual(pub.push.pub.data, big);
    const read = bytesRead(c.ws as never) - before;
    assert.ok(read < size / 4, `read ${read} bytes for a ${size}-byte publication`);
    c.close();
  });

  it('serves a client that declines compression from the same publication, uncompressed', async () => {
    const plain = await connectedClient(server.wsUrl, {}, { perMessageDeflate: false });
    const deflating = await connectedClient(server.wsUrl, {}, { perMessageDeflate: true });
    assert.equal(plain.ws.extensions, '');
    for (const c of [plain, deflating]) await c.subscribe('chat:mixed');
    const before = bytesRead(plain.ws as never);
    await server.canal.publish('chat:mixed', big);
    for (const c of [plain, deflating]) assert.deepEqual((await c.nextPush({ kind: 'pub', channel: 'chat:mixed' })).push.pub.data, big);
    assert.ok(bytesRead(plain.ws as never) - before > size, 'the plain client read the whole text');
    plain.close();
    deflating.close();
  });

  it('leaves the echo endpoint uncompressed', async () => {
    const echo = await connectClient(server.wsUrl, { perMessageDeflate: true });
    // Bun.serve negotiates permessage-deflate for the whole server; on Node only the protocol
    // endpoint offers it. On both, what the echo sends goes out as it is.
    if (serverRuntime() === 'node') assert.equal(echo.ws.extensions, '');
    const text = 'hello '.repeat(1000);
    const before = bytesRead(echo.ws as never);
    echo.send(text);
    assert.equal(await echo.nextText(), `echo: ${text}`);
    assert.ok(bytesRead(echo.ws as never) - before > text.length, 'the echo came back uncompressed');
    echo.close();
  });
});
