// The admin page's calls to its server: GET /admin/session, POST /admin/login and /logout, and
// POST /admin/api/<method> (canal's server API behind the session cookie). The cookie is
// HttpOnly: this page never sees it, the browser sends it with every same-origin request.

/** The session is missing, expired or not valid here: log in again (the message says which). */
export class SessionError extends Error {}

/** A call failed; `code` is the server API's error code (0 when there was none). */
export class CallError extends Error {
  /** @param {number} code @param {string} message */
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/**
 * @typedef {{ code?: number, message?: string, hint?: string, session?: string }} ErrorBody
 * @typedef {{ result?: unknown, error?: ErrorBody, expires_at?: number }} Reply
 */

/**
 * Sends `body` as JSON to `path` and returns the parsed reply with its status.
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<{ status: number, reply: Reply }>}
 */
async function post(path, body) {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body ?? {}),
    cache: 'no-store',
    credentials: 'same-origin',
  });
  return { status: res.status, reply: await replyOf(res) };
}

/** @param {Response} res @returns {Promise<Reply>} */
async function replyOf(res) {
  try {
    return /** @type {Reply} */ (await res.json());
  } catch {
    return { error: { message: `the server answered HTTP ${res.status}` } };
  }
}

/**
 * Whether this browser is logged in: the session's end (Unix ms), or why not and a hint (dev
 * mode says where the password is).
 * @returns {Promise<{ expiresAt: number } | { message: string, problem: string, hint: string }>}
 */
export async function currentSession() {
  const res = await fetch('/admin/session', { cache: 'no-store', credentials: 'same-origin' });
  const reply = await replyOf(res);
  if (res.ok && typeof reply.expires_at === 'number') return { expiresAt: reply.expires_at };
  return { message: reply.error?.message ?? 'Log in.', problem: reply.error?.session ?? '', hint: reply.error?.hint ?? '' };
}

/**
 * Logs in; resolves with the session's end (Unix ms). Rejects with a CallError whose message
 * is the server's ("Wrong password.", "Too many wrong passwords...").
 * @param {string} password
 */
export async function logIn(password) {
  const { status, reply } = await post('/admin/login', { password });
  if (status !== 200 || typeof reply.expires_at !== 'number') {
    throw new CallError(reply.error?.code ?? 0, reply.error?.message ?? `login failed (HTTP ${status})`);
  }
  return reply.expires_at;
}

export async function logOut() {
  await post('/admin/logout');
}

/**
 * Calls server API method `method` with `params`; resolves with its result. Rejects with a
 * SessionError when the session is gone, a CallError when the method failed.
 * @param {string} method
 * @param {Record<string, unknown>} params
 * @returns {Promise<any>}
 */
export async function call(method, params = {}) {
  const { status, reply } = await post(`/admin/api/${encodeURIComponent(method)}`, params);
  if (status === 401) throw new SessionError(reply.error?.message ?? 'Log in again.');
  if (reply.error) throw new CallError(reply.error.code ?? 0, reply.error.message ?? `${method} failed (HTTP ${status})`);
  return reply.result;
}
