/**
 * History rights and recovery (issue 13, item 6; docs/protocol.md "History rights and recovery
 * are separate"): the history command needs an allow_history_* option; recovery is part of
 * subscribing, so a client that may subscribe recovers what it missed whatever those options
 * say. One test per combination, anonymous and with a user.
 *
 * @runtimes node bun
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NAMESPACE_DEFAULTS, type NamespaceOptions } from '../../src/config/namespaces.js';
import { connectedClient, type ProtocolClient } from '../helpers/protocol-client.js';
import { startServer } from '../helpers/server.js';
import { HMAC_SECRET, hmacKey, mintToken } from '../helpers/tokens.js';

const HISTORY = { history_size: 10, history_ttl: 60_000 };
const ANYONE = { allow_subscribe_for_anonymous: true, allow_subscribe_for_client: true };

const namespaces: Record<string, NamespaceOptions> = {
  // History, no history rights.
  closed: { ...NAMESPACE_DEFAULTS, ...HISTORY, ...ANYONE },
  // History, readable by anonymous clients and users.
  open: { ...NAMESPACE_DEFAULTS, ...HISTORY, ...ANYONE, allow_history_for_anonymous: true, allow_history_for_client: true },
  // History, readable by subscribers only.
  members: { ...NAMESPACE_DEFAULTS, ...HISTORY, ...ANYONE, allow_history_for_subscriber: true },
  // No history at all (history rights cannot be set then: the configuration refuses them).
  none: { ...NAMESPACE_DEFAULTS, ...ANYONE },
  // History, nobody may subscribe.
  sealed: { ...NAMESPACE_DEFAULTS, ...HISTORY, allow_history_for_anonymous: true },
};

describe('history rights and recovery', async () => {
  const server = await startServer({ dev: false, allow_anonymous_connect: true, token_hmac_secret: HMAC_SECRET, namespaces });
  const anonymous = (): Promise<ProtocolClient> => connectedClient(server.wsUrl);
  const withUser = async (): Promise<ProtocolClient> => connectedClient(server.wsUrl, { token: await mintToken(hmacKey(), { sub: 'ana' }) });

  /** Publishes 3 messages to `channel`; returns the stream's epoch. */
  async function threePublished(channel: string): Promise<string> {
    let epoch = '';
    for (let i = 1; i <= 3; i++) epoch = (await server.canal.publish(channel, { i })).epoch;
    return epoch;
  }

  /** Subscribes with recover from offset 0 and returns the result. */
  async function recoverFromStart(c: ProtocolClient, channel: string, epoch: string) {
    return c.call('subscribe', { channel, recoverable: true, recover: true, offset: 0, epoch });
  }

  for (const [who, connect] of [['an anonymous client', anonymous], ['a client with a user', withUser]] as const) {
    it(`${who}: history 103 without allow_history_*, yet recovery on subscribe returns what it missed`, async () => {
      const channel = `closed:${who.length}a`;
      const epoch = await threePublished(channel);
      const c = await connect();
      assert.equal((await c.call('history', { channel, limit: 10 })).error?.code, 103);
      const r = await recoverFromStart(c, channel, epoch);
      assert.equal(r.subscribe?.recovered, true, JSON.stringify(r));
      assert.deepEqual(r.subscribe.publications.map((p: { data: { i: number } }) => p.data.i), [1, 2, 3]);
      assert.equal((await c.call('history', { channel, limit: 10 })).error?.code, 103, 'subscribing grants no history right');
      c.close();
    });

    it(`${who}: history and recovery both answer with allow_history_for_${who.startsWith('an') ? 'anonymous' : 'client'}`, async () => {
      const channel = `open:${who.length}b`;
      const epoch = await threePublished(channel);
      const c = await connect();
      const h = await c.call('history', { channel, limit: 10 });
      assert.deepEqual(h.history?.publications.map((p: { data: { i: number } }) => p.data.i), [1, 2, 3]);
      const r = await recoverFromStart(c, channel, epoch);
      assert.equal(r.subscribe?.recovered, true);
      assert.equal(r.subscribe.publications.length, 3);
      c.close();
    });

    it(`${who}: with allow_history_for_subscriber, history is 103 before subscribing and answers after`, async () => {
      const channel = `members:${who.length}c`;
      const epoch = await threePublished(channel);
      const c = await connect();
      assert.equal((await c.call('history', { channel, limit: 10 })).error?.code, 103);
      assert.equal((await recoverFromStart(c, channel, epoch)).subscribe?.recovered, true);
      assert.equal((await c.call('history', { channel, limit: 10 })).history?.publications.length, 3);
      c.close();
    });

    it(`${who}: without history, history is 108 and a subscription is neither recoverable nor recovered`, async () => {
      const channel = `none:${who.length}d`;
      await server.canal.publish(channel, { i: 1 });
      const c = await connect();
      assert.equal((await c.call('history', { channel })).error?.code, 108);
      const r = await recoverFromStart(c, channel, 'any');
      assert.ok(r.subscribe, JSON.stringify(r));
      assert.equal(r.subscribe.recoverable, undefined);
      assert.equal(r.subscribe.recovered, undefined);
      assert.equal(r.subscribe.publications, undefined);
      c.close();
    });

    it(`${who}: where it may not subscribe, recovery is refused with the subscribe (103) even with history rights`, async () => {
      const channel = `sealed:${who.length}e`;
      const epoch = await threePublished(channel);
      const c = await connect();
      const r = await recoverFromStart(c, channel, epoch);
      assert.equal(r.error?.code, 103);
      assert.equal(r.subscribe, undefined);
      c.close();
    });
  }
});
