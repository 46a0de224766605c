/**
 * The memory benchmark: idle memory per connection. M idle connections (default 5,000 then
 * 10,000) are opened to canal's protocol endpoint, each connected and subscribed, and to the
 * naive `ws` server of the fan-out benchmark (bench/peers/ws-fanout.ts, which keeps its clients
 * in ws's client set and does nothing else); each server's memory is read at 0 connections and
 * after each step, and the difference divided by M.
 *
 * Targets: `canal` (every connection subscribed to one shared channel), `canal-own` (each to a
 * channel of its own, as with per-user channels: one hub entry per connection), `ws`, and `ws2`,
 * a second identical ws server (the A/A control: how far two identical servers land).
 *
 * Memory is read two ways. (1) RSS from /proc/PID/status after a settle time, without touching
 * the process: what an operator sees, including garbage not yet collected. (2) Through the
 * process's V8 inspector (every server runs with --inspect=127.0.0.1:0, canal's source is not
 * changed): a forced full GC, then the V8 heap in use, and RSS again. Kernel memory for the
 * sockets (buffers) is in neither: it is the kernel's, not the process's.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Benchmark } from './lib/benchmark.js';
import { choiceFlagsHelp, intList, oneOf, takeChoiceFlags } from './lib/choice-flags.js';
import { CommandChild } from './lib/command-child.js';
import { builtServer } from './lib/dist.js';
import type { TargetKind } from './lib/fanout-load-types.js';
import { CanalSetup, type NamespaceChoice } from './lib/fanout-targets.js';
import { withDescriptors } from './lib/fd-limits.js';
import { INSPECT_FLAG, InspectorClient } from './lib/inspector-client.js';
import { describeMachine } from './lib/machine.js';
import { MEMORY_LOAD_ENTRY, type MemoryLoadCommand, type MemoryLoadConfig, type OpenedLine } from './lib/memory-load-types.js';
import { readProcessMemory, type ProcessMemory } from './lib/memory-proc.js';
import { flagsHelp, parseIntFlags } from './lib/options.js';
import { REPO_ROOT, tsxCommand } from './lib/paths.js';
import { detectPinning } from './lib/pinning.js';
import { startServer, type RunningServer, type ServerCommand } from './lib/server-process.js';
import { formatCount, formatFixed, markdownTable } from './lib/table.js';

const FLAGS = {
  settle: { default: 5, min: 1, max: 120, doc: 'seconds to wait after opening connections before reading memory' },
} as const;

const CHOICES = {
  connections: intList([5000, 10_000], 1, 50_000, 'connections per target at each step (increasing)'),
  namespace: oneOf(['bench', 'chat'] as const, 'bench', 'bench: no history, no presence (a config file); chat: dev mode\'s chat: namespace (presence kept in memory)'),
};

/** Allowance for a holder to open one connection (handshake, connect, subscribe), on top of a fixed minute. */
const OPEN_MS_PER_CONNECTION = 10;
/** Time for RSS to reflect what a GC freed before it is read again. */
const AFTER_GC_MS = 500;

type Holder = CommandChild<MemoryLoadCommand, OpenedLine>;

interface TargetPlan {
  readonly name: string;
  readonly kind: TargetKind;
  readonly ownChannels: boolean;
  readonly server: ServerCommand;
}

/** One reading of one server. */
interface Reading {
  readonly connections: number;
  readonly before: ProcessMemory;
  readonly heapUsed: number;
  readonly afterGc: ProcessMemory;
}

/** `command` with the inspector flag given to node first. */
function withInspector(command: ServerCommand): ServerCommand {
  return { ...command, args: [INSPECT_FLAG, ...command.args] };
}

function plans(setup: CanalSetup): TargetPlan[] {
  const ws = (name: string): TargetPlan => ({ name, kind: 'plain', ownChannels: false, server: { name, ...tsxCommand('bench/peers/ws-fanout.ts', ['--port', '0']) } });
  return [
    ws('ws'),
    { name: 'canal', kind: 'protocol', ownChannels: false, server: setup.canal('canal') },
    { name: 'canal-own', kind: 'protocol', ownChannels: true, server: setup.canal('canal-own') },
    ws('ws2'),
  ];
}

function usage(): string {
  return [
    'Usage: npm run bench -- memory [flags]',
    '',
    'Idle memory per connection: canal\'s protocol endpoint (dist/: run `npm run build` first), each connection',
    'connected and subscribed (canal: one shared channel; canal-own: one channel each), and a raw ws server',
    '(ws, and ws2 as the A/A control). RSS from /proc after a settle time, then V8 heap and RSS after a forced',
    'GC (through each process\'s inspector), minus the same at 0 connections.',
    '',
    'Flags:',
    ...choiceFlagsHelp(CHOICES, flagsHelp(FLAGS)),
  ].join('\n');
}

async function read(pid: number, inspector: InspectorClient, connections: number): Promise<Reading> {
  const before = readProcessMemory(pid);
  const heap = await inspector.heapAfterGc();
  await sleep(AFTER_GC_MS);
  return { connections, before, heapUsed: heap.usedSize, afterGc: readProcessMemory(pid) };
}

function mib(bytes: number): string {
  return formatFixed(bytes / 2 ** 20, 1);
}

function perConnection(now: number, base: number, connections: number): number {
  return (now - base) / connections;
}

/** The report: baselines, then one table per step, then the ratios. */
function memoryReport(names: readonly string[], readings: ReadonlyMap<string, readonly Reading[]>, steps: readonly number[]): string {
  const out: string[] = [];
  const base = (name: string): Reading => readings.get(name)![0]!;
  out.push('baseline (0 connections):');
  out.push('');
  out.push(
    markdownTable(
      ['target', 'RSS MiB', 'RSS after GC MiB', 'V8 heap used MiB'],
      names.map((n) => [n, mib(base(n).before.rss), mib(base(n).afterGc.rss), mib(base(n).heapUsed)]),
      [false, true, true, true],
    ),
  );
  for (const [i, m] of steps.entries()) {
    const at = (name: string): Reading => readings.get(name)![i + 1]!;
    const rssPer = (name: string): number => perConnection(at(name).before.rss, base(name).before.rss, m);
    const gcPer = (name: string): number => perConnection(at(name).afterGc.rss, base(name).afterGc.rss, m);
    const heapPer = (name: string): number => perConnection(at(name).heapUsed, base(name).heapUsed, m);
    out.push('');
    out.push(`${formatCount(m)} idle connections per target:`);
    out.push('');
    out.push(
      markdownTable(
        ['target', 'RSS MiB', 'RSS bytes per connection', 'after GC: RSS bytes per connection', 'V8 heap bytes per connection', 'RSS vs ws', 'heap vs ws'],
        names.map((n) => [
          n,
          mib(at(n).before.rss),
          formatCount(rssPer(n)),
          formatCount(gcPer(n)),
          formatCount(heapPer(n)),
          formatFixed(rssPer(n) / rssPer('ws'), 2),
          formatFixed(heapPer(n) / heapPer('ws'), 2),
        ]),
        [false, true, true, true, true, true, true],
      ),
    );
    out.push('');
    out.push(
      `canal/ws = ${formatFixed(rssPer('canal') / rssPer('ws'), 2)} RSS per connection (${formatFixed(gcPer('canal') / gcPer('ws'), 2)} after GC, ` +
        `${formatFixed(heapPer('canal') / heapPer('ws'), 2)} V8 heap); canal-own/canal = ${formatFixed(rssPer('canal-own') / rssPer('canal'), 2)} RSS; ` +
        `A/A ws2/ws = ${formatFixed(rssPer('ws2') / rssPer('ws'), 2)} RSS, ${formatFixed(heapPer('ws2') / heapPer('ws'), 2)} heap`,
    );
  }
  return out.join('\n');
}

async function runMemory(argv: readonly string[]): Promise<number> {
  const { values: choice, rest } = takeChoiceFlags(argv, CHOICES);
  const flags = parseIntFlags(rest, FLAGS, 'memory');
  if (!flags) {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  const steps = [...choice.connections].sort((a, b) => a - b);
  const most = steps[steps.length - 1]!;
  const ns: NamespaceChoice = choice.namespace;
  const { bin, warning } = builtServer(REPO_ROOT);
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  if (warning) out(`WARNING: ${warning}`);
  const machine = describeMachine();
  const pinning = withDescriptors(detectPinning(), most + 1);
  const setup = new CanalSetup(bin, ns);
  const targets = plans(setup);
  const names = targets.map((t) => t.name);
  out(
    `memory: ${steps.map(formatCount).join(', then ')} idle connections per target (${names.join(', ')}); canal connections connected and subscribed ` +
      `(canal: all to ${ns}:idle; canal-own: each to ${ns}:idle-<i>); ${flags.settle} s settle before each reading`,
  );
  out(`canal: ${setup.describe()} (with ${INSPECT_FLAG}, as every server here)`);
  out(`machine: nproc ${machine.nproc}, node ${machine.node}, ${machine.cpuModel}; pinning: ${pinning.description}`);
  out('');
  const servers: RunningServer[] = [];
  const inspectors: InspectorClient[] = [];
  const holders: Holder[] = [];
  try {
    for (const t of targets) {
      const server = await startServer(withInspector(t.server), pinning);
      servers.push(server);
      inspectors.push(await InspectorClient.attach(server.child));
      const config: MemoryLoadConfig = {
        name: t.name,
        kind: t.kind,
        port: server.port,
        channel: `${ns}:idle`,
        ownChannels: t.ownChannels,
        deadlineMs: 600_000 + most * OPEN_MS_PER_CONNECTION * 2,
      };
      holders.push(CommandChild.start<MemoryLoadCommand, OpenedLine>(`connection holder for ${t.name}`, MEMORY_LOAD_ENTRY, config, pinning));
    }
    const readings = new Map<string, Reading[]>(names.map((n) => [n, []]));
    const readAll = async (connections: number): Promise<void> => {
      await sleep(flags.settle * 1000);
      for (const [i, t] of targets.entries()) {
        const pid = servers[i]!.child.process.pid!;
        readings.get(t.name)!.push(await read(pid, inspectors[i]!, connections));
      }
    };
    // One collection first, so the baseline's first reading does not count start-up garbage
    // that later readings would not have (each reading ends with a collection).
    for (const inspector of inspectors) await inspector.heapAfterGc();
    await readAll(0);
    for (const m of steps) {
      for (const [i, t] of targets.entries()) {
        const opened = await holders[i]!.request({ cmd: 'open', total: m }, 60_000 + m * OPEN_MS_PER_CONNECTION, `open ${m} connections`);
        out(`${t.name}: ${formatCount(opened.total)} connections open (${opened.seconds.toFixed(1)} s for this step)`);
      }
      await readAll(m);
      const dead = servers.find((s) => s.child.exit);
      if (dead) throw dead.child.failure('exited during the run');
    }
    out('');
    out(memoryReport(names, readings, steps));
  } finally {
    for (const inspector of inspectors) inspector.close();
    await Promise.all(holders.map((h) => h.stop()));
    await Promise.all(servers.map((s) => s.child.stop()));
    setup.remove();
  }
  return 0;
}

/** `npm run bench -- memory`: see {@link usage}. */
export const memory: Benchmark = {
  summary: 'idle memory per connection: canal (subscribed) vs a raw ws server, RSS and V8 heap',
  run: runMemory,
};
