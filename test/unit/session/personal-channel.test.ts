/**
 * A user's personal channel (user_personal_channel) through a protocol session, frame by frame:
 * alice is subscribed to `personal:#alice` at connect; bob — and an anonymous connection — may
 * not subscribe to it, publish into it, nor read its history or presence, even in a namespace
 * whose `allow_*` options open everything and without allow_user_limited_channels, and even when
 * an onPublish handler would accept the message.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClientSession } from '../../../src/session/client-session.js';
import type { Wire } from '../../helpers/protocol-client.js';
import { sessionHarness, type FakeConnection, type SessionHarness } from '../../helpers/session.js';
import { hmacKey, mintToken } from '../../helpers/tokens.js';

const PERSONAL = {
  user_personal_channel: true,
  presence: true,
  history_size: 10,
  history_ttl: 60_000,
  allow_subscribe_for_client: true, allow_subscribe_for_anonymous: true,
  allow_publish_for_client: true, allow_publish_for_anonymous: true,
  allow_history_for_client: true, allow_history_for_anonymous: true,
  allow_presence_for_client: true, allow_presence_for_anonymous: true,
};

const DENIED = { code: 103, message: 'permission denied: personal:#alice is limited to the users listed after its last "#"' };

/** Sends one command and returns its reply. */
async function call(h: SessionHarness, session: ClientSession, conn: FakeConnection, command: { readonly id: number; readonly [method: string]: unknown }): Promise<Wire> {
  session.handleFrame(JSON.stringify(command));
  await h.settleUntil(() => conn.lines.some((l) => l.id === command.id), `the reply to ${JSON.stringify(command)}`);
  await h.settle();
  return conn.take().find((l) => l.id === command.id)!;
}

/** A session connected as `user` ('' for anonymous), with its connect result. */
async function connectAs(h: SessionHarness, user: string): Promise<{ session: ClientSession; conn: FakeConnection; result: Wire }> {
  const { session, conn } = h.open();
  const token = user === '' ? undefined : await mintToken(hmacKey(), { sub: user });
  const reply = await call(h, session, conn, { id: 1, connect: token === undefined ? {} : { token } });
  assert.ok(reply.connect, `connect failed: ${JSON.stringify(reply)}`);
  return { session, conn, result: reply.connect };
}

describe('ClientSession: personal channels', () => {
  it('subscribes alice to personal:#alice at connect, and lets her read its history and presence and publish there', async () => {
    const h = sessionHarness({ namespaces: { personal: PERSONAL } });
    const alice = await connectAs(h, 'alice');
    assert.deepEqual(Object.keys(alice.result.subs ?? {}), ['personal:#alice']);
    assert.deepEqual(await call(h, alice.session, alice.conn, { id: 2, publish: { channel: 'personal:#alice', data: { note: 'to self' } } }), { id: 2, publish: {} });
    const history = await call(h, alice.session, alice.conn, { id: 3, history: { channel: 'personal:#alice', limit: 10 } });
    assert.deepEqual(history.history.publications.map((p: { data: unknown }) => p.data), [{ note: 'to self' }]);
    const presence = await call(h, alice.session, alice.conn, { id: 4, presence: { channel: 'personal:#alice' } });
    assert.deepEqual(Object.values(presence.presence.presence).map((c) => (c as { user: string }).user), ['alice']);
  });

  it('refuses bob every client action in alice\'s personal channel with 103, though the namespace allows them all', async () => {
    const h = sessionHarness({ namespaces: { personal: PERSONAL } });
    await connectAs(h, 'alice');
    const bob = await connectAs(h, 'bob');
    assert.deepEqual(Object.keys(bob.result.subs ?? {}), ['personal:#bob']);
    assert.deepEqual(await call(h, bob.session, bob.conn, { id: 2, subscribe: { channel: 'personal:#alice' } }), { id: 2, error: DENIED });
    assert.deepEqual(await call(h, bob.session, bob.conn, { id: 3, publish: { channel: 'personal:#alice', data: { note: 'spoofed' } } }), { id: 3, error: DENIED });
    assert.deepEqual(await call(h, bob.session, bob.conn, { id: 4, history: { channel: 'personal:#alice' } }), { id: 4, error: DENIED });
    assert.deepEqual(await call(h, bob.session, bob.conn, { id: 5, presence: { channel: 'personal:#alice' } }), { id: 5, error: DENIED });
    assert.deepEqual(await call(h, bob.session, bob.conn, { id: 6, presence_stats: { channel: 'personal:#alice' } }), { id: 6, error: DENIED });
    assert.equal(bob.conn.closedWith(), undefined, 'refusals are replies: bob stays connected');
  });

  it('refuses an anonymous connection the same, and gives it no personal channel', async () => {
    const h = sessionHarness({ dev: false, allow_anonymous_connect: true, namespaces: { personal: PERSONAL } });
    const nobody = await connectAs(h, '');
    assert.equal(nobody.result.subs, undefined);
    assert.deepEqual(await call(h, nobody.session, nobody.conn, { id: 2, subscribe: { channel: 'personal:#alice' } }), { id: 2, error: DENIED });
    assert.deepEqual(await call(h, nobody.session, nobody.conn, { id: 3, publish: { channel: 'personal:#alice', data: 1 } }), { id: 3, error: DENIED });
  });

  it('refuses bob\'s publish before an onPublish handler that would accept anything is asked', async () => {
    const asked: string[] = [];
    const h = sessionHarness({ namespaces: { personal: PERSONAL } }, { onPublish: (ctx) => { asked.push(ctx.channel); } });
    const bob = await connectAs(h, 'bob');
    assert.deepEqual(await call(h, bob.session, bob.conn, { id: 2, publish: { channel: 'personal:#alice', data: 1 } }), { id: 2, error: DENIED });
    assert.deepEqual(await call(h, bob.session, bob.conn, { id: 3, publish: { channel: 'personal:#bob', data: 1 } }), { id: 3, publish: {} });
    assert.deepEqual(asked, ['personal:#bob']);
  });
});
