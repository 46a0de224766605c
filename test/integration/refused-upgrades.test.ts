/**
 * Every WebSocket upgrade refused before the handshake is logged at info with its reason: a
 * browser shows the page nothing but a 1006, so the server's log is where a person finds out
 * why (issue 16). The lines are bounded, so a flood of refusals cannot fill the disk.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { captureLog, INFO, type LogLine } from '../helpers/log-capture.js';
import { rawHandshake } from '../helpers/raw-socket.js';
import { startServer } from '../helpers/server.js';

const REFUSED = 'websocket upgrade refused';

/** Opens an upgrade on `path`; resolves with the status line's code and closes the socket. */
async function upgrade(port: number, path: string, headers: Record<string, string> = {}): Promise<number> {
  const { socket, response } = await rawHandshake(port, path, headers);
  socket.destroy();
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1]);
}

function last(lines: LogLine[]): LogLine {
  const line = lines.at(-1);
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
    const line = last(log.withMessage(REFUSED));
    assert.equal(line.level, INFO);
    assert.deepEqual(
      { status: line.status, path: line.path, origin: line.origin, remote: line.remote },
      { status: 403, path: '/connection/websocket', origin: 'https://evil.example', remote: '127.0.0.1' },
    );
    assert.match(String(line.reason), /^origin https:\/\/evil\.example is not allowed here \(allowed_origins: https:\/\/good\.example\)$/);
  });

  it('logs an upgrade on a path that has no endpoint', async () => {
    assert.equal(await upgrade(server.port, '/nothing/here'), 404);
    const line = last(log.withMessage(REFUSED));
    assert.equal(line.status, 404);
    assert.equal(line.path, '/nothing/here');
    assert.match(String(line.reason), /^No WebSocket endpoint at \/nothing\/here\./);
  });

  it('logs a plain client refused a channel it may not subscribe to', async () => {
    assert.equal(await upgrade(server.port, '/raw/private:x'), 403);
    const line = last(log.withMessage(REFUSED));
    assert.equal(line.status, 403);
    assert.match(String(line.reason), /^permission denied: plain clients may not subscribe to private:x/);
  });

  it('logs nothing for an upgrade it accepts', async () => {
    const before = log.withMessage(REFUSED).length;
    const { socket, response } = await rawHandshake(server.port, '/', { Origin: 'https://good.example' });
    socket.destroy();
    assert.match(response, /^HTTP\/1\.1 101 /);
    assert.equal(log.withMessage(REFUSED).length, before);
  });
});

describe('refused WebSocket upgrades at the connection limit and while draining', async () => {
  const log = captureLog('info');
  const server = await startServer({ logger: log.logger, max_connections: 1, shutdown_timeout: 5000 });

  it('logs the connection limit, then the drain, with their reasons', async () => {
    // A socket that never answers the closing handshake keeps the node draining until it goes.
    const held = await rawHandshake(server.port, '/');
    assert.match(held.response, /^HTTP\/1\.1 101 /);
    assert.equal(await upgrade(server.port, '/'), 503);
    assert.match(String(last(log.withMessage(REFUSED)).reason), /^connection limit reached on this node \(max_connections 1\)/);

    const closing = server.canal.close();
    assert.equal(await upgrade(server.port, '/'), 503);
    const line = last(log.withMessage(REFUSED));
    assert.equal(line.status, 503);
    assert.match(String(line.reason), /^canal is shutting down; connect to another node$/);
    held.socket.destroy();
    await closing;
  });
});

describe('a flood of refused upgrades', async () => {
  const log = captureLog('info');
  const server = await startServer({ logger: log.logger });

  it('logs at most 20 of them one by one', async () => {
    for (let i = 0; i < 30; i++) assert.equal(await upgrade(server.port, `/flood/${i}`), 404);
    const lines = log.withMessage(REFUSED);
    assert.equal(lines.length, 20);
    assert.deepEqual(lines.map((l) => l.path), Array.from({ length: 20 }, (_, i) => `/flood/${i}`));
  });
});
