/**
 * A plain WebSocket client on /raw/<channel>: a chat with no SDK. Every text message it sends
 * is published to the channel — as the JSON value it holds, or as a JSON string when it is not
 * JSON — and every publication in the channel reaches it as one message: a JSON string as its
 * bare text, anything else as JSON text. Its rights are those of an anonymous protocol client:
 * the namespace's *_for_anonymous options, or the application's onSubscribe / onPublish
 * handlers and the namespace's subscribe / publish proxies when there are (they decide instead,
 * as for protocol clients: a moderated channel is moderated for plain clients too).
 */
import { randomUUID } from 'node:crypto';
import { allowedByNamespace, PLAIN_CLIENT, userLimitedAccess } from '../auth/channel-rights.js';
import type { NamespaceOptions } from '../config/namespaces.js';
import type { Handlers } from '../handlers.js';
import type { PlainSubscriber } from '../hub/hub.js';
import type { Metrics } from '../metrics.js';
import type { Logger } from '../log.js';
import type { CanalNode } from '../node.js';
import { CloseCode, ErrorCode } from '../protocol/codes.js';
import { ReplyError, toWire } from '../protocol/errors.js';
import { compactJson, jsonDepth, MAX_JSON_DEPTH } from '../protocol/json-text.js';
import type { JsonText } from '../protocol/types.js';
import type { SharedMessage } from '../hub/shared-message.js';
import type { Proxies } from '../proxy/proxies.js';
import type { Caller } from '../proxy/proxy.js';
import type { Clock } from './context.js';
import { FULL_BUCKET, REFUSED, type CommandRate } from './rate-limit.js';
import { withDefined } from '../util/defined.js';

export interface PlainConnection {
  writeShared(frame: SharedMessage): void;
  unsentBytes(): number;
  closeWith(code: number, reason: string): void;
  /**
   * Stops reading from the client (TCP then pushes back), until resumeReading(). A transport that
   * cannot stop reading one socket (Bun's) may do nothing: the session's own bound on queued
   * bytes then holds.
   */
  pauseReading(): void;
  resumeReading(): void;
}

/**
 * Messages a plain client may have waiting to be published before its connection stops
 * reading: publishing is one at a time (order), so a client that sends faster than the engine
 * takes them is held back by TCP, not by our memory (issue 13: on Redis, two clients sending
 * 60 KB messages ran a 256 MB heap out in 10 s). ws still hands over what one socket read
 * brought after the pause, so the queue is bounded by this plus one read. Where the transport
 * cannot pause (Bun), the queue is bounded in bytes instead: past `client_queue_max_bytes` of
 * messages waiting to be published, the client is closed with 1008 once those are published.
 */
export const PLAIN_PUBLISH_WINDOW = 8;

/**
 * The publication data for a plain client's text: the JSON value it holds, as written but on
 * one line (numbers keep every digit), or a JSON string when it is not JSON.
 */
export function plainToData(text: string): JsonText {
  try {
    JSON.parse(text);
  } catch {
    return JSON.stringify(text) as JsonText;
  }
  return compactJson(text.trim()) as JsonText;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Shared by every plain-client session of a server: one object, not one per connection. */
export interface PlainContext {
  readonly node: CanalNode;
  readonly handlers: Handlers;
  readonly proxies: Proxies;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly maxQueueBytes: number;
  /** The per-connection rate limit, the same as protocol clients'. */
  readonly commandRate: CommandRate;
  readonly clock: Clock;
}

export class PlainSession implements PlainSubscriber {
  readonly id = randomUUID();
  readonly channel: string;
  readonly #ns: NamespaceOptions;
  readonly #conn: PlainConnection;
  readonly #ctx: PlainContext;
  #closed = false;
  /** Messages accepted and not yet published, oldest first: published one at a time, in order. */
  readonly #queue: string[] = [];
  /** The length of the texts in #queue: bounded by maxQueueBytes however the transport reads. */
  #queuedLength = 0;
  #publishing = false;
  #paused = false;
  /** Accepts nothing more; closes with this once the queue is published. */
  #closeWhenDrained: { readonly code: number; readonly reason: string } | undefined;
  /** The rate limit's bucket: when it is full again (CommandRate.take); undefined until the first message (see ClientSession's). */
  #bucket: number | undefined = undefined;

  constructor(conn: PlainConnection, channel: string, ns: NamespaceOptions, ctx: PlainContext) {
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
    const { node, handlers, proxies, log } = this.#ctx;
    try {
      if (userLimitedAccess(this.#ns, this.channel, '') === false) {
        throw new ReplyError(ErrorCode.PermissionDenied, `permission denied: ${this.channel} is limited to the users listed after its last "#", and plain clients have no user`);
      }
      if (handlers.onSubscribe) await handlers.onSubscribe({ client: this.id, user: '', channel: this.channel });
      const proxy = proxies.get(this.#ns.subscribe_proxy);
      if (proxy && !this.#closed) await proxy.subscribe(this.#caller, this.channel, undefined);
      if (this.#closed) return;
      await node.subscribePlain(this.channel, this);
      if (this.#closed) await node.unsubscribePlain(this.channel, this);
    } catch (err) {
      this.#refuse(err, 'subscribe');
      if (!this.#closed) log.warn({ err, channel: this.channel }, 'plain client could not subscribe');
    }
  }

  /** Whether this client may publish: the application's onPublish or the publish proxy decides, or the namespace. */
  get canPublish(): boolean {
    return this.#ctx.handlers.onPublish !== undefined || this.#ns.publish_proxy !== undefined || allowedByNamespace(this.#ns, 'publish', PLAIN_CLIENT);
  }

  /** This client as proxy calls describe it: anonymous, with its own id, JSON text over a WebSocket. */
  get #caller(): Caller {
    return { client: this.id, transport: 'websocket', protocol: 'json', user: '' };
  }

  handleText(text: string): void {
    if (this.#closed || this.#closeWhenDrained) return;
    this.#ctx.metrics.received('raw', 'message');
    if (!this.canPublish) {
      this.#close(CloseCode.PolicyViolation, `read-only: plain clients may not publish to ${this.channel}`);
      return;
    }
    if (jsonDepth(text) > MAX_JSON_DEPTH && isJson(text)) {
      // Text that is not JSON goes out as a string, however many brackets it has.
      this.#closeAfterQueue(CloseCode.PolicyViolation, `refused: the message nests JSON deeper than ${MAX_JSON_DEPTH} levels`);
      return;
    }
    const bucket = this.#ctx.commandRate.take(this.#bucket ?? FULL_BUCKET, this.#ctx.clock.now());
    if (bucket === REFUSED) {
      // A plain client cannot be told that one message was refused, and dropping it silently
      // would lose data it believes sent: past the rate, the connection ends, with the reason,
      // once the messages accepted before this one are published.
      const { ratePerSecond, burst } = this.#ctx.commandRate;
      this.#closeAfterQueue(CloseCode.PolicyViolation, `too many messages: at most ${ratePerSecond} per second (${burst} at once)`);
      return;
    }
    this.#bucket = bucket;
    if (this.#queuedLength + text.length > this.#ctx.maxQueueBytes && this.#queue.length > 0) {
      // Reading went on while earlier messages wait for the engine (a transport that cannot
      // pause, or a stalled engine): keep what was accepted, take nothing more.
      this.#closeAfterQueue(CloseCode.PolicyViolation, `too many messages waiting: more than ${this.#ctx.maxQueueBytes} bytes not yet published; send slower`);
      return;
    }
    this.#queue.push(text);
    this.#queuedLength += text.length;
    if (this.#queue.length >= PLAIN_PUBLISH_WINDOW && !this.#paused) {
      this.#paused = true;
      this.#conn.pauseReading();
    }
    if (!this.#publishing) void this.#publishQueued();
  }

  /** Publishes the queue one message at a time, resuming reading once it has drained to half the window. */
  async #publishQueued(): Promise<void> {
    this.#publishing = true;
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        const text = this.#queue.shift()!;
        this.#queuedLength -= text.length;
        await this.#publish(text);
        if (this.#paused && this.#queue.length <= PLAIN_PUBLISH_WINDOW / 2 && !this.#closed && !this.#closeWhenDrained) {
          this.#paused = false;
          this.#conn.resumeReading();
        }
      }
    } finally {
      this.#publishing = false;
    }
    const last = this.#closeWhenDrained;
    if (last) this.#close(last.code, last.reason);
  }

  #closeAfterQueue(code: number, reason: string): void {
    this.#closeWhenDrained = { code, reason };
    if (!this.#publishing) {
      this.#close(code, reason);
      return;
    }
    if (!this.#paused) {
      this.#paused = true;
      this.#conn.pauseReading();
    }
  }

  async #publish(text: string): Promise<void> {
    const { node, handlers } = this.#ctx;
    let data = plainToData(text);
    try {
      if (handlers.onPublish) {
        const r = await handlers.onPublish({ client: this.id, user: '', channel: this.channel, data: JSON.parse(data) });
        if (r && r.data !== undefined) data = JSON.stringify(r.data) as JsonText;
      }
      const proxy = this.#ctx.proxies.get(this.#ns.publish_proxy);
      let options = {};
      if (proxy && !this.#closed) {
        const answer = await proxy.publish(this.#caller, this.channel, data);
        if (answer.data !== undefined) data = answer.data;
        options = withDefined({}, { skipHistory: answer.skipHistory || undefined, tags: answer.tags, idempotencyKey: answer.idempotencyKey });
      }
      if (this.#closed) return;
      await node.publish(this.channel, { ...options, data, info: { user: '', client: this.id } });
    } catch (err) {
      this.#refuse(err, 'publish');
    }
  }

  /** Closes for a refused or failed action: 1008 when refused, 1011 when the server failed. */
  #refuse(err: unknown, action: string): void {
    const wire = toWire(err);
    if (wire.kind === 'internal') this.#ctx.log.error({ err: wire.cause, channel: this.channel }, `plain client ${action} failed`);
    const refused = wire.kind === 'disconnect' || (wire.kind === 'reply' && !wire.temporary);
    const why = wire.kind === 'disconnect' ? wire.reason : wire.message;
    this.#close(refused ? CloseCode.PolicyViolation : CloseCode.InternalError, `${action} refused: ${why}`);
  }

  handleBinary(): void {
    this.#close(CloseCode.UnsupportedData, 'binary messages are not supported here; send text');
  }

  deliverText(message: SharedMessage): void {
    if (this.#closed) return;
    if (this.#conn.unsentBytes() > this.#ctx.maxQueueBytes) {
      this.#close(CloseCode.PolicyViolation, 'slow: too much data waiting to be sent to this client');
      return;
    }
    this.#conn.writeShared(message);
  }

  #close(code: number, reason: string): void {
    if (this.#closed) return;
    this.#conn.closeWith(code, reason);
    this.connectionClosed();
  }

  /** The connection closed: stop delivery. */
  connectionClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.length = 0;
    this.#queuedLength = 0;
    void this.#ctx.node.unsubscribePlain(this.channel, this).catch(() => {});
  }
}
