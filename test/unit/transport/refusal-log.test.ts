import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { RefusalLog } from '../../../src/transport/refusal-log.js';
import { captureLog } from '../../helpers/log-capture.js';

const REQ = { headers: { origin: 'https://x.example' }, socket: { remoteAddress: '127.0.0.1' } } as unknown as IncomingMessage;

/** A RefusalLog on a clock the test moves, with its scheduled summaries run by hand. */
function setUp(limit: number, windowMs: number) {
  const log = captureLog('info');
  let now = 1_000_000;
  const scheduled: Array<{ fn: () => void; at: number }> = [];
  const refusals = new RefusalLog(log.logger, { limit, windowMs, now: () => now, schedule: (fn, ms) => scheduled.push({ fn, at: now + ms }) });
  return {
    log,
    refusals,
    advance(ms: number): void {
      now += ms;
      const due = scheduled.filter((x) => x.at <= now);
      scheduled.splice(0, scheduled.length, ...scheduled.filter((x) => x.at > now));
      for (const s of due) s.fn();
    },
    refuse(status: number, message = `refused ${status}\n`): void {
      refusals.record(REQ, '/x', { status, message });
    },
  };
}

describe('RefusalLog', () => {
  it('logs each refusal with its status, the first line of its message, the path, origin and address', () => {
    const { log, refuse } = setUp(5, 1000);
    refuse(404, 'No WebSocket endpoint at /x. WebSocket endpoints on this server:\n  ws://h/  echo\n');
    assert.deepEqual(log.lines.map(({ level, msg, status, reason, path, origin, remote }) => ({ level, msg, status, reason, path, origin, remote })), [{
      level: 30, msg: 'websocket upgrade refused', status: 404, reason: 'No WebSocket endpoint at /x. WebSocket endpoints on this server:',
      path: '/x', origin: 'https://x.example', remote: '127.0.0.1',
    }]);
  });

  it('logs `limit` lines per window, then one summary with the count by status when the window ends', () => {
    const { log, refuse, advance } = setUp(2, 1000);
    refuse(403);
    refuse(403);
    for (let i = 0; i < 5; i++) refuse(503);
    refuse(404);
    assert.equal(log.lines.length, 2, 'nothing past the limit is logged one by one');
    advance(999);
    assert.equal(log.lines.length, 2);
    advance(1);
    const summary = log.lines.at(-1)!;
    assert.equal(summary.count, 6);
    assert.deepEqual(summary.by_status, { 503: 5, 404: 1 });
    assert.match(summary.msg, /^6 more websocket upgrades refused \(not logged one by one: at most 2 lines per window\)$/);
  });

  it('logs one by one again in the next window, and no summary when nothing was held back', () => {
    const { log, refuse, advance } = setUp(1, 1000);
    refuse(403);
    advance(1000);
    refuse(404);
    assert.deepEqual(log.lines.map((l) => l.status), [403, 404]);
    advance(5000);
    assert.equal(log.lines.length, 2);
  });

  it('cuts a long path or origin to 200 characters', () => {
    const log = captureLog('info');
    const refusals = new RefusalLog(log.logger);
    const long = { headers: { origin: `https://${'o'.repeat(500)}` }, socket: { remoteAddress: '::1' } } as unknown as IncomingMessage;
    refusals.record(long, `/${'p'.repeat(500)}`, { status: 404, message: 'no' });
    const line = log.lines[0]!;
    assert.equal(String(line.path).length, 201);
    assert.equal(String(line.origin).length, 201);
  });
});
