/**
 * The fan-out benchmark: N subscribers on one channel, one publisher, for canal's protocol
 * endpoint (on Node, optionally on Bun, in the `bench` namespace, dev mode's `chat:` or both)
 * and for peers in the same run: a naive `ws` broadcast loop (and a second one, the A/A
 * control), a `ws` loop that frames each publication once (the Node floor), Bun's native
 * `server.publish`, and a ceiling peer that shows what the load generator can take in. Two
 * measurements per target, for each N:
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
 * Servers run side by side on the server CPU, one load process per target on the other, loaded
 * in turn slice by slice (bench/lib/rounds.ts); slices during which other work took CPU do not count.
 */
import { BenchError, type Benchmark } from '../lib/benchmark.js';
import { builtServer } from '../lib/dist.js';
import { withDescriptors } from '../lib/fd-limits.js';
import { flagsHelp, int, intList, oneOf, parseFlags, someOf, text } from '../lib/flags.js';
import { LoadChild } from '../lib/load-child.js';
import { describeMachine } from '../lib/machine.js';
import { REPO_ROOT } from '../lib/paths.js';
import { choosePinning, PIN_CHOICES, type Pinning } from '../lib/pinning.js';
import { runRounds } from '../lib/rounds.js';
import { startServer, throwIfDead, type RunningServer, type ServerCommand } from '../lib/server-process.js';
import { formatCount } from '../lib/table.js';
import {
  bunPeer, CanalSetup, canalVariants, NAMESPACES, nodePeer, RUNTIMES, splitFlags, type CanalVariant, type NamespaceChoice, type TargetKind,
} from '../lib/targets.js';
import { MIN_DATA_BYTES } from './message.js';
import { deletePrefix, probeRedis, uniquePrefix, type RedisInfo } from './redis.js';
import { fanoutReport, roundLine, type Comparison } from './report.js';
import type { FanoutCommand, FanoutDone, FanoutLine, FanoutLoadConfig, FanoutSlice } from './types.js';

const PEERS = ['ws', 'ws2', 'ws-once', 'bun', 'ceiling'] as const;
type Peer = (typeof PEERS)[number];

const FLAGS = {
  subscribers: intList([1000, 10_000], 1, 50_000, 'subscriber counts N, each run with fresh servers'),
  engine: oneOf(['memory', 'redis'] as const, 'memory', 'memory: canal vs the peers; redis: two canal nodes sharing the local Redis vs one memory-engine node (and canal2, the A/A control; no peers)'),
  namespace: someOf(NAMESPACES, ['bench'], 'canal\'s channel: bench (a config file: no history, no presence) and/or chat (dev mode\'s chat: namespace: history 100 / 10 min, recovery, presence, join/leave); with both, the chat targets are named canal-chat, canal-bun-chat'),
  runtimes: someOf(RUNTIMES, ['node'], 'canal targets: node (`canal`: node dist/cli/bin.js serve), bun (`canal-bun`: bun dist/cli/bin.js serve)'),
  peers: someOf(PEERS, [...PEERS], 'peers: ws (naive ws.send loop), ws2 (the same again: the A/A control), ws-once (each publication framed once, socket.write to all: the Node floor), bun (Bun.serve, server.publish), ceiling (node:net, one write per delivery)'),
  'serve-flags': text('', '"FLAGS"', 'extra flags for every canal serve, split at spaces (e.g. "--workers 2")'),
  size: int(100, MIN_DATA_BYTES, 8000, 'bytes of each publication\'s data (JSON)'),
  rate: int(20_000, 100, 10_000_000, '(a) deliveries per second of the fixed load (publications/s = rate / N)'),
  'fixed-ms': int(1500, 200, 60_000, '(a) length of a fixed-load slice, in ms (at least 3 publications)'),
  window: int(8, 1, 1024, '(b) publications in flight at saturation'),
  'slice-ms': int(1000, 500, 60_000, '(b) measured length of a saturation slice, in ms'),
  publishers: int(1, 1, 64, 'publisher connections, used in turn (each subscriber checks each publisher\'s order)'),
  rounds: int(10, 1, 100, 'rounds of every target, one slice of each measurement each; figures are medians over quiet slices'),
  'extra-rounds': int(5, 0, 100, 'rounds added, at most, while a target has fewer quiet slices than --rounds'),
  warmup: int(2, 0, 60, 'seconds of saturation per target before the first round'),
  pin: PIN_CHOICES,
} as const;

/** Load before counting in a saturation slice: the window refills within a few publications. */
const SETTLE_MS = 200;
/** Slack over a command's expected time before its load process is declared stuck. */
const COMMAND_SLACK_MS = 45_000;

function usage(): string {
  return [
    'Usage: npm run bench -- fanout [flags]',
    '',
    'N subscribers on one channel and one publisher, for canal (dist/: run `npm run build` first) and peers',
    'in the same run, interleaved slice by slice: (a) at a fixed load, latency and server CPU per delivered',
    'message; (b) at saturation, deliveries/s with every subscriber receiving every publication.',
    'With --engine redis: two canal nodes sharing the local Redis vs one memory-engine node.',
    'The defaults (6 targets, N = 1,000 then 10,000) take about 9 to 13 minutes: 3 to 4 s per target per round,',
    '10 rounds (up to 15 while other work disturbs them) at each N, plus connecting (10,000 subscribers: 3 to 6 s',
    'per target) and the warm-up.',
    '',
    'Flags:',
    ...flagsHelp(FLAGS),
  ].join('\n');
}

/** One target: one or two server processes, and whether Redis's CPU is part of its cost. */
interface TargetSpec {
  readonly name: string;
  readonly kind: TargetKind;
  readonly servers: readonly ServerCommand[];
  /** Names of the server processes for the report (`node 1`, `node 2`). */
  readonly serverNames: readonly string[];
  readonly usesRedis: boolean;
  /** The channel its subscribers subscribe to (protocol targets). */
  readonly channel: string;
}

/** The channel every subscriber of a protocol target subscribes to. */
function channelOf(ns: NamespaceChoice | undefined): string {
  return `${ns ?? 'bench'}:fanout`;
}

function peerSpec(peer: Peer): TargetSpec {
  const server: Record<Peer, () => ServerCommand> = {
    ws: () => nodePeer(peer, 'bench/fanout/peers/ws-fanout.ts'),
    ws2: () => nodePeer(peer, 'bench/fanout/peers/ws-fanout.ts'),
    'ws-once': () => nodePeer(peer, 'bench/fanout/peers/ws-frame-once.ts'),
    bun: () => bunPeer(peer, 'bench/fanout/peers/bun-fanout.ts'),
    ceiling: () => nodePeer(peer, 'bench/fanout/peers/ceiling-fanout.ts'),
  };
  return { name: peer, kind: 'plain', servers: [server[peer]()], serverNames: ['peer'], usesRedis: false, channel: '' };
}

function canalSpec(setup: CanalSetup, variant: CanalVariant, name = variant.name): TargetSpec {
  return { name, kind: 'protocol', servers: [setup.canal(variant, name)], serverNames: ['node'], usesRedis: false, channel: channelOf(variant.namespace) };
}

/** The targets of a run, in the order they are listed and first loaded, and who is compared with whom. */
function plan(setup: CanalSetup, engine: 'memory' | 'redis', canals: readonly CanalVariant[], peers: readonly Peer[], prefix: string): { specs: TargetSpec[]; comparison: Omit<Comparison, 'processNames'> } {
  if (engine === 'memory') {
    const peer = (p: Peer): TargetSpec[] => (peers.includes(p) ? [peerSpec(p)] : []);
    const specs = [...peer('ws'), ...canals.map((c) => canalSpec(setup, c)), ...peer('ws2'), ...peer('ws-once'), ...peer('bun'), ...peer('ceiling')];
    return {
      specs,
      comparison: {
        subjects: canals.map((c) => ({ name: c.name, runtime: c.runtime })),
        baseline: 'ws',
        control: 'ws2',
        baselines: ['ws', 'ws-once', 'bun'],
        ceiling: peers.includes('ceiling') ? 'ceiling' : undefined,
      },
    };
  }
  const canal = canals[0]!;
  const pair: TargetSpec = {
    name: 'redis',
    kind: 'protocol',
    servers: [setup.canal(canal, 'redis node 1', prefix), setup.canal(canal, 'redis node 2', prefix)],
    serverNames: ['node 1', 'node 2'],
    usesRedis: true,
    channel: channelOf(canal.namespace),
  };
  return {
    specs: [canalSpec(setup, canal, 'canal'), pair, canalSpec(setup, canal, 'canal2')],
    comparison: { subjects: [{ name: 'redis', runtime: canal.runtime }], baseline: 'canal', control: 'canal2', baselines: ['canal'], ceiling: undefined },
  };
}

/** A started target: its servers and what its load process needs to know. */
interface Started {
  readonly spec: TargetSpec;
  readonly servers: RunningServer[];
  readonly pids: number[];
  readonly pidNames: string[];
}

async function startTarget(spec: TargetSpec, pinning: Pinning, redis: RedisInfo | undefined, into: RunningServer[]): Promise<Started> {
  const servers: RunningServer[] = [];
  for (const command of spec.servers) {
    const server = await startServer(command, pinning);
    servers.push(server);
    into.push(server);
  }
  const pids = servers.map((s) => s.child.process.pid ?? 0);
  const pidNames = [...spec.serverNames];
  if (spec.usesRedis && redis?.pid !== undefined) {
    pids.push(redis.pid);
    pidNames.push('redis');
  }
  return { spec, servers, pids, pidNames };
}

interface Settings {
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
function fixedPublications(s: Settings, subscribers: number): number {
  return Math.max(3, Math.round(((s.rate / subscribers) * s.fixedMs) / 1000));
}

type FanoutLoad = LoadChild<FanoutCommand, FanoutLine>;

/** One subscriber count: fresh servers and load processes, warm-up, rounds, report. */
async function runCount(
  subscribers: number,
  specs: readonly TargetSpec[],
  comparison: Omit<Comparison, 'processNames'>,
  s: Settings,
  pinning: Pinning,
  redis: RedisInfo | undefined,
  out: (line: string) => void,
): Promise<void> {
  const servers: RunningServer[] = [];
  const started: Started[] = [];
  const loads = new Map<string, FanoutLoad>();
  const names = specs.map((t) => t.name);
  const publications = fixedPublications(s, subscribers);
  const fixedMs = (publications * 1000 * subscribers) / s.rate;
  const perRoundMs = names.length * (fixedMs + SETTLE_MS + s.sliceMs + 2 * COMMAND_SLACK_MS);
  try {
    // Servers hold every subscriber of their target (half each for the two Redis nodes); load processes too.
    const withFds = withDescriptors(pinning, subscribers + s.publishers + 1);
    for (const spec of specs) started.push(await startTarget(spec, withFds, redis, servers));
    const connectMs = 60_000 + subscribers * 10;
    for (const t of started) {
      const config: FanoutLoadConfig = {
        load: 'fanout',
        name: t.spec.name,
        deadlineMs: connectMs + names.length * s.warmupMs + s.maxRounds * perRoundMs,
        target: { name: t.spec.name, kind: t.spec.kind, ports: t.servers.map((r) => r.port), pids: t.pids, pidNames: t.pidNames, channel: t.spec.channel },
        subscribers,
        publishers: s.publishers,
        size: s.size,
      };
      const { load, ready } = await LoadChild.ready<FanoutCommand, FanoutLine>(`load generator for ${t.spec.name}`, config, withFds, connectMs);
      loads.set(t.spec.name, load);
      const seconds = ready.type === 'ready' ? ready.connectSeconds : Number.NaN;
      out(`${t.spec.name}: ${formatCount(subscribers)} subscribers connected and subscribed in ${seconds.toFixed(1)} s`);
    }
    for (const name of names) {
      if (s.warmupMs > 0) await loads.get(name)!.request({ cmd: 'warmup', window: s.window, ms: s.warmupMs }, s.warmupMs + COMMAND_SLACK_MS, 'warm up');
    }
    out('');
    const rounds = await runRounds<FanoutSlice>({
      targets: names,
      phases: ['fixed', 'saturate'],
      wanted: s.rounds,
      maxRounds: s.maxRounds,
      measure: async (name, round) => {
        const load = loads.get(name)!;
        const a = (await load.request({ cmd: 'fixed', round, rate: s.rate, publications }, fixedMs + COMMAND_SLACK_MS, 'measure a fixed-load slice')) as FanoutSlice;
        const b = (await load.request(
          { cmd: 'saturate', round, window: s.window, settleMs: SETTLE_MS, sliceMs: s.sliceMs },
          SETTLE_MS + s.sliceMs + COMMAND_SLACK_MS,
          'measure a saturation slice',
        )) as FanoutSlice;
        throwIfDead(servers);
        return [a, b];
      },
      onRound: (round, index) => out(roundLine(round.get('fixed')!, round.get('saturate')!, index, names, { ...comparison, processNames: {} })),
    });
    const done: Record<string, FanoutDone> = {};
    for (const name of names) done[name] = (await loads.get(name)!.request({ cmd: 'done' }, COMMAND_SLACK_MS, 'finish')) as FanoutDone;
    throwIfDead(servers);
    const processNames = Object.fromEntries(started.map((t) => [t.spec.name, t.pidNames]));
    out('');
    out(fanoutReport(subscribers, { fixed: rounds.get('fixed')!, saturate: rounds.get('saturate')! }, s.rounds, names, done, { ...comparison, processNames }));
    out('');
  } catch (err) {
    // A load process that lost its connections usually means a server died: say which first.
    throwIfDead(servers);
    throw err;
  } finally {
    await Promise.all([...loads.values()].map((l) => l.stop()));
    await Promise.all(servers.map((r) => r.child.stop()));
  }
}

async function runFanout(argv: readonly string[]): Promise<number> {
  const flags = parseFlags(argv, FLAGS, 'fanout');
  if (!flags) {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  const settings: Settings = {
    size: flags.size,
    rate: flags.rate,
    fixedMs: flags['fixed-ms'],
    window: flags.window,
    publishers: flags.publishers,
    sliceMs: flags['slice-ms'],
    rounds: flags.rounds,
    maxRounds: flags.rounds + flags['extra-rounds'],
    warmupMs: flags.warmup * 1000,
  };
  const engine = flags.engine;
  if (engine === 'redis' && (flags.namespace.length > 1 || flags.runtimes.length > 1 || flags.runtimes[0] !== 'node')) {
    throw new BenchError('--engine redis compares canal on Node with itself on Redis: give one --namespace and leave --runtimes at node');
  }
  const { bin, warning } = builtServer(REPO_ROOT);
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  if (warning) out(`WARNING: ${warning}`);
  const redis = engine === 'redis' ? await probeRedis() : undefined;
  const prefix = uniquePrefix();
  const pinning = choosePinning(flags.pin);
  const setup = new CanalSetup(bin, splitFlags(flags['serve-flags']));
  try {
    const canals = canalVariants(flags.runtimes, flags.namespace);
    const { specs, comparison } = plan(setup, engine, canals, flags.peers, prefix);
    const machine = describeMachine();
    out(
      `fanout: N = ${flags.subscribers.map(formatCount).join(' and ')} subscribers on one channel, ${flags.publishers === 1 ? 'one publisher' : `${flags.publishers} publishers`}; ` +
        `${settings.size}-byte JSON data; targets ${specs.map((t) => t.name).join(', ')}, loaded in turn, ${settings.rounds} rounds (up to ${flags['extra-rounds']} more while other work disturbs them)`,
    );
    out(
      `(a) fixed load: ${formatCount(settings.rate)} deliveries/s, open loop, ${settings.fixedMs} ms slices (at least 3 publications); ` +
        `(b) saturation: ${settings.window} publications in flight, closed loop, ${settings.sliceMs} ms slices after ${SETTLE_MS} ms; ${flags.warmup} s warm-up per target`,
    );
    for (const c of engine === 'redis' ? canals.slice(0, 1) : canals) {
      out(
        `${engine === 'redis' ? 'canal' : c.name}: ${setup.describe(c, engine === 'redis' ? prefix : undefined)}; channel ${channelOf(c.namespace)} ` +
          `(${c.namespace === 'chat' ? 'dev mode: history 100 / 10 min, recovery, presence, join/leave' : 'no history, no presence'})`,
      );
    }
    out(
      `publishers: ${settings.publishers === 1 ? 'one connection' : `${settings.publishers} connections, used in turn`} (canal: a protocol client sending publish commands; peers: a plain WebSocket client)` +
        `${engine === 'redis' ? ' on node 1' : ''}; every subscriber checks it receives every publication, in ${settings.publishers === 1 ? 'order' : 'each publisher\'s order'}`,
    );
    if (redis) {
      out(
        `redis: ${prefix} on redis://127.0.0.1:6379 (Redis ${redis.version}; ` +
          `${redis.pid !== undefined ? `pid ${redis.pid}, its CPU counted as the target's` : 'its process is not visible here: its CPU counts as other work'}); subscribers alternate between the two nodes, the publisher is on node 1`,
      );
    }
    out(`machine: ${machine.line}; pinning: ${pinning.description}`);
    for (const subscribers of flags.subscribers) {
      out('');
      out(`== N = ${formatCount(subscribers)} ==`);
      await runCount(subscribers, specs, comparison, settings, pinning, redis, out);
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
  summary: 'fan-out to N subscribers: CPU per delivery, latency, deliveries/s; canal vs ws (naive and frame-once) and Bun loops (or vs Redis nodes)',
  run: runFanout,
};
