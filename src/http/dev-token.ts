/**
 * GET /demo/token?user=NAME — dev mode only: a connection token for the demo pages, so the
 * chat shows who is who. It exists only in dev mode, where anyone who can reach the port may
 * connect anyway; with dev mode off the path is a 404 like any unknown page.
 */
import { SignJWT } from 'jose';
import { sendJson, type Handler } from './dispatcher.js';

const NAME = /^[\p{L}\p{N} _.-]{1,32}$/u;
const TTL_SECONDS = 3600;

export function devTokenEndpoint(secret: string): Handler {
  const key = new TextEncoder().encode(secret);
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const user = (url.searchParams.get('user') ?? '').trim();
    if (!NAME.test(user)) {
      sendJson(res, 400, { error: { code: 107, message: 'user must be 1-32 letters, digits, spaces, _ . -' } });
      return;
    }
    const exp = Math.floor(Date.now() / 1000) + TTL_SECONDS;
    const token = await new SignJWT({ info: { name: user } })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(user)
      .setIssuedAt()
      .setExpirationTime(exp)
      .sign(key);
    sendJson(res, 200, { user, token, expires_at: exp }, { 'cache-control': 'no-store' });
  };
}
