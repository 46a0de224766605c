/**
 * The in-memory Broker: one process, no setup. Publications are delivered synchronously, in
 * publish order, to the handler for subscribed channels; history streams live in a Map: each
 * publication is kept `history.ttlMs`, the stream's offset and epoch `history.metaTtlMs` after
 * its last publish (a later publish then starts a new epoch, so recovery across the gap answers
 * recovered: false). A read of a never-published channel keeps only its epoch, `emptyTtlMs`. A restart loses every stream, and so
 * every epoch changes, as the delivery guarantees require.
 */
import { randomBytes } from 'node:crypto';
import type { ClientInfo, Publication, StreamPosition } from '../../protocol/types.js';
import {
  UnrecoverablePositionError, type Broker, type BrokerEventHandler, type ControlMessage, type HistoryPage, type HistoryQuery,
  type PublicationInput, type PublishOptions,
} from '../types.js';
import { ExpiryQueue } from './expiry-queue.js';

interface Entry {
  readonly pub: Publication;
  readonly expiresAt: number;
}

interface Stream {
  readonly epoch: string;
  top: number;
  entries: Entry[];
  /** When the whole stream (offset and epoch included) is forgotten. */
  expiresAt: number;
}

interface Remembered {
  readonly position: StreamPosition;
  readonly expiresAt: number;
}

/** Random per process, so epochs differ across restarts (a restart loses every stream). */
const EPOCH_PREFIX = randomBytes(6).toString('base64url');
let epochCounter = 0;

/**
 * A fresh epoch, unique within this process and across restarts. A counter after a random
 * prefix: a random value per stream cost ~6 µs in randomBytes (profiled with 100,000 channels).
 */
export function newEpoch(): string {
  return `${EPOCH_PREFIX}${(epochCounter++).toString(36)}`;
}

export interface MemoryBrokerOptions {
  /** The clock, in ms; tests pass a fake one. */
  readonly now?: () => number;
}

export class MemoryBroker implements Broker {
  readonly #now: () => number;
  readonly #streams = new Map<string, Stream>();
  readonly #streamExpiry = new ExpiryQueue<string>();
  readonly #idempotency = new Map<string, Remembered>();
  readonly #idempotencyExpiry = new ExpiryQueue<string>();
  readonly #subscribed = new Set<string>();
  #handler: BrokerEventHandler | undefined;

  constructor(options: MemoryBrokerOptions = {}) {
    this.#now = options.now ?? Date.now;
  }

  async start(handler: BrokerEventHandler): Promise<void> {
    this.#handler = handler;
  }

  async publish(channel: string, input: PublicationInput, options: PublishOptions): Promise<StreamPosition> {
    const now = this.#now();
    const key = options.idempotencyKey === undefined ? undefined : `${channel}\u0000${options.idempotencyKey}`;
    if (key !== undefined) {
      const seen = this.#idempotency.get(key);
      if (seen && seen.expiresAt > now) return seen.position;
    }
    let pub: Publication = { ...input, time: now };
    let position: StreamPosition = { offset: 0, epoch: '' };
    const { size, ttlMs } = options.history;
    if (size > 0) {
      const stream = this.#liveStream(channel, now, 0);
      stream.top += 1;
      pub = { ...pub, offset: stream.top };
      stream.entries.push({ pub, expiresAt: now + ttlMs });
      if (stream.entries.length > size) stream.entries.splice(0, stream.entries.length - size);
      stream.expiresAt = now + Math.max(ttlMs, options.history.metaTtlMs ?? ttlMs);
      this.#streamExpiry.schedule(channel, stream.expiresAt);
      position = { offset: stream.top, epoch: stream.epoch };
    }
    if (key !== undefined) {
      const expiresAt = now + (options.idempotencyTtlMs ?? 0);
      this.#idempotency.set(key, { position, expiresAt });
      this.#idempotencyExpiry.schedule(key, expiresAt);
    }
    if (this.#subscribed.has(channel)) this.#handler?.onPublication(channel, pub, position);
    return position;
  }

  async publishJoin(channel: string, info: ClientInfo): Promise<void> {
    if (this.#subscribed.has(channel)) this.#handler?.onJoin(channel, info);
  }

  async publishLeave(channel: string, info: ClientInfo): Promise<void> {
    if (this.#subscribed.has(channel)) this.#handler?.onLeave(channel, info);
  }

  async subscribe(channel: string): Promise<void> {
    this.#subscribed.add(channel);
  }

  async unsubscribe(channel: string): Promise<void> {
    this.#subscribed.delete(channel);
  }

  async history(channel: string, query: HistoryQuery): Promise<HistoryPage> {
    const now = this.#now();
    const stream = this.#liveStream(channel, now, query.emptyTtlMs ?? query.history.ttlMs);
    dropExpired(stream, now);
    const position = { offset: stream.top, epoch: stream.epoch };
    const { since, limit, reverse = false } = query;
    if (since && (since.epoch !== stream.epoch || since.offset > stream.top)) {
      throw new UnrecoverablePositionError(
        since.epoch !== stream.epoch ? 'the stream has a different epoch' : 'the offset is past the top of the stream',
      );
    }
    if (limit === 0) return { publications: [], position };
    let entries = stream.entries;
    if (since) entries = entries.filter((e) => (reverse ? e.pub.offset! < since.offset : e.pub.offset! > since.offset));
    let pubs = entries.map((e) => e.pub);
    if (reverse) pubs = pubs.reverse();
    if (limit > 0) pubs = pubs.slice(0, limit);
    return { publications: pubs, position };
  }

  /** The channels this node is subscribed to. */
  subscriptions(): ReadonlySet<string> {
    return this.#subscribed;
  }

  async removeHistory(channel: string): Promise<void> {
    const stream = this.#streams.get(channel);
    if (stream) stream.entries = [];
  }

  async publishControl(message: ControlMessage): Promise<void> {
    this.#handler?.onControl(message);
  }

  async close(): Promise<void> {
    this.#handler = undefined;
  }

  /** Forgets expired streams and idempotency keys; the engine calls this on a timer. */
  sweep(now: number = this.#now()): void {
    for (const channel of this.#streamExpiry.popDue(now)) {
      const stream = this.#streams.get(channel);
      if (!stream) continue;
      if (stream.expiresAt <= now) this.#streams.delete(channel);
      else this.#streamExpiry.schedule(channel, stream.expiresAt);
    }
    for (const key of this.#idempotencyExpiry.popDue(now)) {
      const seen = this.#idempotency.get(key);
      if (!seen) continue;
      if (seen.expiresAt <= now) this.#idempotency.delete(key);
      else this.#idempotencyExpiry.schedule(key, seen.expiresAt);
    }
  }

  /** Sizes of the internal maps, for tests that prove nothing is left behind. */
  internalSizes(): Record<string, number> {
    return {
      streams: this.#streams.size,
      streamExpiry: this.#streamExpiry.size,
      idempotency: this.#idempotency.size,
      idempotencyExpiry: this.#idempotencyExpiry.size,
      subscribed: this.#subscribed.size,
    };
  }

  /**
   * The channel's stream, created (new epoch) when absent or expired. A stream with no
   * publication yet lives at least `emptyTtlMs` more (the epoch a reader was handed).
   */
  #liveStream(channel: string, now: number, emptyTtlMs: number): Stream {
    let stream = this.#streams.get(channel);
    if (stream && stream.expiresAt <= now) {
      this.#streams.delete(channel);
      stream = undefined;
    }
    if (!stream) {
      stream = { epoch: newEpoch(), top: 0, entries: [], expiresAt: now + emptyTtlMs };
      this.#streams.set(channel, stream);
    } else if (stream.top === 0) {
      stream.expiresAt = Math.max(stream.expiresAt, now + emptyTtlMs);
    }
    this.#streamExpiry.schedule(channel, stream.expiresAt);
    return stream;
  }
}

function dropExpired(stream: Stream, now: number): void {
  let n = 0;
  while (n < stream.entries.length && stream.entries[n]!.expiresAt <= now) n++;
  if (n > 0) stream.entries.splice(0, n);
}
