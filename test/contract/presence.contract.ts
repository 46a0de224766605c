/** The PresenceManager contract: every engine's presence passes these same tests. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PresenceManager } from '../../src/engine/types.js';
import type { ClientInfo, JsonText } from '../../src/protocol/types.js';
import { sleep } from '../helpers/wait.js';

export interface PresenceUnderTest {
  readonly presence: PresenceManager;
  close(): Promise<void>;
}

let counter = 0;
function channel(label: string): string {
  return `contract:presence-${label}-${process.pid}-${Date.now()}-${counter++}`;
}

const client = (id: string, user: string): ClientInfo => ({ client: id, user, conn_info: JSON.stringify({ id }) as JsonText });

export function runPresenceContract(name: string, create: () => Promise<PresenceUnderTest>): void {
  describe(`PresenceManager contract: ${name}`, () => {
    let under: PresenceUnderTest;
    let presence: PresenceManager;
    before(async () => {
      under = await create();
      presence = under.presence;
    });
    after(() => under.close());

    it('lists added clients with their info and counts distinct users', async () => {
      const ch = channel('list');
      await presence.add(ch, client('c1', 'ana'), 60_000);
      await presence.add(ch, client('c2', 'ana'), 60_000);
      await presence.add(ch, client('c3', 'bo'), 60_000);
      assert.deepEqual(await presence.presence(ch), { c1: client('c1', 'ana'), c2: client('c2', 'ana'), c3: client('c3', 'bo') });
      assert.deepEqual(await presence.stats(ch), { numClients: 3, numUsers: 2 });
    });

    it('removes a client, and removing an absent one is harmless', async () => {
      const ch = channel('remove');
      await presence.add(ch, client('c1', 'ana'), 60_000);
      await presence.remove(ch, 'c1');
      await presence.remove(ch, 'c1');
      await presence.remove(channel('never'), 'x');
      assert.deepEqual(await presence.presence(ch), {});
      assert.deepEqual(await presence.stats(ch), { numClients: 0, numUsers: 0 });
    });

    it('keeps channels apart', async () => {
      const a = channel('a');
      const b = channel('b');
      await presence.add(a, client('c1', 'ana'), 60_000);
      assert.deepEqual(await presence.presence(b), {});
    });

    it('forgets an entry that is not refreshed within its TTL, and keeps one that is', async () => {
      const ch = channel('ttl');
      await presence.add(ch, client('stale', 'ana'), 300);
      await presence.add(ch, client('fresh', 'bo'), 300);
      await sleep(200);
      await presence.add(ch, client('fresh', 'bo'), 300);
      await sleep(200);
      assert.deepEqual(Object.keys(await presence.presence(ch)), ['fresh']);
      assert.deepEqual(await presence.stats(ch), { numClients: 1, numUsers: 1 });
      await sleep(250);
      assert.deepEqual(await presence.presence(ch), {});
    });

    it('updates the info of a client that is added again', async () => {
      const ch = channel('update');
      await presence.add(ch, client('c1', 'ana'), 60_000);
      const changed: ClientInfo = { client: 'c1', user: 'ana', chan_info: '{"role":"admin"}' as JsonText };
      await presence.add(ch, changed, 60_000);
      assert.deepEqual(await presence.presence(ch), { c1: changed });
    });
  });
}
