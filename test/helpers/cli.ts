/** Runs the canal CLI from source (through tsx) as a child process, as a user would. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after } from 'node:test';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { removeDevFile } from '../../src/cli/dev-file.js';

const BIN = fileURLToPath(new URL('../../src/cli/bin.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The runtimes canal runs on: Node (through tsx) and Bun (the `bun` devDependency; it runs TypeScript itself). */
export const RUNTIMES = ['node', 'bun'] as const;
export type Runtime = (typeof RUNTIMES)[number];

/** The Bun binary of this checkout (node_modules/.bin/bun, from the `bun` devDependency). */
export const BUN = join(ROOT, 'node_modules', '.bin', 'bun');

/** The command and arguments that run the canal CLI from source on `runtime`. */
function command(runtime: Runtime, args: readonly string[]): [string, string[]] {
  return runtime === 'bun' ? [BUN, [BIN, ...args]] : [process.execPath, ['--import', 'tsx', BIN, ...args]];
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment for CLI children: the test's own, without CANAL_* variables. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CANAL_')) env[k] = v;
  return { ...env, ...extra };
}

/**
 * Spawns `canal ARGS`; the caller reads its output and ends it. `detached` puts it in a process
 * group of its own (with its workers, for `--workers`), which `process.kill(-pid)` ends whole.
 */
export function spawnCli(args: readonly string[], env: Record<string, string> = {}, options: SpawnOptions = {}): ChildProcess {
  const [cmd, argv] = options.binary ? [options.binary.path, [...args]] : command(options.runtime ?? 'node', args);
  return spawn(cmd, argv, {
    cwd: options.binary?.cwd ?? ROOT,
    env: cleanEnv(env),
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
}

/** How to run canal: on Node (default) or Bun from source, or the standalone executable from its empty folder. */
export interface SpawnOptions {
  readonly detached?: boolean;
  readonly runtime?: Runtime;
  readonly binary?: { readonly path: string; readonly cwd: string };
}

/** Runs `canal ARGS` to completion (at most `timeoutMs`) and collects its output. */
export async function runCli(args: readonly string[], env: Record<string, string> = {}, timeoutMs = 20_000, stdin?: string): Promise<CliResult> {
  const child = spawnCli(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  if (stdin !== undefined) child.stdin!.end(stdin);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Resolves with the first stdout line matching `pattern`, or rejects when the child exits first. */
export function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    let errors = '';
    const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; stderr: ${errors}`)), timeoutMs);
    const onData = (d: Buffer): void => {
      buffer += d.toString();
      for (const line of buffer.split('\n')) {
        if (pattern.test(line)) {
          clearTimeout(timer);
          child.stdout!.off('data', onData);
          resolve(line);
          return;
        }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (errors += d.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`canal exited with ${code} before printing ${pattern}; stderr: ${errors}`));
    });
  });
}

/** A `canal serve` child process in dev mode, with what it printed at start. */
export interface ServedProcess {
  readonly child: ChildProcess;
  readonly port: number;
  /** The random dev-mode API key it printed. */
  readonly apiKey: string;
  readonly httpUrl: string;
  readonly wsUrl: string;
}

export interface ServeOptions {
  /** How the process is stopped after the test file if it is still running (default SIGTERM, then SIGKILL after 8 s). */
  readonly stopWith?: 'SIGTERM' | 'SIGKILL';
  /** Called with each line the process writes to stderr (its JSON log). */
  readonly onStderrLine?: (line: string) => void;
  /** The runtime canal runs on (default node). */
  readonly runtime?: Runtime;
  /** Run this standalone executable instead, from its empty folder (test/helpers/binary.ts). */
  readonly binary?: { readonly path: string; readonly cwd: string };
}

/**
 * Spawns `canal serve --port 0 ARGS` (dev mode, so it prints an API key) and resolves once it
 * printed both its listening line and its key; it is stopped after the current test file, and
 * its dev file removed if it had to be killed.
 */
export async function serveProcess(args: readonly string[] = [], options: ServeOptions = {}): Promise<ServedProcess> {
  const child = spawnCli(['serve', '--port', '0', ...args], {}, options.binary ? { binary: options.binary } : { runtime: options.runtime ?? 'node' });
  let port: number | undefined;
  after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill(options.stopWith ?? 'SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
      await exited;
      clearTimeout(timer);
    }
    // canal removes its dev file when it stops on a signal it can handle; not on SIGKILL.
    if (port !== undefined && child.signalCode === 'SIGKILL') removeDevFile(port);
  });
  let errText = '';
  child.stderr!.on('data', (d: Buffer) => {
    if (!options.onStderrLine) return;
    errText += d.toString();
    const lines = errText.split('\n');
    errText = lines.pop()!;
    for (const line of lines) options.onStderrLine(line);
  });
  let out = '';
  const started = await new Promise<{ port: number; apiKey: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`canal serve printed no port and key within 20 s: ${out}`)), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const port = /^canal listening on ws:\/\/127\.0\.0\.1:(\d+)(?: \(open http:\/\/127\.0\.0\.1:\1\/\))?$/m.exec(out)?.[1];
      const key = /^dev mode: server API key ([0-9a-f]{32}) \(/m.exec(out)?.[1];
      if (port && key) {
        clearTimeout(timer);
        resolve({ port: Number(port), apiKey: key });
      }
    });
    child.once('exit', (code) => reject(new Error(`canal serve exited with ${code} before listening: ${out}`)));
  });
  port = started.port;
  return { child, port, apiKey: started.apiKey, httpUrl: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}` };
}
