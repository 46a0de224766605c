/**
 * The npm package as a user gets it: `npm pack` in the repository (which builds dist/ with the
 * prepare script), the tarball installed into an empty project (its dependencies from the local
 * npm cache), then the README's commands run from that project against the installed files
 * only (issue 16, "Done when"): `npx canal --help`, `npx canal serve` in dev mode with
 * `npx canal connect` on a /raw/ channel and `npx canal publish`, `npx canal config example >
 * canal.json`, `config check` and `serve --config canal.json` with `canal token`, `canal connect`
 * and `canal publish` reading the same file, the embedding example (type-checked against the
 * package's own types), and a global install of the command. One install serves them all.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Centrifuge } from 'centrifuge';
import WebSocket from 'ws';
import { devFilePath } from '../../src/cli/dev-file.js';
import { waitForLine } from '../helpers/cli.js';
import { embeddingExample, ROOT } from '../helpers/readme.js';
import { until } from '../helpers/wait.js';
import { closedWithin, connectClient } from '../helpers/ws-client.js';

const run = promisify(execFile);

/** The environment of the npm children: this one, without CANAL_* variables. */
function npmEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CANAL_')));
}

/** Runs `npm ARGS` in `cwd`; resolves with its stdout, rejects with its stderr in the message. */
async function npm(args: readonly string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await run('npm', [...args], { cwd, env: npmEnv(), timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`npm ${args.join(' ')} failed in ${cwd}: ${e.stderr ?? e.message}`);
  }
}

/** npm install flags for a quick install that stays on this machine when the cache has it all. */
const INSTALL_FLAGS = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];

/**
 * Spawns `command` in its own process group, so that a signal reaches `npx` and the canal it
 * started alike (npx does not pass SIGTERM on). Whatever is left of the group is stopped after
 * the test file.
 */
function spawnGroup(command: string, args: readonly string[], cwd: string, stdin: 'ignore' | 'pipe' = 'ignore'): ChildProcess {
  const child = spawn(command, [...args], { cwd, env: npmEnv(), detached: true, stdio: [stdin, 'pipe', 'pipe'] });
  after(async () => {
    if (!signalGroup(child, 'SIGTERM')) return;
    const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), 8000);
    await closed(child);
    clearTimeout(timer);
  });
  return child;
}

/** Sends `signal` to the process group of `child`; false when no process of it is left. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-child.pid!, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Resolves with the exit code and signal of `child` once every process of its group that holds
 * its stdout or stderr has exited too ('close' waits for the pipes).
 */
async function closed(child: ChildProcess): Promise<[number | null, NodeJS.Signals | null]> {
  const exited = child.exitCode !== null || child.signalCode !== null;
  if (child.stdout!.closed && child.stderr!.closed && exited) return [child.exitCode, child.signalCode];
  return (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
}

/** Runs `npx canal ARGS` in `cwd` to its end; rejects with its stderr when it exits non-zero. */
async function npxCanal(args: readonly string[], cwd: string): Promise<string> {
  try {
    return (await run('npx', ['canal', ...args], { cwd, env: npmEnv(), timeout: 60_000 })).stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`npx canal ${args.join(' ')} failed: ${e.stderr || e.message}`);
  }
}

/** Every line `child` prints on stdout, as it comes, and a way to wait for one. */
function stdoutLines(child: ChildProcess): { readonly lines: string[]; waitFor(pattern: RegExp): Promise<string> } {
  const lines: string[] = [];
  let rest = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    const parts = (rest + d.toString()).split('\n');
    rest = parts.pop()!;
    lines.push(...parts);
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return {
    lines,
    async waitFor(pattern) {
      await until(() => lines.some((l) => pattern.test(l)), () => `no line matching ${pattern}; stdout:\n${lines.join('\n')}\nstderr:\n${stderr}`, 20_000);
      return lines.find((l) => pattern.test(l))!;
    },
  };
}

interface PackedFile {
  readonly path: string;
}

describe('the npm package canal-server', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'canal-package-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const [packed] = JSON.parse(await npm(['pack', '--json', '--pack-destination', dir], ROOT)) as Array<{ name: string; filename: string; files: PackedFile[] }>;
  const tarball = join(dir, packed!.filename);
  const app = join(dir, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: 'app', private: true, type: 'module' }, null, 2)}\n`);
  await npm(['install', ...INSTALL_FLAGS, tarball], app);

  it('is named canal-server and holds dist (with the Redis scripts), the pages, the docs; no sources or tests', () => {
    assert.equal(packed!.name, 'canal-server');
    const files = packed!.files.map((f) => f.path);
    for (const path of [
      'package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/bin.js',
      'dist/engine/redis/scripts/publish.lua', 'dist/engine/redis/scripts/history.lua', 'dist/engine/redis/scripts/presence.lua',
      'web/index.html', 'web/demo/chat/index.html', 'web/assets/landing.js', 'docs/config.md', 'examples/canal-node.json',
    ]) {
      assert.ok(files.includes(path), `the package holds ${path}`);
    }
    const stray = files.filter((f) => /^(src|test|bench|scripts|node_modules)\//.test(f) || f.endsWith('.map') || f.startsWith('.'));
    assert.deepEqual(stray, [], 'no sources, tests, source maps or dotfiles');
  });

  it('leaves dist/cli/bin.js executable after the build, and `npx canal --help` works in the clone itself', async () => {
    // tsc writes it 0644; npx runs the clone's bin through a link it does not always refresh
    // after a rebuild, so the README's `npx canal --help` failed there with "Permission denied".
    assert.notEqual(statSync(join(ROOT, 'dist/cli/bin.js')).mode & 0o111, 0, 'dist/cli/bin.js is executable');
    assert.match(await npxCanal(['--help'], ROOT), /^\s+serve\s/m);
  });

  it('prints the commands with `npx canal --help` there', async () => {
    const help = await npxCanal(['--help'], app);
    for (const command of ['serve', 'publish', 'token', 'connect', 'info', 'config']) assert.match(help, new RegExp(`^\\s+${command}\\s`, 'm'), command);
  });

  it('installs into an empty project, where `npx canal serve` answers "echo: hello", and `npx canal connect` on /raw/chat:lobby gets what `npx canal publish` sends', async () => {
    const child = spawnGroup('npx', ['canal', 'serve', '--port', '0'], app);
    const line = await waitForLine(child, /^canal listening on /);
    const port = /^canal listening on ws:\/\/127\.0\.0\.1:(\d+) \(open http:\/\/127\.0\.0\.1:\1\/\)$/.exec(line)?.[1];
    assert.ok(port, line);
    const client = await connectClient(`ws://127.0.0.1:${port}/`);
    client.send('hello');
    assert.equal(await client.nextText(), 'echo: hello');
    client.close();
    // The demo pages and the browser client come from the installed package too.
    assert.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${port}/vendor/centrifuge/centrifuge.js`)).status, 200);

    // The README's plain chat: a line typed into `canal connect` comes back once its channel is
    // live; then `canal publish` (the dev server's key found by itself) reaches it.
    const connect = spawnGroup('npx', ['canal', 'connect', `ws://127.0.0.1:${port}/raw/chat:lobby`], app, 'pipe');
    const printed = stdoutLines(connect);
    connect.stdin!.write('hello from connect\n');
    await printed.waitFor(/^< hello from connect$/);
    const published = await npxCanal(['publish', 'chat:lobby', '{"text":"from publish"}', '--url', `http://127.0.0.1:${port}`], app);
    assert.match(published, /offset/, published);
    await printed.waitFor(/^< \{"text":"from publish"\}$/);
    connect.stdin!.end();
    assert.deepEqual(await closed(connect), [0, null], 'canal connect exits 0 when its input ends');

    // A terminal's Ctrl-C signals the whole group: canal closes and removes its dev file.
    signalGroup(child, 'SIGINT');
    await closed(child);
    assert.equal(existsSync(devFilePath(Number(port))), false, 'canal removed its dev file: it shut down cleanly');
  });

  it('writes a config with `npx canal config example > canal.json` there, which `config check` accepts and `serve --config` runs, with `token`, `connect` and `publish` reading the file', async () => {
    writeFileSync(join(app, 'canal.json'), await npxCanal(['config', 'example'], app));
    assert.equal(await npxCanal(['config', 'check', 'canal.json'], app), 'canal.json: valid\n');

    const server = spawnGroup('npx', ['canal', 'serve', '--config', 'canal.json', '--port', '0'], app);
    // Not dev mode: no demo pages, so the line points at none.
    const port = /^canal listening on ws:\/\/127\.0\.0\.1:(\d+)$/.exec(await waitForLine(server, /^canal listening on /))?.[1];
    assert.ok(port);
    const url = `http://127.0.0.1:${port}`;

    const token = (await npxCanal(['token', '--user', 'alice', '--config', 'canal.json'], app)).trim();
    const connect = spawnGroup('npx', ['canal', 'connect', `ws://127.0.0.1:${port}/connection/websocket`, '--token', token], app, 'pipe');
    const printed = stdoutLines(connect);
    await printed.waitFor(/^< \{"id":1,"connect":/);
    connect.stdin!.write('sub chat:lobby\n');
    await printed.waitFor(/"subscribe":/);
    const published = await npxCanal(['publish', 'chat:lobby', '{"text":"from the config"}', '--config', 'canal.json', '--url', url], app);
    assert.match(published, /offset/, published);
    await printed.waitFor(/"channel":"chat:lobby".*"data":\{"text":"from the config"\}/);
    connect.stdin!.end();
    assert.deepEqual(await closed(connect), [0, null], 'canal connect exits 0 when its input ends');

    // Without the key the server API refuses: the key came from the file.
    const refused = await fetch(`${url}/api/publish`, { method: 'POST', body: '{"channel":"chat:lobby","data":1}' });
    assert.equal(refused.status, 401);
    await refused.arrayBuffer();

    // Ctrl-C: canal drains (its clients are told 1001, going away) and stops listening.
    const echo = await connectClient(`ws://127.0.0.1:${port}/`);
    signalGroup(server, 'SIGINT');
    assert.equal((await closedWithin(echo)).code, 1001);
    await closed(server);
    await assert.rejects(fetch(`${url}/healthz`), 'canal stopped listening');
  });

  it('runs the README embedding example from that project, compiled with tsc against the package\'s types', async (t) => {
    const source = embeddingExample().replace('port: 8765', 'port: 0');
    assert.match(source, /from 'canal-server'/);
    writeFileSync(join(app, 'server.ts'), source);
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: true,
        // The project has no @types/node of its own; borrow this repository's.
        typeRoots: [join(ROOT, 'node_modules/@types')], types: ['node'],
      },
      files: ['server.ts'],
    }));
    await run(join(ROOT, 'node_modules/.bin/tsc'), ['-p', app], { cwd: app }).catch((err: { stdout?: string; message: string }) => {
      throw new Error(`tsc failed on the README example: ${err.stdout || err.message}`);
    });
    const child = spawnGroup(process.execPath, ['server.js'], app);
    const url = /^listening on (ws:\/\/\S+)$/.exec(await waitForLine(child, /^listening on ws:/))?.[1];
    assert.ok(url);
    const client = new Centrifuge(url, { websocket: WebSocket as never });
    t.after(() => client.disconnect());
    const sub = client.newSubscription('room:dice');
    const published = new Promise<unknown>((resolve) => sub.on('publication', (ctx) => resolve(ctx.data)));
    sub.subscribe();
    client.connect();
    await sub.ready(5000);
    const { data } = await client.rpc('roll', { sides: 20 });
    const value = (data as { value: number }).value;
    assert.ok(Number.isInteger(value) && value >= 1 && value <= 20, `roll gave ${value}`);
    assert.equal((await published as { value: number }).value, value);
    // The example closes on SIGTERM, and then nothing keeps the process alive.
    client.disconnect();
    child.kill('SIGTERM');
    assert.deepEqual(await closed(child), [0, null]);
  });

  it('installs the canal command globally from the tarball', async () => {
    const prefix = join(dir, 'global');
    await npm(['install', '--global', '--prefix', prefix, ...INSTALL_FLAGS, tarball], dir);
    const { stdout } = await run(join(prefix, 'bin', 'canal'), ['--version'], { env: npmEnv() });
    assert.equal(stdout.trim(), packed!.filename.replace(/^canal-server-(.*)\.tgz$/, '$1'));
  });
});
