/**
 * The fan-out load for one target, in a load process (bench/lib/load-process.ts): opens the
 * subscribers (in batches, spread over the target's ports) and the publishers, then runs the
 * benchmark's commands one at a time (types.ts). Every delivery is checked: a wrong, missing or
 * out-of-order one ends the process with the reason.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuBetween, sampleCpu, type CpuSample } from '../lib/cpu.js';
import type { LoadSession } from '../lib/load-child.js';
import { isQuiet } from '../lib/quiet-slices.js';
import { LatencySummary } from '../lib/tally.js';
import { FanoutPublisher, FanoutSubscriber } from './connection.js';
import { Publications } from './publications.js';
import type { FanoutCommand, FanoutDone, FanoutLoadConfig, FanoutSlice, FixedCommand, ReadyLine, SaturateCommand, WarmupCommand } from './types.js';

/** Connections opened at once: well inside the default accept backlog (511). */
const OPEN_CONCURRENCY = 100;
/** Longest wait for every subscriber to receive what was published; longer means the target is stuck. */
const DRAIN_MS = 30_000;

class FanoutLoad {
  readonly #config: FanoutLoadConfig;
  readonly #publications: Publications;
  readonly #subscribers: FanoutSubscriber[] = [];
  readonly #publishers: FanoutPublisher[] = [];
  readonly #fixed = new LatencySummary();
  readonly #saturate = new LatencySummary();
  /** While saturating: the publication that completes sends the next one. */
  #closedLoop = false;

  constructor(config: FanoutLoadConfig) {
    this.#config = config;
    this.#publications = new Publications(config.subscribers);
    this.#publications.onComplete = () => {
      if (this.#closedLoop) this.#publish();
    };
  }

  async open(onError: (err: Error) => void): Promise<number> {
    const started = performance.now();
    const { target, subscribers } = this.#config;
    for (let first = 0; first < subscribers; first += OPEN_CONCURRENCY) {
      const batch = Array.from({ length: Math.min(OPEN_CONCURRENCY, subscribers - first) }, (_, i) => {
        const index = first + i;
        const port = target.ports[index % target.ports.length]!;
        return FanoutSubscriber.open(target.kind, port, target.channel, index, this.#config.publishers, this.#publications, onError);
      });
      this.#subscribers.push(...(await Promise.all(batch)));
    }
    for (let p = 0; p < this.#config.publishers; p++) {
      this.#publishers.push(await FanoutPublisher.open(target.kind, target.ports[0]!, target.channel, p, this.#config.size, this.#publications, onError));
    }
    return (performance.now() - started) / 1000;
  }

  /** Sends the next publication from its publisher: publication `seq` goes out through publisher `seq % P`. */
  #publish(): void {
    this.#publishers[this.#publications.published % this.#publishers.length]!.publish();
  }

  /** Resolves once every publication sent has reached every subscriber; rejects after DRAIN_MS. */
  async #drained(): Promise<void> {
    const deadline = performance.now() + DRAIN_MS;
    const p = this.#publications;
    while (p.completed < p.published) {
      if (performance.now() > deadline) {
        throw new Error(
          `${p.published - p.completed} publications still missing ${p.missing} deliveries ` +
            `${DRAIN_MS} ms after they were sent (the slowest subscriber has ${Math.min(...this.#subscribers.map((s) => s.received))} of ${p.published})`,
        );
      }
      await sleep(1);
    }
  }

  #slice(phase: FanoutSlice['phase'], round: number, from: CpuSample, to: CpuSample, publications: number): FanoutSlice {
    const cpu = cpuBetween(from, to);
    const quiet = isQuiet(cpu);
    const tally = this.#publications.tally;
    (phase === 'fixed' ? this.#fixed : this.#saturate).add(tally.latencyUs, quiet);
    const seconds = (to.wallMs - from.wallMs) / 1000;
    const deliveries = tally.counted;
    return {
      type: 'slice',
      phase,
      target: this.#config.target.name,
      round,
      deliveries,
      publications,
      seconds,
      perSecond: deliveries / seconds,
      cpuUsPerDelivery: cpu.serverNs / 1000 / deliveries,
      p50Ms: tally.latencyUs.quantile(0.5) / 1000,
      p99Ms: tally.latencyUs.quantile(0.99) / 1000,
      cpu,
      quiet,
    };
  }

  /**
   * Measurement (a), open loop: `publications` publications, one every N / rate seconds, each sent
   * on time whatever the previous ones did. The CPU window runs from just before the first to
   * the moment the last has reached every subscriber, so it holds exactly publications × N deliveries.
   */
  async fixed(cmd: FixedCommand): Promise<FanoutSlice> {
    const tally = this.#publications.tally;
    const intervalMs = (1000 * this.#config.subscribers) / cmd.rate;
    const pids = this.#config.target.pids;
    tally.startWindow();
    const from = sampleCpu(pids);
    const start = performance.now();
    for (let i = 0; i < cmd.publications; i++) {
      const wait = start + i * intervalMs - performance.now();
      if (wait > 0) await sleep(wait);
      this.#publish();
    }
    await this.#drained();
    const to = sampleCpu(pids);
    tally.stopWindow();
    const expected = cmd.publications * this.#config.subscribers;
    if (tally.counted !== expected) throw new Error(`counted ${tally.counted} deliveries, expected ${expected}`);
    return this.#slice('fixed', cmd.round, from, to, cmd.publications);
  }

  /**
   * Measurement (b), closed loop: `window` publications in flight, the next sent the moment one
   * has reached every subscriber; counted for `sliceMs` after `settleMs`, then drained.
   */
  async saturate(cmd: SaturateCommand): Promise<FanoutSlice> {
    const p = this.#publications;
    const pids = this.#config.target.pids;
    this.#closedLoop = true;
    for (let i = 0; i < cmd.window; i++) this.#publish();
    await sleep(cmd.settleMs);
    const firstSeq = p.completed;
    p.tally.startWindow();
    const from = sampleCpu(pids);
    await sleep(cmd.sliceMs);
    const to = sampleCpu(pids);
    p.tally.stopWindow();
    const publications = p.completed - firstSeq;
    this.#closedLoop = false;
    await this.#drained();
    return this.#slice('saturate', cmd.round, from, to, publications);
  }

  async warmup(cmd: WarmupCommand): Promise<void> {
    this.#closedLoop = true;
    for (let i = 0; i < cmd.window; i++) this.#publish();
    await sleep(cmd.ms);
    this.#closedLoop = false;
    await this.#drained();
  }

  done(): FanoutDone {
    for (const s of this.#subscribers) s.close();
    for (const p of this.#publishers) p.close();
    return {
      type: 'done',
      target: this.#config.target.name,
      verified: this.#publications.tally.verified,
      publications: this.#publications.published,
      fixed: this.#fixed.figures(),
      saturate: this.#saturate.figures(),
    };
  }
}

/** See bench/lib/load-child.ts, LoadModule. */
export async function startLoad(config: FanoutLoadConfig, fail: (message: string) => never): Promise<LoadSession> {
  const load = new FanoutLoad(config);
  const ready: ReadyLine = { type: 'ready', connectSeconds: await load.open((err) => fail(err.message)) };
  return {
    ready,
    handle: async (command) => {
      const cmd = command as FanoutCommand;
      switch (cmd.cmd) {
        case 'warmup':
          await load.warmup(cmd);
          return { line: { type: 'ready', connectSeconds: 0 } satisfies ReadyLine };
        case 'fixed':
          return { line: await load.fixed(cmd) };
        case 'saturate':
          return { line: await load.saturate(cmd) };
        case 'done':
          return { line: load.done(), last: true };
      }
    },
  };
}
