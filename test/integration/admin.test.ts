/**
 * The admin page's HTTP side: off unless configured (or in loopback dev mode), a login slowed
 * down after each wrong password, a signed session cookie checked on every call, no cross-site
 * requests, and only the methods the page offers.
 *
 * @runtimes node bun
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Canal, ConfigError } from '../../src/index.js';
import { sessionKey, signSession } from '../../src/http/admin-session.js';
import { connectedCentrifuge, once } from '../helpers/centrifuge.js';
import { getRaw } from '../helpers/http.js';
import { captureLog, INFO } from '../helpers/log-capture.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { HMAC_SECRET, hmacKey, mintToken } from '../helpers/tokens.js';

const PASSWORD = 'correct horse battery staple';
const SECRET = 'admin-secret-for-tests-0123456789abcdef';
const ADMIN = { admin_password: PASSWORD, admin_secret: SECRET };

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: { result?: any; error?: { code: number; message: string; session?: string; hint?: string }; expires_at?: number };
}

/** POSTs JSON to `path` as the admin page would (same origin), with `headers` on top. */
async function post(server: TestServer, path: string, body: unknown, headers: Record<string, string | undefined> = {}): Promise<Answer> {
  const all = { 'content-type': 'application/json', origin: server.httpUrl, 'sec-fetch-site': 'same-origin', ...headers };
  const res = await fetch(`${server.httpUrl}${path}`, {
    method: 'POST',
    headers: Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined)),
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Answer['body'] };
}

/** Logs in and returns the Cookie header to send. */
async function logIn(server: TestServer, password = PASSWORD): Promise<string> {
  const res = await post(server, '/admin/login', { password });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const cookie = res.headers.get('set-cookie') ?? '';
  return cookie.split(';', 1)[0]!;
}

describe('the admin page when it is off', async () => {
  const server = await startServer({ dev: false });

  it('answers 404 to /admin and its API, saying which options turn it on', async () => {
    for (const path of ['/admin', '/admin/', '/admin/admin.js', '/admin/session']) {
      const res = await fetch(`${server.httpUrl}${path}`);
      assert.equal(res.status, 404, path);
      assert.match(await res.text(), /^The admin page is off: set admin_password and admin_secret \(--admin-password and --admin-secret/, path);
    }
    const res = await fetch(`${server.httpUrl}/admin/login`, { method: 'POST', body: `{"password":"${PASSWORD}"}` });
    assert.equal(res.status, 404);
    await res.arrayBuffer();
  });

  it('refuses admin_password without admin_secret, and the other way round, naming what is missing', () => {
    assert.throws(() => new Canal({ admin_password: PASSWORD }), (err: ConfigError) =>
      err instanceof ConfigError && /^admin_secret: admin_password is set but admin_secret is not: the admin page needs both/.test(err.message));
    assert.throws(() => new Canal({ admin_secret: SECRET }), /^ConfigError: admin_password: admin_secret is set but admin_password is not/);
    assert.throws(() => new Canal({ admin_secret: 'short' }), /admin_secret: must be a secret of at least 32 characters/);
  });
});

describe('the admin page in loopback dev mode', async () => {
  const log = captureLog('info');
  const server = await startServer({ logger: log.logger });

  it('is on with the server API key as its password, and its login page says so', async () => {
    const res = await fetch(`${server.httpUrl}/admin/session`);
    assert.equal(res.status, 401);
    const body = (await res.json()) as Answer['body'];
    assert.match(body.error?.hint ?? '', /^Dev mode: the password is the server API key, which canal printed when it started/);
    await logIn(server, server.canal.apiKey);
  });

  it('logs where the admin page is, at info', async () => {
    await log.settled();
    const line = log.withMessage('admin page on (dev mode: its password is the server API key)')[0];
    assert.equal(line?.url, `${server.httpUrl}/admin`);
  });
});

describe('the admin page with admin_password and admin_secret', async () => {
  const log = captureLog('info');
  const server = await startServer({ ...ADMIN, token_hmac_secret: HMAC_SECRET, logger: log.logger });
  const key = sessionKey(SECRET, PASSWORD);

  it('serves the page with a CSP that forbids framing and foreign scripts', async () => {
    const res = await fetch(`${server.httpUrl}/admin`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(res.headers.get('content-security-policy'), "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'");
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    assert.match(await res.text(), /<script type="module" src="\/admin\/admin\.js"><\/script>/);
    for (const path of ['/admin/admin.js', '/admin/api.js', '/admin/admin.css']) assert.equal((await fetch(`${server.httpUrl}${path}`)).status, 200, path);
  });

  it('answers 404, and no file from elsewhere, to a path that climbs out of web/admin/', async () => {
    for (const path of ['/admin/../package.json', '/admin/..%2f..%2fpackage.json', '/admin/%2e%2e/package.json', '/admin/..%5cpackage.json']) {
      const res = await getRaw(server.port, path);
      assert.equal(res.status, 404, `${path} answered ${res.status}`);
      assert.ok(!res.body.includes('"name":'), path);
    }
  });

  it('logs in with the password: an HttpOnly, SameSite=Strict cookie on /admin that lasts admin_session_ttl', async () => {
    const res = await post(server, '/admin/login', { password: PASSWORD });
    assert.equal(res.status, 200);
    const cookie = res.headers.get('set-cookie') ?? '';
    assert.match(cookie, /^canal_admin=\d+\.[\w-]+\.[\w-]+; Path=\/admin; Max-Age=28800; HttpOnly; SameSite=Strict$/);
    assert.ok(Math.abs(res.body.expires_at! - (Date.now() + 8 * 3_600_000)) < 5000);
    const session = await fetch(`${server.httpUrl}/admin/session`, { headers: { cookie: cookie.split(';', 1)[0]! } });
    assert.equal(session.status, 200);
    assert.equal(((await session.json()) as Answer['body']).expires_at, res.body.expires_at);
  });

  it('calls the server API with a valid session cookie', async () => {
    const cookie = await logIn(server);
    const res = await post(server, '/admin/api/info', {}, { cookie });
    assert.equal(res.status, 200);
    assert.equal(res.body.result.nodes[0].uid, server.canal.node.id);
  });

  it('refuses an API call with no cookie, a forged one, an altered one and an expired one, saying which', async () => {
    const cases: Array<[string | undefined, string, RegExp]> = [
      [undefined, 'missing', /^Log in first\.$/],
      [`canal_admin=${signSession(sessionKey('another-secret-of-32-characters-or-more', PASSWORD), Date.now() + 60_000)}`, 'invalid', /^Your session is not valid here/],
      [`canal_admin=${signSession(key, Date.now() + 60_000).replace(/^\d+/, String(Date.now() + 86_400_000))}`, 'invalid', /^Your session is not valid here/],
      [`canal_admin=${signSession(key, Date.now() - 1)}`, 'expired', /^Your session expired\. Log in again\.$/],
      ['canal_admin=garbage', 'invalid', /^Your session is not valid here/],
    ];
    for (const [cookie, problem, message] of cases) {
      const res = await post(server, '/admin/api/info', {}, cookie ? { cookie } : {});
      assert.equal(res.status, 401, `${problem}: ${cookie}`);
      assert.equal(res.body.error?.code, 101);
      assert.equal(res.body.error?.session, problem);
      assert.match(res.body.error?.message ?? '', message);
      const session = await fetch(`${server.httpUrl}/admin/session`, cookie ? { headers: { cookie } } : {});
      assert.equal(session.status, 401);
      assert.equal(((await session.json()) as Answer['body']).error?.session, problem);
    }
    // The API calls are logged as refused; /admin/session, which the page asks before logging in, is not.
    await log.settled();
    const refused = log.withMessage('admin: request refused').filter((l) => l.status === 401).slice(-cases.length);
    assert.deepEqual(refused.map((l) => [l.path, l.reason]), cases.map(([, problem]) => ['/admin/api/info', `session cookie ${problem}`]));
  });

  it('refuses cross-site requests (CSRF) even with a valid cookie, and form posts that are not JSON', async () => {
    const cookie = await logIn(server);
    const evil = await post(server, '/admin/api/publish', { channel: 'chat:x', data: 1 }, { cookie, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' });
    assert.equal(evil.status, 403);
    assert.match(evil.body.error?.message ?? '', /^cross-site request refused \(Sec-Fetch-Site is cross-site\)/);
    const origin = await post(server, '/admin/api/publish', { channel: 'chat:x', data: 1 }, { cookie, origin: 'https://evil.example', 'sec-fetch-site': undefined });
    assert.equal(origin.status, 403);
    assert.match(origin.body.error?.message ?? '', /^cross-site request refused \(Origin https:\/\/evil\.example is not this server\)/);
    const sameSite = await post(server, '/admin/login', { password: PASSWORD }, { 'sec-fetch-site': 'same-site' });
    assert.equal(sameSite.status, 403, 'a sibling subdomain is another site for the admin page');
    const form = await fetch(`${server.httpUrl}/admin/api/disconnect`, {
      method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: 'user=bob',
    });
    assert.equal(form.status, 415);
    assert.match(((await form.json()) as Answer['body']).error?.message ?? '', /Content-Type: application\/json/);
    const get = await fetch(`${server.httpUrl}/admin/api/info`, { headers: { cookie } });
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
    await get.arrayBuffer();
    // Each refusal is one info line with its reason, as refused upgrades are.
    await log.settled();
    const lines = log.withMessage('admin: request refused').slice(-4);
    assert.deepEqual(lines.map(({ level, status, reason, path, origin, remote }) => ({ level, status, reason, path, origin, remote })), [
      { level: INFO, status: 403, reason: 'cross-site request (Sec-Fetch-Site is cross-site)', path: '/admin/api/publish', origin: 'https://evil.example', remote: '127.0.0.1' },
      { level: INFO, status: 403, reason: 'cross-site request (Origin https://evil.example is not this server)', path: '/admin/api/publish', origin: 'https://evil.example', remote: '127.0.0.1' },
      { level: INFO, status: 403, reason: 'cross-site request (Sec-Fetch-Site is same-site)', path: '/admin/login', origin: server.httpUrl, remote: '127.0.0.1' },
      { level: INFO, status: 415, reason: 'not JSON (Content-Type: application/x-www-form-urlencoded)', path: '/admin/api/disconnect', origin: undefined, remote: '127.0.0.1' },
    ]);
  });

  it('offers only the admin page\'s methods', async () => {
    const cookie = await logIn(server);
    for (const method of ['broadcast', 'batch', 'history_remove', 'subscribe', 'nosuch']) {
      const res = await post(server, `/admin/api/${method}`, {}, { cookie });
      assert.equal(res.status, 404, method);
      assert.equal(res.body.error?.code, 104);
    }
  });

  it('publishes, reads presence and history, and disconnects a user, logging each action', async (t) => {
    const cookie = await logIn(server);
    const token = await mintToken(hmacKey(HMAC_SECRET), { sub: 'bob' });
    const bob = await connectedCentrifuge(t, server, { token, minReconnectDelay: 60_000 });
    const sub = bob.newSubscription('chat:admin');
    sub.subscribe();
    await sub.ready(5000);

    const published = once(sub, 'publication');
    const pub = await post(server, '/admin/api/publish', { channel: 'chat:admin', data: { text: 'from the admin' } }, { cookie });
    assert.equal(pub.status, 200);
    assert.deepEqual((await published).data, { text: 'from the admin' });
    const history = await post(server, '/admin/api/history', { channel: 'chat:admin', limit: 5 }, { cookie });
    assert.deepEqual(history.body.result.publications.map((p: { data: unknown }) => p.data), [{ text: 'from the admin' }]);
    const presence = await post(server, '/admin/api/presence', { channel: 'chat:admin' }, { cookie });
    assert.deepEqual(Object.values(presence.body.result.presence).map((p) => (p as { user: string }).user), ['bob']);

    const disconnected = once(bob, 'disconnected');
    const res = await post(server, '/admin/api/disconnect', { user: 'bob' }, { cookie });
    assert.equal(res.status, 200);
    assert.equal((await disconnected).code, 3503);
    await log.settled();
    const actions = log.withMessage('admin: action').map((l) => [l.method, l.channel ?? l.user]);
    assert.deepEqual(actions, [['publish', 'chat:admin'], ['disconnect', 'bob']]);
  });

  it('refuses to disconnect every anonymous connection at once', async () => {
    const cookie = await logIn(server);
    const res = await post(server, '/admin/api/disconnect', { user: '' }, { cookie });
    assert.equal(res.status, 400);
    assert.match(res.body.error?.message ?? '', /give its client id/);
  });

  it('answers a malformed login with 400 and what to send', async () => {
    for (const body of ['{not json', '{}', '{"password": 5}']) {
      const res = await post(server, '/admin/login', body);
      assert.equal(res.status, 400, body);
      assert.equal(res.body.error?.code, 107);
    }
  });

  it('logs out by clearing the cookie', async () => {
    const res = await post(server, '/admin/logout', {});
    assert.equal(res.status, 200);
    assert.match(res.headers.get('set-cookie') ?? '', /^canal_admin=; Path=\/admin; Max-Age=0; HttpOnly; SameSite=Strict$/);
  });
});

describe('wrong admin passwords', async () => {
  const log = captureLog('info');
  const server = await startServer({ ...ADMIN, logger: log.logger });

  it('are refused with "Wrong password." after a delay that doubles, and no try is taken while the address waits', async () => {
    let started = Date.now();
    const first = await post(server, '/admin/login', { password: 'guess 1' });
    const firstMs = Date.now() - started;
    assert.equal(first.status, 401);
    assert.deepEqual(first.body.error, { code: 101, message: 'Wrong password.' });
    assert.ok(firstMs >= 240, `the first wrong password was answered after ${firstMs} ms`);

    started = Date.now();
    const [second, during] = await Promise.all([
      post(server, '/admin/login', { password: 'guess 2' }),
      // Sent while the second is held back: refused at once, the password not even looked at.
      new Promise<Answer>((resolve) => setTimeout(() => resolve(post(server, '/admin/login', { password: PASSWORD })), 100)),
    ]);
    assert.equal(second.status, 401);
    assert.ok(Date.now() - started >= 490, 'the second wrong password waits twice as long');
    assert.equal(during.status, 429);
    assert.match(during.body.error?.message ?? '', /^Too many wrong passwords from your address: try again in 1 second\.$/);
    assert.equal(during.headers.get('retry-after'), '1');
    await log.settled();
    assert.deepEqual(log.withMessage('admin: request refused').map((l) => [l.level, l.status, l.reason]),
      [[INFO, 429, 'login while the address waits after wrong passwords (1 s more)']]);

    // Once the wait is over, the right password is accepted and the count starts over.
    await logIn(server);
    await log.settled();
    assert.equal(log.withMessage('admin: wrong password').length, 2);
  });
});
