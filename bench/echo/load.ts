/**
 * The echo load for one target, in a load process (bench/lib/load-process.ts): C connections,
 * driven as a group (loaded, drained, measured slice by slice) by the benchmark's commands.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuBetween, sampleCpu } from '../lib/cpu.js';
import type { LoadSession } from '../lib/load-child.js';
import { isQuiet } from '../lib/quiet-slices.js';
import { LatencySummary, Tally } from '../lib/tally.js';
import { openEchoConnection, type EchoConnection } from './connection.js';
import type { EchoCommand, EchoDone, EchoLoadConfig, EchoReady, EchoSlice } from './types.js';

/** Connections opened at once: quick, and well inside the default accept backlog (511). */
const OPEN_CONCURRENCY = 64;

/** Time allowed for the replies in flight when a group stops; longer means the server is stuck. */
const DRAIN_MS = 5000;

/** One target's connections and counts. */
class EchoTargetLoad {
  readonly #config: EchoLoadConfig;
  readonly #connections: readonly EchoConnection[];
  readonly #tally: Tally;
  readonly #latency = new LatencySummary();

  private constructor(config: EchoLoadConfig, connections: readonly EchoConnection[], tally: Tally) {
    this.#config = config;
    this.#connections = connections;
    this.#tally = tally;
  }

  /**
   * Opens the connections of `config` (handshakes done, nothing sent). Rejects at the first
   * that fails; `onError` later reports any wrong reply or lost connection.
   */
  static async open(config: EchoLoadConfig, onError: (err: Error) => void): Promise<EchoTargetLoad> {
    const tally = new Tally();
    const connections: EchoConnection[] = [];
    for (let first = 0; first < config.connections; first += OPEN_CONCURRENCY) {
      const batch = Array.from({ length: Math.min(OPEN_CONCURRENCY, config.connections - first) }, (_, i) =>
        openEchoConnection(config.port, first + i, config, tally, onError),
      );
      connections.push(...(await Promise.all(batch)));
    }
    return new EchoTargetLoad(config, connections, tally);
  }

  /** Starts loading: every connection fills its window. */
  start(): void {
    for (const c of this.#connections) c.start();
  }

  /** Stops loading; resolves once every reply is in. Rejects when some are missing after 5 s. */
  async stop(): Promise<void> {
    const ac = new AbortController();
    const late = sleep(DRAIN_MS, undefined, { signal: ac.signal }).then(() => {
      throw new Error(`replies still missing ${DRAIN_MS} ms after the load stopped`);
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
  async slice(round: number, settleMs: number, sliceMs: number): Promise<EchoSlice> {
    this.start();
    await sleep(settleMs);
    const from = sampleCpu(this.#config.serverPids);
    this.#tally.startWindow();
    await sleep(sliceMs);
    this.#tally.stopWindow();
    const to = sampleCpu(this.#config.serverPids);
    await this.stop();
    const cpu = cpuBetween(from, to);
    const quiet = isQuiet(cpu);
    this.#latency.add(this.#tally.latencyUs, quiet);
    const seconds = (to.wallMs - from.wallMs) / 1000;
    const roundTrips = this.#tally.counted;
    return {
      type: 'slice',
      phase: 'echo',
      target: this.#config.name,
      round,
      roundTrips,
      seconds,
      perSecond: roundTrips / seconds,
      cpu: { server: cpu.server, generator: cpu.generator, other: cpu.other, steal: cpu.steal },
      quiet,
    };
  }

  /** Closes every connection (close frame 1000, then TCP end); replies checked and latency over the run. */
  done(): EchoDone {
    for (const c of this.#connections) c.close();
    return { type: 'done', verified: this.#tally.verified, latency: this.#latency.figures() };
  }
}

/** See bench/lib/load-child.ts, LoadModule. */
export async function startLoad(config: EchoLoadConfig, fail: (message: string) => never): Promise<LoadSession> {
  const started = performance.now();
  const load = await EchoTargetLoad.open(config, (err) => fail(err.message));
  const ready: EchoReady = { type: 'ready', seconds: (performance.now() - started) / 1000 };
  return {
    ready,
    handle: async (command) => {
      const cmd = command as EchoCommand;
      switch (cmd.cmd) {
        case 'warmup': {
          load.start();
          await sleep(cmd.ms);
          await load.stop();
          return { line: { type: 'ready', seconds: cmd.ms / 1000 } satisfies EchoReady };
        }
        case 'slice':
          return { line: await load.slice(cmd.round, cmd.settleMs, cmd.sliceMs) };
        case 'done':
          return { line: load.done(), last: true };
      }
    },
  };
}
