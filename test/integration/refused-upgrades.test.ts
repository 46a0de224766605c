/**
 * Every WebSocket upgrade refused before the handshake is logged at info with its reason: a
 * browser shows the page nothing but a 1006, so the server's log is where a person finds out
 * why (issue 16). So is every protocol connect refused after it (a bad, expired or missing
 * token, the connect proxy saying no): the client sees a code, the log says why. The lines are
 * bounded, so a flood of refusals cannot fill the disk.
 *
 * @runtimes node bun
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { after, describe, it } from 'node:test';
import { captureLog, INFO, type CapturedLog, type LogLine } from '../helpers/log-capture.js';
import { closedWithin, connectedClient, openProtocolClient, type Wire } from '../helpers/protocol-client.js';
import { rawHandshake } from '../helpers/raw-socket.js';
import { startServer } from '../helpers/server.js';
import { hmacKey, HMAC_SECRET, mintToken, secondsFromNow } from '../helpers/tokens.js';
import { until } from '../helpers/wait.js';

const REFUSED = 'websocket upgrade refused';
const CONNECT_REFUSED = 'connect refused';

/** Opens an upgrade on `path`; resolves with the status line's code and closes the socket. */
async function upgrade(port: number, path: string, headers: Record<string, string> = {}): Promise<number> {
  const { socket, response } = await rawHandshake(port, path, headers);
  socket.destroy();
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1]);
}

/** The last refusal `log` holds (of upgrades unless `msg` says), once every line logged so far is in. */
async function lastRefusal(log: CapturedLog, msg = REFUSED): Promise<LogLine> {
  await log.settled();
  const line = log.withMessage(msg).at(-1);
  assert.ok(line, 'nothing was logged');
  return line;
}

/**
 * Sends connect with `body` on a new protocol connection; resolves with the reply, or with the
 * close code and reason when the server closes instead of replying.
 */
async function refusedConnect(wsUrl: string, body: Wire): Promise<{ reply: Wire } | { closed: number; reason: string }> {
  const c = await openProtocolClient(wsUrl);
  const id = c.command('connect', body);
  const outcome = await Promise.race([
    c.reply(id).then((reply) => ({ reply }), () => new Promise<never>(() => {})),
    closedWithin(c).then(({ code, reason }) => ({ closed: code, reason })),
  ]);
  c.close();
  return outcome;
}

/** A connect proxy backend on 127.0.0.1 that answers every connect with disconnect 4501. */
async function banningBackend(): Promise<string> {
  const backend = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ disconnect: { code: 4501, reason: 'banned: this address is blocked' } }));
  });
  backend.listen(0, '127.0.0.1');
  await once(backend, 'listening');
  after(() => backend.close());
  return `http://127.0.0.1:${(backend.address() as { port: number }).port}/connect`;
}

describe('refused WebSocket upgrades', async () => {
  const log = captureLog('info');
  const server = await startServer({
    logger: log.logger,
    allowed_origins: ['https://good.example'],
    namespaces: { private: {} },
  });

  it('logs a browser origin that is not allowed, at info, with the origin and the reason', async () => {
    assert.equal(await upgrade(server.port, '/connection/websocket', { Origin: 'https://evil.example' }), 403);
    const line = await lastRefusal(log);
    assert.equal(line.level, INFO);
    assert.deepEqual(
      { status: line.status, path: line.path, origin: line.origin, remote: line.remote },
      { status: 403, path: '/connection/websocket', origin: 'https://evil.example', remote: '127.0.0.1' },
    );
    assert.match(String(line.reason), /^origin https:\/\/evil\.example is not allowed here \(allowed_origins: https:\/\/good\.example\)$/);
  });

  it('logs an upgrade on a path that has no endpoint', async () => {
    assert.equal(await upgrade(server.port, '/nothing/here'), 404);
    const line = await lastRefusal(log);
    assert.equal(line.status, 404);
    assert.equal(line.path, '/nothing/here');
    assert.match(String(line.reason), /^No WebSocket endpoint at \/nothing\/here\./);
  });

  it('logs a plain client refused a channel it may not subscribe to', async () => {
    assert.equal(await upgrade(server.port, '/raw/private:x'), 403);
    const line = await lastRefusal(log);
    assert.equal(line.status, 403);
    assert.match(String(line.reason), /^permission denied: plain clients may not subscribe to private:x/);
  });

  it('logs nothing for an upgrade it accepts', async () => {
    await log.settled();
    const before = log.withMessage(REFUSED).length;
    const { socket, response } = await rawHandshake(server.port, '/', { Origin: 'https://good.example' });
    socket.destroy();
    assert.match(response, /^HTTP\/1\.1 101 /);
    await log.settled();
    assert.equal(log.withMessage(REFUSED).length, before);
  });
});

describe('refused WebSocket upgrades at the connection limit', async () => {
  const log = captureLog('info');
  const server = await startServer({ logger: log.logger, max_connections: 1 });

  it('logs the connection limit with its reason', async () => {
    const held = await rawHandshake(server.port, '/');
    assert.match(held.response, /^HTTP\/1\.1 101 /);
    assert.equal(await upgrade(server.port, '/'), 503);
    const line = await lastRefusal(log);
    assert.equal(line.status, 503);
    assert.match(String(line.reason), /^connection limit reached on this node \(max_connections 1\)/);
    held.socket.destroy();
  });
});

describe('refused WebSocket upgrades while draining', async () => {
  const log = captureLog('info');
  // 20 sessions are closed with 3001 in batches over the 2 s drain window: the node drains for
  // that long on either runtime, whenever the peers answer their closing handshakes.
  const server = await startServer({ logger: log.logger, shutdown_drain_window: 2000, shutdown_timeout: 8000 });

  it('logs the drain with its reason', async () => {
    const clients = await Promise.all(Array.from({ length: 20 }, () => connectedClient(server.wsUrl)));
    const closing = server.canal.close();
    // The close may cross to another process (canal on Bun): the drain has begun once /healthz says so.
    await until(async () => (await fetch(`${server.httpUrl}/healthz`).catch(() => undefined))?.status === 503, '/healthz answers 503');
    assert.equal(await upgrade(server.port, '/'), 503);
    const line = await lastRefusal(log);
    assert.equal(line.status, 503);
    assert.match(String(line.reason), /^canal is shutting down; connect to another node$/);
    for (const c of clients) c.close();
    await closing;
  });
});

describe('a flood of refused upgrades', async () => {
  const log = captureLog('info');
  const server = await startServer({ logger: log.logger });

  it('logs at most 20 of them one by one', async () => {
    for (let i = 0; i < 30; i++) assert.equal(await upgrade(server.port, `/flood/${i}`), 404);
    await log.settled();
    const lines = log.withMessage(REFUSED);
    assert.equal(lines.length, 20);
    assert.deepEqual(lines.map((l) => l.path), Array.from({ length: 20 }, (_, i) => `/flood/${i}`));
  });
});

describe('refused protocol connects', async () => {
  const log = captureLog('info');
  const server = await startServer({ logger: log.logger, dev: false, token_hmac_secret: HMAC_SECRET });

  it('logs a connection token with a bad signature (closed 3500) at info, with the reason and the address', async () => {
    const token = await mintToken(hmacKey('another-secret-0123456789-abcdefghijkl'), { sub: 'mallory' });
    const outcome = await refusedConnect(server.wsUrl, { token });
    assert.equal('closed' in outcome && outcome.closed, 3500, JSON.stringify(outcome));
    const line = await lastRefusal(log, CONNECT_REFUSED);
    assert.equal(line.level, INFO);
    assert.deepEqual({ code: line.code, transport: line.transport, remote: line.remote }, { code: 3500, transport: 'websocket', remote: '127.0.0.1' });
    assert.equal(line.reason, 'invalid connection token: bad signature');
    assert.equal(typeof line.client, 'string');
  });

  it('logs an expired connection token (error 109)', async () => {
    const token = await mintToken(hmacKey(), { sub: 'alice', exp: secondsFromNow(-60) });
    const outcome = await refusedConnect(server.wsUrl, { token });
    assert.equal('reply' in outcome && outcome.reply.error?.code, 109, JSON.stringify(outcome));
    const line = await lastRefusal(log, CONNECT_REFUSED);
    assert.equal(line.code, 109);
    assert.match(String(line.reason), /expired/);
  });

  it('logs a connect without a token where anonymous connections are off (error 101)', async () => {
    const outcome = await refusedConnect(server.wsUrl, {});
    assert.equal('reply' in outcome && outcome.reply.error?.code, 101, JSON.stringify(outcome));
    const line = await lastRefusal(log, CONNECT_REFUSED);
    assert.equal(line.code, 101);
    assert.match(String(line.reason), /^unauthorized: a connection token is required/);
  });

  it('logs nothing for a connect it accepts', async () => {
    await log.settled();
    const before = log.withMessage(CONNECT_REFUSED).length;
    const c = await connectedClient(server.wsUrl, { token: await mintToken(hmacKey(), { sub: 'alice' }) });
    c.close();
    await log.settled();
    assert.equal(log.withMessage(CONNECT_REFUSED).length, before);
  });
});

describe('connects refused by the connect proxy', async () => {
  const log = captureLog('info');
  const endpoint = await banningBackend();
  const server = await startServer({ logger: log.logger, dev: false, proxies: { connect: { endpoint } } });

  it('logs the backend\'s disconnect with its code and reason', async () => {
    const outcome = await refusedConnect(server.wsUrl, {});
    assert.equal('closed' in outcome && outcome.closed, 4501, JSON.stringify(outcome));
    const line = await lastRefusal(log, CONNECT_REFUSED);
    assert.equal(line.code, 4501);
    assert.equal(line.reason, 'banned: this address is blocked');
  });
});

describe('a flood of refused connects', async () => {
  const log = captureLog('info');
  const server = await startServer({ logger: log.logger, dev: false, token_hmac_secret: HMAC_SECRET });

  it('logs at most 20 of them one by one', async () => {
    for (let i = 0; i < 30; i++) {
      const outcome = await refusedConnect(server.wsUrl, { token: `not-a-jwt-${i}` });
      assert.equal('closed' in outcome && outcome.closed, 3500, JSON.stringify(outcome));
    }
    await log.settled();
    assert.equal(log.withMessage(CONNECT_REFUSED).length, 20);
  });
});
