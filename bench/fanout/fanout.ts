/**
 * The fan-out benchmark: N subscribers on one channel, one publisher, for canal's protocol
 * endpoint and for a naive `ws` broadcast loop in the same run (plus a second ws loop, the A/A
 * control, and a ceiling peer that shows what the load generator can take in). Two measurements
 * per target, for each N:
 *
 * (a) a fixed load well under saturation (open loop, default 20,000 deliveries/s): delivery
 *     latency percentiles, and the server's CPU time per delivered message, which does not
 *     depend on how fast the load generator is;
 * (b) saturation (closed loop, `window` publications in flight, the next sent when one has
 *     reached every subscriber): the most deliveries/s with every subscriber receiving every
 *     publication.
 *
 * With `--engine redis` the targets are canal with the memory engine (one node), two canal nodes
 * sharing the local Redis under a unique prefix (subscribers alternate between them, the
 * publisher is on node 1), and a second memory-engine canal as the A/A control.
 *
 * As in the echo benchmark, servers run side by side on the server CPU, the generators on the
 * other, and the targets are loaded in turn, slice by slice, the order rotating from round to
 * round; slices during which other work took CPU do not count.
 */
import type { Benchmark } from './lib/benchmark.js';
import { choiceFlagsHelp, intList, oneOf, takeChoiceFlags } from './lib/choice-flags.js';
import { builtServer } from './lib/dist.js';
import { withDescriptors } from './lib/fd-limits.js';
import { startFanoutGenerator, type FanoutGenerator } from './lib/fanout-generator.js';
import type { FanoutDone, FanoutLoadConfig, FanoutSlice, FanoutTarget } from './lib/fanout-load-types.js';
import { MIN_DATA_BYTES } from './lib/fanout-message.js';
import { deletePrefix, probeRedis, uniquePrefix, type RedisInfo } from './lib/fanout-redis.js';
import {
  CanalSetup, canalMemory, canalRedisPair, ceilingPeer, channelOf, wsPeer, type EngineChoice, type NamespaceChoice, type TargetSpec,
} from './lib/fanout-targets.js';
import { describeMachine } from './lib/machine.js';
import { flagsHelp, parseIntFlags } from './lib/options.js';
import { REPO_ROOT } from './lib/paths.js';
import { detectPinning, type Pinning } from './lib/pinning.js';
import { startServer, type RunningServer } from './lib/server-process.js';
import { formatCount } from './lib/table.js';
import { fanoutReport, roundLine, type Comparison, type FanoutRound } from './fanout-report.js';

const FLAGS = {
  size: { default: 100, min: MIN_DATA_BYTES, max: 8000, doc: 'bytes of each publication\'s data (JSON)' },
  rate: { default: 20_000, min: 100, max: 10_000_000, doc: '(a) deliveries per second of the fixed load (publications/s = rate / N)' },
  'fixed-ms': { default: 1500, min: 200, max: 60_000, doc: '(a) length of a fixed-load slice, in ms (at least 3 publications)' },
  window: { default: 8, min: 1, max: 1024, doc: '(b) publications in flight at saturation' },
  publishers: { default: 1, min: 1, max: 64, doc: 'publisher connections, used in turn (each subscriber checks each publisher\'s order)' },
  'slice-ms': { default: 1000, min: 500, max: 60_000, doc: '(b) measured length of a saturation slice, in ms' },
  rounds: { default: 10, min: 1, max: 100, doc: 'rounds of every target, one slice of each measurement each; figures are medians over quiet slices' },
  'extra-rounds': { default: 5, min: 0, max: 100, doc: 'rounds added, at most, while a target has fewer quiet slices than --rounds' },
  warmup: { default: 2, min: 0, max: 60, doc: 'seconds of saturation per target before the first round' },
} as const;

const CHOICES = {
  subscribers: intList([1000, 10_000], 1, 50_000, 'subscriber counts N, each run with fresh servers'),
  engine: oneOf(['memory', 'redis'] as const, 'memory', 'memory: canal vs the ws loop; redis: two canal nodes sharing Redis vs one memory-engine node'),
  namespace: oneOf(['bench', 'chat'] as const, 'bench', 'bench: no history, no presence (a config file); chat: dev mode\'s chat: namespace, history 100 / 10 min, presence'),
};

/** Load before counting in a saturation slice: the window refills within a few publications. */
const SETTLE_MS = 200;
/** Slack over a command's expected time before its generator is declared stuck. */
const COMMAND_SLACK_MS = 45_000;

function usage(): string {
  return [
    'Usage: npm run bench -- fanout [flags]',
    '',
    'N subscribers on one channel and one publisher, for canal (dist/: run `npm run build` first) and a naive',
    'ws broadcast loop in the same run, interleaved slice by slice: (a) at a fixed load, latency and server CPU',
    'per delivered message; (b) at saturation, deliveries/s with every subscriber receiving every publication.',
    'With --engine redis: two canal nodes sharing the local Redis vs one memory-engine node.',
    '',
    'Flags:',
    ...choiceFlagsHelp(CHOICES, flagsHelp(FLAGS)),
  ].join('\n');
}

/** The targets of a run and who is compared with whom. */
function plan(setup: CanalSetup, engine: EngineChoice, prefix: string): { specs: TargetSpec[]; comparison: Omit<Comparison, 'processNames'> } {
  if (engine === 'memory') {
    return {
      specs: [wsPeer('ws'), canalMemory(setup, 'canal'), wsPeer('ws2'), ceilingPeer('ceiling')],
      comparison: { subject: 'canal', baseline: 'ws', control: 'ws2', ceiling: 'ceiling', judgeCpu: true },
    };
  }
  return {
    specs: [canalMemory(setup, 'canal'), canalRedisPair(setup, 'redis', prefix), canalMemory(setup, 'canal2')],
    comparison: { subject: 'redis', baseline: 'canal', control: 'canal2', ceiling: undefined, judgeCpu: false },
  };
}

/** A started target: its servers and what its generator needs to know. */
interface Started {
  readonly spec: TargetSpec;
  readonly servers: RunningServer[];
  readonly target: FanoutTarget;
}

async function startTarget(spec: TargetSpec, pinning: Pinning, channel: string, redis: RedisInfo | undefined): Promise<Started> {
  const servers: RunningServer[] = [];
  for (const command of spec.servers) servers.push(await startServer(command, pinning));
  const pids = servers.map((s) => s.child.process.pid ?? 0);
  const pidNames = [...spec.serverNames];
  if (spec.usesRedis && redis?.pid !== undefined) {
    pids.push(redis.pid);
    pidNames.push('redis');
  }
  return {
    spec,
    servers,
    target: { name: spec.name, kind: spec.kind, ports: servers.map((s) => s.port), pids, pidNames, channel },
  };
}

interface Flags {
  readonly size: number;
  readonly rate: number;
  readonly fixedMs: number;
  readonly window: number;
  readonly publishers: number;
  readonly sliceMs: number;
  readonly rounds: number;
  readonly maxRounds: number;
  readonly warmupMs: number;
}

/** Publications per fixed-load slice: `fixedMs` worth at `rate`, at least 3. */
function fixedPublications(flags: Flags, subscribers: number): number {
  return Math.max(3, Math.round(((flags.rate / subscribers) * flags.fixedMs) / 1000));
}

/** Throws BenchError naming the first server of `started` that has exited. */
function throwIfDead(started: readonly Started[]): void {
  const dead = started.flatMap((s) => s.servers).find((r) => r.child.exit);
  if (dead) throw dead.child.failure('exited during the run');
}

/** One subscriber count: fresh servers and generators, warm-up, rounds, report. */
async function runCount(
  subscribers: number,
  specs: readonly TargetSpec[],
  comparison: Omit<Comparison, 'processNames'>,
  flags: Flags,
  pinning: Pinning,
  channel: string,
  redis: RedisInfo | undefined,
  out: (line: string) => void,
): Promise<void> {
  const started: Started[] = [];
  const generators = new Map<string, FanoutGenerator>();
  const names = specs.map((s) => s.name);
  const publications = fixedPublications(flags, subscribers);
  const fixedMs = (publications * 1000 * subscribers) / flags.rate;
  const perRoundMs = names.length * (fixedMs + SETTLE_MS + flags.sliceMs + 2 * COMMAND_SLACK_MS);
  try {
    // Servers hold every subscriber of their target (half each for the two Redis nodes).
    const serverPinning = withDescriptors(pinning, subscribers + 1);
    for (const spec of specs) started.push(await startTarget(spec, serverPinning, channel, redis));
    const connectMs = 60_000 + subscribers * 10;
    for (const s of started) {
      const config: FanoutLoadConfig = {
        target: s.target,
        subscribers,
        publishers: flags.publishers,
        size: flags.size,
        deadlineMs: connectMs + names.length * flags.warmupMs + flags.maxRounds * perRoundMs,
      };
      const { generator, connectSeconds } = await startFanoutGenerator(config, withDescriptors(pinning, subscribers + 1), connectMs);
      generators.set(s.spec.name, generator);
      out(`${s.spec.name}: ${formatCount(subscribers)} subscribers connected and subscribed in ${connectSeconds.toFixed(1)} s`);
    }
    for (const name of names) {
      if (flags.warmupMs > 0) await generators.get(name)!.request({ cmd: 'warmup', window: flags.window, ms: flags.warmupMs }, flags.warmupMs + COMMAND_SLACK_MS);
    }
    out('');

    const rounds: FanoutRound[] = [];
    const quiet = new Map(names.map((n) => [n, { fixed: 0, saturate: 0 }]));
    const enough = (): boolean => [...quiet.values()].every((q) => q.fixed >= flags.rounds && q.saturate >= flags.rounds);
    for (let round = 1; round <= flags.maxRounds && !enough(); round++) {
      const fixed = new Map<string, FanoutSlice>();
      const saturate = new Map<string, FanoutSlice>();
      // Rotate who goes first, so that an order effect falls on every target alike.
      const shift = (round - 1) % names.length;
      for (const name of [...names.slice(shift), ...names.slice(0, shift)]) {
        const generator = generators.get(name)!;
        const a = (await generator.request({ cmd: 'fixed', round, rate: flags.rate, publications }, fixedMs + COMMAND_SLACK_MS)) as FanoutSlice;
        const b = (await generator.request(
          { cmd: 'saturate', round, window: flags.window, settleMs: SETTLE_MS, sliceMs: flags.sliceMs },
          SETTLE_MS + flags.sliceMs + COMMAND_SLACK_MS,
        )) as FanoutSlice;
        throwIfDead(started);
        fixed.set(name, a);
        saturate.set(name, b);
        const q = quiet.get(name)!;
        if (a.quiet) q.fixed++;
        if (b.quiet) q.saturate++;
      }
      const r = { fixed, saturate };
      rounds.push(r);
      out(roundLine(r, rounds.length, names, { ...comparison, processNames: {} }));
    }
    const done: Record<string, FanoutDone> = {};
    for (const name of names) done[name] = (await generators.get(name)!.request({ cmd: 'done' }, COMMAND_SLACK_MS)) as FanoutDone;
    throwIfDead(started);
    const processNames = Object.fromEntries(started.map((s) => [s.spec.name, s.target.pidNames]));
    out('');
    out(fanoutReport(subscribers, rounds, flags.rounds, names, done, { ...comparison, processNames }));
    out('');
  } catch (err) {
    // A generator that lost its connections usually means a server died: say which first.
    throwIfDead(started);
    throw err;
  } finally {
    await Promise.all([...generators.values()].map((g) => g.stop()));
    await Promise.all(started.flatMap((s) => s.servers.map((r) => r.child.stop())));
  }
}

async function runFanout(argv: readonly string[]): Promise<number> {
  const { values: choice, rest } = takeChoiceFlags(argv, CHOICES);
  const ints = parseIntFlags(rest, FLAGS, 'fanout');
  if (!ints) {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  const flags: Flags = {
    size: ints.size,
    rate: ints.rate,
    fixedMs: ints['fixed-ms'],
    window: ints.window,
    publishers: ints.publishers,
    sliceMs: ints['slice-ms'],
    rounds: ints.rounds,
    maxRounds: ints.rounds + ints['extra-rounds'],
    warmupMs: ints.warmup * 1000,
  };
  const engine: EngineChoice = choice.engine;
  const ns: NamespaceChoice = choice.namespace;
  const { bin, warning } = builtServer(REPO_ROOT);
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  if (warning) out(`WARNING: ${warning}`);
  const redis = engine === 'redis' ? await probeRedis() : undefined;
  const prefix = uniquePrefix();
  const machine = describeMachine();
  const pinning = detectPinning();
  const setup = new CanalSetup(bin, ns);
  try {
    const { specs, comparison } = plan(setup, engine, prefix);
    out(
      `fanout: N = ${choice.subscribers.map(formatCount).join(' and ')} subscribers on one channel, one publisher; ${flags.size}-byte JSON data; ` +
        `targets ${specs.map((s) => s.name).join(', ')}, loaded in turn, ${flags.rounds} rounds (up to ${ints['extra-rounds']} more while other work disturbs them)`,
    );
    out(
      `(a) fixed load: ${formatCount(flags.rate)} deliveries/s, open loop, ${flags.fixedMs} ms slices (at least 3 publications); ` +
        `(b) saturation: ${flags.window} publications in flight, closed loop, ${flags.sliceMs} ms slices after ${SETTLE_MS} ms; ${ints.warmup} s warm-up per target`,
    );
    out(`canal: ${setup.describe(engine === 'redis' ? prefix : undefined)}; channel ${channelOf(ns)} (${ns === 'bench' ? 'no history, no presence' : 'dev mode: history 100 / 10 min, presence, join/leave'})`);
    out(
      `publishers: ${flags.publishers === 1 ? 'one connection' : `${flags.publishers} connections, used in turn`} (canal: a protocol client sending publish commands; ws: a ws client)` +
        `${engine === 'redis' ? ' on node 1' : ''}; every subscriber checks it receives every publication, in ${flags.publishers === 1 ? 'order' : 'each publisher\'s order'}`,
    );
    if (redis) {
      out(
        `redis: ${prefix} on redis://127.0.0.1:6379 (Redis ${redis.version}; ` +
          `${redis.pid !== undefined ? `pid ${redis.pid}, its CPU counted as the target's` : 'its process is not visible here: its CPU counts as other work'}); subscribers alternate between the two nodes, the publisher is on node 1`,
      );
    }
    out(`machine: nproc ${machine.nproc}, node ${machine.node}, ${machine.cpuModel}; pinning: ${pinning.description}`);
    for (const subscribers of choice.subscribers) {
      out('');
      out(`== N = ${formatCount(subscribers)} ==`);
      await runCount(subscribers, specs, comparison, flags, pinning, channelOf(ns), redis, out);
    }
  } finally {
    setup.remove();
    if (redis) {
      const deleted = await deletePrefix(prefix).catch(() => -1);
      out(deleted >= 0 ? `redis: deleted the ${deleted} keys under ${prefix} (nothing else touched)` : `redis: could not delete the keys under ${prefix}; they expire by themselves`);
    }
  }
  return 0;
}

/** `npm run bench -- fanout`: see {@link usage}. */
export const fanout: Benchmark = {
  summary: 'fan-out to N subscribers: CPU per delivery, latency, deliveries/s; canal vs a naive ws broadcast loop (or vs Redis nodes)',
  run: runFanout,
};
