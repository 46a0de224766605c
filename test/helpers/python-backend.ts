/**
 * Python backends on the standard library, started by tests as child processes: the proxy
 * backend of test/fixtures/python/proxy_backend.py (or any script that prints "listening on
 * PORT"), killed after the test file, or when the test process exits however it exits.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';

export const PYTHON = '/usr/bin/python3';
export const PROXY_BACKEND = fileURLToPath(new URL('../fixtures/python/proxy_backend.py', import.meta.url));

/** What the proxy backend recorded of one request. */
export interface RecordedRequest {
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Record<string, any>;
}

export interface PythonBackend {
  readonly child: ChildProcess;
  readonly port: number;
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** What the backend printed on stderr (a Python traceback, when it failed). */
  readonly stderr: () => string;
  /** Every request it recorded (GET /_requests; the proxy backend only). */
  requests(): Promise<RecordedRequest[]>;
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** Starts `python3 script`; resolves once it printed "listening on PORT". Stopped after the test file. */
export async function startPythonBackend(script: string = PROXY_BACKEND, args: readonly string[] = []): Promise<PythonBackend> {
  assert.ok(existsSync(PYTHON), `${PYTHON} not found: this test needs Debian's python3 (npm test installs it when run as root)`);
  const child = spawn(PYTHON, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => {
    children.delete(child);
    resolve();
  }));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-16_384)));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${script} printed no "listening on PORT" within 10 s; stderr: ${stderr}`)), 10_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code} before listening; stderr: ${stderr}`));
    });
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  after(stop);
  return {
    child, port, url, stop,
    stderr: () => stderr,
    async requests() {
      const res = await fetch(`${url}/_requests`, { signal: AbortSignal.timeout(3000) });
      return (await res.json()) as RecordedRequest[];
    },
  };
}
