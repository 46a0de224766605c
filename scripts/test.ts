/**
 * `npm test`: make sure of the prerequisites, type-check everything, then run every test file
 * under test/ with node:test (TypeScript through tsx). Then the Bun pass: the files marked
 * `@runtimes node bun` (the server-facing integration and browser tests) run again with
 * TEST_SERVER_RUNTIME=bun, so the canal they start runs on Bun (test/helpers/server.ts); the
 * test runner stays Node's. Arguments narrow the files: `npm test -- test/unit` or
 * `npm test -- echo`; `--runtime node` or `--runtime bun` runs one pass only.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ensureTestEnvironment } from './test-env.js';

function findTests(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const r = spawnSync(cmd, args, { stdio: 'inherit', env });
  return r.status ?? 1;
}

/** Whether a test file asks to run against canal on both runtimes. */
function onBothRuntimes(file: string): boolean {
  return /^ \* @runtimes node bun$/m.test(readFileSync(file, 'utf8'));
}

/**
 * Runs `files` with node:test; `runtime` is the runtime the canal they start runs on. The
 * variable is not named CANAL_...: tests spawn `canal serve` with their own environment, and
 * canal refuses a CANAL_ variable that is not one of its settings.
 */
function runTests(files: readonly string[], runtime: 'node' | 'bun', tmp: string): number {
  return run(process.execPath, [
    '--import', 'tsx',
    '--test',
    '--test-concurrency=2',
    '--test-timeout=120000',
    '--test-reporter=spec',
    ...files.map((f) => relative('.', f)),
  ], { ...process.env, TEST_SERVER_RUNTIME: runtime, TMPDIR: tmp });
}

try {
  await ensureTestEnvironment();
} catch (err) {
  process.stderr.write(`npm test: ${(err as Error).message}\n`);
  process.exit(1);
}

const tsc = join('node_modules', '.bin', 'tsc');
for (const project of ['tsconfig.json', 'tsconfig.web.json']) {
  process.stderr.write(`npm test: type-checking ${project}\n`);
  if (run(tsc, ['-p', project]) !== 0) process.exit(1);
}

const args = process.argv.slice(2);
const at = args.indexOf('--runtime');
const only = at < 0 ? undefined : args.splice(at, 2)[1];
if (only !== undefined && only !== 'node' && only !== 'bun') {
  process.stderr.write(`npm test: --runtime takes node or bun, not ${only ?? 'nothing'}\n`);
  process.exit(1);
}
const files = findTests('test').filter((f) => args.length === 0 || args.some((x) => f.includes(x)));
if (files.length === 0) {
  process.stderr.write(`npm test: no test file matches ${args.join(' ')}\n`);
  process.exit(1);
}
// The tests get a temp dir of their own, which must be empty again at the end: a test that
// leaves a scratch dir, a screenshot or a killed dev server's secrets file fails the run.
// (tsx keeps its compile cache there by design.)
const tmp = mkdtempSync(join(tmpdir(), 'canal-npm-test-'));
let code = 0;
if (only !== 'bun') {
  process.stderr.write(`npm test: running ${files.length} test files\n`);
  code = runTests(files, 'node', tmp);
}
const both = files.filter(onBothRuntimes);
if (only !== 'node' && both.length > 0) {
  process.stderr.write(`npm test: running ${both.length} test files again against canal on Bun (TEST_SERVER_RUNTIME=bun)\n`);
  code = runTests(both, 'bun', tmp) || code;
}
const left = readdirSync(tmp).filter((name) => !name.startsWith('tsx-'));
if (left.length > 0) {
  process.stderr.write(`npm test: the tests left ${left.join(', ')} in their temp dir ${tmp}: a test does not clean up\n`);
  code ||= 1;
} else {
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(code);
