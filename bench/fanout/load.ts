/**
 * The fan-out load generator for one target, run as its own process (pinned to the load CPU):
 *   node --import tsx bench/lib/fanout-load.ts '<FanoutLoadConfig as JSON>'
 * Opens the publisher and the subscribers (in batches, spread over the target's ports), prints
 * a `ready` line, then runs the commands it reads on stdin one at a time, answering each with a
 * JSON line (fanout-load-types.ts). Exits 1 with the reason on stderr at the first wrong, missing
 * or out-of-order delivery, lost connection or refused command; 2 past its deadline; 0 after
 * `done`, or when stdin closes (the benchmark went away).
 */
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { FanoutPublisher, FanoutSubscriber } from './fanout-connection.js';
import { sampleTargetCpu, targetCpu, type TargetCpuSample } from './fanout-cpu.js';
import type {
  FanoutCommand, FanoutDone, FanoutLine, FanoutLoadConfig, FanoutSlice, FixedCommand, PhaseLatency, SaturateCommand, WarmupCommand,
} from './fanout-load-types.js';
import { FanoutTally } from './fanout-tally.js';
import { Histogram } from './histogram.js';
import { isQuiet } from './quiet-slices.js';

/** Connections opened at once: well inside the default accept backlog (511). */
const OPEN_CONCURRENCY = 100;
/** Longest wait for every subscriber to receive what was published; longer means the target is stuck. */
const DRAIN_MS = 30_000;

function fail(message: string, code = 1): never {
  process.stderr.write(`fanout-load: ${message}\n`);
  process.exit(code);
}

function emit(line: FanoutLine): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

/** Latency histograms over a phase: quiet slices, and all slices (used when none was quiet). */
class PhaseHistograms {
  readonly quiet = new Histogram();
  readonly all = new Histogram();
  #maxQuietUs = 0;
  #maxAllUs = 0;

  add(slice: Histogram, quiet: boolean): void {
    this.all.add(slice);
    const max = slice.quantile(1);
    this.#maxAllUs = Math.max(this.#maxAllUs, max);
    if (!quiet) return;
    this.quiet.add(slice);
    this.#maxQuietUs = Math.max(this.#maxQuietUs, max);
  }

  summary(): PhaseLatency {
    const useQuiet = this.quiet.total > 0;
    const h = useQuiet ? this.quiet : this.all;
    return {
      p50Ms: h.quantile(0.5) / 1000,
      p99Ms: h.quantile(0.99) / 1000,
      maxMs: (useQuiet ? this.#maxQuietUs : this.#maxAllUs) / 1000,
      samples: h.total,
    };
  }
}

class FanoutLoad {
  readonly #config: FanoutLoadConfig;
  readonly #tally: FanoutTally;
  readonly #subscribers: FanoutSubscriber[] = [];
  readonly #publishers: FanoutPublisher[] = [];
  readonly #fixed = new PhaseHistograms();
  readonly #saturate = new PhaseHistograms();
  /** While saturating: the publication that completes sends the next one. */
  #closedLoop = false;

  constructor(config: FanoutLoadConfig) {
    this.#config = config;
    this.#tally = new FanoutTally(config.subscribers);
    this.#tally.onComplete = () => {
      if (this.#closedLoop) this.#publish();
    };
  }

  async open(): Promise<number> {
    const started = performance.now();
    const { target, subscribers } = this.#config;
    const onError = (err: Error): void => fail(`${target.name}: ${err.message}`);
    for (let first = 0; first < subscribers; first += OPEN_CONCURRENCY) {
      const batch = Array.from({ length: Math.min(OPEN_CONCURRENCY, subscribers - first) }, (_, i) => {
        const index = first + i;
        const port = target.ports[index % target.ports.length]!;
        return FanoutSubscriber.open(target.kind, port, target.channel, index, this.#config.publishers, this.#tally, onError);
      });
      this.#subscribers.push(...(await Promise.all(batch)));
    }
    for (let p = 0; p < this.#config.publishers; p++) {
      this.#publishers.push(await FanoutPublisher.open(target.kind, target.ports[0]!, target.channel, p, this.#config.size, this.#tally, onError));
    }
    return (performance.now() - started) / 1000;
  }

  /** Sends the next publication from its publisher: publication `seq` goes out through publisher `seq % P`. */
  #publish(): void {
    this.#publishers[this.#tally.published % this.#publishers.length]!.publish();
  }

  /** Resolves once every publication sent has reached every subscriber; rejects after DRAIN_MS. */
  async #drained(): Promise<void> {
    const deadline = performance.now() + DRAIN_MS;
    while (this.#tally.completed < this.#tally.published) {
      if (performance.now() > deadline) {
        const t = this.#tally;
        throw new Error(
          `${this.#config.target.name}: ${t.published - t.completed} publications still missing ${t.missing} deliveries ` +
            `${DRAIN_MS} ms after they were sent (the slowest subscriber has ${Math.min(...this.#subscribers.map((s) => s.received))} of ${t.published})`,
        );
      }
      await sleep(1);
    }
  }

  #slice(phase: FanoutSlice['phase'], round: number, from: TargetCpuSample, to: TargetCpuSample, publications: number): FanoutSlice {
    const cpu = targetCpu(from, to);
    const quiet = isQuiet(cpu);
    const tally = this.#tally;
    (phase === 'fixed' ? this.#fixed : this.#saturate).add(tally.latencyUs, quiet);
    const seconds = (to.wallMs - from.wallMs) / 1000;
    const deliveries = tally.windowDeliveries;
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
    const tally = this.#tally;
    const intervalMs = (1000 * this.#config.subscribers) / cmd.rate;
    const pids = this.#config.target.pids;
    tally.startWindow();
    const from = sampleTargetCpu(pids);
    const start = performance.now();
    for (let i = 0; i < cmd.publications; i++) {
      const wait = start + i * intervalMs - performance.now();
      if (wait > 0) await sleep(wait);
      this.#publish();
    }
    await this.#drained();
    const to = sampleTargetCpu(pids);
    tally.stopWindow();
    const expected = cmd.publications * this.#config.subscribers;
    if (tally.windowDeliveries !== expected) throw new Error(`counted ${tally.windowDeliveries} deliveries, expected ${expected}`);
    return this.#slice('fixed', cmd.round, from, to, cmd.publications);
  }

  /**
   * Measurement (b), closed loop: `window` publications in flight, the next sent the moment one
   * has reached every subscriber; counted for `sliceMs` after `settleMs`, then drained.
   */
  async saturate(cmd: SaturateCommand): Promise<FanoutSlice> {
    const tally = this.#tally;
    const pids = this.#config.target.pids;
    this.#closedLoop = true;
    for (let i = 0; i < cmd.window; i++) this.#publish();
    await sleep(cmd.settleMs);
    const firstSeq = tally.completed;
    tally.startWindow();
    const from = sampleTargetCpu(pids);
    await sleep(cmd.sliceMs);
    const to = sampleTargetCpu(pids);
    tally.stopWindow();
    const publications = tally.completed - firstSeq;
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
      verified: this.#tally.verified,
      publications: this.#tally.published,
      fixed: this.#fixed.summary(),
      saturate: this.#saturate.summary(),
    };
  }
}

async function run(config: FanoutLoadConfig): Promise<void> {
  const load = new FanoutLoad(config);
  emit({ type: 'ready', connectSeconds: await load.open() });
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    const cmd = JSON.parse(line) as FanoutCommand;
    switch (cmd.cmd) {
      case 'warmup':
        await load.warmup(cmd);
        emit({ type: 'ready', connectSeconds: 0 });
        break;
      case 'fixed':
        emit(await load.fixed(cmd));
        break;
      case 'saturate':
        emit(await load.saturate(cmd));
        break;
      case 'done':
        emit(load.done());
        return;
    }
  }
}

const arg = process.argv[2];
if (!arg) fail('usage: fanout-load.ts <FanoutLoadConfig JSON>');
const config = JSON.parse(arg) as FanoutLoadConfig;
// Every loop here is bounded in count (publications per command) and, by this deadline, in time.
setTimeout(() => fail(`deadline of ${config.deadlineMs} ms passed`, 2), config.deadlineMs).unref();
run(config).then(
  () => process.stdout.write('', () => process.exit(0)),
  (err: unknown) => fail(err instanceof Error ? err.message : String(err)),
);
