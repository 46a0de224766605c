/**
 * A helper process a benchmark drives by commands: started with its configuration as one JSON
 * argument (pinned as the load), sent one JSON command per line on stdin, answering each with
 * one JSON line on stdout. A child that fails takes the run down with its reason (BenchError).
 */
import { spawnChild, type Child } from './children.js';
import { tsxCommand } from './paths.js';
import type { Pinning } from './pinning.js';

export class CommandChild<Command extends object, Line extends object> {
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

  /** Starts the TypeScript file `entry` (relative to the repository root) with `config`, run as the load under `pinning`. */
  static start<C extends object, L extends object>(name: string, entry: string, config: object, pinning: Pinning): CommandChild<C, L> {
    const command = tsxCommand(entry, [JSON.stringify(config)]);
    const { command: cmd, args } = pinning.wrap('load', command.command, command.args);
    return new CommandChild<C, L>(spawnChild(name, cmd, args));
  }

  /** Sends `cmd` and resolves with the answer; rejects with BenchError when the child fails or is silent for `timeoutMs`. */
  request(cmd: Command, timeoutMs: number, what = 'answer'): Promise<Line> {
    this.child.process.stdin?.write(`${JSON.stringify(cmd)}\n`);
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
