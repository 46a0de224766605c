/**
 * A protocol session with nothing real around it but the node and its memory engine: a fake
 * clock that moves only when told, a fake connection that records every line written and how
 * it was closed, and the end of each turn run by hand. Timing rules (stale connections, token
 * expiry and its grace, pings) are tested by moving the clock, frame by frame, without sleeping.
 */
import { TokenVerifier } from '../../src/auth/tokens.js';
import { resolveConfig } from '../../src/config/resolve.js';
import type { Config } from '../../src/config/schema.js';
import { createMemoryEngine } from '../../src/engine/memory/memory-engine.js';
import type { Handlers } from '../../src/handlers.js';
import type { SharedMessage } from '../../src/hub/shared-message.js';
import { silentLogger, WindowedLog } from '../../src/log.js';
import { captureLog, type CapturedLog } from './log-capture.js';
import { Metrics } from '../../src/metrics.js';
import { CanalNode } from '../../src/node.js';
import { ClientSession } from '../../src/session/client-session.js';
import type { Clock, SessionConnection, SessionContext } from '../../src/session/context.js';
import { FlushQueue } from '../../src/session/outbox.js';
import { CommandRate } from '../../src/session/rate-limit.js';
import { Proxies } from '../../src/proxy/proxies.js';
import type { Wire } from './protocol-client.js';
import { HMAC_SECRET } from './tokens.js';

/** A clock that moves only when told; timers fire as it passes their time, in time order. */
export class FakeClock implements Clock {
  #now: number;
  #timers: Array<{ at: number; fn: () => void; cancelled: boolean }> = [];

  /** Starts at `start` (default: the real time, so JWTs minted now make sense to it). */
  constructor(start = Date.now()) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  after(ms: number, fn: () => void): () => void {
    const timer = { at: this.#now + ms, fn, cancelled: false };
    this.#timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  }

  /** Moves the time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const until = this.#now + ms;
    for (;;) {
      const due = this.#timers.filter((t) => !t.cancelled && t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.#now = Math.max(this.#now, due.at);
      due.cancelled = true;
      due.fn();
    }
    this.#now = until;
    this.#timers = this.#timers.filter((t) => !t.cancelled);
  }
}

/** A connection that records what the session writes, line by line, and how it was closed. */
export class FakeConnection implements SessionConnection {
  /** Every JSON line written, parsed, in order (a frame of several lines gives several). */
  readonly lines: Wire[] = [];
  /** Every write as it was made: one entry per frame. */
  readonly frames: string[] = [];
  #closedWith: { code: number; reason: string } | undefined;
  paused = false;
  readonly remoteAddress = '127.0.0.1';
  readonly transport = 'websocket';
  #taken = 0;
  /** Bytes written while the client was not reading (see stopReading). */
  #unsent = 0;
  #reading = true;

  /** From now on the client reads nothing: every write stays unsent, as in a kernel buffer that filled. */
  stopReading(): void {
    this.#reading = false;
  }

  writeText(text: string): void {
    this.#record(text);
  }

  writeShared(message: SharedMessage): void {
    this.#record(message.text);
  }

  /** Protobuf sessions: frames are recorded as their bytes' hex (the JSON lines stay empty). */
  writeBinary(bytes: Uint8Array): void {
    this.frames.push(Buffer.from(bytes).toString('hex'));
  }

  #record(text: string): void {
    if (!this.#reading) {
      this.#unsent += Buffer.byteLength(text);
      return;
    }
    this.frames.push(text);
    for (const line of text.split('\n')) if (line !== '') this.lines.push(JSON.parse(line) as Wire);
  }

  unsentBytes(): number {
    return this.#unsent;
  }

  cork(): void {}

  uncork(): void {}

  closeWith(code: number, reason: string): void {
    this.#closedWith ??= { code, reason };
  }

  /** How the session closed the connection, if it did. */
  closedWith(): { code: number; reason: string } | undefined {
    return this.#closedWith;
  }

  pauseReading(): void {
    this.paused = true;
  }

  resumeReading(): void {
    this.paused = false;
  }

  /** The lines written since the last call. */
  take(): Wire[] {
    const out = this.lines.slice(this.#taken);
    this.#taken = this.lines.length;
    return out;
  }
}

export interface SessionHarness {
  readonly clock: FakeClock;
  readonly node: CanalNode;
  readonly config: Config;
  readonly context: SessionContext;
  /** What the context's connectRefusals logged. */
  readonly refusals: CapturedLog;
  /** A new session on a new fake connection. */
  open(): { session: ClientSession; conn: FakeConnection };
  /**
   * Lets the session finish what it started (promises, token checks) and runs the ends of turns
   * until nothing more is written; then returns.
   */
  settle(): Promise<void>;
  /**
   * Runs turns (and their flushes) until `done()` holds: for work that leaves this thread, such
   * as a token check in WebCrypto, which takes as many turns as the machine's load makes it.
   * Rejects after 5 s of real time naming `what`.
   */
  settleUntil(done: () => boolean, what: string): Promise<void>;
  /** Runs one heartbeat as the server's timer does: expiry and presence (tick), then a ping. */
  heartbeat(session: ClientSession): void;
  /** The pong check that follows a heartbeat by `pong_timeout`. */
  checkPong(session: ClientSession): void;
}

/**
 * A node on the memory engine (under the fake clock) and a session context around it. Options
 * are configuration fields as `new Canal()` takes them; dev mode and `token_hmac_secret`
 * (test/helpers/tokens.ts's HMAC_SECRET) are on unless set. The clock starts at `start`.
 */
export function sessionHarness(options: Record<string, unknown> = {}, handlers: Handlers = {}, start = Date.now()): SessionHarness {
  const clock = new FakeClock(start);
  const config = resolveConfig({ options: { token_hmac_secret: HMAC_SECRET, ...options } });
  const engine = createMemoryEngine({ now: () => clock.now(), sweepIntervalMs: 3_600_000 });
  const metrics = new Metrics({ connections: () => ({}), clients: () => 0, channels: () => 0, subscriptions: () => 0 });
  const node = new CanalNode(engine, config, silentLogger(), 'test', metrics);
  void node.start();
  const deferred: Array<() => void> = [];
  const refusals = captureLog('info');
  const context: SessionContext = {
    node,
    config,
    tokens: new TokenVerifier({ hmacSecret: config.token_hmac_secret, now: () => clock.now() }),
    handlers,
    proxies: Proxies.none(),
    log: silentLogger(),
    connectRefusals: new WindowedLog(refusals.logger, 'connects refused', 'code'),
    version: 'test',
    anonymousAllowed: config.dev || config.allow_anonymous_connect,
    metrics,
    clock,
    commandRate: new CommandRate(config.client_command_rate, config.client_command_burst, clock.now()),
    outbox: { maxBytes: config.client_queue_max_bytes, flushes: new FlushQueue((fn) => deferred.push(fn)) },
    connecting: new Map(),
  };
  const runDeferred = (): number => {
    let n = 0;
    while (deferred.length > 0) {
      for (const fn of deferred.splice(0)) fn();
      n++;
    }
    return n;
  };
  return {
    clock,
    node,
    config,
    context,
    refusals,
    open() {
      const conn = new FakeConnection();
      return { session: new ClientSession(conn, context), conn };
    },
    async settle() {
      // Token checks run in WebCrypto, off this turn: wait a few real turns, flushing after each.
      for (let quiet = 0; quiet < 3;) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        quiet = runDeferred() === 0 ? quiet + 1 : 0;
      }
    },
    async settleUntil(done, what) {
      const deadline = Date.now() + 5000;
      for (;;) {
        runDeferred();
        if (done()) return;
        if (Date.now() > deadline) throw new Error(`the session did not get there within 5 s: ${what}`);
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    },
    heartbeat(session) {
      session.tick(clock.now());
      session.ping();
      runDeferred();
    },
    checkPong(session) {
      session.checkPong();
      runDeferred();
    },
  };
}
