/**
 * Every WebSocket upgrade refused before the handshake is logged at info with its reason: a
 * browser shows the page nothing but a 1006, so the server's log is where a person finds out
 * why (issue 16). The lines are bounded, so a flood of refusals cannot fill the disk.
 *
 * @runtimes node bun
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { captureLog, INFO, type CapturedLog, type LogLine } from '../helpers/log-capture.js';
import { connectedClient } from '../helpers/protocol-client.js';
import { rawHandshake } from '../helpers/raw-socket.js';
import { startServer } from '../helpers/server.js';
import { until } from '../helpers/wait.js';

const REFUSED = 'websocket upgrade refused';

/** Opens an upgrade on `path`; resolves with the status line's code and closes the socket. */
async function upgrade(port: number, path: string, headers: Record<string, string> = {}): Promise<number> {
  const { socket, response } = await rawHandshake(port, path, headers);
  socket.destroy();
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1]);
}

/** The last refusal `log` holds, once every line logged so far is in. */
async function lastRefusal(log: CapturedLog): Promise<LogLine> {
  await log.settled();
  const line = log.withMessage(REFUSED).at(-1);
  assert.ok(line, 'nothing was logged');
  return line;
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
