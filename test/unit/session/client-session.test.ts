/**
 * A protocol session under a fake clock, frame by frame: the stale timer, connection and
 * subscription token expiry with the grace the client is given, refresh, and pings. The clock
 * moves only when a test moves it, so each rule is checked at the millisecond it turns, with
 * no sleeping and no dependence on where the wall clock happens to be.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '../../../src/protocol/codes.js';
import { DisconnectError, ReplyError } from '../../../src/protocol/errors.js';
import type { ClientSession } from '../../../src/session/client-session.js';
import type { Wire } from '../../helpers/protocol-client.js';
import { sessionHarness, type FakeConnection, type SessionHarness } from '../../helpers/session.js';
import { hmacKey, mintToken } from '../../helpers/tokens.js';

const GRACE = 500;

/** A token for `sub` that expires `seconds` whole seconds after the clock's current second. */
function tokenFor(h: SessionHarness, claims: Record<string, unknown>, seconds: number): Promise<string> {
  return mintToken(hmacKey(), { ...claims, exp: Math.floor(h.clock.now() / 1000) + seconds });
}

/** Sends one command and waits for its reply (or the connection's end), then for what follows it. */
async function send(h: SessionHarness, session: ClientSession, conn: FakeConnection, command: { readonly id: number; readonly [method: string]: unknown }): Promise<void> {
  session.handleFrame(JSON.stringify(command));
  await h.settleUntil(() => conn.lines.some((l) => l.id === command.id) || conn.closedWith() !== undefined, `the reply to ${JSON.stringify(command)}`);
  await h.settle();
}

/** Connects with `token` and returns the connect result. */
async function connect(h: SessionHarness, session: ClientSession, conn: FakeConnection, token?: string): Promise<Wire> {
  await send(h, session, conn, { id: 1, connect: token === undefined ? {} : { token } });
  const reply = conn.take().find((l) => l.id === 1);
  assert.ok(reply?.connect, `connect failed: ${JSON.stringify(reply)}`);
  return reply.connect;
}

describe('ClientSession: stale connections', () => {
  it('closes with 3502 exactly client_connect_timeout after opening when no connect came', () => {
    const h = sessionHarness({ client_connect_timeout: 10_000 });
    const { conn } = h.open();
    h.clock.advance(9_999);
    assert.equal(conn.closedWith(), undefined);
    h.clock.advance(1);
    assert.equal(conn.closedWith()?.code, 3502);
    assert.match(conn.closedWith()!.reason, /^stale: no connect command within 10000 ms/);
  });

  it('keeps the stale timer after a refused connect: a client whose connects fail stays stale', async () => {
    const h = sessionHarness({ dev: false, client_connect_timeout: 10_000 });
    const { session, conn } = h.open();
    await send(h, session, conn, { id: 1, connect: {} });
    assert.equal(conn.take()[0]?.error?.code, 101);
    h.clock.advance(10_000);
    assert.equal(conn.closedWith()?.code, 3502);
  });

  it('is listed as connecting, with its stale timer, until the connection closes; then the timer is stopped', () => {
    const h = sessionHarness({ client_connect_timeout: 10_000 });
    const { session, conn } = h.open();
    assert.equal(h.context.connecting.has(session), true);
    session.connectionClosed(1001);
    assert.equal(h.context.connecting.has(session), false);
    h.clock.advance(10_000);
    assert.equal(conn.closedWith(), undefined, 'no stale close for a connection already closed');
  });

  it('stops the stale timer on a successful connect', async () => {
    const h = sessionHarness({ client_connect_timeout: 10_000 });
    const { session, conn } = h.open();
    await connect(h, session, conn);
    assert.equal(h.context.connecting.has(session), false, 'connected sessions are in the node registry instead');
    h.clock.advance(60_000);
    assert.equal(conn.closedWith(), undefined);
  });
});

describe('ClientSession: connection expiry', () => {
  it('sends the ttl in whole seconds and closes with 3005 only once the ttl and the grace have passed', async () => {
    const h = sessionHarness({ client_expired_close_delay: GRACE });
    const { session, conn } = h.open();
    // The clock sits exactly on a second, so the token lives exactly 2 s.
    const start = Math.ceil(h.clock.now() / 1000) * 1000;
    h.clock.advance(start - h.clock.now());
    const result = await connect(h, session, conn, await tokenFor(h, { sub: 'ann' }, 2));
    assert.deepEqual({ expires: result.expires, ttl: result.ttl }, { expires: true, ttl: 2 });
    h.clock.advance(2_000 + GRACE - 1);
    h.heartbeat(session);
    assert.equal(conn.closedWith(), undefined, 'one millisecond before the end of the grace');
    h.clock.advance(1);
    h.heartbeat(session);
    assert.equal(conn.closedWith()?.code, 3005);
    assert.match(conn.closedWith()!.reason, /^connection expired/);
  });

  it('counts from the ttl it sent, not from the token: a token living 1.07 s gets ttl 2 and 2 s plus grace', async () => {
    // exp is a whole second; start the clock 1,070 ms before it.
    const exp = Math.floor(Date.now() / 1000) + 60;
    const h = sessionHarness({ client_expired_close_delay: GRACE }, {}, exp * 1000 - 1_070);
    const { session, conn } = h.open();
    const result = await connect(h, session, conn, await mintToken(hmacKey(), { sub: 'frank', exp }));
    assert.equal(result.ttl, 2);
    h.clock.advance(1_070 + GRACE + 100); // past the token's own expiry plus grace: the client was told 2 s
    h.heartbeat(session);
    assert.equal(conn.closedWith(), undefined, 'closed before the ttl it sent had passed');
    h.clock.advance(2_000 + GRACE - (1_070 + GRACE + 100));
    h.heartbeat(session);
    assert.equal(conn.closedWith()?.code, 3005);
  });

  it('moves the deadline with a refresh: a refreshed connection outlives its first token', async () => {
    const h = sessionHarness({ client_expired_close_delay: GRACE });
    const { session, conn } = h.open();
    await connect(h, session, conn, await tokenFor(h, { sub: 'ann' }, 2));
    h.clock.advance(1_500);
    await send(h, session, conn, { id: 2, refresh: { token: await tokenFor(h, { sub: 'ann' }, 60) } });
    const reply = conn.take().find((l) => l.id === 2);
    assert.equal(reply?.refresh?.expires, true);
    assert.ok(reply.refresh.ttl >= 59 && reply.refresh.ttl <= 60, JSON.stringify(reply));
    h.clock.advance(10_000);
    h.heartbeat(session);
    assert.equal(conn.closedWith(), undefined);
  });

  it('ends the connection with 3500 when a refresh token is for another user', async () => {
    const h = sessionHarness();
    const { session, conn } = h.open();
    await connect(h, session, conn, await tokenFor(h, { sub: 'ann' }, 60));
    await send(h, session, conn, { id: 2, refresh: { token: await tokenFor(h, { sub: 'bob' }, 60) } });
    assert.equal(conn.closedWith()?.code, 3500);
    assert.match(conn.closedWith()!.reason, /another user/);
  });

  it('refuses a refresh with an expired token with 109, and the connection stays until its deadline', async () => {
    const h = sessionHarness({ client_expired_close_delay: GRACE });
    const { session, conn } = h.open();
    await connect(h, session, conn, await tokenFor(h, { sub: 'ann' }, 5));
    const stale = await tokenFor(h, { sub: 'ann' }, 1);
    h.clock.advance(2_000);
    await send(h, session, conn, { id: 2, refresh: { token: stale } });
    assert.equal(conn.take().find((l) => l.id === 2)?.error?.code, 109);
    assert.equal(conn.closedWith(), undefined);
  });
});

describe('ClientSession: subscription token expiry', () => {
  const options = { dev: false, allow_anonymous_connect: true, client_expired_close_delay: GRACE, namespaces: { secret: {} } };

  it('ends a subscription whose token is not refreshed with an unsubscribe push 2501, the connection open', async () => {
    const h = sessionHarness(options);
    const { session, conn } = h.open();
    await connect(h, session, conn, await tokenFor(h, { sub: 'ann' }, 3600));
    const start = Math.ceil(h.clock.now() / 1000) * 1000;
    h.clock.advance(start - h.clock.now());
    await send(h, session, conn, { id: 2, subscribe: { channel: 'secret:a', token: await tokenFor(h, { sub: 'ann', channel: 'secret:a' }, 2) } });
    const reply = conn.take().find((l) => l.id === 2);
    assert.deepEqual({ expires: reply?.subscribe?.expires, ttl: reply?.subscribe?.ttl }, { expires: true, ttl: 2 });
    h.clock.advance(2_000 + GRACE - 1);
    h.heartbeat(session);
    assert.deepEqual(conn.take().filter((l) => l.push), []);
    h.clock.advance(1);
    h.heartbeat(session);
    const pushes = conn.take().filter((l) => l.push);
    assert.deepEqual(pushes, [{ push: { channel: 'secret:a', unsubscribe: { code: 2501, reason: 'subscription expired' } } }]);
    assert.equal(conn.closedWith(), undefined);
    assert.deepEqual([...session.channels()], []);
  });

  it('keeps a subscription whose token is refreshed with sub_refresh', async () => {
    const h = sessionHarness(options);
    const { session, conn } = h.open();
    await connect(h, session, conn, await tokenFor(h, { sub: 'ann' }, 3600));
    await send(h, session, conn, { id: 2, subscribe: { channel: 'secret:a', token: await tokenFor(h, { sub: 'ann', channel: 'secret:a' }, 2) } });
    h.clock.advance(1_000);
    await send(h, session, conn, { id: 3, sub_refresh: { channel: 'secret:a', token: await tokenFor(h, { sub: 'ann', channel: 'secret:a' }, 60) } });
    assert.equal(conn.take().find((l) => l.id === 3)?.sub_refresh?.expires, true);
    h.clock.advance(10_000);
    h.heartbeat(session);
    assert.deepEqual(conn.take().filter((l) => l.push?.unsubscribe), []);
    assert.deepEqual([...session.channels()], ['secret:a']);
  });
});

describe('ClientSession: pings', () => {
  it('sends {} on each heartbeat and stays connected while pongs come back', async () => {
    const h = sessionHarness();
    const { session, conn } = h.open();
    await connect(h, session, conn);
    for (let i = 0; i < 3; i++) {
      h.heartbeat(session);
      assert.deepEqual(conn.take(), [{}]);
      session.handleFrame('{}');
      h.checkPong(session);
      assert.equal(conn.closedWith(), undefined);
    }
  });

  it('closes with 3012 when a ping got no pong by the check', async () => {
    const h = sessionHarness();
    const { session, conn } = h.open();
    await connect(h, session, conn);
    h.heartbeat(session);
    h.checkPong(session);
    assert.equal(conn.closedWith()?.code, 3012);
  });

  it('does not ping a connection that has not connected yet', () => {
    const h = sessionHarness();
    const { session, conn } = h.open();
    h.heartbeat(session);
    h.checkPong(session);
    assert.deepEqual(conn.take(), []);
    assert.equal(conn.closedWith(), undefined);
  });
});

describe('ClientSession: the peer address at connect', () => {
  it('tells onConnecting the address of the connection being connected', async () => {
    let seen: string | undefined;
    const h = sessionHarness({}, { onConnecting: (event) => {
      seen = event.remoteAddress;
      return undefined;
    } });
    const { session, conn } = h.open();
    await send(h, session, conn, { id: 1, connect: {} });
    assert.ok(conn.take().some((l) => l.id === 1 && l.connect), 'connected');
    assert.equal(seen, '127.0.0.1');
  });
});

describe('ClientSession: server-side subscriptions at connect', () => {
  it('writes a publication that arrived while connect was in progress after the connect reply, not before', async () => {
    const h = sessionHarness({}, { onConnecting: () => ({ channels: ['chat:side'] }) });
    // The publication lands between the position read and the subscription going live: while
    // presence is being added, the last step before the reply.
    const addPresence = h.node.addPresence.bind(h.node);
    let published = false;
    h.node.addPresence = async (channel, info) => {
      if (!published) {
        published = true;
        await h.node.publish(channel, { data: '{"n":1}' as never });
      }
      return addPresence(channel, info);
    };
    const { session, conn } = h.open();
    await send(h, session, conn, { id: 1, connect: {} });
    const lines = conn.take();
    const replyAt = lines.findIndex((l) => l.id === 1 && l.connect);
    const pubAt = lines.findIndex((l) => l.push?.pub);
    assert.ok(replyAt >= 0 && pubAt >= 0, JSON.stringify(lines));
    assert.ok(replyAt < pubAt, `the publication was written before the connect reply: ${JSON.stringify(lines)}`);
    assert.deepEqual(lines[pubAt]!.push.pub.data, { n: 1 });
    assert.equal(lines[replyAt]!.connect.subs['chat:side'].offset, undefined, 'the reply position is before the publication');
  });
});

describe('ClientSession: the connect reply before the pushes of its server-side subscriptions', () => {
  it('holds a publication the hub handed the subscription during connect, and writes it after the connect reply', async () => {
    const h = sessionHarness({}, { onConnecting: () => ({ channels: ['chat:side'] }) });
    const addPresence = h.node.addPresence.bind(h.node);
    let published = false;
    h.node.addPresence = async (channel, info) => {
      if (!published) {
        published = true;
        await h.node.publish(channel, { data: '{"n":1}' as never });
        // Let the hub's end of turn run: the publication reaches the subscription while it still buffers.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      return addPresence(channel, info);
    };
    const { session, conn } = h.open();
    await send(h, session, conn, { id: 1, connect: {} });
    const lines = conn.take();
    const replyAt = lines.findIndex((l) => l.id === 1 && l.connect);
    const pubAt = lines.findIndex((l) => l.push?.pub);
    assert.ok(replyAt >= 0 && pubAt >= 0, JSON.stringify(lines));
    assert.ok(replyAt < pubAt, `the publication was written before the connect reply: ${JSON.stringify(lines)}`);
    assert.equal(lines.filter((l) => l.push?.pub).length, 1, 'delivered once');
  });

  it('writes the join push of a server-side subscription after the connect reply, not before', async () => {
    const h = sessionHarness({}, { onConnecting: () => ({ channels: ['chat:side'] }) });
    const { session, conn } = h.open();
    await send(h, session, conn, { id: 1, connect: {} });
    const lines = conn.take();
    const replyAt = lines.findIndex((l) => l.id === 1 && l.connect);
    const joinAt = lines.findIndex((l) => l.push?.channel === 'chat:side' && l.push.join);
    assert.ok(replyAt >= 0 && joinAt >= 0, JSON.stringify(lines));
    assert.ok(replyAt < joinAt, `the join was written before the connect reply: ${JSON.stringify(lines)}`);
    assert.equal(lines[joinAt]!.push.join.info.client, session.id);
  });
});

describe('ClientSession: command backlog', () => {
  // The rate limit is lifted so that every command is handled (the limit is tested on its own).
  const options = { client_command_rate: 1_000_000, client_command_burst: 1_000_000 };
  const pings = (from: number, n: number): string => Array.from({ length: n }, (_, i) => JSON.stringify({ id: from + i, ping: {} })).join('\n');

  it('stops reading when more than 2000 commands wait, and reads again when 200 are left', async () => {
    const h = sessionHarness(options);
    const { session, conn } = h.open();
    await connect(h, session, conn);
    const handled = (): number => h.context.metrics.snapshot().messages_in - 1; // the connect aside
    let waitingAtResume: number | undefined;
    const resume = conn.resumeReading.bind(conn);
    conn.resumeReading = () => {
      waitingAtResume ??= 2001 - handled();
      resume();
    };
    session.handleFrame(pings(2, 2001));
    assert.equal(conn.paused, true, 'reading stops at 2001 waiting commands');
    await h.settleUntil(() => conn.lines.filter((l) => l.id !== undefined && l.id >= 2).length === 2001, 'the 2001 ping replies');
    assert.equal(conn.paused, false);
    assert.equal(waitingAtResume, 200, 'reading resumes once 200 commands are left');
    assert.equal(conn.closedWith(), undefined);
  });

  it('keeps reading with 2000 commands waiting', async () => {
    const h = sessionHarness(options);
    const { session, conn } = h.open();
    await connect(h, session, conn);
    session.handleFrame(pings(2, 2000));
    assert.equal(conn.paused, false);
    await h.settleUntil(() => conn.lines.filter((l) => l.id !== undefined && l.id >= 2).length === 2000, 'the 2000 ping replies');
  });
});

describe('ClientSession: consecutive publishes', () => {
  /** Holds every engine publish until released, recording the order they started in. */
  function holdPublishes(h: SessionHarness): { started: string[]; release(): void } {
    const started: string[] = [];
    const waiting: Array<() => void> = [];
    const publish = h.node.publish.bind(h.node);
    h.node.publish = async (channel, input) => {
      started.push(input.data);
      await new Promise<void>((resolve) => waiting.push(resolve));
      return publish(channel, input);
    };
    return { started, release: () => { for (const go of waiting.splice(0)) go(); } };
  }

  const publishes = (n: number): string => Array.from({ length: n }, (_, i) => JSON.stringify({ id: 2 + i, publish: { channel: 'chat:a', data: { n: i + 1 } } })).join('\n');

  it('starts a frame\'s publishes one after the other without waiting for the engine, in command order', async () => {
    const h = sessionHarness();
    const { session, conn } = h.open();
    await connect(h, session, conn);
    const held = holdPublishes(h);
    session.handleFrame(publishes(3));
    await h.settle();
    assert.deepEqual(held.started, ['{"n":1}', '{"n":2}', '{"n":3}'], 'all three reached the engine before the first finished');
    held.release();
    await h.settleUntil(() => conn.lines.filter((l) => l.publish).length === 3, 'the three publish replies');
  });

  it('handles publishes one at a time when an onPublish handler decides', async () => {
    const h = sessionHarness({}, { onPublish: () => undefined });
    const { session, conn } = h.open();
    await connect(h, session, conn);
    const held = holdPublishes(h);
    session.handleFrame(publishes(2));
    await h.settle();
    assert.deepEqual(held.started, ['{"n":1}'], 'the second waits for the first');
    held.release();
    await h.settleUntil(() => held.started.length === 2, 'the second publish');
    held.release();
    await h.settleUntil(() => conn.lines.filter((l) => l.publish).length === 2, 'the two publish replies');
  });
});

describe('ClientSession: per-user connection limits', () => {
  it('refuses a user\'s connection past user_connection_limit with 3504, counts anonymous ones never, and frees the place on close', async () => {
    const h = sessionHarness({ user_connection_limit: 1 });
    const token = await mintToken(hmacKey(), { sub: 'ana' });
    const first = h.open();
    await connect(h, first.session, first.conn, token);
    const second = h.open();
    await send(h, second.session, second.conn, { id: 1, connect: { token } });
    assert.equal(second.conn.closedWith()?.code, 3504);
    assert.match(second.conn.closedWith()!.reason, /^connection limit: this user already has 1 connections/);
    for (let i = 0; i < 3; i++) {
      const anonymous = h.open();
      await connect(h, anonymous.session, anonymous.conn);
    }
    first.session.disconnect(3000, 'bye');
    await h.settle();
    assert.equal(await h.node.users.count('ana'), 0);
    const third = h.open();
    await connect(h, third.session, third.conn, token);
  });

  it('keeps its place while the heartbeat renews it, and loses it once renewals stop past the TTL', async () => {
    const h = sessionHarness({ user_connection_limit: 1, ping_interval: 1000, presence_ttl: 2000 });
    const token = await mintToken(hmacKey(), { sub: 'ana' });
    const { session, conn } = h.open();
    await connect(h, session, conn, token);
    for (let i = 0; i < 5; i++) {
      h.clock.advance(1000);
      h.heartbeat(session);
      await h.settle();
    }
    assert.equal(await h.node.users.count('ana'), 1);
    h.clock.advance(2001);
    assert.equal(await h.node.users.count('ana'), 0, 'an entry not renewed stops counting (a node that died)');
  });

  it('closes the user\'s older connection with 3504 under single_connection, and not the new one', async () => {
    const h = sessionHarness({ single_connection: true });
    const token = await mintToken(hmacKey(), { sub: 'ana' });
    const older = h.open();
    await connect(h, older.session, older.conn, token);
    const newer = h.open();
    await connect(h, newer.session, newer.conn, token);
    await h.settle();
    assert.equal(older.conn.closedWith()?.code, 3504);
    assert.match(older.conn.closedWith()!.reason, /single_connection/);
    assert.equal(newer.conn.closedWith(), undefined);
  });
});

describe('ClientSession: refused connects in the log', () => {
  it('logs a connect that onConnecting refuses with its code and full reason, once', async () => {
    const h = sessionHarness({}, { onConnecting: () => { throw new DisconnectError(4501, 'banned: spam from this account'); } });
    const { session, conn } = h.open();
    await send(h, session, conn, { id: 1, connect: {} });
    assert.equal(conn.closedWith()?.code, 4501);
    assert.deepEqual(h.refusals.withMessage('connect refused').map(({ code, reason, client, transport }) => ({ code, reason, client, transport })),
      [{ code: 4501, reason: 'banned: spam from this account', client: session.id, transport: 'websocket' }]);
  });

  it('logs a reply error from onConnecting with its code', async () => {
    const h = sessionHarness({}, { onConnecting: () => { throw new ReplyError(ErrorCode.PermissionDenied, 'permission denied: this account is suspended'); } });
    const { session, conn } = h.open();
    await send(h, session, conn, { id: 1, connect: {} });
    assert.equal(conn.take()[0]?.error?.code, 103);
    assert.deepEqual(h.refusals.withMessage('connect refused').map((l) => [l.code, l.reason]), [[103, 'permission denied: this account is suspended']]);
  });

  it('does not count an internal failure (100) as a refusal: it is logged as an error where it happens', async () => {
    const h = sessionHarness({}, { onConnecting: () => { throw new Error('a bug in the handler'); } });
    const { session, conn } = h.open();
    await send(h, session, conn, { id: 1, connect: {} });
    assert.equal(conn.take()[0]?.error?.code, 100);
    assert.deepEqual(h.refusals.lines, []);
  });
});

describe('ClientSession: the command rate limit', () => {
  /** Sends `n` rpc commands (ids from `first`) in one frame and returns their replies' error codes (0: a result). */
  async function burst(h: SessionHarness, session: ClientSession, conn: FakeConnection, first: number, n: number): Promise<number[]> {
    const ids = Array.from({ length: n }, (_, i) => first + i);
    session.handleFrame(ids.map((id) => JSON.stringify({ id, rpc: { method: 'm', data: {} } })).join('\n'));
    await h.settleUntil(() => ids.every((id) => conn.lines.some((l) => l.id === id)) || conn.closedWith() !== undefined, `replies to ${first}..${first + n - 1}`);
    const replies = conn.take();
    return ids.filter((id) => replies.some((l) => l.id === id)).map((id) => replies.find((l) => l.id === id)!.error?.code ?? 0);
  }

  it('refuses past the burst with 111, refills at the rate, and disconnects a flood with 3013', async () => {
    const h = sessionHarness({ client_command_rate: 10, client_command_burst: 4 }, { onRpc: () => ({}) });
    const { session, conn } = h.open();
    await connect(h, session, conn); // one token
    assert.deepEqual(await burst(h, session, conn, 10, 4), [0, 0, 0, 111], 'three tokens left of four');
    h.clock.advance(200); // two tokens back at 10/s
    assert.deepEqual(await burst(h, session, conn, 20, 3), [0, 0, 111]);
    assert.equal(conn.closedWith(), undefined, 'two refusals are no flood');
    await burst(h, session, conn, 30, 3); // five refusals within the window: more than the burst
    assert.equal(conn.closedWith()?.code, 3013);
    assert.match(conn.closedWith()!.reason, /^too many requests: more than 4 commands refused within a second/);
  });

  it('does not add up refusals of two windows, across the heartbeat that forgets the first', async () => {
    const h = sessionHarness({ client_command_rate: 10, client_command_burst: 2 }, { onRpc: () => ({}) });
    const { session, conn } = h.open();
    await connect(h, session, conn);
    assert.deepEqual(await burst(h, session, conn, 10, 3), [0, 111, 111], 'two refusals: at the burst, no flood');
    h.clock.advance(1000);
    h.heartbeat(session);
    conn.take();
    // Ten tokens' time passed, the bucket holds its burst of two again; two more refusals now are a new window's.
    assert.deepEqual(await burst(h, session, conn, 20, 4), [0, 0, 111, 111]);
    assert.equal(conn.closedWith(), undefined, 'refusals of two windows are not added up');
  });
});

describe('ClientSession: conn_info changed by a refresh', () => {
  it('shows the new info in later subscriptions only: earlier ones keep theirs, in presence and after a heartbeat', async () => {
    const h = sessionHarness();
    const { session, conn } = h.open();
    await connect(h, session, conn, await tokenFor(h, { sub: 'ann', info: { v: 1 } }, 60));
    await send(h, session, conn, { id: 2, subscribe: { channel: 'chat:before' } });
    await send(h, session, conn, { id: 3, subscribe: { channel: 'chat:chan-info', token: await mintToken(hmacKey(), { sub: 'ann', channel: 'chat:chan-info', info: { c: 1 } }) } });
    await send(h, session, conn, { id: 4, refresh: { token: await tokenFor(h, { sub: 'ann', info: { v: 2 } }, 60) } });
    await send(h, session, conn, { id: 5, subscribe: { channel: 'chat:after' } });
    assert.deepEqual(conn.take().filter((l) => l.error !== undefined), [], 'every command succeeded');
    h.heartbeat(session); // presence is added again, from each subscription's info
    conn.take();
    const presence = async (id: number, channel: string): Promise<unknown> => {
      await send(h, session, conn, { id, presence: { channel } });
      const entry = Object.values(conn.take().find((l) => l.id === id)!.presence.presence as Record<string, Wire>)[0]!;
      return { conn_info: entry.conn_info, chan_info: entry.chan_info };
    };
    assert.deepEqual(await presence(6, 'chat:before'), { conn_info: { v: 1 }, chan_info: undefined });
    assert.deepEqual(await presence(7, 'chat:chan-info'), { conn_info: { v: 1 }, chan_info: { c: 1 } });
    assert.deepEqual(await presence(8, 'chat:after'), { conn_info: { v: 2 }, chan_info: undefined });
  });

  it('shows a connection without conn_info as its user and client, also when a refresh adds conn_info later', async () => {
    const h = sessionHarness();
    const { session, conn } = h.open();
    const reply = await connect(h, session, conn, await tokenFor(h, { sub: 'bob' }, 60));
    const client = reply.client;
    await send(h, session, conn, { id: 2, subscribe: { channel: 'chat:before' } });
    await send(h, session, conn, { id: 3, refresh: { token: await tokenFor(h, { sub: 'bob', info: { v: 2 } }, 60) } });
    await send(h, session, conn, { id: 4, subscribe: { channel: 'chat:after' } });
    assert.deepEqual(conn.take().filter((l) => l.error !== undefined), [], 'every command succeeded');
    const presence = async (id: number, channel: string): Promise<unknown> => {
      await send(h, session, conn, { id, presence: { channel } });
      return Object.values(conn.take().find((l) => l.id === id)!.presence.presence as Record<string, Wire>);
    };
    assert.deepEqual(await presence(5, 'chat:before'), [{ user: 'bob', client }]);
    assert.deepEqual(await presence(6, 'chat:after'), [{ user: 'bob', client, conn_info: { v: 2 } }]);
    h.heartbeat(session); // presence is added again, from each subscription's info
    conn.take();
    assert.deepEqual(await presence(7, 'chat:before'), [{ user: 'bob', client }]);
  });
});
