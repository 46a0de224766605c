/**
 * `canal serve --workers N` as a real process group: the primary (spawned from source, in a
 * process group of its own) and its workers. The helper reads what the primary prints (stdout)
 * and logs (stderr JSON lines: which worker listens with which pid, restarts, give-ups), so a test
 * can find a worker's pid, kill it, and wait for what the primary does about it. After the test
 * file the whole group is killed if still running, and the dev file removed.
 */
import type { ChildProcess } from 'node:child_process';
import { after } from 'node:test';
import { removeDevFile } from '../../src/cli/dev-file.js';
import { spawnCli } from './cli.js';
import { apiCall, TEST_API_KEY } from './nodes.js';
import { until } from './wait.js';

/** One JSON log line of the primary or a worker. */
export type LogLine = { readonly msg?: string; readonly level?: number; readonly [key: string]: unknown };

/** What `canal info` tells of one node. */
export interface NodeInfo {
  readonly uid: string;
  readonly name: string;
  readonly num_clients: number;
  readonly uptime: number;
}

export class WorkersProcess {
  readonly child: ChildProcess;
  /** Every line printed on stdout. */
  readonly stdout: string[] = [];
  /** Every stderr line: the JSON log lines parsed, any other line as `{ text }`. */
  readonly logs: LogLine[] = [];
  /** Resolves with how the primary ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  port = 0;
  /** The server API key: the test's, or the one dev mode printed. */
  apiKey = TEST_API_KEY;

  constructor(child: ChildProcess) {
    this.child = child;
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => {
      const lines = (out + d.toString()).split('\n');
      out = lines.pop()!;
      this.stdout.push(...lines);
    });
    child.stderr!.on('data', (d: Buffer) => {
      const lines = (err + d.toString()).split('\n');
      err = lines.pop()!;
      for (const line of lines) {
        if (line === '') continue;
        try {
          this.logs.push(JSON.parse(line) as LogLine);
        } catch {
          this.logs.push({ text: line });
        }
      }
    });
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** stderr as it came, for failure messages. */
  get stderr(): string {
    return this.logs.map((l) => ('text' in l ? String(l.text) : JSON.stringify(l))).join('\n');
  }

  /** The pid of the latest process of worker `slot` that listened (from the primary's log). */
  workerPid(slot: number): number {
    const line = [...this.logs].reverse().find((l) => l.msg === 'worker listening' && l.worker === slot);
    if (!line) throw new Error(`worker ${slot} never listened; stderr:\n${this.stderr}`);
    return line.pid as number;
  }

  /** Resolves with the first log line (from the `from`th on) that `match` accepts. */
  async waitForLog(match: (line: LogLine) => boolean, what: string, timeoutMs = 10_000, from = 0): Promise<LogLine> {
    await until(() => this.logs.slice(from).some(match), () => `no log line ${what} within ${timeoutMs} ms; stderr:\n${this.stderr}`, timeoutMs);
    return this.logs.slice(from).find(match)!;
  }

  /** POST /api/info: the nodes (figures of the others up to 5 s old). */
  async nodes(): Promise<NodeInfo[]> {
    const reply = await apiCall<{ nodes: NodeInfo[] }>(this.httpUrl, 'info', {}, 5000, this.apiKey);
    if (reply.status !== 200 || !reply.result) throw new Error(`POST /api/info failed: HTTP ${reply.status} ${reply.text}`);
    return reply.result.nodes;
  }

  /** SIGTERM to the primary alone, as a service manager sends it; resolves with how it ended. */
  async terminate(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.child.kill('SIGTERM');
    return this.exited;
  }

  /** SIGKILL to the whole process group (primary and workers). */
  killGroup(): void {
    try {
      process.kill(-this.child.pid!, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/**
 * Starts `canal serve --port 0 ARGS` in a process group of its own and resolves once the primary
 * printed its listening line (and, in dev mode, its key: `devMode`); rejects with its stderr when
 * it exits first or takes more than `timeoutMs`.
 */
export async function startWorkers(args: readonly string[], options: { devMode?: boolean; timeoutMs?: number } = {}): Promise<WorkersProcess> {
  const proc = new WorkersProcess(spawnCli(['serve', '--port', '0', ...args], {}, { detached: true }));
  after(async () => {
    if (proc.alive) proc.killGroup();
    await proc.exited;
    if (proc.port !== 0) removeDevFile(proc.port);
  });
  const listening = /^canal listening on ws:\/\/127\.0\.0\.1:(\d+)(?: \(open http:\/\/127\.0\.0\.1:\1\/\))?$/;
  const key = /^dev mode: server API key ([0-9a-f]{32}) \(/;
  await until(() => {
    if (!proc.alive) throw new Error(`canal serve exited (${proc.child.exitCode ?? proc.child.signalCode}) before listening; stderr:\n${proc.stderr}`);
    return proc.stdout.some((l) => listening.test(l)) && (!options.devMode || proc.stdout.some((l) => key.test(l)));
  }, () => `canal serve did not print its listening line within ${options.timeoutMs ?? 30_000} ms; stdout: ${proc.stdout.join('\n')}; stderr:\n${proc.stderr}`,
  options.timeoutMs ?? 30_000);
  proc.port = Number(proc.stdout.map((l) => listening.exec(l)?.[1]).find((p) => p !== undefined));
  const printedKey = proc.stdout.map((l) => key.exec(l)?.[1]).find((k) => k !== undefined);
  if (printedKey) proc.apiKey = printedKey;
  return proc;
}
