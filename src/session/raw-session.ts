/**
 * A plain WebSocket client on /raw/<channel>: a chat with no SDK. Every text message it sends
 * is published to the channel — as the JSON value it holds, or as a JSON string when it is not
 * JSON — and every publication in the channel reaches it as one message: a JSON string as its
 * bare text, anything else as JSON text. Its rights are those of an anonymous protocol client.
 */
import { randomUUID } from 'node:crypto';
import type { NamespaceOptions } from '../config/namespaces.js';
import type { RawSubscriber } from '../hub/hub.js';
import type { Metrics } from '../http/metrics.js';
import type { Logger } from '../log.js';
import type { CanalNode } from '../node.js';
import { toWire } from '../protocol/errors.js';
import type { RawJson } from '../protocol/types.js';
import type { SharedFrame } from '../transport/shared-frame.js';

/** Close codes for plain clients (RFC 6455 §7.4.1): they do not speak the protocol's codes. */
export const RawClose = {
  /** The client may not publish here, or sent something it should not. */
  PolicyViolation: 1008,
  /** Binary messages are not publications. */
  UnsupportedData: 1003,
  /** The server failed; the client may try again. */
  InternalError: 1011,
  /** The server is going away. */
  GoingAway: 1001,
} as const;

export interface RawConnection {
  writeShared(frame: SharedFrame): void;
  unsentBytes(): number;
  close(code: number, reason: string): void;
}

/** The publication data for a plain client's text: its JSON value, compacted to one line, or a JSON string. */
export function rawToData(text: string): RawJson {
  try {
    return JSON.stringify(JSON.parse(text)) as RawJson;
  } catch {
    return JSON.stringify(text) as RawJson;
  }
}

export class RawSession implements RawSubscriber {
  readonly id = randomUUID();
  readonly channel: string;
  readonly #ns: NamespaceOptions;
  readonly #conn: RawConnection;
  readonly #node: CanalNode;
  readonly #log: Logger;
  readonly #maxQueueBytes: number;
  readonly #metrics: Metrics;
  #closed = false;
  /** Publishing is serialised so a client's messages keep their order. */
  #publishing: Promise<void> = Promise.resolve();

  constructor(conn: RawConnection, channel: string, ns: NamespaceOptions, node: CanalNode, log: Logger, maxQueueBytes: number,
    metrics: Metrics) {
    this.#metrics = metrics;
    this.#conn = conn;
    this.channel = channel;
    this.#ns = ns;
    this.#node = node;
    this.#log = log;
    this.#maxQueueBytes = maxQueueBytes;
  }

  /** Starts delivery; on an engine failure the connection closes with 1011. */
  async start(): Promise<void> {
    try {
      await this.#node.subscribeRaw(this.channel, this);
      if (this.#closed) await this.#node.unsubscribeRaw(this.channel, this);
    } catch (err) {
      this.#log.warn({ err, channel: this.channel }, 'plain client could not subscribe');
      this.#close(RawClose.InternalError, 'server error: could not subscribe, try again');
    }
  }

  /** Whether anonymous publishing is allowed in this channel's namespace. */
  get canPublish(): boolean {
    return this.#ns.allow_publish_for_anonymous || this.#ns.allow_publish_for_subscriber;
  }

  handleText(text: string): void {
    if (this.#closed) return;
    this.#metrics.received('raw', 'message');
    if (!this.canPublish) {
      this.#close(RawClose.PolicyViolation, `read-only: plain clients may not publish to ${this.channel}`);
      return;
    }
    const data = rawToData(text);
    this.#publishing = this.#publishing.then(async () => {
      if (this.#closed) return;
      try {
        await this.#node.publish(this.channel, { data, info: { user: '', client: this.id } });
      } catch (err) {
        const wire = toWire(err);
        if (wire.kind === 'internal') this.#log.error({ err: wire.cause, channel: this.channel }, 'plain client publish failed');
        this.#close(wire.kind === 'reply' && !wire.temporary ? RawClose.PolicyViolation : RawClose.InternalError,
          `publish failed: ${wire.kind === 'disconnect' ? wire.reason : wire.message}`);
      }
    });
  }

  handleBinary(): void {
    this.#close(RawClose.UnsupportedData, 'binary messages are not supported here; send text');
  }

  deliverRaw(frame: SharedFrame): void {
    if (this.#closed) return;
    if (this.#conn.unsentBytes() > this.#maxQueueBytes) {
      this.#close(RawClose.PolicyViolation, 'slow: too much data waiting to be sent to this client');
      return;
    }
    this.#conn.writeShared(frame);
  }

  #close(code: number, reason: string): void {
    if (this.#closed) return;
    this.#conn.close(code, reason);
    this.closed();
  }

  /** The connection closed: stop delivery. */
  closed(): void {
    if (this.#closed) return;
    this.#closed = true;
    void this.#node.unsubscribeRaw(this.channel, this).catch(() => {});
  }
}
