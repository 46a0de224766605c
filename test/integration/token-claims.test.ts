/**
 * Centrifugo's token claims and algorithms that canal reads (issue 14, item 4): b64info, meta,
 * expire_at and subs in connection tokens; b64info, data, override, expire_at and client in
 * subscription tokens; RS384/RS512 and ES384/ES512 public keys; and a JWKS endpoint, whose keys
 * are fetched once and kept, and whose failure is a temporary error, not a bad token.
 *
 * @runtimes node bun
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { NAMESPACE_DEFAULTS, type NamespaceOptions } from '../../src/config/namespaces.js';
import { captureLog } from '../helpers/log-capture.js';
import { freePort } from '../helpers/redis.js';
import {
  assertSubset, closedWithin, connectedClient, expectReply, openProtocolClient, type Wire,
} from '../helpers/protocol-client.js';
import { startServer } from '../helpers/server.js';
import { createKeyPair, hmacKey, HMAC_SECRET, mintToken, secondsFromNow, type KeyPair } from '../helpers/tokens.js';

const ns = (options: Partial<NamespaceOptions>): NamespaceOptions => ({ ...NAMESPACE_DEFAULTS, ...options });

const NAMESPACES: Record<string, NamespaceOptions> = {
  room: ns({ allow_subscribe_for_client: true, presence: true, join_leave: true, allow_presence_for_subscriber: true, allow_presence_for_client: true }),
  private: ns({ presence: true, allow_presence_for_client: true }),
};

let unique = 0;
const fresh = (prefix: string): string => `${prefix}:c${++unique}`;
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64');
const hs256 = hmacKey();

/** Connects with `token` and resolves with the reply, or with how the connection closed. */
async function connectOutcome(baseUrl: string, token: string): Promise<{ reply?: Wire; closed?: { code: number; reason: string } }> {
  const c = await openProtocolClient(baseUrl);
  const id = c.command('connect', { token });
  const outcome = await Promise.race([
    c.reply(id).then((reply) => ({ reply }), () => new Promise<never>(() => {})),
    closedWithin(c).then((closed) => ({ closed })),
  ]);
  c.close();
  return outcome;
}

describe('connection token claims', async () => {
  const server = await startServer({ dev: false, token_hmac_secret: HMAC_SECRET, namespaces: NAMESPACES });

  it('takes b64info as the connection info (conn_info), in place of info', async () => {
    const token = await mintToken(hs256, { sub: 'alice', info: { from: 'info' }, b64info: b64({ from: 'b64info' }) });
    const c = await connectedClient(server.wsUrl, { token });
    const channel = fresh('room');
    await c.subscribe(channel);
    const { presence } = (await c.call('presence', { channel })).presence as Wire;
    assertSubset(presence, { [c.clientId]: { user: 'alice', conn_info: { from: 'b64info' } } });
    c.close();
  });

  it('closes 3500 when b64info is not base64', async () => {
    const { closed } = await connectOutcome(server.wsUrl, await mintToken(hs256, { sub: 'alice', b64info: '***' }));
    assert.equal(closed?.code, 3500, JSON.stringify(closed));
    assert.match(closed!.reason, /b64info/);
  });

  it('keeps b64info bytes that are not JSON as bytes: JSON clients see their base64', async () => {
    const bytes = Buffer.from([0xff, 0x01, 0x80]);
    const c = await connectedClient(server.wsUrl, { token: await mintToken(hs256, { sub: 'alice', b64info: bytes.toString('base64') }) });
    const channel = fresh('room');
    await c.subscribe(channel);
    const { presence } = (await c.call('presence', { channel })).presence as Wire;
    assertSubset(presence, { [c.clientId]: { user: 'alice', conn_info: bytes.toString('base64') } });
    c.close();
  });

  it('keeps meta on the connection and never shows it to other clients', async () => {
    const token = await mintToken(hs256, { sub: 'alice', info: { name: 'Alice' }, meta: { plan: 'gold', secret: 's3' } });
    const c = await connectedClient(server.wsUrl, { token });
    const channel = fresh('room');
    const watcher = await connectedClient(server.wsUrl, { token: await mintToken(hs256, { sub: 'bob' }) });
    await watcher.subscribe(channel, { join_leave: true });
    await c.subscribe(channel);
    const join = await watcher.nextPush({ kind: 'join', channel });
    const presence = await watcher.call('presence', { channel });
    for (const seen of [join, presence, ...c.lines.map((l) => JSON.parse(l) as Wire)]) {
      assert.doesNotMatch(JSON.stringify(seen), /gold|s3|meta/, `meta leaked in ${JSON.stringify(seen)}`);
    }
    c.close();
    watcher.close();
  });

  it('lets expire_at set the connection expiry: 0 means never, even with an exp', async () => {
    const never = await connectOutcome(server.wsUrl, await mintToken(hs256, { sub: 'alice', exp: secondsFromNow(60), expire_at: 0 }));
    assertSubset(never.reply, { connect: { expires: undefined, ttl: undefined } });
    const later = await connectOutcome(server.wsUrl, await mintToken(hs256, { sub: 'alice', expire_at: secondsFromNow(300) }));
    assertSubset(later.reply, { connect: { expires: true } });
    assert.ok(later.reply!.connect.ttl > 290 && later.reply!.connect.ttl <= 300, JSON.stringify(later.reply));
  });

  it('replies 110 expired to a token whose expire_at is past (its exp still valid), as Centrifugo does', async () => {
    const { reply } = await connectOutcome(server.wsUrl, await mintToken(hs256, { sub: 'alice', exp: secondsFromNow(60), expire_at: secondsFromNow(-5) }));
    expectReply(reply!, { id: 1, error: { code: 110 } });
  });

  it('subscribes to the subs claim with each channel\'s info, data and overrides, and ignores channels when subs is set', async () => {
    const [withInfo, noPresence, ignored] = [fresh('room'), fresh('room'), fresh('room')];
    const token = await mintToken(hs256, {
      sub: 'alice',
      channels: [ignored],
      subs: {
        [withInfo]: { info: { role: 'host' }, b64data: b64({ welcome: true }) },
        [noPresence]: { override: { presence: { value: false } } },
      },
    });
    const c = await openProtocolClient(server.wsUrl);
    const result = await c.connect({ token });
    assert.deepEqual(Object.keys(result.subs ?? {}).sort(), [withInfo, noPresence].sort());
    assertSubset(result.subs[withInfo], { data: { welcome: true } });
    const probe = await connectedClient(server.wsUrl, { token: await mintToken(hs256, { sub: 'probe' }) });
    const here = (await probe.call('presence', { channel: withInfo })).presence.presence as Wire;
    assertSubset(here, { [c.clientId]: { user: 'alice', chan_info: { role: 'host' } } });
    const absent = (await probe.call('presence', { channel: noPresence })).presence.presence as Wire;
    assert.deepEqual(absent, {}, 'override presence false keeps the connection out of presence');
    c.close();
    probe.close();
  });

  it('closes 3500 for a malformed subs claim', async () => {
    const { closed } = await connectOutcome(server.wsUrl, await mintToken(hs256, { sub: 'alice', subs: { 'room:x': { override: { presence: true } } } }));
    assert.equal(closed?.code, 3500);
    assert.match(closed!.reason, /override\.presence/);
  });
});

describe('subscription token claims', async () => {
  const server = await startServer({ dev: false, token_hmac_secret: HMAC_SECRET, namespaces: NAMESPACES });
  const alice = async () => connectedClient(server.wsUrl, { token: await mintToken(hs256, { sub: 'alice' }) });

  it('takes b64info as chan_info and returns data in the subscribe result', async () => {
    const c = await alice();
    const channel = fresh('private');
    const result = await c.subscribe(channel, { token: await mintToken(hs256, { sub: 'alice', channel, b64info: b64({ seat: 3 }), data: { hello: 'alice' } }) });
    assertSubset(result, { data: { hello: 'alice' } });
    const { presence } = (await c.call('presence', { channel })).presence as Wire;
    assertSubset(presence, { [c.clientId]: { chan_info: { seat: 3 } } });
    c.close();
  });

  it('replies 103 to a token whose client claim names another connection, and accepts its own', async () => {
    const c = await alice();
    const channel = fresh('private');
    expectReply(await c.call('subscribe', { channel, token: await mintToken(hs256, { sub: 'alice', channel, client: 'someone-else' }) }), { id: 2, error: { code: 103 } });
    expectReply(await c.call('subscribe', { channel, token: await mintToken(hs256, { sub: 'alice', channel, client: c.clientId }) }), { id: 3, subscribe: {} });
    c.close();
  });

  it('lets expire_at set the subscription expiry', async () => {
    const c = await alice();
    const channel = fresh('private');
    const result = await c.subscribe(channel, { token: await mintToken(hs256, { sub: 'alice', channel, expire_at: secondsFromNow(100) }) });
    assert.equal(result.expires, true);
    assert.ok(result.ttl > 90 && result.ttl <= 100, JSON.stringify(result));
    c.close();
  });
});

describe('RS384, RS512, ES384 and ES512 public keys', async () => {
  const keys: KeyPair[] = await Promise.all((['RS512', 'ES384', 'ES512'] as const).map((alg) => createKeyPair(alg)));
  for (const key of keys) {
    it(`connects with a valid ${key.alg} token`, async (t) => {
      const server = await startServer({ dev: false, token_public_key: key.publicKeyFile, namespaces: NAMESPACES });
      t.after(() => server.canal.close());
      const { reply } = await connectOutcome(server.wsUrl, await mintToken(key, { sub: `user-${key.alg}` }));
      assert.ok(reply?.connect, JSON.stringify(reply));
    });
  }

  it('connects with RS256, RS384 and RS512 tokens of one RSA key, and closes 3500 for an ES256 token on a P-384 key', async (t) => {
    // A KeyObject signs with any hash (a WebCrypto key is bound to one).
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const dir = mkdtempSync(join(tmpdir(), 'canal-rsa-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'rsa.pem');
    writeFileSync(file, publicKey.export({ type: 'spki', format: 'pem' }));
    const server = await startServer({ dev: false, token_public_key: file, namespaces: NAMESPACES });
    for (const alg of ['RS256', 'RS384', 'RS512'] as const) {
      const { reply } = await connectOutcome(server.wsUrl, await mintToken({ alg, key: privateKey as unknown as Uint8Array }, { sub: 'alice' }));
      assert.ok(reply?.connect, `${alg}: ${JSON.stringify(reply)}`);
    }
    const p384 = await startServer({ dev: false, token_public_key: keys[1]!.publicKeyFile, namespaces: NAMESPACES });
    const { closed } = await connectOutcome(p384.wsUrl, await mintToken(await createKeyPair('ES256'), { sub: 'alice' }));
    assert.equal(closed?.code, 3500);
  });
});

/** A JWKS endpoint on a free port that counts its requests. */
async function jwksServer(keys: readonly KeyPair[]): Promise<{ url: string; requests: () => number; server: Server }> {
  let requests = 0;
  const server = createServer((_req, res) => {
    requests++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: keys.map((k) => k.jwk) }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/.well-known/jwks.json`, requests: () => requests, server };
}

describe('token_jwks_url', async () => {
  const rsa = await createKeyPair('RS256');
  const ec = await createKeyPair('ES256');
  const jwks = await jwksServer([rsa, ec]);
  const server = await startServer({ dev: false, token_jwks_url: jwks.url, token_hmac_secret: HMAC_SECRET, namespaces: NAMESPACES });

  it('verifies RS256 and ES256 tokens by their kid with keys fetched once and kept, and HS256 tokens with the secret', async (t) => {
    t.after(() => jwks.server.close());
    for (const key of [rsa, ec, rsa]) {
      const { reply } = await connectOutcome(server.wsUrl, await mintToken(key, { sub: `user-${key.alg}` }));
      assert.ok(reply?.connect, `${key.alg}: ${JSON.stringify(reply)}`);
    }
    const { reply } = await connectOutcome(server.wsUrl, await mintToken(hs256, { sub: 'hs' }));
    assert.ok(reply?.connect, JSON.stringify(reply));
    assert.equal(jwks.requests(), 1, 'the key set was fetched once');
  });

  it('closes 3500 for a token whose kid is in no key of the set (without fetching it again at once)', async () => {
    const stranger = await createKeyPair('RS256');
    const { closed } = await connectOutcome(server.wsUrl, await mintToken(stranger, { sub: 'mallory' }));
    assert.equal(closed?.code, 3500);
    assert.match(closed!.reason, /no key/);
    assert.equal(jwks.requests(), 1);
  });

  it('replies a temporary 100 and logs the cause when the JWKS endpoint cannot be reached', async () => {
    const log = captureLog();
    const down = await startServer({
      dev: false, namespaces: NAMESPACES, logger: log.logger, token_jwks_url: `http://127.0.0.1:${await freePort()}/jwks.json`,
    });
    const { reply } = await connectOutcome(down.wsUrl, await mintToken(rsa, { sub: 'alice' }));
    expectReply(reply!, { id: 1, error: { code: 100, temporary: true } });
    assert.match(reply!.error.message, /token keys could not be fetched/);
    await log.settled();
    const lines = log.withMessage(/JWKS endpoint failed/);
    assert.equal(lines.length, 1, JSON.stringify(log.lines));
    assert.match(String(lines[0]!.jwks), /jwks\.json/);
  });
});
