/**
 * One canal node as `canal serve` runs it, alone or as one worker of several: the demos' server
 * side in dev mode, listening, and a graceful stop on SIGINT, SIGTERM or SIGHUP (the terminal closed).
 */
import { Canal, ListenError, type ListenAddress, type WorkerRole } from '../canal.js';
import { envName, flagName, type Config } from '../config/schema.js';
import { createDemos } from '../demos/index.js';
import { EngineUnavailableError } from '../engine/types.js';
import type { Logger } from '../log.js';
import { ExitCode, type CliIo } from './io.js';

export interface NodeRun {
  readonly logger: Logger;
  /** Set when this node is one worker of `canal serve --workers N`. */
  readonly worker?: WorkerRole;
  /**
   * Called once the server listens (the demos started); may return what to undo when it stops
   * (remove the dev file).
   */
  onListening(canal: Canal, address: ListenAddress): void | (() => void);
  /** Resolves when the node must stop although no signal came (a worker whose primary is gone). */
  readonly stopped?: Promise<void>;
}

/**
 * Runs a node with `config` until SIGINT, SIGTERM, SIGHUP or `run.stopped`, then drains it (see
 * Canal.close); resolves with the exit code: 0 after a stop, 1 when it could not start, having
 * said why on `io.err`.
 */
export async function runNode(io: CliIo, config: Config, run: NodeRun): Promise<number> {
  // Dev mode runs the demos' server side (the game, the scoreboard admin) in this process.
  const demos = config.dev && config.demos ? createDemos() : undefined;
  const canal = new Canal({
    ...config,
    ...demos?.handlers,
    logger: run.logger,
    ...(run.worker ? { worker: run.worker } : { workers: 1 }),
  });
  // Handlers go in before listening: a signal that arrives as soon as the line is printed must
  // still close connections with 1001 and exit 0, not kill the process.
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const onSignal = (): void => stop();
  void run.stopped?.then(onSignal);
  let undo: (() => void) | void = undefined;
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  try {
    let address;
    try {
      address = await canal.listen();
    } catch (err) {
      if (err instanceof EngineUnavailableError) {
        io.err(`canal: ${err.message}; is Redis running? (check --redis-url, --redis-sentinels or --redis-cluster)`);
        await canal.close();
        return ExitCode.Failure;
      }
      if (!(err instanceof ListenError)) throw err;
      const env = envName(err.option);
      io.err(`canal: ${err.message}; choose another with ${flagName(err.option)}${env ? ` or ${env}` : ''}`);
      await canal.close();
      return ExitCode.Failure;
    }
    demos?.start(canal);
    undo = run.onListening(canal, address);
    await stopped;
    demos?.stop();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
    if (undo) undo();
  }
  await canal.close();
  return ExitCode.Ok;
}
