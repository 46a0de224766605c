/** The UserConnections contract: every engine's per-user connection counts pass these same tests. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Admission, UserConnections } from '../../src/engine/types.js';
import { sleep, until } from '../helpers/wait.js';

export interface UsersUnderTest {
  readonly users: UserConnections;
  close(): Promise<void>;
}

let counter = 0;
/** A user no other test (or run) touches; with braces and a comma, as user ids may have. */
function user(label: string): string {
  return `u{${label}},${process.pid}-${Date.now()}-${counter++}`;
}

function seqOf(a: Admission): number {
  assert.ok(a.admitted, `expected an admission, got ${JSON.stringify(a)}`);
  return a.seq;
}

export function runUsersContract(name: string, create: () => Promise<UsersUnderTest>): void {
  describe(`UserConnections contract: ${name}`, () => {
    let under: UsersUnderTest;
    let users: UserConnections;
    before(async () => {
      under = await create();
      users = under.users;
    });
    after(() => under.close());

    it('admits connections up to the limit and refuses the next one with the count', async () => {
      const u = user('limit');
      seqOf(await users.admit(u, 'c1', 2, 60_000));
      seqOf(await users.admit(u, 'c2', 2, 60_000));
      assert.deepEqual(await users.admit(u, 'c3', 2, 60_000), { admitted: false, count: 2 });
      assert.equal(await users.count(u), 2);
    });

    it('gives every later admission of a user a larger sequence number', async () => {
      const u = user('seq');
      const a = seqOf(await users.admit(u, 'c1', 0, 60_000));
      const b = seqOf(await users.admit(u, 'c2', 0, 60_000));
      await users.remove(u, 'c1');
      await users.remove(u, 'c2');
      const c = seqOf(await users.admit(u, 'c3', 0, 60_000));
      assert.ok(a < b && b < c, `sequence ${a}, ${b}, ${c}`);
    });

    it('counts a client admitted twice once, even at the limit', async () => {
      const u = user('twice');
      seqOf(await users.admit(u, 'c1', 1, 60_000));
      seqOf(await users.admit(u, 'c1', 1, 60_000));
      assert.equal(await users.count(u), 1);
    });

    it('frees a place when a connection is removed; removing an absent one is harmless', async () => {
      const u = user('remove');
      seqOf(await users.admit(u, 'c1', 1, 60_000));
      await users.remove(u, 'c1');
      await users.remove(u, 'c1');
      await users.remove(user('never'), 'x');
      assert.equal(await users.count(u), 0);
      seqOf(await users.admit(u, 'c2', 1, 60_000));
    });

    it('has no limit at 0, and keeps users apart', async () => {
      const a = user('a');
      const b = user('b');
      for (let i = 0; i < 5; i++) seqOf(await users.admit(a, `c${i}`, 0, 60_000));
      assert.equal(await users.count(a), 5);
      assert.equal(await users.count(b), 0);
      seqOf(await users.admit(b, 'c0', 1, 60_000));
    });

    it('admits exactly the limit when admissions race', async () => {
      const u = user('race');
      const all = await Promise.all(Array.from({ length: 10 }, (_, i) => users.admit(u, `c${i}`, 3, 60_000)));
      assert.equal(all.filter((a) => a.admitted).length, 3);
      assert.equal(await users.count(u), 3);
      const seqs = all.flatMap((a) => (a.admitted ? [a.seq] : []));
      assert.equal(new Set(seqs).size, 3, 'each admission has its own number');
    });

    it('stops counting a connection that is not renewed within its TTL, and keeps one that is', async () => {
      // The store's own clock expires entries (Redis's, for Redis), so the test waits for the
      // count to change rather than for fixed times. TTLs of a second: renewing at 600 ms leaves
      // 400 ms for a loaded machine (a CI run's two test files at once); 300 ms TTLs left 100 ms,
      // which was once not enough.
      const u = user('ttl');
      seqOf(await users.admit(u, 'stale', 2, 1000));
      const admitted = Date.now();
      seqOf(await users.admit(u, 'fresh', 2, 1000));
      await sleep(600);
      await users.renew(u, 'fresh', 1000);
      // stale expires about 1 s after its admission; fresh, renewed, not before 1.6 s. Read at
      // 1.25 s at the earliest, when a fresh that the renewal had missed would be gone too.
      await until(async () => (await users.count(u)) < 2, 'the stale connection expired', 3000);
      await sleep(Math.max(0, admitted + 1250 - Date.now()));
      assert.equal(await users.count(u), 1, 'stale expired; fresh, renewed, kept');
      seqOf(await users.admit(u, 'next', 2, 1000));
      await until(async () => (await users.count(u)) === 0, 'both connections expired once their TTLs passed', 3000);
    });

    it('counts again a connection renewed after the store forgot it', async () => {
      const u = user('renew');
      await users.renew(u, 'c1', 60_000);
      assert.equal(await users.count(u), 1);
      assert.deepEqual(await users.admit(u, 'c2', 1, 60_000), { admitted: false, count: 1 });
    });
  });
}
