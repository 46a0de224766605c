/**
 * Who may do what in a channel, by its namespace's options: the one place the `allow_*_for_*`
 * options and the namespace's features (history, presence) are read, for protocol sessions,
 * plain /raw/ clients and the server API alike. A token or an application handler may grant
 * more; the callers ask those first. Pure.
 */
import type { NamespaceOptions } from '../config/namespaces.js';
import { ErrorCode } from '../protocol/codes.js';
import { ReplyError } from '../protocol/errors.js';

/** What a client asks to do in a channel. */
export type ChannelAction = 'subscribe' | 'publish' | 'history' | 'presence';

/** Who asks: its user ('' for an anonymous connection) and whether it is subscribed to the channel. */
export interface Asker {
  readonly user: string;
  readonly subscribed: boolean;
}

/** A plain /raw/ client: anonymous, and subscribed to its one channel. */
export const PLAIN_CLIENT: Asker = { user: '', subscribed: true };

/**
 * Whether `asker` may do `action` by the namespace's options alone: the `_for_anonymous` option
 * for an anonymous asker, `_for_client` for one with a user, or `_for_subscriber` (publish,
 * history and presence) when it is subscribed.
 */
export function allowedByNamespace(ns: NamespaceOptions, action: ChannelAction, asker: Asker): boolean {
  const anonymous = asker.user === '';
  switch (action) {
    case 'subscribe':
      return anonymous ? ns.allow_subscribe_for_anonymous : ns.allow_subscribe_for_client;
    case 'publish':
      return (anonymous ? ns.allow_publish_for_anonymous : ns.allow_publish_for_client) || (asker.subscribed && ns.allow_publish_for_subscriber);
    case 'history':
      return (anonymous ? ns.allow_history_for_anonymous : ns.allow_history_for_client) || (asker.subscribed && ns.allow_history_for_subscriber);
    case 'presence':
      return (anonymous ? ns.allow_presence_for_anonymous : ns.allow_presence_for_client) || (asker.subscribed && ns.allow_presence_for_subscriber);
  }
}

/** Throws 103 permission denied, with a sentence naming what is missing, unless {@link allowedByNamespace}. */
export function requireRight(ns: NamespaceOptions, channel: string, action: ChannelAction, asker: Asker): void {
  if (allowedByNamespace(ns, action, asker)) return;
  throw new ReplyError(ErrorCode.PermissionDenied, deniedMessage(channel, action, asker));
}

function deniedMessage(channel: string, action: ChannelAction, asker: Asker): string {
  switch (action) {
    case 'subscribe':
      return asker.user === ''
        ? `permission denied: namespace of ${channel} does not allow anonymous subscribers`
        : `permission denied: subscribing to ${channel} needs a subscription token`;
    case 'publish':
      return `permission denied: clients may not publish to ${channel}`;
    case 'history':
      return `permission denied: clients may not read the history of ${channel}`;
    case 'presence':
      return `permission denied: clients may not read the presence of ${channel}`;
  }
}

/** Throws 108 not available when the namespace keeps no history (`history_size` 0). */
export function requireHistory(ns: NamespaceOptions, channel: string): void {
  if (ns.history_size === 0) throw new ReplyError(ErrorCode.NotAvailable, `not available: ${channel} keeps no history`);
}

/** Throws 108 not available when the namespace keeps no presence. */
export function requirePresence(ns: NamespaceOptions, channel: string): void {
  if (!ns.presence) throw new ReplyError(ErrorCode.NotAvailable, `not available: ${channel} keeps no presence`);
}

/**
 * For a user-limited channel — a `#` in its name, in a namespace with allow_user_limited_channels
 * or user_personal_channel — whether `user` is one of the users listed after the last `#`
 * (comma-separated): `dialog:#alice,bob` is alice's and bob's, and `personal:#alice` (alice's
 * personal channel) alice's alone, whatever the namespace's other options say. Anonymous
 * connections are never listed. Undefined for any other channel.
 */
export function userLimitedAccess(ns: NamespaceOptions, channel: string, user: string): boolean | undefined {
  if (!ns.allow_user_limited_channels && !ns.user_personal_channel) return undefined;
  const boundary = channel.lastIndexOf('#');
  if (boundary === -1) return undefined;
  return user !== '' && channel.slice(boundary + 1).split(',').includes(user);
}

/**
 * Throws 103 permission denied when `channel` is user-limited and `asker` is not one of its
 * users — unless it is subscribed, which only the backend can have granted (a subscription
 * token, a server-side subscription). Asked before anything else for publish, history and
 * presence: neither the namespace's `allow_*_for_client` options nor an onPublish handler or a
 * publish proxy open a user's channel to another user.
 */
export function requireListedUser(ns: NamespaceOptions, channel: string, asker: Asker): void {
  if (asker.subscribed || userLimitedAccess(ns, channel, asker.user) !== false) return;
  throw new ReplyError(ErrorCode.PermissionDenied, userLimitedDenial(channel));
}

/** The sentence of a refusal in a user-limited channel. */
export function userLimitedDenial(channel: string): string {
  return `permission denied: ${channel} is limited to the users listed after its last "#"`;
}
