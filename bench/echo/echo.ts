/**
 * The echo benchmark: round trips per second through ws://127.0.0.1:PORT/ for canal (the built
 * server) and for a minimal `ws` server doing the same thing, under the same pipelined load in
 * the same run; plus a second ws server (the A/A control: how far two identical servers land,
 * i.e. the noise) and a ceiling peer that shows the load generator is not what limits them.
 *
 * All servers run at once on the server CPU; one generator on the other CPU loads them in
 * turn, one slice each per round, the order rotating (ws, canal, ws2, ceiling, then canal, ws2,
 * ceiling, ws, ...). Interleaving slices of about a second, rather than whole runs, puts ws and
 * canal under the same conditions on a shared machine whose speed drifts within seconds. Slices
 * during which other work took CPU do not count; figures are medians over the quiet ones.
 */
import { BenchError, type Benchmark } from './lib/benchmark.js';
import { spawnChild } from './lib/children.js';
import { builtServer } from './lib/dist.js';
import { MIN_MESSAGE_BYTES } from './lib/echo-message.js';
import { ECHO_LOAD_ENTRY, type EchoLoadConfig, type EchoLoadLine, type SliceReport, type TargetSummary } from './lib/echo-load-types.js';
import { describeMachine } from './lib/machine.js';
import { flagsHelp, parseIntFlags } from './lib/options.js';
import { REPO_ROOT, tsxCommand } from './lib/paths.js';
import { detectPinning, type Pinning } from './lib/pinning.js';
import { MIN_SLICE_MS } from './lib/quiet-slices.js';
import { startServer, type RunningServer, type ServerCommand } from './lib/server-process.js';
import { echoReport, roundLine, type Round } from './echo-report.js';

const FLAGS = {
  connections: { default: 50, min: 1, max: 10_000, doc: 'WebSocket connections per target' },
  window: { default: 8, min: 1, max: 1024, doc: 'messages in flight per connection (pipelining depth)' },
  size: { default: 64, min: MIN_MESSAGE_BYTES, max: 65_000, doc: 'bytes per text message' },
  seconds: { default: 12, min: 1, max: 600, doc: 'measured seconds per target, one slice per round' },
  rounds: { default: 20, min: 1, max: 100, doc: 'rounds of ws, canal, ws2, ceiling, one slice each; figures are medians over quiet slices' },
  'extra-rounds': { default: 8, min: 0, max: 100, doc: 'rounds added, at most, while a target has fewer quiet slices than --rounds' },
  warmup: { default: 1, min: 0, max: 60, doc: 'seconds of load per target before the first round' },
} as const;

/** Slack over the loaded time for the generator to start, connect and close. */
const GENERATOR_SLACK_MS = 60_000;
/** Allowance per slice on top of its measured time, for settling and draining. */
const PER_SLICE_ALLOWANCE_MS = 500;

/** Environment for canal without any CANAL_* variable, so it runs with its defaults. */
function defaultsOnlyEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('CANAL_')));
}

/**
 * The servers measured; the generator rotates which goes first from round to round. `ws2` is
 * a second, identical ws peer: the A/A control, whose ratio to ws is the noise of the method
 * on this machine, against which canal/ws is read.
 */
function targets(canalBin: string): ServerCommand[] {
  const wsPeer = tsxCommand('bench/peers/ws-echo.ts', ['--port', '0']);
  return [
    { name: 'ws', ...wsPeer },
    {
      name: 'canal',
      command: process.execPath,
      args: [canalBin, 'serve', '--host', '127.0.0.1', '--port', '0', '--log-level', 'warn'],
      env: defaultsOnlyEnv(),
    },
    { name: 'ws2', ...wsPeer },
    { name: 'ceiling', ...tsxCommand('bench/peers/ceiling-echo.ts', ['--port', '0']) },
  ];
}

function usage(): string {
  return [
    'Usage: npm run bench -- echo [flags]',
    '',
    'Round trips/s through the echo endpoint ws://127.0.0.1:PORT/ of canal (dist/: run `npm run build`',
    'first) and of a minimal `ws` server, same load, same run, interleaved slice by slice; plus a',
    'ceiling peer that shows the load generator is not the bottleneck, and a second ws peer (ws2) whose',
    'ratio to ws is the noise of the method. Every reply is checked, in order.',
    '',
    'Flags:',
    ...flagsHelp(FLAGS),
  ].join('\n');
}

/** What one run of the generator yields: the rounds in order and a summary per target. */
interface LoadOutcome {
  readonly rounds: readonly Round[];
  readonly summaries: Readonly<Record<string, TargetSummary>>;
}

/**
 * Runs the generator against `servers`, printing each round as it completes. Rejects with
 * BenchError when the generator fails or a server dies (naming the server first).
 */
async function runLoad(config: EchoLoadConfig, servers: readonly RunningServer[], pinning: Pinning, out: (line: string) => void): Promise<LoadOutcome> {
  const names = config.targets.map((t) => t.name);
  const generator = tsxCommand(ECHO_LOAD_ENTRY, [JSON.stringify(config)]);
  const { command, args } = pinning.wrap('load', generator.command, generator.args);
  const child = spawnChild('load generator', command, args);
  const rounds: Round[] = [];
  let summaries: Readonly<Record<string, TargetSummary>> | undefined;
  let current = new Map<string, SliceReport>();
  child.onLine((text) => {
    const line = JSON.parse(text) as EchoLoadLine;
    if (line.type === 'done') {
      summaries = line.targets;
      return;
    }
    current.set(line.target, line);
    if (current.size < names.length) return;
    rounds.push(current);
    out(roundLine(current, rounds.length, names));
    current = new Map();
  });
  const loadedMs = names.length * (config.warmupMs + config.maxRounds * (config.sliceMs + PER_SLICE_ALLOWANCE_MS));
  try {
    await child.completion(loadedMs + GENERATOR_SLACK_MS);
  } catch (err) {
    // A generator that lost its connections usually means a server died: say which first.
    const dead = servers.find((s) => s.child.exit);
    throw dead ? dead.child.failure('exited during the run') : err;
  }
  const dead = servers.find((s) => s.child.exit);
  if (dead) throw dead.child.failure('exited during the run');
  if (!summaries) throw new BenchError(`the load generator printed no summary: ${JSON.stringify(child.stdout.slice(-200))}`);
  return { rounds, summaries };
}

async function runEcho(argv: readonly string[]): Promise<number> {
  const flags = parseIntFlags(argv, FLAGS, 'echo');
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
  const machine = describeMachine();
  const pinning = detectPinning();
  const commands = targets(bin);
  const names = commands.map((c) => c.name);
  out(
    `echo: ${flags.connections} connections x ${flags.window} in flight per target, ${flags.size}-byte text messages; ` +
      `${flags.warmup} s warm-up per target, then ${flags.rounds} rounds of ${names.join(', ')} at ${sliceMs} ms each ` +
      `(up to ${flags['extra-rounds']} more while other work disturbs them)`,
  );
  out(`machine: nproc ${machine.nproc}, node ${machine.node}, ${machine.cpuModel}; pinning: ${pinning.description}`);
  out('');

  const servers: RunningServer[] = [];
  try {
    for (const command of commands) servers.push(await startServer(command, pinning));
    const config: EchoLoadConfig = {
      targets: servers.map((s, i) => ({ name: names[i]!, port: s.port, serverPid: s.child.process.pid ?? 0 })),
      connections: flags.connections,
      window: flags.window,
      size: flags.size,
      warmupMs: flags.warmup * 1000,
      sliceMs,
      rounds: flags.rounds,
      maxRounds: flags.rounds + flags['extra-rounds'],
    };
    const { rounds, summaries } = await runLoad(config, servers, pinning, out);
    out('');
    out(echoReport(rounds, flags.rounds, names, summaries));
  } finally {
    await Promise.all(servers.map((s) => s.child.stop()));
  }
  return 0;
}

/** `npm run bench -- echo`: see {@link usage}. */
export const echo: Benchmark = {
  summary: 'echo round trips/s: canal vs a raw ws server (and a ceiling peer), same load, same run',
  run: runEcho,
};
