/**
 * `npm run chaos -- [--minutes N | --seconds N] [--seed N] [flags]`: the chaos verifier of issue
 * 13. Exits 0 when the run passed, 1 when it did not (or could not be set up), 2 on a bad flag.
 */
import { randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { cleanUpNow } from './children.js';
import { parseOptions, usage, UsageError, type ChaosOptions } from './options.js';
import { formatReport, runPassed, summaryJson } from './report.js';
import { runChaos } from './run.js';

/** The command that replays this run's schedule: the same length and seed (other flags as given). */
function replayCommand(argv: readonly string[], options: ChaosOptions): string {
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [name] = a.split('=');
    if (name === '--seed' || name === '--summary' || name === '--log-dir') {
      if (!a.includes('=')) i++;
      continue;
    }
    rest.push(a);
  }
  return `npm run chaos -- ${[...rest, '--seed', String(options.seed)].join(' ')}`;
}

async function main(argv: readonly string[]): Promise<number> {
  let options: ChaosOptions | undefined;
  try {
    options = parseOptions(argv, () => randomInt(0, 0xffffffff));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`chaos: ${err.message}\n`);
    return 2;
  }
  if (!options) {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  const replay = replayCommand(argv, options);
  out(`chaos: ${options.lengthMs / 1000} s of faults, seed ${options.seed}${options.seedGiven ? '' : ' (drawn)'}, ${options.nodes} nodes, ` +
    `${options.subscribers} subscribers, ${options.apiRate}/s through the API + ${options.clientPublishers} x ${options.clientRate}/s through clients; ` +
    `Node ${process.version}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`);
  out(`replay: ${replay}`);
  try {
    const result = await runChaos(options, out);
    out(formatReport(result, replay));
    if (options.summary) writeFileSync(options.summary, `${JSON.stringify(summaryJson(result, options.seed, options.lengthMs, replay), null, 2)}\n`);
    return runPassed(result) ? 0 : 1;
  } catch (err) {
    process.stderr.write(`chaos: the run could not go on: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}

const code = await main(process.argv.slice(2));
cleanUpNow();
// Exit once stdout is flushed: a stray handle (a client timer) must not keep a finished run alive.
process.stdout.write('', () => process.exit(code));
