/**
 * The admin page's session cookie: `<expiry ms>.<nonce>.<mac>`, where mac is HMAC-SHA256 over
 * the first two parts with a key made from admin_secret and admin_password. Stateless: any node
 * with the same two settings accepts it, and changing either logs every admin out. Pure but for
 * the random nonce: time is a parameter.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** The cookie's name. */
export const SESSION_COOKIE = 'canal_admin';

/** Why a request has no valid session. */
export type SessionProblem = 'missing' | 'invalid' | 'expired';

export type SessionCheck =
  | { readonly ok: true; readonly expiresAt: number }
  | { readonly ok: false; readonly problem: SessionProblem };

/** The key that signs sessions: derived from both settings, so that changing either revokes them. */
export function sessionKey(secret: string, password: string): Buffer {
  return createHmac('sha256', secret).update('canal admin session\0').update(password).digest();
}

function mac(key: Buffer, payload: string): Buffer {
  return createHmac('sha256', key).update(payload).digest();
}

/** A cookie value for a session that ends at `expiresAt` (Unix ms). */
export function signSession(key: Buffer, expiresAt: number): string {
  const payload = `${Math.floor(expiresAt)}.${randomBytes(12).toString('base64url')}`;
  return `${payload}.${mac(key, payload).toString('base64url')}`;
}

/**
 * Checks a cookie value: 'missing' when there is none, 'invalid' when it was not signed with
 * `key` (forged, altered, or from before the secret or password changed), 'expired' when it is
 * signed but past its expiry at `now`. The signature is compared in constant time.
 */
export function verifySession(key: Buffer, value: string | undefined, now: number): SessionCheck {
  if (value === undefined || value === '') return { ok: false, problem: 'missing' };
  const cut = value.lastIndexOf('.');
  if (cut <= 0) return { ok: false, problem: 'invalid' };
  const payload = value.slice(0, cut);
  const given = Buffer.from(value.slice(cut + 1), 'base64url');
  const expected = mac(key, payload);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, problem: 'invalid' };
  const expiresAt = Number(payload.split('.', 1)[0]);
  if (!Number.isSafeInteger(expiresAt)) return { ok: false, problem: 'invalid' };
  if (expiresAt <= now) return { ok: false, problem: 'expired' };
  return { ok: true, expiresAt };
}

/** The value of cookie `name` in a Cookie header (RFC 6265 §5.4 syntax), or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * The Set-Cookie value for `value`, kept `maxAgeMs`: HttpOnly (page scripts cannot read it),
 * SameSite=Strict (no other site's page can make the browser send it), Path=/admin, and Secure
 * when the page was reached over https.
 */
export function sessionCookie(value: string, maxAgeMs: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${value}; Path=/admin; Max-Age=${Math.max(0, Math.floor(maxAgeMs / 1000))}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}
