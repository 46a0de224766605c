/**
 * The load generator's connections to one echo target, driven as a group: loaded, drained,
 * measured slice by slice. Several groups live in one generator; only one is loaded at a time.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuShares, sampleCpu } from './cpu-usage.js';
import { openEchoConnection, type EchoConnection, type EchoConnectionOptions } from './echo-connection.js';
import type { EchoTargetAddress, SliceReport, TargetSummary } from './echo-load-types.js';
import { Histogram } from './histogram.js';
import { isQuiet } from './quiet-slices.js';
import { Tally } from './tally.js';

/** Connections opened at once: quick, and well inside the default accept backlog (511). */
const OPEN_CONCURRENCY = 64;

/** Time allowed for the replies in flight when a group stops; longer means the server is stuck. */
const DRAIN_MS = 5000;

/** One target's connections and counts. */
export class EchoTargetLoad {
  readonly address: EchoTargetAddress;
  readonly #connections: readonly EchoConnection[];
  readonly #tally: Tally;
  readonly #quietLatency = new Histogram();
  readonly #allLatency = new Histogram();

  private constructor(address: EchoTargetAddress, connections: readonly EchoConnection[], tally: Tally) {
    this.address = address;
    this.#connections = connections;
    this.#tally = tally;
  }

  /**
   * Opens `count` connections to `address` (handshakes done, nothing sent). Rejects at the
   * first that fails; `onError` later reports any wrong reply or lost connection.
   */
  static async open(address: EchoTargetAddress, count: number, options: EchoConnectionOptions, onError: (err: Error) => void): Promise<EchoTargetLoad> {
    const tally = new Tally();
    const connections: EchoConnection[] = [];
    const report = (err: Error): void => onError(new Error(`${address.name}: ${err.message}`));
    for (let first = 0; first < count; first += OPEN_CONCURRENCY) {
      const batch = Array.from({ length: Math.min(OPEN_CONCURRENCY, count - first) }, (_, i) =>
        openEchoConnection(address.port, first + i, options, tally, report),
      );
      connections.push(...(await Promise.all(batch)));
    }
    return new EchoTargetLoad(address, connections, tally);
  }

  /** Starts loading: every connection fills its window. */
  start(): void {
    for (const c of this.#connections) c.start();
  }

  /** Stops loading; resolves once every reply is in. Rejects when some are missing after 5 s. */
  async stop(): Promise<void> {
    const ac = new AbortController();
    const late = sleep(DRAIN_MS, undefined, { signal: ac.signal }).then(() => {
      throw new Error(`${this.address.name}: replies still missing ${DRAIN_MS} ms after the load stopped`);
    });
    try {
      await Promise.race([Promise.all(this.#connections.map((c) => c.stop())), late]);
    } finally {
      ac.abort();
      late.catch(() => {});
    }
  }

  /**
   * Loads the target for `settleMs` (back to steady state after being idle), then counts for
   * `sliceMs`, sampling the server's and the machine's CPU time at both ends; then drains.
   */
  async measureSlice(round: number, settleMs: number, sliceMs: number): Promise<SliceReport> {
    this.start();
    await sleep(settleMs);
    const from = sampleCpu(this.address.serverPid);
    this.#tally.start();
    await sleep(sliceMs);
    this.#tally.stop();
    const to = sampleCpu(this.address.serverPid);
    await this.stop();
    const cpu = cpuShares(from, to);
    const quiet = isQuiet(cpu);
    this.#allLatency.add(this.#tally.latencyMicros);
    if (quiet) this.#quietLatency.add(this.#tally.latencyMicros);
    const seconds = (to.wallMs - from.wallMs) / 1000;
    const roundTrips = this.#tally.roundTrips;
    return { type: 'slice', target: this.address.name, round, roundTrips, seconds, perSecond: roundTrips / seconds, cpu, quiet };
  }

  /** Replies verified and latency percentiles so far (over quiet slices, all when none was quiet). */
  summary(): TargetSummary {
    const latency = this.#quietLatency.total > 0 ? this.#quietLatency : this.#allLatency;
    return {
      verified: this.#tally.verified,
      p50Ms: latency.quantile(0.5) / 1000,
      p99Ms: latency.quantile(0.99) / 1000,
    };
  }

  /** Closes every connection (close frame 1000, then TCP end). */
  close(): void {
    for (const c of this.#connections) c.close();
  }
}
