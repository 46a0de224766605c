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
import { CommandRate } from '../../../src/session/rate-limit.js';
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

  closeWith(code: number, reason: string): void {
    this.closedWith ??= { code, reason };
  }

  pauseReading(): void {}

  resumeReading(): void {}
}

function plainSession(maxQueueBytes: number): { session: PlainSession; conn: FakePlainConnection } {
  const h = sessionHarness();
  const { node, handlers, proxies, log, metrics, clock } = h.context;
  const conn = new FakePlainConnection();
  const session = new PlainSession(conn, 'chat:a', NAMESPACE_DEFAULTS, {
    node, handlers, proxies, log, metrics, clock, maxQueueBytes, commandRate: new CommandRate(100, 100, clock.now()),
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

describe('PlainSession publishing', () => {
  /** A session whose onPublish waits until `release()`, over a connection that cannot pause (as on Bun). */
  function gatedSession(maxQueueBytes: number): { session: PlainSession; conn: FakePlainConnection; published: string[]; release: () => void } {
    const published: string[] = [];
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const h = sessionHarness({}, {
      onPublish: async ({ data }) => {
        await gate;
        published.push(data as string);
        return undefined;
      },
    });
    const { node, handlers, proxies, log, metrics, clock } = h.context;
    const conn = new FakePlainConnection();
    const session = new PlainSession(conn, 'chat:a', NAMESPACE_DEFAULTS, {
      node, handlers, proxies, log, metrics, clock, maxQueueBytes, commandRate: new CommandRate(1000, 1000, clock.now()),
    });
    return { session, conn, published, release: open };
  }

  it('takes no more than client_queue_max_bytes of waiting messages when reading cannot pause, publishes those, then closes 1008', async () => {
    const { session, conn, published, release } = gatedSession(100);
    // The first goes to the engine at once; 20-byte messages then wait until 100 bytes are queued.
    for (let i = 0; i < 50; i++) session.handleText(JSON.stringify(`message ${String(i).padStart(8, '0')}`));
    const early = conn.closedWith;
    assert.equal(early, undefined, 'nothing is closed while accepted messages wait');
    release();
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(published.length, 6, 'the one in flight and the five that fit in 100 bytes are published');
    assert.deepEqual(published, [0, 1, 2, 3, 4, 5].map((i) => `message ${String(i).padStart(8, '0')}`));
    assert.equal(conn.closedWith?.code, 1008);
    assert.match(conn.closedWith.reason, /^too many messages waiting: more than 100 bytes not yet published/);
  });
});
