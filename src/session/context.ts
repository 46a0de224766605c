/**
 * What a session needs from outside itself, in one place: its connection, the server's shared
 * context, and a clock. Sessions read the time and arm timers only through the clock (DESIGN,
 * "Performance principles"), so every timing rule — the stale timer, token expiry, the refresh
 * grace, the rate limit — is tested with a fake clock and a fake connection, without sleeping.
 */
import type { TokenVerifier } from '../auth/tokens.js';
import type { Config } from '../config/schema.js';
import type { Handlers } from '../handlers.js';
import type { Logger, WindowedLog } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { CanalNode } from '../node.js';
import type { Proxies } from '../proxy/proxies.js';
import type { ClientSession } from './client-session.js';
import type { MessageSink, OutboxSettings } from './outbox.js';
import type { CommandRate } from './rate-limit.js';

/** The time, and timers. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Calls `fn` once, `ms` from now; the returned function cancels it. A timer never keeps the process alive. */
  after(ms: number, fn: () => void): () => void;
}

/** The real clock. */
export const systemClock: Clock = {
  now: Date.now,
  after(ms, fn) {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
};

/** How a client is connected, as Centrifugo names its transports (proxy requests carry it). */
export type TransportName = 'websocket' | 'http_stream' | 'sse';

/** What a protocol session needs from its connection. */
export interface SessionConnection extends MessageSink {
  /** Closes with `code` and a non-empty `reason`. */
  closeWith(code: number, reason: string): void;
  /** Stops reading from the client (TCP then pushes back), until resumeReading(). */
  pauseReading(): void;
  resumeReading(): void;
  readonly remoteAddress: string | undefined;
  readonly transport: TransportName;
}

/** Cancels a connecting session's stale timer (client_connect_timeout). */
export type StaleTimer = () => void;

/** Shared by every session of a server: one object, not one per connection. */
export interface SessionContext {
  readonly node: CanalNode;
  readonly config: Config;
  readonly tokens: TokenVerifier;
  readonly handlers: Handlers;
  /** The backend's proxies (none when there are no proxies); asked after the handlers. */
  readonly proxies: Proxies;
  readonly log: Logger;
  /**
   * Refused connects (a bad or expired token, no token where one is needed, the application or
   * the connect proxy saying no, a connection or channel limit), at info with the reason and
   * bounded per window: the client only sees a code, the person running canal reads why here.
   */
  readonly connectRefusals: WindowedLog;
  readonly version: string;
  /** Whether connections without a token or user are accepted. */
  readonly anonymousAllowed: boolean;
  readonly metrics: Metrics;
  readonly clock: Clock;
  /** client_command_rate and client_command_burst: every session's bucket is a number it takes from with this. */
  readonly commandRate: CommandRate;
  /** The byte limit of every outbox, and where outboxes with something queued wait for the end of the turn. */
  readonly outbox: OutboxSettings;
  /**
   * The protocol sessions that have not connected yet, for shutdown, each with the cancel of its
   * stale timer (kept here, not in the session: a connected one needs neither). A session leaves
   * it when it connects and is then in the node's registry of connected sessions
   * (CanalNode.sessions()) — one registry entry per connection, not two (issue 11, idle memory).
   */
  readonly connecting: Map<ClientSession, StaleTimer>;
}
