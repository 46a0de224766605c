/**
 * The run's protocol clients: official `centrifuge` clients (as an application would use them)
 * whose every subscription event feeds a {@link SubscriptionTracker}, and which the faults can
 * reach into: cut the TCP connection without a close frame, or stop reading it.
 *
 * Each client has a home node; a reconnect goes home when home is up, otherwise to the next node
 * that is (what a load balancer with health checks does). The choice is made in the WebSocket
 * class the client is given, so no proxy sits in the path.
 */
import { Centrifuge, type Subscription } from 'centrifuge';
import WebSocket from 'ws';
import type { CanalNode } from './cluster.js';
import type { Ledger } from './ledger.js';
import { SubscriptionTracker } from './tracker.js';

/** Reconnect backoff of every client: quick, so the run sees many reconnects and settles fast. */
const RECONNECT = { minReconnectDelay: 100, maxReconnectDelay: 2000 } as const;
/** How long a command (connect, subscribe, publish) may wait for its reply. */
const COMMAND_TIMEOUT_MS = 5000;

/** Picks the node a (re)connecting client goes to. */
export class NodePicker {
  readonly #nodes: readonly CanalNode[];

  constructor(nodes: readonly CanalNode[]) {
    this.#nodes = nodes;
  }

  /** The protocol URL of `home` when it is up, else of the next node that is (home again when none is). */
  protocolUrl(home: number): string {
    const n = this.#nodes.length;
    for (let i = 0; i < n; i++) {
      const node = this.#nodes[(home + i) % n]!;
      if (node.up) return node.protocolUrl;
    }
    return this.#nodes[home % n]!.protocolUrl;
  }
}

/** A `ws` WebSocket class for one client: it connects where the picker says and remembers its socket. */
function pickingWebSocket(picker: NodePicker, home: number, onSocket: (ws: WebSocket) => void): typeof WebSocket {
  class Picking extends WebSocket {
    constructor(_address: string, protocols?: string | string[]) {
      super(picker.protocolUrl(home), protocols);
      onSocket(this);
    }
  }
  return Picking as unknown as typeof WebSocket;
}

/** One code a client or subscription was closed with, and when. */
export interface SeenCode {
  readonly at: number;
  readonly code: number;
  readonly reason: string;
}

/** Problems with the harness itself (not the server's guarantee): printed, and they fail the run. */
export type ProblemSink = (message: string) => void;

interface ClientBase {
  readonly name: string;
  readonly home: number;
  readonly picker: NodePicker;
  readonly now: () => number;
}

/** A centrifuge client whose socket the run can cut or stop reading. */
abstract class ChaosClient {
  readonly name: string;
  readonly client: Centrifuge;
  /** Close codes seen (the last 50), and how many times each code was seen. */
  readonly codes: SeenCode[] = [];
  readonly codeCounts = new Map<number, number>();
  protected readonly now: () => number;
  #socket: WebSocket | undefined;

  constructor(base: ClientBase) {
    this.name = base.name;
    this.now = base.now;
    this.client = new Centrifuge('ws://picked-by-the-websocket-class/connection/websocket', {
      websocket: pickingWebSocket(base.picker, base.home, (ws) => (this.#socket = ws)),
      ...RECONNECT,
      timeout: COMMAND_TIMEOUT_MS,
      name: 'chaos',
    });
    this.client.on('error', () => {});
    const seen = (ctx: { code: number; reason: string }): void => {
      this.codes.push({ at: this.now(), code: ctx.code, reason: ctx.reason });
      if (this.codes.length > 50) this.codes.shift();
      this.codeCounts.set(ctx.code, (this.codeCounts.get(ctx.code) ?? 0) + 1);
      this.onCode(ctx.code);
    };
    this.client.on('connecting', seen);
    this.client.on('disconnected', seen);
  }

  protected onCode(_code: number): void {}

  /** Whether its current socket is open. */
  get open(): boolean {
    return this.#socket?.readyState === WebSocket.OPEN;
  }

  /** Cuts the TCP connection: no close frame (the client reconnects by itself). */
  drop(): boolean {
    if (!this.open) return false;
    this.#socket!.terminate();
    return true;
  }

  /** Stops reading from the socket (the server's writes back up), until {@link resumeReading}. */
  stopReading(): boolean {
    const tcp = (this.#socket as unknown as { _socket?: import('node:net').Socket } | undefined)?._socket;
    if (!this.open || !tcp) return false;
    tcp.pause();
    return true;
  }

  resumeReading(): void {
    (this.#socket as unknown as { _socket?: import('node:net').Socket } | undefined)?._socket?.resume();
  }

  /** Disconnects for good (the end of the run). */
  close(): void {
    this.client.disconnect();
  }
}

/** A subscriber: one client, subscribed to its channels, each checked by a tracker. */
export class Subscriber extends ChaosClient {
  readonly index: number;
  readonly trackers: SubscriptionTracker[] = [];
  readonly #subs: Subscription[] = [];
  readonly #problem: ProblemSink;
  /** Set by --self-check: the next publication of the first subscription is hidden from its tracker, as a lost one would be. */
  swallowNext = false;

  constructor(base: ClientBase & { readonly index: number; readonly channels: readonly string[]; readonly ledger: Ledger; readonly problem: ProblemSink }) {
    super(base);
    this.index = base.index;
    this.#problem = base.problem;
    for (const channel of base.channels) {
      const tracker = new SubscriptionTracker(base.ledger, base.name, channel);
      this.trackers.push(tracker);
      const sub = this.client.newSubscription(channel);
      this.#subs.push(sub);
      sub.on('subscribed', (ctx) => {
        const p = ctx.streamPosition;
        if (!p) {
          this.#problem(`${this.name} subscribed to ${channel} without a stream position: ${JSON.stringify(ctx)}`);
          return;
        }
        tracker.subscribed(this.now(), { epoch: p.epoch, offset: p.offset }, ctx.recovered, ctx.wasRecovering);
      });
      sub.on('publication', (ctx) => {
        const id = (ctx.data as { id?: unknown } | null)?.id;
        if (typeof id !== 'number') {
          this.#problem(`${this.name} received in ${channel} a publication that is not the run's: ${JSON.stringify(ctx.data).slice(0, 200)}`);
          return;
        }
        if (this.swallowNext && tracker === this.trackers[0]) {
          this.swallowNext = false;
          return;
        }
        tracker.publication(this.now(), id, ctx.offset);
      });
      sub.on('unsubscribed', (ctx) => {
        tracker.closed(ctx.code);
        if (ctx.code !== 0) this.#problem(`${this.name} was unsubscribed from ${channel} for good: ${ctx.code} ${ctx.reason}`);
      });
      sub.on('error', () => {});
    }
  }

  protected override onCode(code: number): void {
    for (const t of this.trackers) t.closed(code);
  }

  /**
   * Whether it is open, every subscription is subscribed, and it saw no close in the last
   * `quietMs`: a client still caught in an earlier fault's reconnects is not.
   */
  quiet(quietMs: number): boolean {
    if (!this.open || this.#subs.some((sub) => sub.state !== 'subscribed')) return false;
    const last = this.codes.at(-1);
    return last === undefined || this.now() - last.at >= quietMs;
  }

  /** Connects and subscribes; resolves once every subscription is subscribed (at most `timeoutMs`). */
  async start(timeoutMs: number): Promise<void> {
    for (const sub of this.#subs) sub.subscribe();
    this.client.connect();
    await Promise.all(this.#subs.map((sub) => sub.ready(timeoutMs)));
  }
}

/** A protocol client that publishes (the acknowledgement is the publish reply, with no offset). */
export class PublisherClient extends ChaosClient {
  /** Connects; resolves once connected (at most `timeoutMs`). */
  async start(timeoutMs: number): Promise<void> {
    this.client.connect();
    await this.client.ready(timeoutMs);
  }

  /** Publishes `data` to `channel`; resolves on the reply, rejects on an error or a timeout. */
  async publish(channel: string, data: unknown): Promise<void> {
    await this.client.publish(channel, data);
  }
}
