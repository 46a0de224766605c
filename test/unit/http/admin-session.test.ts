import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readCookie, sessionCookie, sessionKey, signSession, verifySession } from '../../../src/http/admin-session.js';

const SECRET = 'an-admin-secret-of-at-least-32-characters';
const KEY = sessionKey(SECRET, 'the password');
const NOW = 1_800_000_000_000;

describe('admin session cookies', () => {
  it('accepts a value it signed until its expiry, and says when that is', () => {
    const value = signSession(KEY, NOW + 60_000);
    assert.deepEqual(verifySession(KEY, value, NOW), { ok: true, expiresAt: NOW + 60_000 });
    assert.deepEqual(verifySession(KEY, value, NOW + 59_999), { ok: true, expiresAt: NOW + 60_000 });
  });

  it('calls a signed value past its expiry expired', () => {
    const value = signSession(KEY, NOW + 60_000);
    assert.deepEqual(verifySession(KEY, value, NOW + 60_000), { ok: false, problem: 'expired' });
  });

  it('calls a value invalid when its expiry was changed, or it was signed with another secret or password', () => {
    const value = signSession(KEY, NOW + 60_000);
    const later = value.replace(/^\d+/, String(NOW + 3_600_000));
    assert.deepEqual(verifySession(KEY, later, NOW), { ok: false, problem: 'invalid' });
    assert.deepEqual(verifySession(sessionKey(`${SECRET}!`, 'the password'), value, NOW), { ok: false, problem: 'invalid' });
    assert.deepEqual(verifySession(sessionKey(SECRET, 'another password'), value, NOW), { ok: false, problem: 'invalid' });
  });

  it('calls garbage invalid and an absent cookie missing, without throwing', () => {
    for (const value of ['x', '.', 'a.b', '1.2.3', '..', 'notanumber.nonce.sig', '%%%', '1'.repeat(5000)]) {
      assert.deepEqual(verifySession(KEY, value, NOW), { ok: false, problem: 'invalid' }, value);
    }
    assert.deepEqual(verifySession(KEY, undefined, NOW), { ok: false, problem: 'missing' });
    assert.deepEqual(verifySession(KEY, '', NOW), { ok: false, problem: 'missing' });
  });

  it('signs two sessions with the same expiry differently', () => {
    assert.notEqual(signSession(KEY, NOW), signSession(KEY, NOW));
  });

  it('reads one cookie out of a Cookie header', () => {
    assert.equal(readCookie('a=1; canal_admin=v.x.y; b=2', 'canal_admin'), 'v.x.y');
    assert.equal(readCookie('canal_admin_other=1', 'canal_admin'), undefined);
    assert.equal(readCookie(undefined, 'canal_admin'), undefined);
    assert.equal(readCookie('junk; =; canal_admin=', 'canal_admin'), '');
  });

  it('sets the cookie HttpOnly, SameSite=Strict, on /admin, for its lifetime, Secure over https', () => {
    assert.equal(sessionCookie('v', 8 * 3_600_000, false), 'canal_admin=v; Path=/admin; Max-Age=28800; HttpOnly; SameSite=Strict');
    assert.equal(sessionCookie('', 0, true), 'canal_admin=; Path=/admin; Max-Age=0; HttpOnly; SameSite=Strict; Secure');
  });
});
