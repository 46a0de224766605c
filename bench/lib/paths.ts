/** Where things are: benchmarks run from any directory, children always from the repository root. */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (the folder holding package.json). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The command line that runs the TypeScript file `entry` (relative to the root) on this node, compiled on load by tsx. */
export function tsxCommand(entry: string, args: readonly string[] = []): { command: string; args: string[] } {
  // `node --import tsx`, not the tsx CLI: no wrapper process, so the pid we pin and kill is node's.
  return { command: process.execPath, args: ['--import', 'tsx', join(REPO_ROOT, entry), ...args] };
}
