/**
 * `npm test`: make sure of the prerequisites, type-check everything, then run every test file
 * under test/ with node:test (TypeScript through tsx). Arguments narrow the files:
 * `npm test -- test/unit` or `npm test -- echo`.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
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

function run(cmd: string, args: string[]): number {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  return r.status ?? 1;
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

const filters = process.argv.slice(2);
const files = findTests('test').filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
if (files.length === 0) {
  process.stderr.write(`npm test: no test file matches ${filters.join(' ')}\n`);
  process.exit(1);
}
process.stderr.write(`npm test: running ${files.length} test files\n`);
const code = run(process.execPath, [
  '--import', 'tsx',
  '--test',
  '--test-concurrency=2',
  '--test-timeout=120000',
  '--test-reporter=spec',
  ...files.map((f) => relative('.', f)),
]);
process.exit(code);
