/**
 * The memory benchmark: idle memory per connection. M idle connections (default 5,000 then
 * 10,000) are opened to canal's protocol endpoint, each connected and subscribed, and to peers
 * holding bare connections; each server's memory is read at 0 connections and after each step,
 * and the difference divided by M.
 *
 * Targets: `ws` (the fan-out benchmark's naive ws server: its clients in ws's client set and
 * nothing else), `canal` (every connection subscribed to one shared channel), `canal-own` (each
 * to a channel of its own, as with per-user channels: one hub entry per connection), optionally
 * `canal-bun` (canal run by Bun, one shared channel), `ws2` (a second ws server: the A/A
 * control), `bun` (the fan-out benchmark's raw Bun server: each connection subscribed to one
 * topic) and `bun2` (a second one: the A/A control of the Bun figures).
 *
 * Memory is read two ways. (1) RSS from /proc/PID/status, without touching the process: what an
 * operator sees, garbage not yet collected included; read twice after the target's own
 * connections opened, `--early` seconds after (the connection storm's transient: garbage, and
 * memory the runtime has not yet given back) and `--settle` seconds after (idle: each runtime's
 * collector has had time to run; the goals' reading). (2) After a forced
 * full collection (probe.ts: the V8 inspector for Node servers, a preloaded module for Bun
 * ones; canal's source is not changed): the JavaScript heap in use, and RSS again. Kernel memory
 * for the sockets (buffers) is in neither: it is the kernel's, not the process's.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Benchmark } from '../lib/benchmark.js';
import { builtServer } from '../lib/dist.js';
import { withDescriptors } from '../lib/fd-limits.js';
import { flagsHelp, int, intList, oneOf, parseFlags, someOf, text } from '../lib/flags.js';
import { LoadChild } from '../lib/load-child.js';
import { describeMachine } from '../lib/machine.js';
import { REPO_ROOT } from '../lib/paths.js';
import { choosePinning, PIN_CHOICES } from '../lib/pinning.js';
import { startServer, throwIfDead, type RunningServer, type ServerCommand } from '../lib/server-process.js';
import { formatCount } from '../lib/table.js';
import { bunPeer, CanalSetup, canalVariants, NAMESPACES, nodePeer, RUNTIMES, splitFlags, type CanalVariant, type TargetKind } from '../lib/targets.js';
import { readProcessMemory, type ProcessMemory } from './process-memory.js';
import { attachProbe, probeDescription, withProbe, type HeapProbe } from './probe.js';
import { memoryReport, type Reading, type TargetPlan } from './report.js';
import type { MemoryCommand, MemoryLoadConfig, OpenedLine } from './types.js';

const PEERS = ['ws', 'ws2', 'bun', 'bun2'] as const;
type Peer = (typeof PEERS)[number];

const FLAGS = {
  connections: intList([5000, 10_000], 1, 50_000, 'connections per target at each step (increasing)'),
  namespace: oneOf(NAMESPACES, 'bench', 'canal\'s channels: bench (a config file: no history, no presence) or chat (dev mode\'s chat: namespace: presence kept in memory)'),
  runtimes: someOf(RUNTIMES, ['node'], 'canal targets: node (`canal` and `canal-own`: node dist/cli/bin.js serve), bun (`canal-bun`: bun dist/cli/bin.js serve)'),
  peers: someOf(PEERS, [...PEERS], 'peers: ws (bare ws connections), ws2 (the same again: the A/A control), bun (Bun.serve, each connection subscribed to a topic), bun2 (the same again: the A/A control of the Bun figures)'),
  'serve-flags': text('', '"FLAGS"', 'extra flags for every canal serve, split at spaces (e.g. "--workers 2")'),
  early: int(5, 1, 120, 'seconds from a target\'s connections being open to its first RSS reading (the storm\'s transient)'),
  settle: int(30, 2, 300, 'seconds from a target\'s connections being open to its idle RSS reading (the goals\' reading)'),
  pin: PIN_CHOICES,
} as const;

/** Allowance for a holder to open one connection (handshake, connect, subscribe), on top of a fixed minute. */
const OPEN_MS_PER_CONNECTION = 10;
/** Time for RSS to reflect what a GC freed before it is read again. */
const AFTER_GC_MS = 500;

type Holder = LoadChild<MemoryCommand, OpenedLine>;

function usage(): string {
  return [
    'Usage: npm run bench -- memory [flags]',
    '',
    'Idle memory per connection: canal\'s protocol endpoint (dist/: run `npm run build` first), each connection',
    'connected and subscribed (canal: one shared channel; canal-own: one channel each), bare ws connections',
    '(ws, and ws2 as the A/A control) and a raw Bun server (bun, and bun2 as its A/A control). RSS from /proc',
    '--early and --settle seconds after the target\'s own connections opened (every target idle equally long:',
    'just after the connection storm, and idle), then the JavaScript heap and RSS after a forced GC, minus the',
    'same at 0 connections. The goals are judged on the idle RSS and on RSS after GC.',
    'The defaults take about 8 minutes (one --settle wait per target and step, and opening the connections).',
    '',
    'Flags:',
    ...flagsHelp(FLAGS),
  ].join('\n');
}

function plans(setup: CanalSetup, canals: readonly CanalVariant[], peers: readonly Peer[]): TargetPlan[] {
  const peer = (p: Peer, server: (name: string) => ServerCommand): TargetPlan[] =>
    peers.includes(p) ? [{ name: p, kind: 'plain' as TargetKind, ownChannels: false, server: server(p) }] : [];
  const canal = (c: CanalVariant): TargetPlan[] => [
    { name: c.name, kind: 'protocol', ownChannels: false, server: setup.canal(c) },
    ...(c.runtime === 'node' ? [{ name: `${c.name}-own`, kind: 'protocol' as TargetKind, ownChannels: true, server: setup.canal(c, `${c.name}-own`) }] : []),
  ];
  return [
    ...peer('ws', (n) => nodePeer(n, 'bench/fanout/peers/ws-fanout.ts')),
    ...canals.flatMap(canal),
    ...peer('ws2', (n) => nodePeer(n, 'bench/fanout/peers/ws-fanout.ts')),
    ...peer('bun', (n) => bunPeer(n, 'bench/fanout/peers/bun-fanout.ts')),
    ...peer('bun2', (n) => bunPeer(n, 'bench/fanout/peers/bun-fanout.ts')),
  ];
}

async function runMemory(argv: readonly string[]): Promise<number> {
  const flags = parseFlags(argv, FLAGS, 'memory');
  if (!flags) {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  if (flags.early >= flags.settle) {
    process.stderr.write(`memory: --early (${flags.early} s) must be shorter than --settle (${flags.settle} s): the first reading comes before the idle one\n`);
    return 2;
  }
  const steps = [...flags.connections].sort((a, b) => a - b);
  const most = steps[steps.length - 1]!;
  const ns = flags.namespace;
  const { bin, warning } = builtServer(REPO_ROOT);
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  if (warning) out(`WARNING: ${warning}`);
  const pinning = withDescriptors(choosePinning(flags.pin), most + 1);
  const setup = new CanalSetup(bin, splitFlags(flags['serve-flags']));
  const servers: RunningServer[] = [];
  const probes: HeapProbe[] = [];
  const holders: Holder[] = [];
  try {
    const canals = canalVariants(flags.runtimes, [ns]);
    const targets = plans(setup, canals, flags.peers);
    const names = targets.map((t) => t.name);
    const machine = describeMachine();
    out(
      `memory: ${steps.map(formatCount).join(', then ')} idle connections per target (${names.join(', ')}); canal connections connected and subscribed ` +
        `(all to ${ns}:idle; canal-own: each to ${ns}:idle-<i>); RSS read ${flags.early} s and ${flags.settle} s (idle) after each target's connections opened`,
    );
    for (const c of canals) out(`${c.name}: ${setup.describe(c)} (with ${probeDescription(c.runtime)}, as every server on ${c.runtime} here)`);
    out(`machine: ${machine.line}; pinning: ${pinning.description}`);
    out('');
    for (const t of targets) {
      const server = await startServer(withProbe(t.server), pinning);
      servers.push(server);
      probes.push(await attachProbe(server, t.server.runtime));
      const config: MemoryLoadConfig = {
        load: 'memory',
        name: t.name,
        deadlineMs: 600_000 + (most * OPEN_MS_PER_CONNECTION * 2 + flags.settle * 1000 * 8) * steps.length,
        kind: t.kind,
        port: server.port,
        channel: `${ns}:idle`,
        ownChannels: t.ownChannels,
      };
      holders.push((await LoadChild.ready<MemoryCommand, OpenedLine>(`connection holder for ${t.name}`, config, pinning, 60_000)).load);
    }
    const readings = new Map<string, Reading[]>(names.map((n) => [n, []]));
    const pidOf = (i: number): number => servers[i]!.child.process.pid!;
    /** Each target's heap and RSS after a forced collection, with the RSS read before it (`early[i]`, `idle[i]`). */
    const collectAll = async (connections: number, early: readonly ProcessMemory[], idle: readonly ProcessMemory[]): Promise<void> => {
      for (const [i, t] of targets.entries()) {
        const heapUsed = await probes[i]!.heapAfterGc();
        await sleep(AFTER_GC_MS);
        readings.get(t.name)!.push({ connections, early: early[i]!, idle: idle[i]!, heapUsed, afterGc: readProcessMemory(pidOf(i)) });
      }
    };
    // One collection first, so the baseline's first reading does not count start-up garbage
    // that later readings would not have (each reading ends with a collection).
    for (const probe of probes) await probe.heapAfterGc();
    await sleep(flags.settle * 1000);
    const baseline = targets.map((_t, i) => readProcessMemory(pidOf(i)));
    await collectAll(0, baseline, baseline);
    for (const m of steps) {
      // Each target's RSS is read --early and --settle seconds after its own connections opened:
      // every target has then been idle equally long. Read together after the last one opened, the
      // first target had been idle a minute longer, long enough for V8's memory reducer to run in
      // it and not in a later one (an A/A control read 1.59 that way, docs/benchmarks.md). The
      // early reading is the storm's transient: JavaScriptCore gave back canal-on-Bun's about 10 s
      // after its connections opened, and two raw Bun servers read 751 bytes per connection apart
      // at 5 s and 14 at 30 s (docs/benchmarks.md).
      const early: ProcessMemory[] = [];
      const idle: ProcessMemory[] = [];
      for (const [i, t] of targets.entries()) {
        const opened = await holders[i]!.request({ cmd: 'open', total: m }, 60_000 + m * OPEN_MS_PER_CONNECTION, `open ${m} connections`);
        out(`${t.name}: ${formatCount(opened.total)} connections open (${opened.seconds.toFixed(1)} s for this step)`);
        await sleep(flags.early * 1000);
        early.push(readProcessMemory(pidOf(i)));
        await sleep((flags.settle - flags.early) * 1000);
        idle.push(readProcessMemory(pidOf(i)));
      }
      await collectAll(m, early, idle);
      throwIfDead(servers);
    }
    out('');
    out(memoryReport(targets, readings, steps, flags.early));
  } catch (err) {
    throwIfDead(servers);
    throw err;
  } finally {
    for (const probe of probes) probe.close();
    await Promise.all(holders.map((h) => h.stop()));
    await Promise.all(servers.map((s) => s.child.stop()));
    setup.remove();
  }
  return 0;
}

/** `npm run bench -- memory`: see {@link usage}. */
export const memory: Benchmark = {
  summary: 'idle memory per connection: canal (subscribed) vs bare ws and raw Bun connections, RSS and JS heap',
  run: runMemory,
};
