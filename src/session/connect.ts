/**
 * Who a connecting client is, what its connect reply says, and the log line when it is refused.
 * The connect command's credentials (a token, the application's onConnecting, the connect proxy)
 * become one identity here, checked against the server's rules; the session then admits it and
 * goes from connecting to connected. Nothing here touches the session's state.
 */
import { logField } from '../log.js';
import { DisconnectCode, ErrorCode } from '../protocol/codes.js';
import { AuthError, DisconnectError, ReplyError, toWire } from '../protocol/errors.js';
import { parseData, toJsonText } from '../protocol/json-text.js';
import type { SubscribeOptions } from '../protocol/subscribe-options.js';
import type { ConnectRequest, ConnectResult, JsonText, SubscribeResult } from '../protocol/types.js';
import type { Caller } from '../proxy/proxy.js';
import { withDefined } from '../util/defined.js';
import type { SessionConnection, SessionContext } from './context.js';
import { ttlSeconds } from './expiry.js';

/** A connecting client as the connect pipeline sees it. */
export interface ConnectingClient {
  readonly id: string;
  readonly remoteAddress: string | undefined;
  /** The connection as proxy calls describe it (the connect proxy is told the user known so far). */
  caller(): Caller;
}

/** Who the client is, once every source of credentials has spoken and the rules hold. */
export interface Identity {
  /** '' for an anonymous connection. */
  readonly user: string;
  readonly info: JsonText | undefined;
  /** For the client, in the connect reply. */
  readonly data: JsonText | undefined;
  /** For the backend, with proxy calls; never sent to clients. */
  readonly meta: JsonText | undefined;
  /** When the connection expires (Unix ms), if it does; in the future at `checkedAt`. */
  readonly expiresAt: number | undefined;
  /** The clock's time when the expiry was checked: the ttl the client is told counts from it. */
  readonly checkedAt: number;
  /** The server-side subscriptions (the personal channel included), at most client_max_channels. */
  readonly subs: ReadonlyMap<string, SubscribeOptions>;
}

/**
 * Who the client is, in the documented order (docs/proxy.md, "Proxies and in-process handlers"):
 * a token, when sent, says so; the application's onConnecting runs next and may change it; then,
 * for a connect without a token, the connect proxy, whose answer wins where it gives a value. Then
 * the personal channel.
 * Throws, in this order: a disconnect 3505 when the server-side subscriptions pass
 * client_max_channels; an AuthError when an anonymous connection is not allowed; 109 (an expiry
 * from onConnecting, as a token expiry) or 110 (from a token or the proxy's expire_at) when the
 * connection would already have expired, as in Centrifugo. Token, handler and proxy errors pass
 * through as they are.
 */
export async function identify(ctx: SessionContext, client: ConnectingClient, req: ConnectRequest): Promise<Identity> {
  const { tokens, handlers, anonymousAllowed, config, node, clock, proxies } = ctx;
  let user = '';
  let info: JsonText | undefined;
  let expiresAt: number | undefined;
  let pastExpiryCode: 109 | 110 = ErrorCode.Expired;
  let data: JsonText | undefined;
  let meta: JsonText | undefined;
  /** The connect proxy accepted the connection (with a user, or anonymous on purpose). */
  let backendAccepted = false;
  const subs = new Map<string, SubscribeOptions>();
  if (req.token !== undefined) {
    const claims = await tokens.verifyConnection(req.token);
    user = claims.user;
    info = claims.info;
    expiresAt = claims.expiresAt;
    meta = claims.meta;
    for (const [channel, options] of claims.subs) subs.set(channel, options);
  }
  if (handlers.onConnecting) {
    const r = await handlers.onConnecting(withDefined({ client: client.id, user }, {
      token: req.token, data: parseData(req.data), name: req.name, version: req.version, headers: req.headers,
      remoteAddress: client.remoteAddress,
    }));
    if (r) {
      if (r.user !== undefined) user = r.user;
      if (r.info !== undefined) info = toJsonText(r.info);
      if (r.data !== undefined) data = toJsonText(r.data);
      for (const channel of r.channels ?? []) if (!subs.has(channel)) subs.set(channel, {});
      if (r.expireAt !== undefined) {
        expiresAt = r.expireAt * 1000;
        pastExpiryCode = ErrorCode.TokenExpired;
      }
    }
  }
  if (req.token === undefined && proxies.connect) {
    const answer = await proxies.connect.connect({ ...client.caller(), user }, {
      data: req.data, name: req.name, version: req.version, channels: Object.keys(req.subs ?? {}),
    });
    if (answer) {
      backendAccepted = true;
      user = answer.user;
      if (answer.info !== undefined) info = answer.info;
      if (answer.data !== undefined) data = answer.data;
      if (answer.meta !== undefined) meta = answer.meta;
      if (answer.expiresAt !== undefined) {
        expiresAt = answer.expiresAt;
        pastExpiryCode = ErrorCode.Expired;
      }
      for (const [channel, options] of answer.subs) subs.set(channel, options);
    }
  }
  const personal = user === '' ? undefined : node.personalChannel(user);
  if (personal !== undefined && !subs.has(personal)) subs.set(personal, {});
  if (subs.size > config.client_max_channels) {
    // The connection would start past its own limit (issue 13: a token naming 1,000 channels got them all).
    throw new DisconnectError(DisconnectCode.ChannelLimit,
      `channel limit: the token or connect handler names ${subs.size} channels, more than client_max_channels (${config.client_max_channels})`);
  }
  if (user === '' && req.token === undefined && !anonymousAllowed && !backendAccepted) {
    throw new AuthError('missing', 'unauthorized: a connection token is required (anonymous connections are off)');
  }
  const now = clock.now();
  if (expiresAt !== undefined && expiresAt <= now) {
    if (pastExpiryCode === ErrorCode.TokenExpired) throw new AuthError('expired', 'connection token expired');
    throw new ReplyError(ErrorCode.Expired, 'expired: the connection\'s expire_at is not in the future');
  }
  return { user, info, data, meta, expiresAt, checkedAt: now, subs };
}

/**
 * The connect reply for `identity`: the ttl in whole seconds when the client must refresh, none
 * when the server refreshes through the backend (`serverRefresh`: a refresh proxy).
 */
export function connectResult(
  ctx: SessionContext,
  client: { readonly id: string; readonly emulationSession: string | undefined },
  identity: Identity,
  serverRefresh: boolean,
  subs: Record<string, SubscribeResult>,
): ConnectResult {
  const { expiresAt, checkedAt } = identity;
  const expires = expiresAt !== undefined && !serverRefresh;
  return withDefined<ConnectResult>(
    { client: client.id, version: ctx.version, ping: Math.round(ctx.config.ping_interval / 1000), pong: true },
    {
      expires: expires ? true : undefined,
      ttl: expires ? ttlSeconds(expiresAt!, checkedAt) : undefined,
      data: identity.data,
      subs: Object.keys(subs).length > 0 ? subs : undefined,
      session: client.emulationSession,
      node: ctx.node.id,
    },
  );
}

/**
 * Logs why a connect failed, when something decided to refuse it (issue 16: a 3500 or a 109
 * reached the client, and the server's log said nothing). Internal, engine and proxy failures
 * (code 100) are logged where they happen; a connection that closed while connecting was not
 * refused.
 */
export function logConnectRefused(ctx: SessionContext, conn: SessionConnection, client: string, err: unknown): void {
  const wire = toWire(err);
  if (wire.code === ErrorCode.Internal || wire.code === DisconnectCode.ConnectionClosed) return;
  const reason = err instanceof Error ? err.message : wire.kind === 'disconnect' ? wire.reason : wire.message;
  ctx.connectRefusals.info({
    code: wire.code,
    reason: logField(reason),
    client,
    transport: conn.transport,
    remote: conn.remoteAddress,
  }, 'connect refused', wire.code);
}
