/**
 * Load processes: every benchmark drives its load through child processes on the load CPU,
 * one per target (so 10,000 connections need 10,000 descriptors per process, not per
 * benchmark), all started from one entry point, bench/lib/load-process.ts. A load process gets
 * its configuration as one JSON argument, prints one JSON line when its connections are open,
 * then answers each JSON command it reads on stdin with one JSON line on stdout. Only one is
 * loading at a time: the benchmark sends commands to them in turn.
 *
 * This file is both sides' contract (the types) and the benchmark's side (LoadChild).
 */
import { spawnChild, type Child } from './children.js';
import { tsxCommand } from './paths.js';
import type { Pinning } from './pinning.js';

/** The one entry point of every load process, relative to the repository root. */
export const LOAD_PROCESS_ENTRY = 'bench/lib/load-process.ts';

/** Which benchmark's load a process runs; each names a module exporting {@link LoadModule}. */
export type LoadKind = 'echo' | 'fanout' | 'memory';

/** What every load configuration carries. */
export interface LoadConfigBase {
  readonly load: LoadKind;
  /** The target's name, for error messages. */
  readonly name: string;
  /** The process exits with an error (code 2) past this, whatever it is doing. */
  readonly deadlineMs: number;
}

/** A started load: its first line (connections open), then one answer per command. */
export interface LoadSession {
  readonly ready: object;
  /** Answers one command; `last` ends the process (exit 0) once the line is written. */
  handle(command: object): Promise<{ readonly line: object; readonly last?: boolean }>;
}

/**
 * What a benchmark's load module exports. `fail` ends the process at once with the reason
 * (exit 1): a wrong reply or delivery, a lost connection, a refused command.
 */
export interface LoadModule {
  startLoad(config: LoadConfigBase, fail: (message: string) => never): Promise<LoadSession>;
}

/** The benchmark's side of one load process. A child that fails takes the run down with its reason (BenchError). */
export class LoadChild<Command extends object, Line extends object> {
  readonly child: Child;
  readonly #queue: Line[] = [];
  #waiter: ((line: Line) => void) | undefined;

  private constructor(child: Child) {
    this.child = child;
    child.onLine((text) => {
      let line: Line;
      try {
        line = JSON.parse(text) as Line;
      } catch {
        return; // not ours (a library writing to stdout)
      }
      const waiter = this.#waiter;
      this.#waiter = undefined;
      if (waiter) waiter(line);
      else this.#queue.push(line);
    });
  }

  /** Starts a load process for `config`, run as the load under `pinning`. */
  static start<C extends object, L extends object>(what: string, config: LoadConfigBase, pinning: Pinning): LoadChild<C, L> {
    const command = tsxCommand(LOAD_PROCESS_ENTRY, [JSON.stringify(config)]);
    const { command: cmd, args } = pinning.wrap('load', command.command, command.args);
    return new LoadChild<C, L>(spawnChild(what, cmd, args));
  }

  /**
   * Starts a load process and waits for its first line (its connections are open); rejects
   * with BenchError, the process stopped, when it fails or is silent for `timeoutMs`.
   */
  static async ready<C extends object, L extends object>(what: string, config: LoadConfigBase, pinning: Pinning, timeoutMs: number): Promise<{ load: LoadChild<C, L>; ready: L }> {
    const load = LoadChild.start<C, L>(what, config, pinning);
    try {
      return { load, ready: await load.next(timeoutMs, 'open its connections') };
    } catch (err) {
      await load.stop();
      throw err;
    }
  }

  /** Sends `command` and resolves with the answer; rejects with BenchError when the child fails or is silent for `timeoutMs`. */
  request(command: Command, timeoutMs: number, what = 'answer'): Promise<Line> {
    this.child.process.stdin?.write(`${JSON.stringify(command)}\n`);
    return this.next(timeoutMs, what);
  }

  /** Resolves with the next line; rejects with BenchError when the child exits first or is silent for `timeoutMs`. */
  next(timeoutMs: number, what: string): Promise<Line> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        reject(this.child.failure(`did not ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiter = (line) => {
        clearTimeout(timer);
        resolve(line);
      };
      void this.child.exited.then(() => {
        if (!this.#waiter) return;
        this.#waiter = undefined;
        clearTimeout(timer);
        reject(this.child.failure(`exited before it could ${what}`));
      });
    });
  }

  /** Stops the child (its connections close with it). */
  stop(): Promise<unknown> {
    return this.child.stop();
  }
}
