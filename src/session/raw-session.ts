/**
 * A plain WebSocket client on /raw/<channel>: a chat with no SDK. Every text message it sends
 * is published to the channel — as the JSON value it holds, or as a JSON string when it is not
 * JSON — and every publication in the channel reaches it as one message: a JSON string as its
 * bare text, anything else as JSON text. Its rights are those of an anonymous protocol client:
 * the namespace's *_for_anonymous options, or the application's onSubscribe / onPublish
 * handlers when it has them (they decide instead, as for protocol clients).
 */
import { randomUUID } from 'node:crypto';
import type { NamespaceOptions } from '../config/namespaces.js';
import type { Handlers } from '../handlers.js';
import type { RawSubscriber } from '../hub/hub.js';
import type { Metrics } from '../http/metrics.js';
import type { Logger } from '../log.js';
import type { CanalNode } from '../node.js';
import { toWire } from '../protocol/errors.js';
import { compactJson } from '../protocol/raw-json.js';
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

/**
 * The publication data for a plain client's text: the JSON value it holds, as written but on
 * one line (numbers keep every digit), or a JSON string when it is not JSON.
 */
export function rawToData(text: string): RawJson {
  try {
    JSON.parse(text);
  } catch {
    return JSON.stringify(text) as RawJson;
  }
  return compactJson(text.trim()) as RawJson;
}

/** Shared by every plain-client session of a server: one object, not one per connection. */
export interface RawContext {
  readonly node: CanalNode;
  readonly handlers: Handlers;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly maxQueueBytes: number;
}

export class RawSession implements RawSubscriber {
  readonly id = randomUUID();
  readonly channel: string;
  readonly #ns: NamespaceOptions;
  readonly #conn: RawConnection;
  readonly #ctx: RawContext;
  #closed = false;
  /** Publishing is serialised so a client's messages keep their order. */
  #publishing: Promise<void> = Promise.resolve();

  constructor(conn: RawConnection, channel: string, ns: NamespaceOptions, ctx: RawContext) {
    this.#conn = conn;
    this.channel = channel;
    this.#ns = ns;
    this.#ctx = ctx;
  }

  /**
   * Asks onSubscribe (when the application has it), then starts delivery. A refusal closes the
   * connection with 1008 and its reason before anything is delivered; an engine failure with 1011.
   */
  async start(): Promise<void> {
    const { node, handlers, log } = this.#ctx;
    try {
      if (handlers.onSubscribe) await handlers.onSubscribe({ client: this.id, user: '', channel: this.channel });
      if (this.#closed) return;
      await node.subscribeRaw(this.channel, this);
      if (this.#closed) await node.unsubscribeRaw(this.channel, this);
    } catch (err) {
      this.#refuse(err, 'subscribe');
      if (!this.#closed) log.warn({ err, channel: this.channel }, 'plain client could not subscribe');
    }
  }

  /** Whether this client may publish: the application's onPublish decides, or the namespace. */
  get canPublish(): boolean {
    return this.#ctx.handlers.onPublish !== undefined || this.#ns.allow_publish_for_anonymous || this.#ns.allow_publish_for_subscriber;
  }

  handleText(text: string): void {
    if (this.#closed) return;
    this.#ctx.metrics.received('raw', 'message');
    if (!this.canPublish) {
      this.#close(RawClose.PolicyViolation, `read-only: plain clients may not publish to ${this.channel}`);
      return;
    }
    let data = rawToData(text);
    this.#publishing = this.#publishing.then(async () => {
      if (this.#closed) return;
      const { node, handlers } = this.#ctx;
      try {
        if (handlers.onPublish) {
          const r = await handlers.onPublish({ client: this.id, user: '', channel: this.channel, data: JSON.parse(data) });
          if (r && r.data !== undefined) data = JSON.stringify(r.data) as RawJson;
        }
        if (this.#closed) return;
        await node.publish(this.channel, { data, info: { user: '', client: this.id } });
      } catch (err) {
        this.#refuse(err, 'publish');
      }
    });
  }

  /** Closes for a refused or failed action: 1008 when refused, 1011 when the server failed. */
  #refuse(err: unknown, action: string): void {
    const wire = toWire(err);
    if (wire.kind === 'internal') this.#ctx.log.error({ err: wire.cause, channel: this.channel }, `plain client ${action} failed`);
    const refused = wire.kind === 'disconnect' || (wire.kind === 'reply' && !wire.temporary);
    const why = wire.kind === 'disconnect' ? wire.reason : wire.message;
    this.#close(refused ? RawClose.PolicyViolation : RawClose.InternalError, `${action} refused: ${why}`);
  }

  handleBinary(): void {
    this.#close(RawClose.UnsupportedData, 'binary messages are not supported here; send text');
  }

  deliverRaw(frame: SharedFrame): void {
    if (this.#closed) return;
    if (this.#conn.unsentBytes() > this.#ctx.maxQueueBytes) {
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
    void this.#ctx.node.unsubscribeRaw(this.channel, this).catch(() => {});
  }
}
