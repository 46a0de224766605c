/**
 * GET /demo/token: in loopback dev mode, a connection token for the demo pages, signed with the
 * secret dev mode made at start. It never exists with a secret the operator configured: then it
 * would mint a valid token for any user (issue 13, item 4).
 *
 * @runtimes node bun
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jwtVerify } from 'jose';
import { startServer } from '../helpers/server.js';
import { HMAC_SECRET } from '../helpers/tokens.js';

describe('GET /demo/token', () => {
  it('mints a token for the user, signed with the secret dev mode made, when no secret is configured', async () => {
    const server = await startServer();
    const res = await fetch(`${server.httpUrl}/demo/token?user=ana`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { user: string; token: string };
    assert.equal(body.user, 'ana');
    const { payload } = await jwtVerify(body.token, new TextEncoder().encode(server.canal.tokenSecret!));
    assert.equal(payload.sub, 'ana');
  });

  it('answers 400 naming the rule for a user name it does not take', async () => {
    const server = await startServer();
    const res = await fetch(`${server.httpUrl}/demo/token?user=${encodeURIComponent('<script>')}`);
    assert.equal(res.status, 400);
    assert.match(await res.text(), /user must be 1-32 letters/);
  });

  it('does not exist in dev mode when the operator configured token_hmac_secret: 404, no token', async () => {
    const server = await startServer({ token_hmac_secret: HMAC_SECRET });
    const res = await fetch(`${server.httpUrl}/demo/token?user=admin`);
    assert.equal(res.status, 404);
    assert.doesNotMatch(await res.text(), /eyJ/);
  });

  it('does not exist with dev mode off', async () => {
    const server = await startServer({ dev: false });
    assert.equal((await fetch(`${server.httpUrl}/demo/token?user=ana`)).status, 404);
  });
});
