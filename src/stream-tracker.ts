/**
 * Gaps repaired on the node (issue 12 item 3). For each channel with history that has local
 * subscribers, the node keeps the position it last delivered locally, and hands the hub the
 * channel's publications in offset order, each once. When a publication skips offsets (pub/sub
 * lost some: a broken link, a Redis failover), when the broker says its link came back, or when
 * a periodic check finds the stream ahead of what was delivered, the node reads the missing
 * publications from history and delivers them first, then the newer ones it held meanwhile. Only
 * when history no longer has them (trimmed, expired) or the stream has a new epoch are the
 * channel's positioned subscribers told — with 3010, spread over a window with jitter, while the
 * channel's newer publications wait so that no subscriber sees the jump before it is told.
 *
 * Sessions keep their own check (an offset that is not the previous plus one disconnects with
 * 3010) as a safety net; with this in front of them it does not fire.
 */
import type { NamespaceOptions } from './config/namespaces.js';
import { UnrecoverablePositionError, type HistoryPage, type HistoryQuery } from './engine/types.js';
import type { Logger } from './log.js';
import type { Publication, StreamPosition } from './protocol/types.js';

/** What the tracker needs from the node. */
export interface StreamTrackerHost {
  /** Reads history with the namespace's settings. */
  history(channel: string, ns: NamespaceOptions, query: Omit<HistoryQuery, 'history'>): Promise<HistoryPage>;
  /** Hands a publication to the hub (local subscribers). */
  deliver(channel: string, pub: Publication, position: StreamPosition): void;
  /** Disconnects (3010) the local positioned subscribers of `channel` that `pick` selects, once each. */
  positionedSubscribers(channel: string): Array<() => void>;
}

export interface StreamTrackerOptions {
  /** How often each channel's position is checked against its stream when nothing else did it. */
  readonly checkIntervalMs: number;
  /** The window over which positioned subscribers are disconnected when a gap cannot be repaired. */
  readonly disconnectWindowMs: number;
  readonly log: Logger;
  /** The clock and the random source, for tests. */
  readonly now?: () => number;
  readonly random?: () => number;
}

/** Publications read per history call while repairing. */
const PAGE = 1000;
/** A gap larger than this is not repaired: the subscribers recover on their own (3010). */
const MAX_REPAIR = 100_000;
/**
 * Publications held per channel. Past it while a read runs, the channel gives up on the gap;
 * past it while a give-up's window runs, the oldest held are dropped (the subscribers who need
 * them are being told to recover them).
 */
const MAX_PENDING = 10_000;
/** Checks running at once (a reconnect checks every channel). */
const CHECK_CONCURRENCY = 16;

interface Tracked {
  readonly ns: NamespaceOptions;
  epoch: string;
  /** The last offset delivered locally. */
  offset: number;
  /** A read is running (baseline, check, repair) or the channel is held: publications wait. */
  busy: boolean;
  /** A give-up's disconnect window runs: the channel is held until it ends. */
  waiting: boolean;
  /** Publications that arrived while busy, in arrival order. */
  pending: Array<{ pub: Publication; position: StreamPosition }>;
  /** When the position was last known to be the stream's top (a delivery in order, a check). */
  verifiedAt: number;
  /** A check was asked for while busy: run one when free. */
  recheck: boolean;
  retry: NodeJS.Timeout | undefined;
  /** Reads that failed in a row (Redis away): the next try waits 1 s, doubling up to the check interval. */
  failures: number;
  /** Bumped when the channel gives up on a gap: a read started before it no longer applies. */
  gen: number;
}

/** Figures for tests and logs. */
export interface StreamTrackerStats {
  /** Publications delivered from history to fill gaps. */
  repaired: number;
  /** Gaps that could not be repaired (positioned subscribers told with 3010). */
  unrecoverable: number;
  /** Publications dropped because they were already delivered. */
  duplicates: number;
}

export class StreamTracker {
  readonly #host: StreamTrackerHost;
  readonly #options: StreamTrackerOptions;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #channels = new Map<string, Tracked>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #sweeper: NodeJS.Timeout | undefined;
  #checking = 0;
  readonly #checkQueue: string[] = [];
  readonly stats: StreamTrackerStats = { repaired: 0, unrecoverable: 0, duplicates: 0 };

  constructor(host: StreamTrackerHost, options: StreamTrackerOptions) {
    this.#host = host;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
  }

  /** Starts the periodic position checks. */
  start(): void {
    const every = Math.max(250, Math.floor(this.#options.checkIntervalMs / 4));
    this.#sweeper = setInterval(() => this.#sweep(), every);
    this.#sweeper.unref();
  }

  stop(): void {
    clearInterval(this.#sweeper);
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    for (const state of this.#channels.values()) clearTimeout(state.retry);
  }

  /** Whether `channel` is tracked (it has history and local subscribers). */
  has(channel: string): boolean {
    return this.#channels.has(channel);
  }

  get size(): number {
    return this.#channels.size;
  }

  /**
   * Starts tracking `channel` from the stream's current top (one history read). Publications
   * that arrive meanwhile wait and are delivered after it. Throws what the read throws; the
   * channel is then not tracked.
   */
  async track(channel: string, ns: NamespaceOptions): Promise<void> {
    if (this.#channels.has(channel)) return;
    const state: Tracked = { ns, epoch: '', offset: 0, busy: true, waiting: false, pending: [], verifiedAt: this.#now(), recheck: false, retry: undefined, failures: 0, gen: 0 };
    this.#channels.set(channel, state);
    let page: HistoryPage;
    try {
      page = await this.#host.history(channel, ns, { limit: 0 });
    } catch (err) {
      if (this.#channels.get(channel) === state) this.#channels.delete(channel);
      throw err;
    }
    if (this.#channels.get(channel) !== state) return;
    state.epoch = page.position.epoch;
    state.offset = page.position.offset;
    state.verifiedAt = this.#now();
    state.busy = false;
    this.#drain(channel, state);
  }

  /** Stops tracking `channel` (its last local subscriber left). */
  untrack(channel: string): void {
    const state = this.#channels.get(channel);
    if (!state) return;
    clearTimeout(state.retry);
    this.#channels.delete(channel);
  }

  /**
   * A publication from the broker. Tracked channels get it delivered in order exactly once
   * (possibly after a repair); others straight away.
   */
  onPublication(channel: string, pub: Publication, position: StreamPosition): void {
    const state = this.#channels.get(channel);
    if (!state || position.offset === 0) {
      this.#host.deliver(channel, pub, position);
      return;
    }
    if (state.busy || state.pending.length > 0) {
      this.#hold(channel, state, pub, position);
      return;
    }
    this.#offer(channel, state, pub, position);
  }

  /** Checks `channel` (or every tracked channel) against its stream now, e.g. after a reconnect. */
  check(channel?: string): void {
    const channels = channel === undefined ? [...this.#channels.keys()] : [channel];
    for (const c of channels) this.#enqueueCheck(c);
  }

  /** Delivers `pub` if it is the next one; drops a duplicate; repairs a gap. Not busy, nothing pending. */
  #offer(channel: string, state: Tracked, pub: Publication, position: StreamPosition): void {
    if (position.epoch === state.epoch) {
      if (position.offset <= state.offset) {
        this.stats.duplicates++;
        return;
      }
      if (position.offset === state.offset + 1) {
        state.offset = position.offset;
        state.verifiedAt = this.#now();
        this.#host.deliver(channel, pub, position);
        return;
      }
    }
    // A jump, or another epoch: hold it and find out from history what happened.
    state.pending.push({ pub, position });
    void this.#repair(channel, state);
  }

  #hold(channel: string, state: Tracked, pub: Publication, position: StreamPosition): void {
    state.pending.push({ pub, position });
    if (state.pending.length <= MAX_PENDING) return;
    if (state.waiting) {
      // The positioned subscribers are being told already; the others never had a guarantee.
      // Skipping the oldest keeps what follows in order when the window ends.
      while (state.pending.length > MAX_PENDING) {
        const skipped = state.pending.shift()!.position;
        state.epoch = skipped.epoch;
        state.offset = skipped.offset;
      }
      return;
    }
    // Held too long (Redis slow or away): stop waiting for history. Delivery goes on from the
    // oldest held once the window ends, and the positioned subscribers recover by themselves,
    // told over the window like any other gap history cannot fill: a Redis outage is when a
    // whole node's subscribers would otherwise come back in the same millisecond.
    const first = state.pending[0]!.position;
    this.#options.log.warn({ channel, held: state.pending.length }, 'too many publications held while repairing; positioned subscribers will recover');
    this.#giveUp(channel, state, { offset: first.offset - 1, epoch: first.epoch });
  }

  /** Delivers what is pending, in order, as long as it follows on; a gap starts a repair. */
  #drain(channel: string, state: Tracked): void {
    while (!state.busy && state.pending.length > 0) {
      const { pub, position } = state.pending.shift()!;
      this.#offer(channel, state, pub, position);
    }
    if (!state.busy && state.recheck) {
      state.recheck = false;
      this.#enqueueCheck(channel);
    }
  }

  /**
   * Reads from history what follows the delivered position and delivers it, then what was held.
   * Unrecoverable (trimmed, another epoch, past the top): the positioned subscribers are told.
   * Redis away: tried again after 1 s, then 2, 4, ... up to the check interval; publications stay held.
   */
  async #repair(channel: string, state: Tracked): Promise<void> {
    if (state.busy) return;
    state.busy = true;
    const gen = state.gen;
    let outcome: 'done' | 'gone' | 'failed' = 'done';
    try {
      outcome = await this.#catchUp(channel, state, gen);
    } catch (err) {
      outcome = 'failed';
      this.#options.log.warn({ channel, err: (err as Error).message }, 'could not read history to repair a gap; trying again');
    }
    // Untracked meanwhile, or given up (the give-up's window now owns the channel).
    if (this.#channels.get(channel) !== state || state.gen !== gen) return;
    if (outcome === 'failed') {
      state.busy = false;
      state.failures++;
      clearTimeout(state.retry);
      // Held publications are repaired again; with none, it was a check (a reconnect's, the
      // sweep's), which is tried again too: waiting for the next sweep left subscribers of a
      // stream that a restarted Redis lost uninformed for the whole check interval.
      state.retry = setTimeout(() => {
        state.retry = undefined;
        if (this.#channels.get(channel) !== state) return;
        if (state.pending.length > 0) void this.#repair(channel, state);
        else this.#enqueueCheck(channel);
      }, Math.min(1000 * 2 ** (state.failures - 1), this.#options.checkIntervalMs));
      state.retry.unref();
      return;
    }
    state.failures = 0;
    if (outcome === 'done') {
      state.busy = false;
      this.#drain(channel, state);
    }
  }

  /** The history part of a repair; returns 'gone' when it handed the channel to #giveUp. */
  async #catchUp(channel: string, state: Tracked, gen: number): Promise<'done' | 'gone'> {
    const stale = (): boolean => this.#channels.get(channel) !== state || state.gen !== gen;
    let read = 0;
    for (;;) {
      let page: HistoryPage;
      try {
        page = await this.#host.history(channel, state.ns, { since: { offset: state.offset, epoch: state.epoch }, limit: PAGE });
      } catch (err) {
        if (!(err instanceof UnrecoverablePositionError)) throw err;
        if (stale()) return 'done';
        const top = (await this.#host.history(channel, state.ns, { limit: 0 })).position;
        if (stale()) return 'done';
        this.#giveUp(channel, state, top);
        return 'gone';
      }
      if (stale()) return 'done';
      const first = page.publications[0];
      if (first !== undefined && first.offset !== state.offset + 1) {
        this.#giveUp(channel, state, page.position);
        return 'gone';
      }
      for (const pub of page.publications) {
        if (pub.offset !== state.offset + 1) {
          this.#giveUp(channel, state, page.position);
          return 'gone';
        }
        state.offset = pub.offset;
        this.stats.repaired++;
        this.#host.deliver(channel, pub, { offset: pub.offset, epoch: state.epoch });
      }
      read += page.publications.length;
      if (state.offset >= page.position.offset) {
        state.verifiedAt = this.#now();
        return 'done';
      }
      if (page.publications.length === 0) {
        // The top is ahead but history has nothing after our offset: trimmed or expired.
        this.#giveUp(channel, state, page.position);
        return 'gone';
      }
      if (read >= MAX_REPAIR) {
        this.#giveUp(channel, state, page.position);
        return 'gone';
      }
    }
  }

  /**
   * The gap cannot be filled: positioned subscribers are disconnected with 3010 spread over the
   * window (with jitter), the channel's newer publications wait until the window ends (so none
   * of them sees the jump first), then delivery goes on from `top`.
   */
  #giveUp(channel: string, state: Tracked, top: StreamPosition): void {
    this.stats.unrecoverable++;
    state.gen++;
    const disconnects = this.#host.positionedSubscribers(channel);
    const window = this.#options.disconnectWindowMs;
    this.#options.log.warn({ channel, from: { offset: state.offset, epoch: state.epoch }, top, subscribers: disconnects.length, windowMs: window },
      'publications lost and not in history; positioned subscribers will recover');
    state.epoch = top.epoch;
    state.offset = top.offset;
    state.busy = true;
    state.waiting = true;
    const n = disconnects.length;
    disconnects.forEach((disconnect, i) => {
      // Even slots over the window, each at a random point of its slot.
      const at = window <= 0 ? 0 : ((i + this.#random()) * window) / n;
      this.#later(at, disconnect);
    });
    this.#later(window, () => {
      if (this.#channels.get(channel) !== state) return;
      state.busy = false;
      state.waiting = false;
      state.verifiedAt = this.#now();
      this.#drain(channel, state);
    });
  }

  #later(ms: number, fn: () => void): void {
    if (ms <= 0) {
      fn();
      return;
    }
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, ms);
    timer.unref();
    this.#timers.add(timer);
  }

  #sweep(): void {
    const due = this.#now() - this.#options.checkIntervalMs;
    for (const [channel, state] of this.#channels) if (state.verifiedAt <= due && !state.busy) this.#enqueueCheck(channel);
  }

  #enqueueCheck(channel: string): void {
    const state = this.#channels.get(channel);
    if (!state) return;
    if (state.busy) {
      state.recheck = true;
      return;
    }
    // Marked so the sweep does not queue it again while it waits.
    state.verifiedAt = this.#now();
    this.#checkQueue.push(channel);
    this.#runChecks();
  }

  #runChecks(): void {
    while (this.#checking < CHECK_CONCURRENCY && this.#checkQueue.length > 0) {
      const channel = this.#checkQueue.shift()!;
      const state = this.#channels.get(channel);
      if (!state || state.busy) continue;
      this.#checking++;
      void this.#repair(channel, state).finally(() => {
        this.#checking--;
        this.#runChecks();
      });
    }
  }
}
