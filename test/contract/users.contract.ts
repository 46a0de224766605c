/** The UserConnections contract: every engine's per-user connection counts pass these same tests. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Admission, UserConnections } from '../../src/engine/types.js';
import { sleep } from '../helpers/wait.js';

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
      // TTLs of a second, so that a loaded machine (a CI run's two test files at once) delays the
      // steps by up to 400 ms without changing what is counted; with 300 ms TTLs, 100 ms did.
      const u = user('ttl');
      seqOf(await users.admit(u, 'stale', 2, 1000));
      seqOf(await users.admit(u, 'fresh', 2, 1000));
      await sleep(600);
      await users.renew(u, 'fresh', 1000);
      await sleep(600);
      assert.equal(await users.count(u), 1, 'stale expired; fresh, renewed, kept');
      seqOf(await users.admit(u, 'next', 2, 1000));
      await sleep(1150);
      assert.equal(await users.count(u), 0, 'both gone once their TTLs passed');
    });

    it('counts again a connection renewed after the store forgot it', async () => {
      const u = user('renew');
      await users.renew(u, 'c1', 60_000);
      assert.equal(await users.count(u), 1);
      assert.deepEqual(await users.admit(u, 'c2', 1, 60_000), { admitted: false, count: 1 });
    });
  });
}
