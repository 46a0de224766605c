/**
 * Benchmarks measure the built server (`node dist/cli/bin.js`), as users run it, so they
 * first check that a build exists and say when src/ has changed since.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BenchError } from './benchmark.js';

/** The built canal executable, relative to the repository root. */
export const CANAL_BIN = 'dist/cli/bin.js';

function newestFile(dir: string): { path: string; mtimeMs: number } | undefined {
  let newest: { path: string; mtimeMs: number } | undefined;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const { mtimeMs } = statSync(path);
    if (!newest || mtimeMs > newest.mtimeMs) newest = { path, mtimeMs };
  }
  return newest;
}

/**
 * Returns the path of the built server under `root`, and a warning when a file in src/ is
 * newer than it (the figures would be for an older build). Throws BenchError, asking for
 * `npm run build`, when there is no build.
 */
export function builtServer(root: string): { bin: string; warning: string | undefined } {
  const bin = join(root, CANAL_BIN);
  if (!existsSync(bin)) throw new BenchError(`${CANAL_BIN} not found: run \`npm run build\` first (the benchmark measures the built server)`);
  const src = newestFile(join(root, 'src'));
  const built = statSync(bin).mtimeMs;
  const warning =
    src && src.mtimeMs > built
      ? `${relative(root, src.path)} changed after the last build: these figures are for the old dist/; run \`npm run build\` to measure src/ as it is`
      : undefined;
  return { bin, warning };
}
