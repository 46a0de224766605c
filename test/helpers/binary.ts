/**
 * The standalone executable (`npm run build:binary`) for tests: built once per test file into a
 * temporary folder, and run from another, empty one, so it can find nothing of the checkout
 * (no node_modules, no web/, no package.json) except through what it embeds. Both folders are
 * removed after the file.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { promisify } from 'node:util';
import { ROOT } from './readme.js';

/** A built executable and the empty folder to run it from. */
export interface Binary {
  /** The executable's path (in a temporary folder of its own). */
  readonly path: string;
  /** An empty temporary folder: the working directory to run it in. */
  readonly cwd: string;
}

/** Runs `npm run build:binary` into a temporary folder; both folders go after the current test file. */
export async function buildBinary(): Promise<Binary> {
  const out = mkdtempSync(join(tmpdir(), 'canal-binary-'));
  const cwd = mkdtempSync(join(tmpdir(), 'canal-binary-run-'));
  after(() => {
    rmSync(out, { recursive: true, force: true });
    rmSync(cwd, { recursive: true, force: true });
  });
  const path = join(out, 'canal');
  await promisify(execFile)('npm', ['run', 'build:binary', '--', '--outfile', path], { cwd: ROOT, timeout: 120_000 });
  return { path, cwd };
}
