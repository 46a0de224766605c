/**
 * The one entry point of every load process (see load-child.ts for the contract):
 *   node --import tsx bench/lib/load-process.ts '<config as JSON>'
 * Loads the module of the configuration's benchmark, prints its first line once its
 * connections are open, then answers each command read on stdin with one line. Exits 1 with the
 * reason on stderr at the first failure, 2 past the configuration's deadline, 0 after the last
 * command or when stdin closes (the benchmark went away).
 */
import { createInterface } from 'node:readline';
import type { LoadConfigBase, LoadKind, LoadModule } from './load-child.js';

const MODULES: Readonly<Record<LoadKind, string>> = {
  echo: '../echo/load.js',
  fanout: '../fanout/load.js',
  memory: '../memory/load.js',
};

let prefix = 'load';

function fail(message: string, code = 1): never {
  process.stderr.write(`${prefix}: ${message}\n`);
  process.exit(code);
}

function emit(line: object): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

async function run(config: LoadConfigBase): Promise<void> {
  const module = MODULES[config.load];
  if (!module) fail(`no load named ${JSON.stringify(config.load)}`);
  const { startLoad } = (await import(module)) as LoadModule;
  const session = await startLoad(config, (message) => fail(`${config.name}: ${message}`));
  emit(session.ready);
  for await (const text of createInterface({ input: process.stdin })) {
    const { line, last } = await session.handle(JSON.parse(text) as object);
    emit(line);
    if (last) return;
  }
}

const arg = process.argv[2];
if (!arg) fail('usage: load-process.ts <config JSON>');
const config = JSON.parse(arg) as LoadConfigBase;
prefix = `${config.load}-load`;
// Every loop of every load is bounded in count and, by this deadline, in time.
setTimeout(() => fail(`deadline of ${config.deadlineMs} ms passed`, 2), config.deadlineMs).unref();
run(config).then(
  () => process.stdout.write('', () => process.exit(0)),
  (err: unknown) => fail(err instanceof Error ? err.message : String(err)),
);
