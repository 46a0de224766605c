/**
 * A plain /raw/ client as the hub reaches it: each publication is written at once, and a client
 * whose socket holds more than client_queue_max_bytes unsent is closed with 1008 instead of
 * growing the server's memory. A single publication larger than the limit, into an empty socket,
 * is written like any other.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NAMESPACE_DEFAULTS } from '../../../src/config/namespaces.js';
import { SharedMessage } from '../../../src/hub/shared-message.js';
import { PlainSession, type PlainConnection } from '../../../src/session/plain-session.js';
import { sessionHarness } from '../../helpers/session.js';

/** A plain connection that records what is written, with a settable backlog in its socket. */
class FakePlainConnection implements PlainConnection {
  readonly written: string[] = [];
  unsent = 0;
  closedWith: { code: number; reason: string } | undefined;

  writeShared(message: SharedMessage): void {
    this.written.push(message.text);
  }

  unsentBytes(): number {
    return this.unsent;
  }

  close(code: number, reason: string): void {
    this.closedWith ??= { code, reason };
  }

  pause(): void {}

  resume(): void {}
}

function plainSession(maxQueueBytes: number): { session: PlainSession; conn: FakePlainConnection } {
  const h = sessionHarness();
  const { node, handlers, proxies, log, metrics, clock } = h.context;
  const conn = new FakePlainConnection();
  const session = new PlainSession(conn, 'chat:a', NAMESPACE_DEFAULTS, {
    node, handlers, proxies, log, metrics, clock, maxQueueBytes, commandRate: 100, commandBurst: 100,
  });
  return { session, conn };
}

describe('PlainSession delivery', () => {
  it('writes a publication larger than client_queue_max_bytes when nothing is unsent', () => {
    const { session, conn } = plainSession(10);
    session.deliverText(new SharedMessage('a publication of 30 bytes ...'));
    assert.deepEqual(conn.written, ['a publication of 30 bytes ...']);
    assert.equal(conn.closedWith, undefined);
  });

  it('closes with 1008 "slow" instead of writing when more than client_queue_max_bytes is unsent', () => {
    const { session, conn } = plainSession(10);
    session.deliverText(new SharedMessage('one'));
    conn.unsent = 11;
    session.deliverText(new SharedMessage('two'));
    assert.deepEqual(conn.written, ['one']);
    assert.equal(conn.closedWith?.code, 1008);
    assert.match(conn.closedWith.reason, /^slow: /);
    session.deliverText(new SharedMessage('three'));
    assert.deepEqual(conn.written, ['one'], 'nothing is written once closed');
  });
});
