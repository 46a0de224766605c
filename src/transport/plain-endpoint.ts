/**
 * Wires WebSockets on /raw/<channel> to plain-client sessions. The channel is checked before
 * the handshake, so a wrong URL gets an HTTP status with a sentence (404 unknown namespace, 400
 * bad name, 403 not allowed) instead of a socket that closes at once.
 */
import type { IncomingMessage } from 'node:http';
import type { RawData, WebSocket } from 'ws';
import { allowedByNamespace, userLimitedAccess } from '../auth/channel-rights.js';
import type { NamespaceOptions } from '../config/namespaces.js';
import type { CanalNode } from '../node.js';
import { ErrorCode } from '../protocol/codes.js';
import { ReplyError } from '../protocol/errors.js';
import { PlainSession, type PlainContext } from '../session/plain-session.js';
import type { Refusal } from './router.js';
import { adoptCompression, type WsConnection } from './ws-connection.js';

export const PLAIN_PREFIX = '/raw/';

const kPlain = Symbol('canal.plainSession');
type WithPlain = WebSocket & { [kPlain]: PlainSession };

/** What a /raw/ path resolves to: a channel and its namespace, or why it cannot be served. */
export type PlainTarget = { readonly channel: string; readonly ns: NamespaceOptions } | { readonly refusal: Refusal };

/**
 * Resolves `/raw/<channel>` (URL-decoded) against the namespaces; undefined for other paths.
 * `askHandler`: the application's onSubscribe decides after the handshake, not the namespace (as
 * does the namespace's subscribe proxy, when it has one).
 */
export function matchPlain(pathname: string, node: CanalNode, askHandler: boolean): PlainTarget | undefined {
  if (!pathname.startsWith(PLAIN_PREFIX)) return undefined;
  let channel: string;
  try {
    channel = decodeURIComponent(pathname.slice(PLAIN_PREFIX.length));
  } catch {
    return { refusal: { status: 400, message: 'bad channel: the path is not valid percent-encoding\n' } };
  }
  let ns: NamespaceOptions;
  try {
    ns = node.requireNamespace(channel);
  } catch (err) {
    if (!(err instanceof ReplyError)) throw err;
    const status = err.code === ErrorCode.UnknownChannel ? 404 : 400;
    return { refusal: { status, message: `${err.message}\n` } };
  }
  if (userLimitedAccess(ns, channel, '') === false) {
    return { refusal: { status: 403, message: `permission denied: ${channel} is a user-limited channel, and plain clients have no user\n` } };
  }
  if (!askHandler && ns.subscribe_proxy === undefined && !allowedByNamespace(ns, 'subscribe', { user: '', subscribed: false })) {
    return { refusal: { status: 403, message: `permission denied: plain clients may not subscribe to ${channel} (its namespace does not allow anonymous subscribers)\n` } };
  }
  return { channel, ns };
}

/** Starts a plain-client session on a freshly accepted socket. */
export function acceptPlainSocket(ws: WsConnection, req: IncomingMessage, target: { channel: string; ns: NamespaceOptions },
  ctx: PlainContext): PlainSession {
  const session = new PlainSession(adoptCompression(ws), target.channel, target.ns, ctx);
  (ws as unknown as WithPlain)[kPlain] = session;
  ws.on('message', onMessage);
  ws.on('close', onClose);
  void session.start();
  return session;
}

function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  const session = (this as WithPlain)[kPlain];
  if (isBinary) session.handleBinary();
  else session.handleText(data.toString());
}

function onClose(this: WebSocket): void {
  (this as WithPlain)[kPlain].connectionClosed();
}
