/** Runs the canal CLI from source (through tsx) as a child process, as a user would. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../src/cli/bin.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

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

/** Spawns `canal ARGS`; the caller reads its output and ends it. */
export function spawnCli(args: readonly string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', BIN, ...args], {
    cwd: ROOT,
    env: cleanEnv(env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
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
