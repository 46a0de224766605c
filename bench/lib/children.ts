/**
 * Child processes of a benchmark (servers, load generators). Every child is tracked from spawn
 * to exit and is killed when the benchmark process exits for any reason — normal end, thrown
 * error, Ctrl-C, SIGTERM — so no server is left holding a port or a CPU.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { BenchError } from './benchmark.js';
import { REPO_ROOT } from './paths.js';

/** Every child still running, with the promise of its exit. */
const live = new Map<ChildProcess, Promise<unknown>>();
let hooked = false;

/** Bytes of stderr kept per child, for the error message when it fails. */
const STDERR_TAIL_BYTES = 4096;

function killAll(): void {
  for (const child of live.keys()) child.kill('SIGKILL');
}

/** Time a signalled benchmark waits for its killed children, so none is left a zombie. */
const REAP_MS = 2000;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  // 'exit' also runs after an uncaught exception; kill() is synchronous, as 'exit' requires.
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping every child process\n`);
      const exits = [...live.values()];
      killAll();
      const reaped = Promise.race([Promise.all(exits), new Promise((resolve) => setTimeout(resolve, REAP_MS))]);
      void reaped.then(() => process.exit(128 + constants.signals[signal]));
    });
  }
}

/** How a child ended. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A running child with its output captured; see {@link spawnChild}. */
export class Child {
  readonly name: string;
  readonly process: ChildProcess;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<Exit>;
  #exit: Exit | undefined;
  #stdout = '';
  #partialLine = '';
  #stderr = '';
  readonly #lineListeners = new Set<(line: string) => void>();

  constructor(name: string, command: string, args: readonly string[], options: SpawnOptions = {}) {
    hookExit();
    this.name = name;
    // stdin stays open: peers exit when it closes, i.e. when this process dies without cleanup.
    this.process = spawn(command, [...args], { env: options.env ?? process.env, cwd: options.cwd ?? REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => {
      this.process.once('error', (err) => {
        this.#stderr += `cannot start: ${err.message}\n`;
      });
      this.process.once('close', (code, signal) => {
        live.delete(this.process);
        this.#exit = { code, signal };
        resolve(this.#exit);
      });
    });
    live.set(this.process, this.exited);
    this.process.stdout?.setEncoding('utf8').on('data', (text: string) => this.#onStdout(text));
    this.process.stderr?.setEncoding('utf8').on('data', (text: string) => {
      this.#stderr = (this.#stderr + text).slice(-STDERR_TAIL_BYTES);
    });
  }

  /** Everything written to stdout so far. */
  get stdout(): string {
    return this.#stdout;
  }

  /** The end of what was written to stderr so far. */
  get stderrTail(): string {
    return this.#stderr.trim();
  }

  /** Undefined while running, then how it ended. */
  get exit(): Exit | undefined {
    return this.#exit;
  }

  #onStdout(text: string): void {
    this.#stdout += text;
    const lines = (this.#partialLine + text).split('\n');
    this.#partialLine = lines.pop() ?? '';
    for (const line of lines) for (const listener of this.#lineListeners) listener(line);
  }

  /** Calls `listener` with every complete stdout line from now on, in order. */
  onLine(listener: (line: string) => void): void {
    this.#lineListeners.add(listener);
  }

  /**
   * Resolves with the match of the first stdout line (from now on) matching `pattern`. Rejects
   * with BenchError when the child exits first or after `timeoutMs`.
   */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#lineListeners.delete(onLine);
      };
      const onLine = (line: string): void => {
        const match = pattern.exec(line);
        if (!match) return;
        done();
        resolve(match);
      };
      const timer = setTimeout(() => {
        done();
        reject(this.failure(`printed no line matching ${pattern} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#lineListeners.add(onLine);
      void this.exited.then(() => {
        if (!this.#lineListeners.has(onLine)) return;
        done();
        reject(this.failure('exited before it was ready'));
      });
    });
  }

  /** Resolves when the child exits with code 0; rejects with BenchError otherwise or after `timeoutMs` (it is killed). */
  async completion(timeoutMs: number): Promise<void> {
    const timer = setTimeout(() => this.process.kill('SIGKILL'), timeoutMs);
    const exit = await this.exited;
    clearTimeout(timer);
    if (exit.code !== 0) throw this.failure(exit.signal === 'SIGKILL' ? `overran ${timeoutMs} ms and was killed` : 'failed');
  }

  /** Asks the child to stop (SIGTERM), then kills it after `graceMs`; resolves once it is gone. */
  async stop(graceMs = 3000): Promise<Exit> {
    if (this.#exit) return this.#exit;
    this.process.kill('SIGTERM');
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  /** A BenchError saying what went wrong with this child, with how it exited and its stderr. */
  failure(what: string): BenchError {
    const exit = this.#exit ? ` (exit ${this.#exit.code ?? this.#exit.signal})` : '';
    const tail = this.stderrTail;
    return new BenchError(`${this.name} ${what}${exit}${tail ? `:\n${tail}` : ''}`);
  }
}

/** Where and with what environment a child runs: by default the repository root and this process's environment. */
export interface SpawnOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

/** Starts `command args` as a tracked child; see {@link Child}. */
export function spawnChild(name: string, command: string, args: readonly string[], options: SpawnOptions = {}): Child {
  return new Child(name, command, args, options);
}
