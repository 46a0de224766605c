/**
 * `npm run build:binary`: canal as one executable file, made by `bun build --compile` with the
 * Bun of the `bun` devDependency. It holds Bun itself, canal's code and every dependency, and
 * the files canal reads at run time: the demo pages (web/), the centrifuge browser client, the
 * Redis engine's Lua scripts and package.json (the version). It runs where neither Node nor
 * node_modules is; src/util/package-path.ts finds those files inside it.
 *   npm run build:binary [-- --outfile PATH]   (default build/canal)
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The Bun binary of this checkout: the platform package npm installs, or the linked bin. */
function bunBinary(): string {
  const oven = join(ROOT, 'node_modules', '@oven');
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const arch = process.arch === 'x64' ? 'x64' : process.arch === 'arm64' ? 'aarch64' : process.arch;
  const exe = process.platform === 'win32' ? 'bun.exe' : 'bun';
  const packages = existsSync(oven) ? readdirSync(oven).filter((n) => n.startsWith(`bun-${platform}-${arch}`)).sort((a, b) => a.length - b.length) : [];
  const candidates = [...packages.map((p) => join(oven, p, 'bin', exe)), join(ROOT, 'node_modules', '.bin', exe)];
  const found = candidates.find((c) => existsSync(c) && statSync(c).size > 1_000_000);
  if (!found) throw new Error(`no Bun binary in node_modules (tried ${candidates.join(', ')}): run npm install; the bun devDependency brings it`);
  return found;
}

/**
 * What the executable embeds besides the code. Bun keeps an embedded folder or file under its
 * own name at the binary's root, so files from deeper folders are staged first in folders
 * named for what they are: inside the binary they are `web/`, `package.json`,
 * `redis-scripts/*.lua` and `centrifuge/centrifuge.js` (src/util/package-path.ts's `embedded` paths).
 */
function stageAssets(stage: string): string[] {
  rmSync(stage, { recursive: true, force: true });
  cpSync(join(ROOT, 'src', 'engine', 'redis', 'scripts'), join(stage, 'redis-scripts'), { recursive: true });
  mkdirSync(join(stage, 'centrifuge'), { recursive: true });
  cpSync(join(ROOT, 'node_modules', 'centrifuge', 'dist', 'centrifuge.js'), join(stage, 'centrifuge', 'centrifuge.js'));
  return ['web', 'package.json', relative(ROOT, join(stage, 'redis-scripts')), relative(ROOT, join(stage, 'centrifuge'))];
}

function main(argv: readonly string[]): number {
  const at = argv.indexOf('--outfile');
  const outfile = resolve(ROOT, at >= 0 && argv[at + 1] ? argv[at + 1]! : join('build', 'canal'));
  mkdirSync(dirname(outfile), { recursive: true });
  const stage = join(dirname(outfile), '.embed');
  const assets = stageAssets(stage);
  const args = ['build', '--compile', 'src/cli/bin.ts', ...assets.flatMap((a) => ['--asset', a]), '--outfile', outfile];
  const run = spawnSync(bunBinary(), args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  rmSync(stage, { recursive: true, force: true });
  if (run.status !== 0) {
    process.stderr.write(`build:binary: bun build failed (${run.error?.message ?? `exit ${run.status}`})\n`);
    return 1;
  }
  process.stdout.write(`build:binary: ${relative(process.cwd(), outfile) || outfile} (${(statSync(outfile).size / 1024 / 1024).toFixed(0)} MiB; run it with: ${relative(process.cwd(), outfile)} serve)\n`);
  return 0;
}

try {
  process.exit(main(process.argv.slice(2)));
} catch (err) {
  process.stderr.write(`build:binary: ${(err as Error).message}\n`);
  process.exit(1);
}
