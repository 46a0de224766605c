/**
 * The benchmarks' flags (bench/lib/flags.ts) and where the Bun binary is looked for
 * (bench/lib/bun.ts): a mistyped flag must stop a run with what is allowed, never run it with a
 * default the user did not ask for.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BenchError } from '../../../bench/lib/benchmark.js';
import { bunCandidates } from '../../../bench/lib/bun.js';
import { flagsHelp, int, intList, oneOf, parseFlags, someOf, text } from '../../../bench/lib/flags.js';

const FLAGS = {
  rounds: int(10, 1, 100, 'rounds'),
  subscribers: intList([1000, 10_000], 1, 50_000, 'counts'),
  engine: oneOf(['memory', 'redis'] as const, 'memory', 'engine'),
  peers: someOf(['ws', 'ws2', 'bun'] as const, ['ws', 'ws2', 'bun'], 'peers'),
  'serve-flags': text('', '"FLAGS"', 'extra'),
};

describe('parseFlags', () => {
  it('gives every default when no flag is passed', () => {
    assert.deepEqual(parseFlags([], FLAGS, 'x'), { rounds: 10, subscribers: [1000, 10_000], engine: 'memory', peers: ['ws', 'ws2', 'bun'], 'serve-flags': '' });
  });

  it('reads `--name value` and `--name=value`, lists in the order of their choices, and free text that starts with --', () => {
    const values = parseFlags(['--rounds', '3', '--subscribers=10,20', '--peers', 'bun,ws', '--serve-flags', '--workers 2'], FLAGS, 'x');
    assert.deepEqual(values, { rounds: 3, subscribers: [10, 20], engine: 'memory', peers: ['ws', 'bun'], 'serve-flags': '--workers 2' });
  });

  it('returns undefined for --help and -h', () => {
    assert.equal(parseFlags(['--rounds', '3', '--help'], FLAGS, 'x'), undefined);
    assert.equal(parseFlags(['-h'], FLAGS, 'x'), undefined);
  });

  it('stops with what is allowed for a wrong value, a missing value or an unknown flag', () => {
    const fails = (argv: string[], message: RegExp): void => assert.throws(() => parseFlags(argv, FLAGS, 'x'), (err: unknown) => err instanceof BenchError && message.test(err.message));
    fails(['--rounds', '0'], /--rounds: must be an integer 1\.\.100, got "0"/);
    fails(['--rounds', '2.5'], /--rounds: must be an integer/);
    fails(['--subscribers', '10,,20'], /--subscribers: must be integers 1\.\.50000/);
    fails(['--engine', 'mysql'], /--engine: must be one of memory, redis/);
    fails(['--peers', 'ws,nginx'], /--peers: must be one or more of ws, ws2, bun/);
    fails(['--rounds'], /--rounds: needs a value/);
    fails(['--round', '3'], /unknown argument "--round" \(see npm run bench -- x --help\)/);
  });

  it('lists every flag with its default in the help', () => {
    const help = flagsHelp(FLAGS).join('\n');
    for (const name of Object.keys(FLAGS)) assert.match(help, new RegExp(`--${name} `));
    assert.match(help, /--peers ws,ws2,bun \(some\) +peers; default ws,ws2,bun/);
    assert.match(help, /-h, --help/);
  });
});

describe('bunCandidates', () => {
  it('looks in the platform packages first, plain build before its variants, then at the bun package\'s bin/bun.exe', () => {
    const root = mkdtempSync(join(tmpdir(), 'canal-bench-bun-'));
    try {
      for (const name of ['bun-linux-x64-baseline', 'bun-linux-x64', 'bun-linux-aarch64', 'bun-darwin-x64']) mkdirSync(join(root, 'node_modules', '@oven', name), { recursive: true });
      assert.deepEqual(bunCandidates(root, 'linux', 'x64'), [
        join(root, 'node_modules/@oven/bun-linux-x64/bin/bun'),
        join(root, 'node_modules/@oven/bun-linux-x64-baseline/bin/bun'),
        join(root, 'node_modules/bun/bin/bun.exe'),
      ]);
      assert.deepEqual(bunCandidates(join(root, 'nothing'), 'linux', 'x64'), [join(root, 'nothing/node_modules/bun/bin/bun.exe')]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
