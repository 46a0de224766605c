/** Where things are: benchmarks run from any directory, children always from the repository root. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

/** The repository root (the folder holding package.json). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The command line that runs the TypeScript file `entry` (relative to the root) on this node, compiled on load by tsx. */
export function tsxCommand(entry: string, args: readonly string[] = []): { command: string; args: string[] } {
  // `node --import tsx`, not the tsx CLI: no wrapper process, so the pid we pin and kill is node's.
  return { command: process.execPath, args: ['--import', 'tsx', join(REPO_ROOT, entry), ...args] };
}

/** Where this run's peer bundles go; removed when the benchmark exits. */
let bundleDir: string | undefined;
const bundles = new Map<string, string>();

/**
 * The command line that runs the peer server `entry` (TypeScript, relative to the root) as plain
 * JavaScript on this node: bundled by esbuild once per run (with `ws`) into a temp file, run
 * without a loader, as canal runs from dist/. Through `node --import tsx` a peer would carry tsx's
 * module-hook thread: 82.6 MB of RSS and 12 threads for the ws fan-out peer at rest against 45.0
 * MB and 7 as a bundle (read from /proc), memory the memory benchmark would count as the peer's
 * and which need not stay put over a run. Load generators, whose memory is not measured, keep tsx.
 */
export function bundledCommand(entry: string, args: readonly string[] = []): { command: string; args: string[] } {
  let outfile = bundles.get(entry);
  if (outfile === undefined) {
    if (bundleDir === undefined) {
      const dir = mkdtempSync(join(tmpdir(), 'canal-bench-peers-'));
      bundleDir = dir;
      process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    }
    outfile = join(bundleDir, `${bundles.size}-${basename(entry, '.ts')}.cjs`);
    buildSync({
      entryPoints: [join(REPO_ROOT, entry)],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      // ws's optional native helpers: it runs without them, as it does for canal.
      external: ['bufferutil', 'utf-8-validate'],
      logLevel: 'silent',
    });
    bundles.set(entry, outfile);
  }
  return { command: process.execPath, args: [outfile, ...args] };
}
