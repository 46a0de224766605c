/**
 * Redis key and pub/sub channel names, all under one prefix. Every key of one channel, and its
 * pub/sub channel, carries the channel in a hash tag (`{chat:lobby}`), so that they share one
 * Redis Cluster slot: the Lua scripts touch that slot only, and a sharded publish (SPUBLISH) from
 * inside the script goes to the shard that holds the stream. Channel names cannot contain braces
 * (src/protocol/channel.ts), so the tag is always the whole channel name. The node registry's two
 * keys share the tag `{nodes}`; a user's connection keys share the user id, percent-encoded (a
 * user id may hold braces, which would cut the tag short).
 */
export class RedisKeys {
  readonly prefix: string;
  /** The pub/sub channel every node listens to for control messages (plain PUBLISH: every shard). */
  readonly control: string;
  /** Hash: node uid -> summary JSON. */
  readonly nodes: string;
  /** Sorted set: node uid -> when its announcement expires (ms). */
  readonly nodesSeen: string;
  readonly #pubsubPrefix: string;

  constructor(prefix: string) {
    this.prefix = prefix;
    this.control = `${prefix}.control`;
    this.nodes = `${prefix}.{nodes}`;
    this.nodesSeen = `${prefix}.{nodes}.seen`;
    this.#pubsubPrefix = `${prefix}.ch.{`;
  }

  stream(channel: string): string {
    return `${this.prefix}.stream.{${channel}}`;
  }

  meta(channel: string): string {
    return `${this.prefix}.meta.{${channel}}`;
  }

  idempotency(channel: string, key: string): string {
    return `${this.prefix}.idem.{${channel}}.${key}`;
  }

  presenceData(channel: string): string {
    return `${this.prefix}.presence.data.{${channel}}`;
  }

  presenceExpiry(channel: string): string {
    return `${this.prefix}.presence.expire.{${channel}}`;
  }

  presenceUsers(channel: string): string {
    return `${this.prefix}.presence.users.{${channel}}`;
  }

  /** Sorted set: client id -> when that connection of `user` stops counting (ms). */
  userConnections(user: string): string {
    return `${this.prefix}.users.{${encodeURIComponent(user)}}`;
  }

  /** Counter of `user`'s admissions (users.lua), same slot as {@link userConnections}. */
  userSeq(user: string): string {
    return `${this.prefix}.users.{${encodeURIComponent(user)}}.seq`;
  }

  /** The pub/sub channel that carries `channel`'s publications, joins and leaves. */
  pubsub(channel: string): string {
    return `${this.#pubsubPrefix}${channel}}`;
  }

  /** The canal channel of a pub/sub channel name, or undefined when it is not one of ours. */
  channelOf(pubsub: string): string | undefined {
    return pubsub.startsWith(this.#pubsubPrefix) && pubsub.endsWith('}') ? pubsub.slice(this.#pubsubPrefix.length, -1) : undefined;
  }
}
