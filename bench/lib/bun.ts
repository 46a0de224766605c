/**
 * The Bun binary the Bun peers and canal-on-Bun run on: the one the `bun` devDependency brings.
 * npm installs it in the platform package `@oven/bun-<os>-<arch>[-musl|-baseline]` (its bin/bun);
 * the `bun` package's postinstall would then link it over bin/bun.exe, a placeholder. Installs
 * that do not run dependencies' install scripts (npm 11 by default) skip that link, so the
 * platform package is looked at first, and bin/bun.exe is used only when it is a real binary.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BenchError } from './benchmark.js';
import { REPO_ROOT } from './paths.js';

let found: { path: string; version: string } | undefined;

/** Where a Bun binary may be under `root`, best first. */
export function bunCandidates(root: string, platform = process.platform, arch = process.arch): string[] {
  const oven = join(root, 'node_modules', '@oven');
  const os = platform === 'win32' ? 'windows' : platform;
  const cpu = arch === 'x64' ? 'x64' : arch === 'arm64' ? 'aarch64' : arch;
  const exe = platform === 'win32' ? 'bun.exe' : 'bun';
  let packages: string[] = [];
  try {
    packages = readdirSync(oven).filter((name) => name.startsWith(`bun-${os}-${cpu}`));
  } catch {
    // No platform package installed.
  }
  // The plain build first, then its variants (-baseline for CPUs without AVX2, -musl).
  packages.sort((a, b) => a.length - b.length || a.localeCompare(b));
  return [...packages.map((p) => join(oven, p, 'bin', exe)), join(root, 'node_modules', 'bun', 'bin', 'bun.exe')];
}

/**
 * The path and version of the Bun binary of this checkout. Throws BenchError, saying how to
 * get it, when none of the candidates runs.
 */
export function bunBinary(): { path: string; version: string } {
  if (found) return found;
  const tried: string[] = [];
  for (const path of bunCandidates(REPO_ROOT)) {
    if (!existsSync(path)) continue;
    const probe = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000 });
    if (probe.status === 0 && /^\d+\.\d+/.test(probe.stdout.trim())) {
      found = { path, version: probe.stdout.trim() };
      return found;
    }
    tried.push(`${path} (${probe.error?.message ?? `exit ${probe.status}`})`);
  }
  throw new BenchError(
    'the Bun targets need the Bun binary of the `bun` devDependency, and none runs here' +
      (tried.length > 0 ? ` (tried ${tried.join(', ')})` : ' (no binary in node_modules/@oven/bun-*/bin/, none at node_modules/bun/bin/bun.exe)') +
      ': run `npm install` (Bun ships for linux, darwin and windows on x64 and arm64), or leave the Bun targets out (see --help)',
  );
}

/** Bun's version when {@link bunBinary} has found it in this run, else undefined. */
export function bunFoundVersion(): string | undefined {
  return found?.version;
}
