/**
 * The bytes benchmark (issue 15): what each wire option saves on the wire and costs the server.
 * canal (dist/, with --websocket-compression so clients may negotiate permessage-deflate) gets
 * the game demo's snapshots and a scoreboard match published into a channel with S subscribers
 * of one kind at a time — JSON, JSON with fossil deltas, Protobuf, Protobuf with deltas, JSON
 * with permessage-deflate — and the benchmark reports, per publication: the bytes each
 * subscriber's socket read, the server's CPU time, and both as ratios to plain JSON in the same
 * run. Every subscriber rebuilds every publication and checks it against what was published.
 * Bytes are exact (the same every run); CPU is the median over rounds, each measuring every kind
 * once in a rotating order, with plain JSON measured twice (json2: the A/A control).
 *
 * Then the memory side of permessage-deflate: M connections that each received one compressed
 * publication keep zlib state; the server's RSS grows by so much per connection more than with
 * the same connections uncompressed (two fresh servers, RSS from /proc after a settle time).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { BenchError, type Benchmark } from '../lib/benchmark.js';
import { processCpuNs } from '../lib/cpu.js';
import { builtServer } from '../lib/dist.js';
import { flagsHelp, int, parseFlags } from '../lib/flags.js';
import { describeMachine } from '../lib/machine.js';
import { REPO_ROOT } from '../lib/paths.js';
import { choosePinning, PIN_CHOICES, type Pinning } from '../lib/pinning.js';
import { startServer, type RunningServer } from '../lib/server-process.js';
import { formatCount, formatFixed, markdownTable } from '../lib/table.js';
import { readProcessMemory } from '../memory/process-memory.js';
import { Subscriber, type Variant } from './subscriber.js';
import { gameSnapshots, scoreboard, type Workload } from './workloads.js';

const FLAGS = {
  publications: int(400, 10, 100_000, 'publications per workload and kind of subscriber'),
  subscribers: int(20, 1, 10_000, 'subscribers of each kind (one kind at a time)'),
  rounds: int(3, 1, 20, 'rounds; each measures every kind once, in a rotating order (CPU: the median)'),
  connections: int(300, 0, 20_000, 'connections for the permessage-deflate memory reading (0: skip it)'),
  settle: int(2, 0, 60, 'seconds to wait before reading memory'),
  pin: PIN_CHOICES,
} as const;

const VARIANTS: readonly Variant[] = [
  { name: 'json', protobuf: false, delta: false, deflate: false },
  { name: 'json+fossil', protobuf: false, delta: true, deflate: false },
  { name: 'protobuf', protobuf: true, delta: false, deflate: false },
  { name: 'protobuf+fossil', protobuf: true, delta: true, deflate: false },
  { name: 'json+deflate', protobuf: false, delta: false, deflate: true },
  // The A/A control: plain JSON again; its ratio to json is the noise of the CPU figures.
  { name: 'json2', protobuf: false, delta: false, deflate: false },
];

/** Anonymous subscribe and publish in `bytes:`, fossil deltas allowed, nothing kept. */
const CONFIG = {
  allow_anonymous_connect: true,
  namespaces: { bytes: { allow_subscribe_for_anonymous: true, allow_publish_for_anonymous: true, allowed_delta_types: ['fossil'] } },
};

const RECEIVE_TIMEOUT_MS = 60_000;

function usage(): string {
  return [
    'Usage: npm run bench -- bytes [flags]',
    '',
    'Bytes on the wire and server CPU per publication for JSON, JSON + fossil deltas, Protobuf, Protobuf + deltas',
    'and JSON + permessage-deflate, on the game demo\'s snapshots and a scoreboard match; then the memory per',
    'connection that permessage-deflate keeps. Runs canal from dist/ (`npm run build` first). About a minute.',
    '',
    'Flags:',
    ...flagsHelp(FLAGS),
  ].join('\n');
}

interface Row {
  readonly workload: string;
  readonly variant: string;
  readonly bytesPerPub: number;
  readonly cpuUsPerPub: number;
  readonly deltaShare: number;
}

/** A JSON protocol client that publishes `messages` into `channel`, 50 in flight at most. */
async function publishAll(url: string, channel: string, messages: readonly string[]): Promise<void> {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let replies = 0;
  let waiting: (() => void) | undefined;
  ws.on('message', (data: Buffer) => {
    for (const line of data.toString('utf8').split('\n')) {
      if (line === '' || line === '{}') continue;
      if (line.includes('"error"')) throw new BenchError(`publisher: ${line}`);
      replies++;
    }
    waiting?.();
  });
  const until = (n: number): Promise<void> => (replies >= n ? Promise.resolve() : new Promise((resolve) => {
    waiting = () => {
      if (replies >= n) resolve();
    };
  }));
  ws.send('{"id":1,"connect":{}}');
  await until(1);
  for (let i = 0; i < messages.length; i++) {
    ws.send(`{"id":${i + 2},"publish":{"channel":${JSON.stringify(channel)},"data":${messages[i]!}}}`);
    if (i % 50 === 49) await until(i + 2 - 25);
  }
  await until(messages.length + 1);
  ws.terminate();
}

async function measure(server: RunningServer, workload: Workload, variant: Variant, subscribers: number): Promise<Row> {
  const url = `ws://127.0.0.1:${server.port}/connection/websocket`;
  const channel = `${workload.channel}-${variant.name}`;
  const subs: Subscriber[] = [];
  try {
    for (let i = 0; i < subscribers; i++) subs.push(await Subscriber.open(url, channel, variant, workload.messages));
    const cpuBefore = processCpuNs(server.child.process.pid!);
    await publishAll(url, channel, workload.messages);
    await Promise.all(subs.map((s) => s.finished(RECEIVE_TIMEOUT_MS)));
    const cpuNs = processCpuNs(server.child.process.pid!) - cpuBefore;
    const n = workload.messages.length;
    return {
      workload: workload.name,
      variant: variant.name,
      bytesPerPub: subs.reduce((a, s) => a + s.bytes, 0) / subs.length / n,
      cpuUsPerPub: cpuNs / 1000 / n,
      deltaShare: subs[0]!.deltas / n,
    };
  } finally {
    for (const s of subs) s.close();
  }
}

/** RSS growth per connection for `connections` JSON subscribers (deflate or not) that each received one 2.8 KB publication (over ws's 1 KiB compression threshold). */
async function memoryPerConnection(start: () => Promise<RunningServer>, deflate: boolean, connections: number, settleS: number): Promise<number> {
  const server = await start();
  const subs: Subscriber[] = [];
  try {
    const url = `ws://127.0.0.1:${server.port}/connection/websocket`;
    const message = JSON.stringify({ text: 'x'.repeat(2048), list: Array.from({ length: 200 }, (_, i) => i) });
    const variant: Variant = { name: deflate ? 'json+deflate' : 'json', protobuf: false, delta: false, deflate };
    await sleep(settleS * 1000);
    const before = readProcessMemory(server.child.process.pid!).rss;
    for (let i = 0; i < connections; i++) subs.push(await Subscriber.open(url, 'bytes:memory', variant, [message]));
    await publishAll(url, 'bytes:memory', [message]);
    await Promise.all(subs.map((s) => s.finished(RECEIVE_TIMEOUT_MS)));
    await sleep(settleS * 1000);
    return (readProcessMemory(server.child.process.pid!).rss - before) / connections;
  } finally {
    for (const s of subs) s.close();
    await server.child.stop();
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function report(rows: readonly Row[], memory: { plain: number; deflate: number } | undefined, flags: { publications: number; subscribers: number; connections: number; rounds: number }, pinning: Pinning): string {
  const machine = describeMachine();
  const out = [
    `bytes: ${flags.publications} publications per workload, ${flags.subscribers} subscribers of each kind, ${flags.rounds} rounds; ${machine.line}; ${pinning.description}`,
    '',
  ];
  for (const workload of [...new Set(rows.map((r) => r.workload))]) {
    const mine = rows.filter((r) => r.workload === workload);
    const base = mine.find((r) => r.variant === 'json')!;
    out.push(`### ${workload}`, '', markdownTable(
      ['subscriber', 'bytes/pub', 'x json', 'deltas', 'server CPU µs/pub (median)', 'x json'],
      mine.map((r) => [
        r.variant, formatCount(r.bytesPerPub), formatFixed(r.bytesPerPub / base.bytesPerPub, 2), `${formatFixed(r.deltaShare * 100, 0)}%`,
        formatFixed(r.cpuUsPerPub, 0), formatFixed(r.cpuUsPerPub / base.cpuUsPerPub, 2),
      ]),
      [false, true, true, true, true, true],
    ), '');
  }
  if (memory) {
    out.push(`permessage-deflate: ${formatCount(memory.deflate)} bytes of RSS per connection that received a compressed message, ` +
      `${formatCount(memory.plain)} without compression: ${formatCount(memory.deflate - memory.plain)} more per connection (${flags.connections} connections).`);
  }
  out.push('', 'Every publication was rebuilt by every subscriber (deltas applied) and matched what was published.');
  return out.join('\n');
}

export const bytes: Benchmark = {
  summary: 'bytes on the wire and server CPU: JSON, Protobuf, fossil deltas, permessage-deflate (issue 15)',
  async run(argv) {
    const flags = parseFlags(argv, FLAGS, 'bytes');
    if (flags === undefined) {
      process.stdout.write(`${usage()}\n`);
      return 0;
    }
    const { bin, warning } = builtServer(REPO_ROOT);
    if (warning) process.stderr.write(`bench bytes: ${warning}\n`);
    const pinning = choosePinning(flags.pin);
    const dir = mkdtempSync(join(tmpdir(), 'canal-bench-bytes-'));
    try {
      const config = join(dir, 'bytes.json');
      writeFileSync(config, `${JSON.stringify(CONFIG)}\n`);
      const start = (): Promise<RunningServer> => startServer({
        name: 'canal', runtime: 'node', command: process.execPath,
        args: [bin, 'serve', '--config', config, '--host', '127.0.0.1', '--port', '0', '--log-level', 'warn', '--websocket-compression',
          '--client-command-rate', '1000000', '--client-command-burst', '1000000'],
      }, pinning);
      const server = await start();
      const rows: Row[] = [];
      try {
        for (const workload of [gameSnapshots(flags.publications), scoreboard(flags.publications)]) {
          const runs: Row[] = [];
          for (let round = 0; round < flags.rounds; round++) {
            for (let i = 0; i < VARIANTS.length; i++) {
              const variant = VARIANTS[(i + round) % VARIANTS.length]!;
              runs.push(await measure(server, { ...workload, channel: `${workload.channel}-${round}` }, variant, flags.subscribers));
            }
          }
          for (const variant of VARIANTS) {
            const mine = runs.filter((r) => r.variant === variant.name);
            rows.push({ ...mine[0]!, cpuUsPerPub: median(mine.map((r) => r.cpuUsPerPub)) });
          }
        }
      } finally {
        await server.child.stop();
      }
      const memory = flags.connections === 0 ? undefined : {
        plain: await memoryPerConnection(start, false, flags.connections, flags.settle),
        deflate: await memoryPerConnection(start, true, flags.connections, flags.settle),
      };
      process.stdout.write(`${report(rows, memory, flags, pinning)}\n`);
      return 0;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
