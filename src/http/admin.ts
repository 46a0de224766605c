/**
 * The admin page at /admin: a login, then the server API's read and manage methods for a person
 * in a browser. Everything under /admin/ goes through one handler:
 *
 * - `GET /admin/` and its files (web/admin/): the page, sent with a CSP and frame-ancestors 'none';
 * - `GET /admin/session`: 200 `{"expires_at"}` with a valid session, else 401 saying why;
 * - `POST /admin/login` `{"password"}`: 200 and a session cookie, or 401 after a delay that grows
 *   with each wrong password from the address (429 while it must wait);
 * - `POST /admin/logout`: clears the cookie;
 * - `POST /admin/api/<method>`: one of {@link ADMIN_METHODS}, run by {@link ServerApi.call}.
 *
 * Every POST must come from the page itself (no cross-site Origin or Sec-Fetch-Site) as JSON,
 * and every API call needs a valid session cookie: the checks run on the server for each request.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { logField, WindowedLog, type Logger } from '../log.js';
import { ErrorCode } from '../protocol/codes.js';
import { readBody } from '../util/read-body.js';
import { signSession, readCookie, sessionCookie, sessionKey, SESSION_COOKIE, verifySession, type SessionProblem } from './admin-session.js';
import { LoginThrottle } from './admin-throttle.js';
import { sendJson, sendText, type Handler } from './dispatcher.js';
import { JsonSource, type ServerApi } from './server-api.js';
import { staticFiles, WEB_ROOT } from './static-files.js';

export const ADMIN_PREFIX = '/admin/';

/** The server API methods the admin page may call; others answer 404. */
export const ADMIN_METHODS: readonly string[] = ['info', 'channels', 'presence', 'presence_stats', 'history', 'publish', 'disconnect'];

/** Methods that change something: logged at info with who asked. */
const ACTIONS = new Set(['publish', 'disconnect']);

/** The admin page's settings when it is on. */
export interface AdminSettings {
  readonly password: string;
  readonly secret: string;
  /** Where the password comes from, for the login page (dev mode), or undefined. */
  readonly hint?: string;
}

/**
 * Whether the admin page is on, and with what: the configured admin_password and admin_secret;
 * else, in dev mode on a loopback address, the server API key (printed at start) as password
 * and `devSecret` (random per start) as secret. Otherwise off, with the reason.
 */
export function adminSettings(config: Readonly<Config>, devLoopback: boolean, apiKey: string | undefined, devSecret: string):
  AdminSettings | { readonly off: string } {
  if (config.admin_password !== undefined && config.admin_secret !== undefined) {
    return { password: config.admin_password, secret: config.admin_secret };
  }
  if (devLoopback && apiKey !== undefined) {
    return { password: apiKey, secret: devSecret, hint: 'Dev mode: the password is the server API key, which canal printed when it started ("dev mode: server API key ...").' };
  }
  return {
    off: 'The admin page is off: set admin_password and admin_secret (--admin-password and --admin-secret, or CANAL_ADMIN_PASSWORD and CANAL_ADMIN_SECRET) to turn it on. ' +
      'Dev mode turns it on by itself on a loopback address only.',
  };
}

/** The handler for /admin/ when the page is off: 404 with the reason, for every path and method. */
export function adminOff(reason: string): Handler {
  return (req, res) => {
    req.resume();
    sendText(res, 404, `${reason}\n`);
  };
}

export interface AdminOptions extends AdminSettings {
  readonly sessionTtlMs: number;
  /** Largest request body. */
  readonly maxBodyBytes: number;
  readonly log: Logger;
  /** The clock; default Date.now. */
  readonly now?: () => number;
  readonly throttle?: LoginThrottle;
}

/** Largest login body: a password and some JSON. */
const LOGIN_MAX_BYTES = 4096;

/** The page is a login form: no other site may frame it (clickjacking), and it runs only its own scripts. */
const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};

const SESSION_MESSAGES: Record<SessionProblem, string> = {
  missing: 'Log in first.',
  invalid: 'Your session is not valid here (the server\'s admin settings changed, or the cookie was altered). Log in again.',
  expired: 'Your session expired. Log in again.',
};

function fail(res: ServerResponse, status: number, code: number, message: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error: { code, message, ...extra } }, { 'cache-control': 'no-store', ...headers });
}

/**
 * Why a POST must be refused as cross-site, or undefined when it comes from the admin page
 * itself. Browsers send Sec-Fetch-Site and Origin with every fetch POST; a request with neither
 * is not from a browser page (curl, a script) and still needs the password or the cookie.
 * SameSite=Strict already keeps the cookie off other sites' requests; this also covers browsers
 * that do not honour it and the login form, which has no cookie yet.
 */
export function crossSiteReason(req: IncomingMessage): string | undefined {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return `Sec-Fetch-Site is ${site}`;
  const origin = req.headers.origin;
  if (origin === undefined) return undefined;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return `Origin ${origin} is not an origin`;
  }
  return host === req.headers.host ? undefined : `Origin ${origin} is not this server`;
}

function isJson(req: IncomingMessage): boolean {
  return /^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '');
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function isHttps(req: IncomingMessage): boolean {
  return (req.socket as { encrypted?: boolean }).encrypted === true || req.headers['x-forwarded-proto'] === 'https';
}

/** The handler for everything under /admin/ when the page is on. */
export function adminEndpoint(api: ServerApi, options: AdminOptions): Handler {
  const now = options.now ?? Date.now;
  const throttle = options.throttle ?? new LoginThrottle();
  const key = sessionKey(options.secret, options.password);
  const expected = digest(options.password);
  const log = options.log;
  const page = staticFiles(join(WEB_ROOT, 'admin'));

  const session = (req: IncomingMessage) => verifySession(key, readCookie(req.headers.cookie, SESSION_COOKIE), now());

  /**
   * Refused POSTs, at info like refused upgrades and connects: anyone can send them, so they are
   * bounded (20 a minute, then a count by status).
   */
  const refusals = new WindowedLog(log, 'admin requests refused', 'status');
  const refused = (req: IncomingMessage, status: number, reason: string): void => {
    refusals.info({
      status,
      reason: logField(reason),
      path: logField(req.url ?? ''),
      origin: req.headers.origin === undefined ? undefined : logField(req.headers.origin),
      remote: req.socket.remoteAddress,
    }, 'admin: request refused', status);
  };

  /** Refuses a POST that is cross-site or not JSON; returns whether it was refused. */
  const refusedPost = (req: IncomingMessage, res: ServerResponse): boolean => {
    const crossSite = crossSiteReason(req);
    if (crossSite !== undefined) {
      refused(req, 403, `cross-site request (${crossSite})`);
      fail(res, 403, ErrorCode.PermissionDenied, `cross-site request refused (${crossSite}): the admin API answers only the admin page itself`);
      return true;
    }
    if (!isJson(req)) {
      refused(req, 415, `not JSON (Content-Type: ${req.headers['content-type'] ?? 'none'})`);
      fail(res, 415, ErrorCode.BadRequest, 'send the request as JSON (Content-Type: application/json)');
      return true;
    }
    return false;
  };

  /** The request's JSON body, or undefined after answering 400/413. */
  const jsonBody = async (req: IncomingMessage, res: ServerResponse, limit: number): Promise<{ value: unknown; text: string } | undefined> => {
    const body = await readBody(req, limit);
    if (body === undefined) {
      // The rest of the body is never read (readBody stops at the limit): answer, then close.
      res.once('finish', () => req.socket.destroy());
      fail(res, 413, ErrorCode.LimitExceeded, `request body too large: at most ${limit} bytes`);
      return undefined;
    }
    const text = body.toString('utf8');
    try {
      return { value: text === '' ? {} : JSON.parse(text), text };
    } catch (err) {
      fail(res, 400, ErrorCode.BadRequest, `bad request: the body is not valid JSON (${(err as Error).message})`);
      return undefined;
    }
  };

  const login = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const address = req.socket.remoteAddress ?? '';
    const wait = throttle.retryAfter(address, now());
    if (wait > 0) {
      req.resume();
      const seconds = Math.ceil(wait / 1000);
      refused(req, 429, `login while the address waits after wrong passwords (${seconds} s more)`);
      return fail(res, 429, ErrorCode.TooManyRequests,
        `Too many wrong passwords from your address: try again in ${seconds} second${seconds === 1 ? '' : 's'}.`, {}, { 'retry-after': String(seconds) });
    }
    const body = await jsonBody(req, res, LOGIN_MAX_BYTES);
    if (!body) return;
    const password = (body.value as { password?: unknown } | null)?.password;
    if (typeof password !== 'string' || password === '') {
      return fail(res, 400, ErrorCode.BadRequest, 'bad request: send {"password": "..."}');
    }
    // Digests have one length, so the comparison takes the same time whatever was typed.
    if (!timingSafeEqual(digest(password), expected)) {
      const delay = throttle.failed(address, now());
      log.info({ remote: address, delay_ms: delay }, 'admin: wrong password');
      await new Promise((resolve) => setTimeout(resolve, delay).unref());
      return fail(res, 401, ErrorCode.Unauthorized, 'Wrong password.');
    }
    throttle.succeeded(address);
    const expiresAt = now() + options.sessionTtlMs;
    log.info({ remote: address }, 'admin: logged in');
    sendJson(res, 200, { expires_at: expiresAt }, {
      'cache-control': 'no-store',
      'set-cookie': sessionCookie(signSession(key, expiresAt), options.sessionTtlMs, isHttps(req)),
    });
  };

  const call = async (req: IncomingMessage, res: ServerResponse, method: string): Promise<void> => {
    const checked = session(req);
    if (!checked.ok) {
      req.resume();
      refused(req, 401, `session cookie ${checked.problem}`);
      return fail(res, 401, ErrorCode.Unauthorized, SESSION_MESSAGES[checked.problem], { session: checked.problem });
    }
    if (!ADMIN_METHODS.includes(method)) {
      req.resume();
      return fail(res, 404, ErrorCode.MethodNotFound, `method not found: the admin page offers ${ADMIN_METHODS.join(', ')}`);
    }
    const body = await jsonBody(req, res, options.maxBodyBytes);
    if (!body) return;
    const params = body.value as Record<string, unknown> | null;
    // The API would disconnect every anonymous connection of every node; nobody means that from a button.
    if (method === 'disconnect' && params?.user === '' && (params.client === undefined || params.client === '')) {
      return fail(res, 400, ErrorCode.BadRequest, 'bad request: to disconnect an anonymous connection (user ""), give its client id');
    }
    if (ACTIONS.has(method)) {
      log.info({ remote: req.socket.remoteAddress, method, channel: params?.channel, user: params?.user, client: params?.client }, 'admin: action');
    }
    const result = await api.call(method, body.value, body.text === '' ? undefined : new JsonSource(body.text));
    const status = result.outcome === 'bad_request' ? 400 : result.outcome === 'not_found' ? 404 : 200;
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(result.body), 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' });
    res.end(result.body);
  };

  return async (req, res, next) => {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    const rest = path === '/admin' ? '/' : path.slice(ADMIN_PREFIX.length - 1);
    if (rest === '/session' || rest === '/login' || rest === '/logout' || rest.startsWith('/api/')) {
      const wanted = rest === '/session' ? 'GET' : 'POST';
      if (req.method !== wanted) {
        req.resume();
        return fail(res, 405, ErrorCode.BadRequest, `method ${req.method ?? ''} not allowed: ${wanted} ${path}`, {}, { allow: wanted });
      }
    }
    if (rest === '/session') {
      const checked = session(req);
      if (checked.ok) return sendJson(res, 200, { expires_at: checked.expiresAt }, { 'cache-control': 'no-store' });
      return fail(res, 401, ErrorCode.Unauthorized, SESSION_MESSAGES[checked.problem], { session: checked.problem, ...(options.hint ? { hint: options.hint } : {}) });
    }
    if (rest === '/login' || rest === '/logout' || rest.startsWith('/api/')) {
      if (refusedPost(req, res)) {
        req.resume();
        return;
      }
      if (rest === '/login') return login(req, res);
      if (rest === '/logout') {
        req.resume();
        log.info({ remote: req.socket.remoteAddress }, 'admin: logged out');
        return sendJson(res, 200, {}, { 'cache-control': 'no-store', 'set-cookie': sessionCookie('', 0, isHttps(req)) });
      }
      return call(req, res, decodeMethod(rest.slice('/api/'.length)));
    }
    // The page's own files.
    for (const [name, value] of Object.entries(PAGE_HEADERS)) res.setHeader(name, value);
    const query = (req.url ?? '').slice(path.length);
    req.url = `${rest}${query}`;
    page(req, res, () => {
      req.url = `${path}${query}`;
      next();
    });
  };
}

function decodeMethod(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s; // not valid percent-encoding: an unknown method
  }
}
