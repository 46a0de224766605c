/**
 * The node's index of connected sessions by user (CanalNode.register, unregister, sessionsOf,
 * numUsers): a user with one session keeps the session itself, a user with more a Set, and the
 * index follows every order of connects and disconnects back to empty. Anonymous sessions are
 * only counted (no index of their own), yet count as the user "" and are reached by an action
 * aimed at "". User actions (disconnect by user, by user and client) reach exactly the sessions
 * the index names.
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
    assert.equal(node.internalSizes().users, 2, 'no entry for the anonymous user');
    assert.equal(node.internalSizes().anonymous, 2);
    assert.equal(node.session('x2'), anon2);
    assert.equal(node.session('nobody'), undefined);

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
    assert.deepEqual(ids(node.sessionsOf('')), ['x1']);
    assert.equal(node.numUsers, 1, 'one anonymous session left: still the user ""');
    node.unregister(anon1);
    node.unregister(anon1);
    assert.deepEqual(node.sessionsOf(''), []);
    assert.equal(node.numUsers, 0);
    assert.equal(node.numClients, 0);
    assert.equal(node.internalSizes().users, 0, 'nothing left behind');
    assert.equal(node.internalSizes().sessions, 0);
    assert.equal(node.internalSizes().anonymous, 0, 'an unregister twice does not count down twice');
  });

  it('counts a session registered twice once', () => {
    const { node } = sessionHarness();
    const anon = fakeSession('x1', '');
    const alice = fakeSession('a1', 'alice');
    for (const s of [anon, alice, anon, alice]) node.register(s);
    assert.equal(node.numClients, 2);
    assert.deepEqual(node.sessionsOf('alice'), [alice]);
    assert.deepEqual(node.sessionsOf(''), [anon]);
    node.unregister(anon);
    node.unregister(alice);
    assert.equal(node.numUsers, 0);
    assert.deepEqual(node.internalSizes(), { ...node.internalSizes(), sessions: 0, users: 0, anonymous: 0 });
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

  // The same actions for a named user and for the user "" (anonymous sessions, which are counted, not indexed).
  for (const [user, other, what] of [['alice', 'bob', 'a user'], ['', 'alice', 'the user "" (anonymous sessions only)']] as const) {
    it(`carries a disconnect aimed at ${what} to each of its sessions, and one by user and client to that one`, () => {
      const { node } = sessionHarness();
      const s1 = fakeSession('s1', user);
      const s2 = fakeSession('s2', user);
      const o1 = fakeSession('o1', other);
      for (const s of [s1, o1, s2]) node.register(s);
      const control = (action: Record<string, unknown>): void => node.onControl(action as unknown as ControlMessage);
      control({ op: 'disconnect', user, client: 's2', code: 4001, reason: 'one' });
      assert.deepEqual([s1.closed, s2.closed, o1.closed], [[], [[4001, 'one']], []]);
      control({ op: 'disconnect', user, code: 4002, reason: 'all' });
      assert.deepEqual([s1.closed, s2.closed, o1.closed], [[[4002, 'all']], [[4001, 'one'], [4002, 'all']], []]);
      control({ op: 'disconnect', user: other, code: 4003, reason: 'other' });
      assert.deepEqual(o1.closed, [[4003, 'other']]);
    });
  }
});
