/**
 * The echo benchmark: round trips per second through ws://127.0.0.1:PORT/ for canal (the built
 * server, on Node and optionally on Bun) and for peers doing the same thing, under the same
 * pipelined load in the same run: a minimal `ws` server, a second one (the A/A control: how far
 * two identical servers land, i.e. the noise), a raw `Bun.serve` echo, and a ceiling peer that
 * shows where the load generator itself saturates.
 *
 * All servers run at once on the server CPU; one load process per target on the other CPU; the
 * targets are loaded in turn, one slice each per round, the order rotating (bench/lib/rounds.ts).
 * Slices during which other work took CPU do not count; figures are medians over the quiet ones.
 */
import { BenchError, type Benchmark } from '../lib/benchmark.js';
import { builtServer } from '../lib/dist.js';
import { flagsHelp, int, parseFlags, someOf, text } from '../lib/flags.js';
import { LoadChild } from '../lib/load-child.js';
import { describeMachine } from '../lib/machine.js';
import { REPO_ROOT } from '../lib/paths.js';
import { choosePinning, PIN_CHOICES } from '../lib/pinning.js';
import { MIN_SLICE_MS } from '../lib/quiet-slices.js';
import { runRounds } from '../lib/rounds.js';
import { startServer, throwIfDead, type RunningServer, type ServerCommand } from '../lib/server-process.js';
import { bunPeer, CanalSetup, canalVariants, nodePeer, RUNTIMES, splitFlags, type CanalVariant } from '../lib/targets.js';
import { MIN_MESSAGE_BYTES } from './message.js';
import { echoReport, roundLine } from './report.js';
import type { EchoCommand, EchoDone, EchoLine, EchoLoadConfig, EchoSlice } from './types.js';

const PEERS = ['ws', 'ws2', 'bun', 'ceiling'] as const;
type Peer = (typeof PEERS)[number];

const FLAGS = {
  connections: int(50, 1, 10_000, 'WebSocket connections per target'),
  window: int(8, 1, 1024, 'messages in flight per connection (pipelining depth)'),
  size: int(64, MIN_MESSAGE_BYTES, 65_000, 'bytes per text message'),
  seconds: int(12, 1, 600, 'measured seconds per target, one slice per round'),
  rounds: int(20, 1, 100, 'rounds of every target, one slice each; figures are medians over quiet slices'),
  'extra-rounds': int(8, 0, 100, 'rounds added, at most, while a target has fewer quiet slices than --rounds'),
  warmup: int(1, 0, 60, 'seconds of load per target before the first round'),
  runtimes: someOf(RUNTIMES, ['node'], 'canal targets: node (`canal`: node dist/cli/bin.js serve), bun (`canal-bun`: bun dist/cli/bin.js serve)'),
  peers: someOf(PEERS, [...PEERS], 'peers: ws (a minimal ws echo), ws2 (the same again: the A/A control), bun (a raw Bun.serve echo), ceiling (node:net, almost no work per message)'),
  'serve-flags': text('', '"FLAGS"', 'extra flags for every canal serve, split at spaces (e.g. "--workers 2")'),
  pin: PIN_CHOICES,
} as const;

/** Load before counting in each slice: every window refills in the first write and idle servers stay JIT-warm. */
const SETTLE_MS = 100;
/** Slack over a command's expected time before its load process is declared stuck. */
const COMMAND_SLACK_MS = 30_000;
/** Time allowed for one load process to open its connections. */
const OPEN_MS = 60_000;

const PEER_ENTRIES: Readonly<Record<Peer, (name: string) => ServerCommand>> = {
  ws: (name) => nodePeer(name, 'bench/echo/peers/ws-echo.ts'),
  ws2: (name) => nodePeer(name, 'bench/echo/peers/ws-echo.ts'),
  bun: (name) => bunPeer(name, 'bench/echo/peers/bun-echo.ts'),
  ceiling: (name) => nodePeer(name, 'bench/echo/peers/ceiling-echo.ts'),
};

/** The targets in the order they are listed and first loaded: ws, the canals, ws2, bun, ceiling. */
function targets(setup: CanalSetup, canals: readonly CanalVariant[], peers: readonly Peer[]): ServerCommand[] {
  const peer = (p: Peer): ServerCommand[] => (peers.includes(p) ? [PEER_ENTRIES[p](p)] : []);
  return [...peer('ws'), ...canals.map((c) => setup.canal(c)), ...peer('ws2'), ...peer('bun'), ...peer('ceiling')];
}

function usage(): string {
  return [
    'Usage: npm run bench -- echo [flags]',
    '',
    'Round trips/s through the echo endpoint ws://127.0.0.1:PORT/ of canal (dist/: run `npm run build`',
    'first) and of peers doing the same thing, same load, same run, interleaved slice by slice: a minimal',
    '`ws` server, a second one (ws2, whose ratio to ws is the noise of the method), a raw Bun.serve echo,',
    'and a ceiling peer that shows where the load generator saturates. Every reply is checked, in order.',
    'The defaults take about 1.5 to 2 minutes: about 0.85 s per target per round (the 600 ms slice, settling,',
    'draining), 5 targets, 20 rounds, more while other work disturbs them, plus start-up and warm-up.',
    '',
    'Flags:',
    ...flagsHelp(FLAGS),
  ].join('\n');
}

type EchoLoad = LoadChild<EchoCommand, EchoLine>;

async function runEcho(argv: readonly string[]): Promise<number> {
  const flags = parseFlags(argv, FLAGS, 'echo');
  if (!flags) {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  const sliceMs = Math.floor((flags.seconds * 1000) / flags.rounds);
  if (sliceMs < MIN_SLICE_MS) {
    const most = Math.max(1, Math.floor((flags.seconds * 1000) / MIN_SLICE_MS));
    throw new BenchError(
      `--seconds ${flags.seconds} over --rounds ${flags.rounds} makes ${sliceMs} ms slices, shorter than the ${MIN_SLICE_MS} ms CPU sampling needs: ` +
        `use --rounds ${most} or fewer, or more --seconds`,
    );
  }
  const { bin, warning } = builtServer(REPO_ROOT);
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  if (warning) out(`WARNING: ${warning}`);
  const pinning = choosePinning(flags.pin);
  const setup = new CanalSetup(bin, splitFlags(flags['serve-flags']));
  const servers: RunningServer[] = [];
  const loads = new Map<string, EchoLoad>();
  try {
    const canals = canalVariants(flags.runtimes, [undefined]);
    const commands = targets(setup, canals, flags.peers);
    const names = commands.map((c) => c.name);
    const machine = describeMachine();
    const maxRounds = flags.rounds + flags['extra-rounds'];
    out(
      `echo: ${flags.connections} connections x ${flags.window} in flight per target, ${flags.size}-byte text messages; ` +
        `${flags.warmup} s warm-up per target, then ${flags.rounds} rounds of ${names.join(', ')} at ${sliceMs} ms each ` +
        `(up to ${flags['extra-rounds']} more while other work disturbs them)`,
    );
    const configured = flags['serve-flags'].trim() === '' ? 'its default configuration: ' : '';
    for (const c of canals) out(`${c.name}: ${setup.describe(c)} (${configured}no CANAL_* variable reaches it)`);
    out(`machine: ${machine.line}; pinning: ${pinning.description}`);
    out('');

    for (const command of commands) servers.push(await startServer(command, pinning));
    const deadlineMs = OPEN_MS + names.length * flags.warmup * 1000 + maxRounds * names.length * (SETTLE_MS + sliceMs + COMMAND_SLACK_MS);
    for (const [i, server] of servers.entries()) {
      const config: EchoLoadConfig = {
        load: 'echo',
        name: names[i]!,
        deadlineMs,
        port: server.port,
        serverPids: [server.child.process.pid ?? 0],
        connections: flags.connections,
        window: flags.window,
        size: flags.size,
      };
      const { load } = await LoadChild.ready<EchoCommand, EchoLine>(`load generator for ${config.name}`, config, pinning, OPEN_MS);
      loads.set(config.name, load);
    }
    if (flags.warmup > 0) {
      for (const name of names) await loads.get(name)!.request({ cmd: 'warmup', ms: flags.warmup * 1000 }, flags.warmup * 1000 + COMMAND_SLACK_MS, 'warm up');
    }
    const rounds = await runRounds<EchoSlice>({
      targets: names,
      phases: ['echo'],
      wanted: flags.rounds,
      maxRounds,
      measure: async (name, round) => {
        const slice = (await loads.get(name)!.request({ cmd: 'slice', round, settleMs: SETTLE_MS, sliceMs }, SETTLE_MS + sliceMs + COMMAND_SLACK_MS, 'measure a slice')) as EchoSlice;
        throwIfDead(servers);
        return [slice];
      },
      onRound: (round, index) => out(roundLine(round.get('echo')!, index, names)),
    });
    const done: Record<string, EchoDone> = {};
    for (const name of names) done[name] = (await loads.get(name)!.request({ cmd: 'done' }, COMMAND_SLACK_MS, 'finish')) as EchoDone;
    throwIfDead(servers);
    out('');
    out(echoReport(rounds.get('echo')!, flags.rounds, names, done));
  } catch (err) {
    // A load process that lost its connections usually means a server died: say which first.
    throwIfDead(servers);
    throw err;
  } finally {
    await Promise.all([...loads.values()].map((l) => l.stop()));
    await Promise.all(servers.map((s) => s.child.stop()));
    setup.remove();
  }
  return 0;
}

/** `npm run bench -- echo`: see {@link usage}. */
export const echo: Benchmark = {
  summary: 'echo round trips/s: canal vs a raw ws server, a raw Bun server (and a ceiling peer), same load, same run',
  run: runEcho,
};
