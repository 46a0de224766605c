/**
 * Connection and subscription tokens: HS256, RS256 and ES256 keys, refresh, expiry, and
 * token_issuer / token_audience.
 *
 * @runtimes node bun
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NAMESPACE_DEFAULTS, type NamespaceOptions } from '../../src/config/namespaces.js';
import {
  assertSubset, closedWithin, connectedClient, expectReply, openProtocolClient, type ProtocolClient, type Wire,
} from '../helpers/protocol-client.js';
import { startServer } from '../helpers/server.js';
import { createKeyPair, hmacKey, HMAC_SECRET, mintToken, secondsFromNow, unsignedToken, type SigningKey } from '../helpers/tokens.js';
import { sleep } from '../helpers/wait.js';

const ns = (options: Partial<NamespaceOptions>): NamespaceOptions => ({ ...NAMESPACE_DEFAULTS, ...options });

/** room: users subscribe freely; feed: nobody subscribes by themselves; private: a subscription token is needed. */
const NAMESPACES: Record<string, NamespaceOptions> = {
  room: ns({ allow_subscribe_for_client: true, presence: true, allow_presence_for_subscriber: true }),
  feed: ns({}),
  private: ns({ presence: true, allow_presence_for_subscriber: true }),
};

let unique = 0;
const fresh = (prefix: string): string => `${prefix}:t${++unique}`;

const hs256 = hmacKey();

/** Opens a client, sends connect with `token`, and resolves with the client and its reply. */
async function connectWith(baseUrl: string, token: string): Promise<{ c: ProtocolClient; reply: Wire }> {
  const c = await openProtocolClient(baseUrl);
  const reply = await c.call('connect', { token }).catch(() => ({}) as Wire);
  return { c, reply };
}

/** Asserts that connecting with `token` closes the connection with 3500 and a reason. */
async function expectInvalidToken(baseUrl: string, token: string): Promise<string> {
  const c = await openProtocolClient(baseUrl);
  const id = c.command('connect', { token });
  const reply = c.reply(id).then((r) => ({ reply: r }), () => new Promise<never>(() => {}));
  const outcome = await Promise.race([closedWithin(c), reply]);
  if ('reply' in outcome) {
    c.close();
    assert.fail(`expected close 3500, got the reply ${JSON.stringify(outcome.reply)}`);
  }
  const { code, reason } = outcome;
  assert.equal(code, 3500, `closed with ${code} ${reason}`);
  assert.notEqual(reason, '');
  assert.equal(c.lines.length, 0, `no reply expected before the close, got ${c.lines.join(' | ')}`);
  return reason;
}

function assertTtl(result: Wire, seconds: number): void {
  assert.equal(result.expires, true, `expected expires: true in ${JSON.stringify(result)}`);
  assert.ok(typeof result.ttl === 'number' && result.ttl <= seconds && result.ttl >= seconds - 2,
    `expected ttl about ${seconds}, got ${JSON.stringify(result)}`);
}

describe('connection tokens (HS256)', async () => {
  const server = await startServer({ dev: false, token_hmac_secret: HMAC_SECRET, namespaces: NAMESPACES });
  const rsa = await createKeyPair('RS256');

  it('connects with a valid HS256 token, with expires and ttl from its exp', async () => {
    const token = await mintToken(hs256, { sub: 'alice', exp: secondsFromNow(60) });
    const { c, reply } = await connectWith(server.wsUrl, token);
    assert.ok(reply.connect, JSON.stringify(reply));
    assertTtl(reply.connect, 60);
    c.close();
  });

  it('connects with neither expires nor ttl when the token has no exp', async () => {
    const { c, reply } = await connectWith(server.wsUrl, await mintToken(hs256, { sub: 'alice' }));
    assertSubset(reply, { id: 1, connect: { expires: undefined, ttl: undefined } });
    c.close();
  });

  it('makes sub the user, shown in presence with the info claim as conn_info', async () => {
    const token = await mintToken(hs256, { sub: 'alice', info: { name: 'Alice', color: 'teal' } });
    const c = await connectedClient(server.wsUrl, { token });
    const channel = fresh('room');
    await c.subscribe(channel);
    const { presence } = (await c.call('presence', { channel })).presence as Wire;
    assertSubset(presence, { [c.clientId]: { user: 'alice', client: c.clientId, conn_info: { name: 'Alice', color: 'teal' } } });
    c.close();
  });

  it('subscribes the connection to the channels claim on the server side and pushes their publications', async () => {
    const channel = fresh('feed');
    const c = await openProtocolClient(server.wsUrl);
    const { subs } = await c.connect({ token: await mintToken(hs256, { sub: 'alice', channels: [channel] }) });
    assert.ok(subs && typeof subs[channel] === 'object', `expected subs.${channel} in ${c.lines[0]}`);
    await server.canal.publish(channel, { headline: 'server-side' });
    assertSubset(await c.nextPush({ kind: 'pub', channel }), { push: { channel, pub: { data: { headline: 'server-side' } } } });
    c.close();
  });

  it('replies 109 token expired to connect with an expired token and keeps the connection open', async () => {
    const { c, reply } = await connectWith(server.wsUrl, await mintToken(hs256, { sub: 'alice', exp: secondsFromNow(-10) }));
    expectReply(reply, { id: 1, error: { code: 109 } });
    // A wait for something that must not happen: a close following the reply would come within it.
    await sleep(100);
    assert.ok(c.isOpen, 'the connection was closed after a 109 reply');
    c.close();
  });

  it('closes 3500 when the signature is bad', async () => {
    await expectInvalidToken(server.wsUrl, await mintToken(hmacKey('another-secret-of-at-least-32-characters!'), { sub: 'alice' }));
  });

  it('closes 3500 for an unsigned token (alg none)', async () => {
    await expectInvalidToken(server.wsUrl, unsignedToken({ sub: 'alice' }));
  });

  for (const alg of ['HS384', 'HS512'] as const) {
    it(`connects with an ${alg} token signed with the secret, as Centrifugo does`, async () => {
      const { c, reply } = await connectWith(server.wsUrl, await mintToken(hmacKey(HMAC_SECRET, alg), { sub: 'alice' }));
      assert.ok(reply.connect, JSON.stringify(reply));
      c.close();
    });
  }

  it('closes 3500 for an RS256 token on a server with only an HMAC secret', async () => {
    await expectInvalidToken(server.wsUrl, await mintToken(rsa, { sub: 'alice' }));
  });

  it('closes 3500 when the token has no sub claim', async () => {
    await expectInvalidToken(server.wsUrl, await mintToken(hs256, { info: { name: 'nobody' } }));
  });

  it('closes 3500 when the token is not a JWT', async () => {
    await expectInvalidToken(server.wsUrl, 'not-a-jwt');
    await expectInvalidToken(server.wsUrl, 'a.b.c');
  });

  it('closes 3500 when a subscription token (it has a channel claim) is used to connect', async () => {
    await expectInvalidToken(server.wsUrl, await mintToken(hs256, { sub: 'alice', channel: 'private:x' }));
  });

  it('replies 101 unauthorized to connect without a token when anonymous connections are off', async () => {
    const c = await openProtocolClient(server.wsUrl);
    expectReply(await c.call('connect', {}), { id: 1, error: { code: 101 } });
    c.close();
  });
});

describe('connection tokens (RS256 and ES256 public keys)', async () => {
  const rsa = await createKeyPair('RS256');
  const ec = await createKeyPair('ES256');
  const rsaServer = await startServer({ dev: false, token_public_key: rsa.publicKeyFile, namespaces: NAMESPACES });
  const ecServer = await startServer({ dev: false, token_public_key: ec.publicKeyFile, namespaces: NAMESPACES });

  for (const [key, server] of [[rsa, rsaServer], [ec, ecServer]] as const) {
    it(`connects with a valid ${key.alg} token, with expires and ttl from its exp, and sub as the user`, async () => {
      const token = await mintToken(key, { sub: `user-${key.alg}`, exp: secondsFromNow(120) });
      const { c, reply } = await connectWith(server.wsUrl, token);
      assert.ok(reply.connect, JSON.stringify(reply));
      assertTtl(reply.connect, 120);
      const channel = fresh('room');
      await c.subscribe(channel);
      const { presence } = (await c.call('presence', { channel })).presence as Wire;
      assertSubset(presence, { [reply.connect.client]: { user: `user-${key.alg}` } });
      c.close();
    });
  }

  it('closes 3500 for an RS256 token signed with another RSA key', async () => {
    await expectInvalidToken(rsaServer.wsUrl, await mintToken(await createKeyPair('RS256'), { sub: 'alice' }));
  });

  it('closes 3500 for an ES256 token on a server with an RSA public key', async () => {
    await expectInvalidToken(rsaServer.wsUrl, await mintToken(ec, { sub: 'alice' }));
  });

  it('closes 3500 for an HS256 token on a server with only a public key', async () => {
    await expectInvalidToken(rsaServer.wsUrl, await mintToken(hs256, { sub: 'alice' }));
  });

  it('closes 3500 for an HS256 token whose secret is the server\'s public key PEM (algorithm confusion)', async () => {
    const confused: SigningKey = { alg: 'HS256', key: new TextEncoder().encode(rsa.publicKeyPem) };
    await expectInvalidToken(rsaServer.wsUrl, await mintToken(confused, { sub: 'alice' }));
  });
});

describe('refresh', async () => {
  const server = await startServer({ dev: false, token_hmac_secret: HMAC_SECRET, namespaces: NAMESPACES });

  it('answers refresh with a new token with the new ttl', async () => {
    const c = await connectedClient(server.wsUrl, { token: await mintToken(hs256, { sub: 'alice', exp: secondsFromNow(30) }) });
    const reply = await c.call('refresh', { token: await mintToken(hs256, { sub: 'alice', exp: secondsFromNow(300) }) });
    assert.ok(reply.refresh, JSON.stringify(reply));
    assertTtl(reply.refresh, 300);
    c.close();
  });

  it('replies 109 when refresh brings an expired token', async () => {
    const c = await connectedClient(server.wsUrl, { token: await mintToken(hs256, { sub: 'alice', exp: secondsFromNow(30) }) });
    expectReply(await c.call('refresh', { token: await mintToken(hs256, { sub: 'alice', exp: secondsFromNow(-5) }) }), { id: 2, error: { code: 109 } });
    assert.ok(c.isOpen);
    c.close();
  });

  it('closes 3500 when refresh brings another user\'s token', async () => {
    const c = await connectedClient(server.wsUrl, { token: await mintToken(hs256, { sub: 'alice', exp: secondsFromNow(30) }) });
    c.command('refresh', { token: await mintToken(hs256, { sub: 'mallory', exp: secondsFromNow(300) }) });
    const { code, reason } = await closedWithin(c);
    assert.equal(code, 3500);
    assert.notEqual(reason, '');
  });
});

// Smoke tests with real timers: the server's clock and heartbeat do end what expired. The rules
// themselves (the ttl sent, the grace, refresh moving the deadline) are checked to the millisecond
// under a fake clock in test/unit/session/client-session.test.ts.
describe('expiry', { concurrency: true }, async () => {
  const server = await startServer({
    dev: false, token_hmac_secret: HMAC_SECRET, namespaces: NAMESPACES, ping_interval: 1000, pong_timeout: 500, client_expired_close_delay: 0,
  });

  /** The shortest safe exp: exp counts whole seconds, and this one leaves the token 1 to 2 s to reach the server. */
  const soon = (): number => secondsFromNow(2);

  it('closes 3005 a connection whose token expired unrefreshed', async () => {
    const c = await connectedClient(server.wsUrl, { token: await mintToken(hs256, { sub: 'alice', exp: soon() }) });
    const { code, reason } = await closedWithin(c, 10_000);
    assert.equal(code, 3005);
    assert.notEqual(reason, '');
  });

  it('ends a subscription whose token expired with an unsubscribe push (code 2501), the connection open', async () => {
    const c = await connectedClient(server.wsUrl, { token: await mintToken(hs256, { sub: 'alice' }) });
    const channel = fresh('private');
    const result = await c.subscribe(channel, { token: await mintToken(hs256, { sub: 'alice', channel, exp: soon() }) });
    assert.equal(result.expires, true);
    const push = await c.nextPush({ kind: 'unsubscribe' }, 10_000);
    assertSubset(push, { push: { channel, unsubscribe: { code: 2501 } } });
    assert.ok(c.isOpen);
    c.close();
  });
});

describe('subscription tokens', async () => {
  const server = await startServer({ dev: false, token_hmac_secret: HMAC_SECRET, namespaces: NAMESPACES });
  const alice = async (): Promise<ProtocolClient> => connectedClient(server.wsUrl, { token: await mintToken(hs256, { sub: 'alice' }) });

  it('replies 103 to subscribe without a token in a namespace with no allow_subscribe_* option', async () => {
    const c = await alice();
    expectReply(await c.call('subscribe', { channel: fresh('private') }), { id: 2, error: { code: 103 } });
    assert.ok(c.isOpen);
    c.close();
  });

  it('subscribes with a valid subscription token, its info claim becoming chan_info', async () => {
    const c = await alice();
    const channel = fresh('private');
    const result = await c.subscribe(channel, { token: await mintToken(hs256, { sub: 'alice', channel, info: { role: 'moderator' } }) });
    assertSubset(result, { expires: undefined });
    const { presence } = (await c.call('presence', { channel })).presence as Wire;
    assertSubset(presence, { [c.clientId]: { user: 'alice', chan_info: { role: 'moderator' } } });
    c.close();
  });

  it('replies 103 to a subscription token for another channel', async () => {
    const c = await alice();
    const token = await mintToken(hs256, { sub: 'alice', channel: fresh('private') });
    expectReply(await c.call('subscribe', { channel: fresh('private'), token }), { id: 2, error: { code: 103 } });
    c.close();
  });

  it('replies 103 to a subscription token for another user', async () => {
    const c = await alice();
    const channel = fresh('private');
    expectReply(await c.call('subscribe', { channel, token: await mintToken(hs256, { sub: 'bob', channel }) }), { id: 2, error: { code: 103 } });
    c.close();
  });

  it('replies 109 to an expired subscription token', async () => {
    const c = await alice();
    const channel = fresh('private');
    const token = await mintToken(hs256, { sub: 'alice', channel, exp: secondsFromNow(-10) });
    expectReply(await c.call('subscribe', { channel, token }), { id: 2, error: { code: 109 } });
    assert.ok(c.isOpen);
    c.close();
  });

  it('answers sub_refresh with a later token with the new ttl', async () => {
    const c = await alice();
    const channel = fresh('private');
    assertTtl(await c.subscribe(channel, { token: await mintToken(hs256, { sub: 'alice', channel, exp: secondsFromNow(30) }) }), 30);
    const reply = await c.call('sub_refresh', { channel, token: await mintToken(hs256, { sub: 'alice', channel, exp: secondsFromNow(600) }) });
    assertTtl(reply.sub_refresh, 600);
    c.close();
  });
});

describe('token_issuer and token_audience', async () => {
  const server = await startServer({
    dev: false, token_hmac_secret: HMAC_SECRET, token_issuer: 'https://auth.example', token_audience: 'canal-tests', namespaces: NAMESPACES,
  });
  const good = { iss: 'https://auth.example', aud: 'canal-tests' };

  it('accepts a token with the configured iss and aud', async () => {
    const { c, reply } = await connectWith(server.wsUrl, await mintToken(hs256, { sub: 'alice', ...good }));
    assert.ok(reply.connect, JSON.stringify(reply));
    c.close();
  });

  for (const [what, claims] of [
    ['another iss', { iss: 'https://evil.example', aud: good.aud }],
    ['no iss', { aud: good.aud }],
    ['another aud', { iss: good.iss, aud: 'other-app' }],
    ['no aud', { iss: good.iss }],
  ] as const) {
    it(`closes 3500 for a connection token with ${what}`, async () => {
      await expectInvalidToken(server.wsUrl, await mintToken(hs256, { sub: 'alice', ...claims }));
    });
  }

  it('replies 103 to a subscription token with another iss', async () => {
    const c = await connectedClient(server.wsUrl, { token: await mintToken(hs256, { sub: 'alice', ...good }) });
    const channel = fresh('private');
    const token = await mintToken(hs256, { sub: 'alice', channel, iss: 'https://evil.example', aud: good.aud });
    expectReply(await c.call('subscribe', { channel, token }), { id: 2, error: { code: 103 } });
    expectReply(await c.call('subscribe', { channel, token: await mintToken(hs256, { sub: 'alice', channel, ...good }) }), { id: 3, subscribe: {} });
    c.close();
  });
});
