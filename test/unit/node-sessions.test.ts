/**
 * The node's index of connected sessions by user (CanalNode.register, unregister, sessionsOf,
 * numUsers): a user with one session keeps the session itself, a user with more a Set, and the
 * index follows every order of connects and disconnects back to empty. User actions (disconnect
 * by user, by user and client) reach exactly the sessions the index names.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ControlMessage } from '../../src/engine/types.js';
import type { SessionHandle } from '../../src/node.js';
import { sessionHarness } from '../helpers/session.js';

interface FakeSession extends SessionHandle {
  readonly closed: Array<[number, string]>;
}

function fakeSession(id: string, user: string): FakeSession {
  const closed: Array<[number, string]> = [];
  return {
    id, user, closed,
    channels: () => [],
    disconnect: (code, reason) => void closed.push([code, reason]),
    insufficientState: () => {},
    serverSubscribe: () => Promise.resolve(),
    serverUnsubscribe: () => {},
    setExpiry: () => {},
    refreshPresence: () => {},
    tick: () => {},
    ping: () => {},
    checkPong: () => {},
  };
}

const ids = (sessions: readonly SessionHandle[]): string[] => sessions.map((s) => s.id).sort();

describe("the node's sessions by user", () => {
  it('names each user\'s sessions, from one to several and back to none, in any order', () => {
    const { node } = sessionHarness();
    const a1 = fakeSession('a1', 'alice');
    const a2 = fakeSession('a2', 'alice');
    const a3 = fakeSession('a3', 'alice');
    const b1 = fakeSession('b1', 'bob');
    const anon1 = fakeSession('x1', '');
    const anon2 = fakeSession('x2', '');
    for (const s of [a1, b1, anon1, a2, anon2, a3]) node.register(s);
    assert.deepEqual(ids(node.sessionsOf('alice')), ['a1', 'a2', 'a3']);
    assert.deepEqual(ids(node.sessionsOf('bob')), ['b1']);
    assert.deepEqual(ids(node.sessionsOf('')), ['x1', 'x2'], 'anonymous connections count as the user ""');
    assert.deepEqual(node.sessionsOf('carol'), []);
    assert.equal(node.numUsers, 3);
    assert.equal(node.numClients, 6);

    node.unregister(a2);
    assert.deepEqual(ids(node.sessionsOf('alice')), ['a1', 'a3']);
    node.unregister(a1);
    assert.deepEqual(ids(node.sessionsOf('alice')), ['a3'], 'down to one session');
    node.register(a1);
    assert.deepEqual(ids(node.sessionsOf('alice')), ['a1', 'a3'], 'and up again');
    node.unregister(a3);
    node.unregister(a1);
    assert.deepEqual(node.sessionsOf('alice'), []);
    node.unregister(b1);
    node.unregister(anon2);
    node.unregister(anon1);
    assert.equal(node.numUsers, 0);
    assert.equal(node.numClients, 0);
    assert.equal(node.internalSizes().users, 0, 'nothing left behind');
    assert.equal(node.internalSizes().sessions, 0);
  });

  it('ignores the unregister of a session it does not hold, and of one whose id another session took', () => {
    const { node } = sessionHarness();
    const first = fakeSession('same-id', 'alice');
    const second = fakeSession('same-id', 'alice');
    node.register(first);
    node.unregister(fakeSession('other', 'alice'));
    node.unregister(second);
    assert.deepEqual(node.sessionsOf('alice'), [first]);
    assert.equal(node.numUsers, 1);
  });

  it('carries a disconnect by user to each of the user\'s sessions, and one by user and client to that one', () => {
    const { node } = sessionHarness();
    const a1 = fakeSession('a1', 'alice');
    const a2 = fakeSession('a2', 'alice');
    const b1 = fakeSession('b1', 'bob');
    for (const s of [a1, a2, b1]) node.register(s);
    const control = (action: Record<string, unknown>): void => node.onControl(action as unknown as ControlMessage);
    control({ op: 'disconnect', user: 'alice', client: 'a2', code: 4001, reason: 'one' });
    assert.deepEqual([a1.closed, a2.closed, b1.closed], [[], [[4001, 'one']], []]);
    control({ op: 'disconnect', user: 'alice', code: 4002, reason: 'all' });
    assert.deepEqual([a1.closed, a2.closed, b1.closed], [[[4002, 'all']], [[4001, 'one'], [4002, 'all']], []]);
    control({ op: 'disconnect', user: 'bob', code: 4003, reason: 'bob' });
    assert.deepEqual(b1.closed, [[4003, 'bob']]);
  });
});
