/**
 * The commands of a connected client that ask the node or the application for something and
 * leave the session's own state alone: publish, history, presence, presence_stats, rpc and send.
 * Each checks the channel rights it needs (auth/channel-rights.ts) and throws typed errors; the
 * session's one failure path turns them into what the client sees.
 */
import { requireHistory, requireListedUser, requirePresence, requireRight, type Asker } from '../auth/channel-rights.js';
import type { PublishInput } from '../node.js';
import { ErrorCode } from '../protocol/codes.js';
import { ReplyError } from '../protocol/errors.js';
import { parseData, toJsonText } from '../protocol/json-text.js';
import type {
  ChannelRequest, ClientInfo, HistoryRequest, HistoryResult, PresenceResult, PresenceStatsResult, PublishRequest, Results,
  RpcRequest, RpcResult, SendRequest,
} from '../protocol/types.js';
import type { Caller } from '../proxy/proxy.js';
import { withDefined } from '../util/defined.js';
import type { SessionContext } from './context.js';

/** The connected client a command comes from. */
export interface Requester {
  readonly id: string;
  readonly user: string;
  /** How the connection appears to others, where no subscription gives it another look. */
  readonly info: ClientInfo;
  /** The connection as proxy calls describe it. */
  caller(): Caller;
}

/** The client's subscriptions, by channel: its rights and its look in a channel depend on them. */
export interface SubscriptionsOf {
  has(channel: string): boolean;
  get(channel: string): { readonly info: ClientInfo } | undefined;
}

function asker(client: Requester, subs: SubscriptionsOf, channel: string): Asker {
  return { user: client.user, subscribed: subs.has(channel) };
}

/**
 * A user-limited channel (`#`) is closed to other users first, whatever else says; then the
 * application's onPublish runs (it may refuse, or replace the data), then the namespace's publish
 * proxy (the same, with what onPublish left); with neither, the namespace's allow_publish_*
 * options decide. Resolves once the engine accepted the publication.
 */
export async function publish(ctx: SessionContext, client: Requester, subs: SubscriptionsOf, req: PublishRequest): Promise<Results['publish']> {
  const { node, handlers, proxies } = ctx;
  const ns = node.requireNamespace(req.channel);
  requireListedUser(ns, req.channel, asker(client, subs, req.channel));
  let data = req.data;
  const proxy = proxies.get(ns.publish_proxy);
  let options: Omit<PublishInput, 'data' | 'info'> = {};
  if (handlers.onPublish) {
    const r = await handlers.onPublish({ client: client.id, user: client.user, channel: req.channel, data: parseData(data) });
    if (r && r.data !== undefined) data = toJsonText(r.data)!;
  }
  if (proxy) {
    const answer = await proxy.publish(client.caller(), req.channel, data);
    if (answer.data !== undefined) data = answer.data;
    options = withDefined({}, { skipHistory: answer.skipHistory || undefined, tags: answer.tags, idempotencyKey: answer.idempotencyKey });
  }
  if (!handlers.onPublish && !proxy) requireRight(ns, req.channel, 'publish', asker(client, subs, req.channel));
  const info = subs.get(req.channel)?.info ?? client.info;
  await node.publish(req.channel, { ...options, data, info });
  return {};
}

/** A page of the channel's history, when the namespace keeps history and lets this client read it. */
export async function history(ctx: SessionContext, client: Requester, subs: SubscriptionsOf, req: HistoryRequest): Promise<HistoryResult> {
  const { node } = ctx;
  const ns = node.requireNamespace(req.channel);
  requireHistory(ns, req.channel);
  requireListedUser(ns, req.channel, asker(client, subs, req.channel));
  requireRight(ns, req.channel, 'history', asker(client, subs, req.channel));
  const page = await node.history(req.channel, ns, withDefined(
    { limit: req.limit ?? 0, reverse: req.reverse },
    { since: req.since },
  ));
  return { publications: page.publications, epoch: page.position.epoch, offset: page.position.offset };
}

function requirePresenceRight(ctx: SessionContext, client: Requester, subs: SubscriptionsOf, channel: string): void {
  const ns = ctx.node.requireNamespace(channel);
  requirePresence(ns, channel);
  requireListedUser(ns, channel, asker(client, subs, channel));
  requireRight(ns, channel, 'presence', asker(client, subs, channel));
}

/** Who is in the channel, when the namespace keeps presence and lets this client read it. */
export async function presence(ctx: SessionContext, client: Requester, subs: SubscriptionsOf, req: ChannelRequest): Promise<PresenceResult> {
  requirePresenceRight(ctx, client, subs, req.channel);
  return { presence: await ctx.node.presence(req.channel) };
}

/** How many clients and users are in the channel, under the same rule as presence. */
export async function presenceStats(ctx: SessionContext, client: Requester, subs: SubscriptionsOf, req: ChannelRequest): Promise<PresenceStatsResult> {
  requirePresenceRight(ctx, client, subs, req.channel);
  const s = await ctx.node.presenceStats(req.channel);
  return { num_clients: s.numClients, num_users: s.numUsers };
}

/**
 * The application's onRpc answers first; when it has none, or throws 104 (method not found), the
 * rpc proxy answers. With neither, every method is 104.
 */
export async function rpc(ctx: SessionContext, client: Requester, req: RpcRequest): Promise<RpcResult> {
  const { handlers: { onRpc }, proxies } = ctx;
  if (onRpc) {
    try {
      const result = await onRpc(withDefined({ client: client.id, user: client.user, method: req.method }, { data: parseData(req.data) }));
      return withDefined<RpcResult>({}, { data: toJsonText(result) });
    } catch (err) {
      if (!(proxies.rpc && err instanceof ReplyError && err.code === ErrorCode.MethodNotFound)) throw err;
    }
  }
  if (proxies.rpc) return withDefined<RpcResult>({}, { data: await proxies.rpc.rpc(client.caller(), req.method, req.data) });
  throw new ReplyError(ErrorCode.MethodNotFound, `method not found: ${JSON.stringify(req.method)} (this server has no RPC methods)`);
}

/** A message for the application's onMessage, which has no reply (send). */
export async function send(ctx: SessionContext, client: Requester, req: SendRequest): Promise<void> {
  const { onMessage } = ctx.handlers;
  if (onMessage) await onMessage(withDefined({ client: client.id, user: client.user }, { data: parseData(req.data) }));
}
