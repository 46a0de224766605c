/**
 * `npm run bench -- <name> [flags]`: runs one benchmark. A new benchmark is a folder whose main
 * file exports a Benchmark, and one line in BENCHMARKS. Exits 1 with the usage for a missing or unknown name,
 * and with the message alone for a BenchError (bad flag, no build, wrong reply, dead server).
 */
import { BenchError, type Benchmark } from './lib/benchmark.js';
import { bytes } from './bytes/bytes.js';
import { echo } from './echo/echo.js';
import { fanout } from './fanout/fanout.js';
import { memory } from './memory/memory.js';
import { redisCluster } from './redis-cluster/redis-cluster.js';

const BENCHMARKS: Readonly<Record<string, Benchmark>> = {
  bytes,
  echo,
  fanout,
  memory,
  'redis-cluster': redisCluster,
};

function usage(): string {
  const names = Object.keys(BENCHMARKS);
  const width = Math.max(...names.map((n) => n.length)) + 2;
  return [
    'Usage: npm run bench -- <benchmark> [flags]',
    '',
    'Benchmarks:',
    ...names.map((n) => `  ${n.padEnd(width)}${BENCHMARKS[n]!.summary}`),
    '',
    'Run "npm run bench -- <benchmark> --help" for its flags.',
  ].join('\n');
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h') {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  const benchmark = name === undefined ? undefined : BENCHMARKS[name];
  if (!benchmark) {
    process.stderr.write(`${name === undefined ? 'bench: which benchmark?' : `bench: unknown benchmark "${name}"`}\n\n${usage()}\n`);
    return 1;
  }
  try {
    return await benchmark.run(rest);
  } catch (err) {
    if (!(err instanceof BenchError)) throw err;
    process.stderr.write(`bench ${name}: ${err.message}\n`);
    return 1;
  }
}

const code = await main(process.argv.slice(2));
// Exit explicitly once stdout is flushed: a stray handle must not keep a finished bench alive.
process.stdout.write('', () => process.exit(code));
