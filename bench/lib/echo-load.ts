/**
 * The echo load generator, run as its own process (pinned to its own CPU by the benchmark):
 *   node --import tsx bench/lib/echo-load.ts '<EchoLoadConfig as JSON>'
 * Opens the connections to every target, warms each up, then runs rounds in which each target
 * in turn carries the whole load for one slice, the order rotating from round to round:
 * interleaving at this grain puts the targets under the same machine conditions, which drift
 * on a shared machine within seconds.
 * Prints one SliceReport JSON line per slice and a DoneReport line at the end. Exits 1 with the
 * reason on stderr at the first wrong reply or lost connection, 2 when it overruns its deadline.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { DoneReport, EchoLoadConfig, EchoLoadLine } from './echo-load-types.js';
import { EchoTargetLoad } from './echo-target-load.js';

/**
 * Load before counting in each slice. Every window refills in the first write and the servers
 * stay JIT-warm while idle, so a target is back to steady state well within it.
 */
const SETTLE_MS = 100;
/** Allowance for connecting, draining and closing on top of the loaded time. */
const SLACK_MS = 30_000;

function fail(message: string, code = 1): never {
  process.stderr.write(`echo-load: ${message}\n`);
  process.exit(code);
}

function emit(line: EchoLoadLine): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

async function run(config: EchoLoadConfig): Promise<DoneReport> {
  const onError = (err: Error): void => fail(err.message);
  const targets: EchoTargetLoad[] = [];
  for (const address of config.targets) targets.push(await EchoTargetLoad.open(address, config.connections, config, onError));
  for (const target of targets) {
    target.start();
    await sleep(config.warmupMs);
    await target.stop();
  }
  const quietSlices = new Map(targets.map((t) => [t, 0]));
  const enough = (): boolean => [...quietSlices.values()].every((n) => n >= config.rounds);
  for (let round = 1; round <= config.maxRounds && !enough(); round++) {
    // Rotate who goes first, so that an order effect (what ran just before, such as the
    // ceiling's far higher rate) falls on every target alike instead of on one.
    const shift = (round - 1) % targets.length;
    for (const target of [...targets.slice(shift), ...targets.slice(0, shift)]) {
      const slice = await target.measureSlice(round, SETTLE_MS, config.sliceMs);
      emit(slice);
      if (slice.quiet) quietSlices.set(target, (quietSlices.get(target) ?? 0) + 1);
    }
  }
  for (const target of targets) target.close();
  return { type: 'done', targets: Object.fromEntries(targets.map((t) => [t.address.name, t.summary()])) };
}

const arg = process.argv[2];
if (!arg) fail('usage: echo-load.ts <EchoLoadConfig JSON>');
const config = JSON.parse(arg) as EchoLoadConfig;
// Every loop here is bounded in count (rounds, sequence numbers) and, by this deadline, in time.
const loadedMs = config.targets.length * (config.warmupMs + config.maxRounds * (SETTLE_MS + config.sliceMs));
setTimeout(() => fail(`deadline of ${loadedMs + SLACK_MS} ms passed`, 2), loadedMs + SLACK_MS).unref();
run(config).then(
  (done) => process.stdout.write(`${JSON.stringify(done)}\n`, () => process.exit(0)),
  (err: unknown) => fail(err instanceof Error ? err.message : String(err)),
);
