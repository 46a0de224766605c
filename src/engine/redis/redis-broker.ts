/**
 * The Redis Broker: several canal nodes share channels through Redis (one server, a
 * Sentinel-managed master, or a Cluster). Publishing is one Lua script (publish.lua) that bumps
 * the offset, appends to the history stream and publishes to pub/sub atomically (SPUBLISH on a
 * cluster: only the shard that holds the channel carries it). Each node subscribes to a
 * channel's pub/sub channel only while it has local subscribers, so a publication crosses Redis
 * once per interested node. When the subscriber connection comes back after a drop, the broker
 * re-subscribes the channels it still wants (not those given up meanwhile), then tells the
 * handler (onInsufficientState), which checks those channels against their streams. On a
 * cluster the same goes for each shard's sharded-pub/sub connection, which ioredis replaces and
 * re-subscribes on its own (a shard restarted, its connection dropped, slots moved).
 */
import type { Logger } from '../../log.js';
import { encodeClientInfo } from '../../protocol/encode.js';
import type { ClientInfo, Publication, StreamPosition } from '../../protocol/types.js';
import { newEpoch } from '../memory/memory-broker.js';
import {
  UnrecoverablePositionError, type Broker, type BrokerEventHandler, type ControlMessage, type HistoryPage,
  type HistoryQuery, type PublicationInput, type PublishOptions,
} from '../types.js';
import { decodeBody, headerRest, infoFromWire, Kind } from './codec.js';
import { unavailable, type RedisConnections } from './connections.js';
import type { RedisKeys } from './keys.js';

type HistoryMode = 'none' | 'oldest' | 'newest' | 'after' | 'before';
/**
 * Publications one history script call reads at most: a long read (a recovery, a gap repaired
 * on the node, `limit: -1`) is several calls, so Redis never loads a whole stream in one script.
 */
export const HISTORY_READ_PAGE = 1000;
/**
 * After ioredis re-subscribed a cluster's shards, channels are checked this much later, and at
 * most this often. Later: it sends the SSUBSCRIBEs without a way to wait for them, and a check
 * made before they take effect could miss a publication in between. At most this often: ioredis
 * reports its subscribers ready after every reconnect attempt, failed ones too (about every
 * 2 s while a shard stays down), and each check reads every channel's stream and renews presence.
 */
const SHARDS_SETTLE_MS = 500;
/** Times a paged read starts again when the stream's epoch changed between its pages. */
const EPOCH_RETRIES = 3;
type StreamEntry = [string, string[]];

export class RedisBroker implements Broker {
  readonly #conn: RedisConnections;
  readonly #keys: RedisKeys;
  readonly #log: Logger;
  #handler: BrokerEventHandler | undefined;
  #readyOnce = false;
  /** The channels this node asked for and has not given up: what a reconnect re-subscribes. */
  readonly #wanted = new Set<string>();
  /** A check after the shards' re-subscription is due; `#checkAgain`: another one after it. */
  #shardsCheck: NodeJS.Timeout | undefined;
  #checkAgain = false;

  constructor(conn: RedisConnections, keys: RedisKeys, log: Logger) {
    this.#conn = conn;
    this.#keys = keys;
    this.#log = log;
  }

  async start(handler: BrokerEventHandler): Promise<void> {
    this.#handler = handler;
    const sub = this.#conn.subscriber;
    sub.on('message', (pubsub: string, message: string) => this.#onMessage(pubsub, message));
    sub.on('smessage', (pubsub: string, message: string) => this.#onMessage(pubsub, message));
    sub.on('ready', () => {
      // The first ready is the start; any later one follows a drop that may have lost messages.
      if (this.#readyOnce) void this.#resubscribe();
      this.#readyOnce = true;
    });
    // ioredis emits subscribersReady once it has (re)created a cluster's per-shard subscriber
    // connections and sent their SSUBSCRIBEs: at start, and after a shard's connection was
    // replaced. Whatever that shard published meanwhile never reached this node: a possible gap,
    // as after a plain link's reconnect (issue 12 item 3).
    if (this.#conn.sharded) sub.on('subscribersReady', () => this.#onShardsResubscribed());
    await this.#conn.start();
    try {
      await sub.subscribe(this.#keys.control);
    } catch (err) {
      throw unavailable('subscribe to the control channel', err);
    }
  }

  /**
   * After a reconnect: the control channel and every channel still wanted, in batches, then the
   * handler checks them. Channels given up while Redis was away stay given up (issue 13 item 7).
   * A cluster's sharded subscriptions are restored by ioredis per shard; the check still runs.
   */
  async #resubscribe(): Promise<void> {
    const sub = this.#conn.subscriber;
    try {
      await sub.subscribe(this.#keys.control);
      if (!this.#conn.sharded) {
        const channels = [...this.#wanted].map((c) => this.#keys.pubsub(c));
        for (let i = 0; i < channels.length; i += 500) await sub.subscribe(...channels.slice(i, i + 500));
      }
    } catch (err) {
      // The connection dropped again; its next ready runs this again.
      this.#log.warn({ err: (err as Error).message }, 'Redis re-subscribe failed; will retry on reconnect');
      return;
    }
    this.#handler?.onInsufficientState();
  }

  /** Checks once SHARDS_SETTLE_MS after the last report, and at most once per SHARDS_SETTLE_MS. */
  #onShardsResubscribed(): void {
    if (this.#wanted.size === 0) return;
    if (this.#shardsCheck !== undefined) {
      this.#checkAgain = true;
      return;
    }
    this.#shardsCheck = setTimeout(() => {
      this.#shardsCheck = undefined;
      this.#handler?.onInsufficientState();
      if (this.#checkAgain) {
        this.#checkAgain = false;
        this.#onShardsResubscribed();
      }
    }, SHARDS_SETTLE_MS);
    this.#shardsCheck.unref();
  }

  #onMessage(pubsub: string, message: string): void {
    const handler = this.#handler;
    if (!handler) return;
    try {
      if (pubsub === this.#keys.control) {
        handler.onControl(JSON.parse(message) as ControlMessage);
        return;
      }
      const channel = this.#keys.channelOf(pubsub);
      if (channel === undefined) return;
      const kind = message[0];
      if (kind === Kind.Publication) {
        const { pub, position } = decodeBody(message.slice(1));
        handler.onPublication(channel, pub, position);
      } else if (kind === Kind.Join) {
        handler.onJoin(channel, infoFromWire(JSON.parse(message.slice(1))));
      } else if (kind === Kind.Leave) {
        handler.onLeave(channel, infoFromWire(JSON.parse(message.slice(1))));
      }
    } catch (err) {
      this.#log.error({ err, pubsub }, 'malformed message from Redis pub/sub; ignored');
    }
  }

  async publish(channel: string, input: PublicationInput, options: PublishOptions): Promise<StreamPosition> {
    const k = this.#keys;
    const idempotent = options.idempotencyKey !== undefined;
    try {
      const [offset, epoch] = (await this.#conn.script(
        'canalPublish',
        k.stream(channel), k.meta(channel), idempotent ? k.idempotency(channel, options.idempotencyKey!) : k.meta(channel),
        k.pubsub(channel), headerRest(input, Date.now()), input.data, options.history.size, options.history.ttlMs,
        newEpoch(), idempotent ? (options.idempotencyTtlMs ?? 0) : 0, options.history.metaTtlMs ?? options.history.ttlMs,
        this.#conn.sharded ? 'SPUBLISH' : 'PUBLISH',
      )) as [number, string];
      return { offset, epoch };
    } catch (err) {
      throw unavailable('publish', err);
    }
  }

  publishJoin(channel: string, info: ClientInfo): Promise<void> {
    return this.#publishPresence(channel, Kind.Join, info);
  }

  publishLeave(channel: string, info: ClientInfo): Promise<void> {
    return this.#publishPresence(channel, Kind.Leave, info);
  }

  async #publishPresence(channel: string, kind: string, info: ClientInfo): Promise<void> {
    try {
      const cmd = this.#conn.command;
      const pubsub = this.#keys.pubsub(channel);
      if (this.#conn.sharded) await cmd.spublish(pubsub, kind + encodeClientInfo(info));
      else await cmd.publish(pubsub, kind + encodeClientInfo(info));
    } catch (err) {
      throw unavailable(kind === Kind.Join ? 'join' : 'leave', err);
    }
  }

  async subscribe(channel: string): Promise<void> {
    this.#wanted.add(channel);
    try {
      const sub = this.#conn.subscriber;
      if (this.#conn.sharded) await sub.ssubscribe(this.#keys.pubsub(channel));
      else await sub.subscribe(this.#keys.pubsub(channel));
    } catch (err) {
      this.#wanted.delete(channel);
      throw unavailable('subscribe', err);
    }
  }

  async unsubscribe(channel: string): Promise<void> {
    // Given up at once, even if Redis cannot be told now: a reconnect does not bring it back.
    this.#wanted.delete(channel);
    try {
      const sub = this.#conn.subscriber;
      if (this.#conn.sharded) await sub.sunsubscribe(this.#keys.pubsub(channel));
      else await sub.unsubscribe(this.#keys.pubsub(channel));
    } catch (err) {
      throw unavailable('unsubscribe', err);
    }
  }

  /** The channels this node asked for and has not given up: what a reconnect re-subscribes. */
  subscriptions(): ReadonlySet<string> {
    return this.#wanted;
  }

  /**
   * Reads in pages of at most HISTORY_READ_PAGE publications, each page from where the previous
   * one ended; the answer's position is the stream's top as the last page saw it. A stream that
   * got a new epoch between pages: with `since` an UnrecoverablePositionError, without it the
   * read starts again.
   */
  async history(channel: string, query: HistoryQuery): Promise<HistoryPage> {
    const { since, limit, reverse = false } = query;
    const want = limit < 0 ? Infinity : limit;
    for (let attempt = 0; ; attempt++) {
      const pubs: Publication[] = [];
      let position: StreamPosition | undefined;
      let cursor = since?.offset;
      for (;;) {
        const n = Math.min(HISTORY_READ_PAGE, want - pubs.length);
        const mode: HistoryMode = n === 0 ? 'none' : cursor === undefined ? (reverse ? 'newest' : 'oldest') : (reverse ? 'before' : 'after');
        const page = await this.#readPage(channel, query, mode, n, cursor ?? 0);
        if (position !== undefined && page.position.epoch !== position.epoch) {
          if (since) throw new UnrecoverablePositionError('the stream has a different epoch');
          position = undefined;
          break;
        }
        position = page.position;
        if (since && (since.epoch !== position.epoch || since.offset > position.offset)) {
          throw new UnrecoverablePositionError(since.epoch !== position.epoch ? 'the stream has a different epoch' : 'the offset is past the top of the stream');
        }
        pubs.push(...page.publications);
        const last = page.publications.at(-1);
        if (mode === 'none' || last === undefined || page.publications.length < n || pubs.length >= want) {
          return { publications: pubs, position };
        }
        cursor = last.offset!;
      }
      if (attempt >= EPOCH_RETRIES) throw unavailable('history', new Error('the stream kept changing epoch while it was read'));
    }
  }

  /** One history script call: at most `n` publications (mode 'none': the position only). */
  async #readPage(channel: string, query: HistoryQuery, mode: HistoryMode, n: number, at: number): Promise<HistoryPage> {
    let top: number;
    let epoch: string;
    let entries: StreamEntry[];
    try {
      [top, epoch, entries] = (await this.#conn.script(
        'canalHistory', this.#keys.stream(channel), this.#keys.meta(channel),
        query.history.ttlMs, newEpoch(), mode, n, query.emptyTtlMs ?? query.history.ttlMs, at,
      )) as [number, string, StreamEntry[]];
    } catch (err) {
      throw unavailable('history', err);
    }
    return { publications: entries.map(([, fields]) => decodeBody(fields[1]!).pub), position: { offset: top, epoch } };
  }

  async removeHistory(channel: string): Promise<void> {
    try {
      await this.#conn.command.del(this.#keys.stream(channel));
    } catch (err) {
      throw unavailable('history removal', err);
    }
  }

  async publishControl(message: ControlMessage): Promise<void> {
    try {
      await this.#conn.command.publish(this.#keys.control, JSON.stringify(message));
    } catch (err) {
      throw unavailable('control message', err);
    }
  }

  async close(): Promise<void> {
    this.#handler = undefined;
    clearTimeout(this.#shardsCheck);
  }
}
