/**
 * The echo endpoint (ws://HOST:PORT/, the seed's contract): its replies, its heartbeat and its
 * close at shutdown.
 *
 * @runtimes node bun
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import { startServer } from '../helpers/server.js';
import { clientFrame, rawHandshake, readCloseCode } from '../helpers/raw-socket.js';
import { until } from '../helpers/wait.js';
import { closedWithin, connectClient, TestClient } from '../helpers/ws-client.js';

const MiB = 1024 * 1024;

describe('echo endpoint ws://HOST:PORT/', async () => {
  const server = await startServer();
  const url = `${server.wsUrl}/`;

  it('answers "hello" with "echo: hello" as a text frame', async () => {
    const c = await connectClient(url);
    c.send('hello');
    const m = await c.next();
    assert.equal(m.text, 'echo: hello');
    assert.equal(m.isBinary, false);
    c.close();
  });

  it('answers 1,000 messages in order on one connection', async () => {
    const c = await connectClient(url);
    for (let i = 0; i < 1000; i++) c.send(`m${i}`);
    for (let i = 0; i < 1000; i++) assert.equal(await c.nextText(), `echo: m${i}`);
    c.close();
  });

  it('keeps non-ASCII text intact', async () => {
    const c = await connectClient(url);
    c.send('ñandú 🚀');
    assert.equal(await c.nextText(), 'echo: ñandú 🚀');
    c.close();
  });

  it('answers the empty string with "echo: "', async () => {
    const c = await connectClient(url);
    c.send('');
    assert.equal(await c.nextText(), 'echo: ');
    c.close();
  });

  it('accepts a text message of exactly 1 MiB', async () => {
    const c = await connectClient(url);
    const big = 'a'.repeat(MiB);
    c.send(big);
    const reply = await c.nextText(10_000);
    assert.equal(reply.length, MiB + 'echo: '.length);
    assert.ok(reply === `echo: ${big}`);
    c.close();
  });

  it('closes with 1009 when a message is 1 MiB + 1 byte', async () => {
    const c = await connectClient(url);
    c.send('a'.repeat(MiB + 1));
    const { code } = await closedWithin(c);
    assert.equal(code, 1009);
  });

  it('closes with 1007 when a text message is not valid UTF-8', async () => {
    const c = await connectClient(url);
    c.send(Buffer.from([0x68, 0xff, 0xfe, 0x69]), { binary: false });
    const { code } = await closedWithin(c);
    assert.equal(code, 1007);
  });

  it('closes with 1002 on a framing violation (reserved bit set without an extension)', async () => {
    const { socket, response } = await rawHandshake(server.port, '/');
    assert.match(response, /^HTTP\/1.1 101/);
    socket.write(clientFrame(0x80 | 0x40 | 0x1, Buffer.from('hi'))); // FIN + RSV1 + text
    assert.equal(await readCloseCode(socket), 1002);
    socket.destroy();
  });

  it('closes with 1002 when a client frame is not masked', async () => {
    const { socket } = await rawHandshake(server.port, '/');
    socket.write(Buffer.from([0x81, 0x02, 0x68, 0x69])); // FIN + text, unmasked "hi"
    assert.equal(await readCloseCode(socket), 1002);
    socket.destroy();
  });

  it('sends binary messages back unchanged, as binary', async () => {
    const c = await connectClient(url);
    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    c.send(bytes, { binary: true });
    const m = await c.next();
    assert.equal(m.isBinary, true);
    assert.deepEqual(m.data, bytes);
    c.close();
  });

  it('answers every message right for 200 concurrent clients sending 50 each', async () => {
    const clients = await Promise.all(Array.from({ length: 200 }, () => connectClient(url)));
    await Promise.all(
      clients.map(async (c, ci) => {
        for (let i = 0; i < 50; i++) c.send(`c${ci}-${i}`);
        for (let i = 0; i < 50; i++) assert.equal(await c.nextText(), `echo: c${ci}-${i}`);
        c.close();
      }),
    );
  });

  it('refuses an upgrade on an unserved path with 404 listing the paths that exist', async () => {
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({
        host: '127.0.0.1', port: server.port, path: '/nope?x=1',
        headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' },
      });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('upgrade', () => reject(new Error('upgraded on an unknown path')));
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 404);
    assert.match(body, /No WebSocket endpoint at \/nope\./);
    assert.match(body, new RegExp(`ws://127\\.0\\.0\\.1:${server.port}/  echo`));
  });
});

describe('echo heartbeat', async () => {
  const server = await startServer({ ping_interval: 1000 });

  it('terminates a peer that does not answer pings by the next sweep', async () => {
    const silent = new TestClient(`${server.wsUrl}/`, { autoPong: false });
    await silent.opened;
    const { code } = await closedWithin(silent, 4000);
    assert.equal(code, 1006); // terminated: no close frame
  });

  it('keeps a peer that answers pings', async () => {
    const c = await connectClient(`${server.wsUrl}/`);
    let pings = 0;
    c.ws.on('ping', () => pings++);
    // A test of the real heartbeat: a second ping comes only from a sweep that found the pong to
    // the first, so the peer outlived a sweep that checked it.
    await until(() => pings >= 2, 'two pings arrived', 10_000);
    c.send('still here');
    assert.equal(await c.nextText(), 'echo: still here');
    c.close();
  });
});

describe('shutdown', () => {
  it('closes every client with 1001 and resolves', async () => {
    const server = await startServer();
    const clients = await Promise.all(Array.from({ length: 10 }, () => connectClient(`${server.wsUrl}/`)));
    await server.canal.close();
    for (const c of clients) assert.equal((await closedWithin(c)).code, 1001);
  });

  it('terminates clients that do not complete the close handshake within shutdown_timeout', async () => {
    const server = await startServer({ shutdown_timeout: 300 });
    const { socket } = await rawHandshake(server.port, '/');
    socket.on('data', () => {}); // reads the close frame but never answers it
    const started = Date.now();
    await server.canal.close();
    assert.ok(Date.now() - started < 3000);
    await new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));
  });
});
