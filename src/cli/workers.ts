/**
 * The primary of `canal serve --workers N`: it forks N workers (node:cluster), each a full node
 * of the redis engine, which share the port — the primary accepts connections and hands them to
 * the workers in turn (node:cluster's round-robin scheduling, the default on Linux). It serves no
 * connection itself. It
 *
 * - makes dev mode's secrets once and hands them to every worker, so a key or token from one
 *   worker is good on all of them; prints the listening line (and dev mode's key) once, when every
 *   worker listens, and writes the dev file once;
 * - replaces a worker that exits, at once if it had been serving, with a growing delay if it keeps
 *   failing at start, and gives up (stopping the others, exit 1) after a few failures in a row
 *   (restart-policy.ts); a worker that fails during the first start fails the whole start, as one
 *   process would;
 * - on SIGINT, SIGTERM or SIGHUP, has every worker drain as one node does, and exits 0 once all have;
 * - relays scrapes: the worker that a GET /metrics or /stats reaches asks the primary, which asks
 *   every worker for its part and hands all parts back (see worker.ts).
 */
import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { isLoopback } from '../config/resolve.js';
import type { Config } from '../config/schema.js';
import { createLogger } from '../log.js';
import { ExitCode, type CliIo } from './io.js';
import { RestartPolicy } from './restart-policy.js';
import { announceListening } from './serve-output.js';
import {
  isCanalMessage, WORKER_ENV, type DevSecrets, type GatherKind, type GatherPart, type ToPrimary, type ToWorker,
} from './worker-messages.js';

/** How long the primary waits for every worker's part of a scrape; a later part is left out. */
const COLLECT_TIMEOUT_MS = 2000;
/** How long past shutdown_timeout a stopping worker may take before it is killed. */
const STOP_GRACE_MS = 5000;

/** The number of workers `workers` asks for: "auto" is one per CPU this process may use. */
export function workerCount(workers: number | 'auto'): number {
  return workers === 'auto' ? availableParallelism() : workers;
}

/** One worker slot's current process. */
interface Slot {
  readonly index: number;
  worker: Worker | undefined;
  listenedAt: number | undefined;
  /** A replacement waiting for its delay. */
  restartTimer: NodeJS.Timeout | undefined;
}

/** A scrape being collected: who asked, what has come, who has yet to answer. */
interface Collection {
  readonly from: Worker;
  readonly id: number;
  readonly parts: GatherPart[];
  readonly waitingFor: Set<number>;
  readonly timer: NodeJS.Timeout;
}

/** Runs `count` workers with `config` until a signal (exit 0) or a failure (exit 1). */
export async function servePrimary(io: CliIo, config: Config, count: number): Promise<number> {
  const log = createLogger(config.log_level).child({ primary: process.pid });
  const devSecrets: DevSecrets | undefined = config.dev && isLoopback(config.host)
    ? { apiKey: randomBytes(16).toString('hex'), tokenSecret: randomBytes(32).toString('base64url'), adminSecret: randomBytes(32).toString('base64url') }
    : undefined;
  // Workers run the same program; they take their configuration from the setup message, not
  // from the command line, so `serve` is all they need.
  cluster.setupPrimary({ ...(process.argv[1] ? { exec: process.argv[1] } : {}), args: ['serve'], execArgv: process.execArgv });

  const slots: Slot[] = Array.from({ length: count }, (_, i) => ({ index: i + 1, worker: undefined, listenedAt: undefined, restartTimer: undefined }));
  const policy = new RestartPolicy();
  const printed = new Set<string>();
  const collections = new Map<number, Collection>();
  let nextCollection = 0;
  let port: number | undefined;
  let started = false;
  let stopping: { code: number } | undefined;
  let removeDevFile: (() => void) | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  let done!: (code: number) => void;
  const finished = new Promise<number>((resolve) => (done = resolve));

  const sendTo = (worker: Worker, message: ToWorker): void => {
    if (worker.isConnected()) worker.send(message);
  };

  const finishCollection = (key: number): void => {
    const c = collections.get(key);
    if (!c) return;
    clearTimeout(c.timer);
    collections.delete(key);
    sendTo(c.from, { type: 'canal:gathered', id: c.id, parts: c.parts });
  };

  const collect = (from: Worker, id: number, kind: GatherKind): void => {
    const key = nextCollection++;
    const targets = slots.filter((s) => s.worker?.isConnected() && s.listenedAt !== undefined);
    collections.set(key, {
      from, id, parts: [], waitingFor: new Set(targets.map((s) => s.index)),
      timer: setTimeout(() => finishCollection(key), COLLECT_TIMEOUT_MS),
    });
    for (const s of targets) sendTo(s.worker!, { type: 'canal:collect', id: key, kind });
    if (targets.length === 0) finishCollection(key);
  };

  const onMessage = (slot: Slot, worker: Worker, message: unknown): void => {
    if (!isCanalMessage<ToPrimary>(message) || slot.worker !== worker) return;
    switch (message.type) {
      case 'canal:hello':
        sendTo(worker, { type: 'canal:setup', config, ...(devSecrets ? { devSecrets } : {}) });
        return;
      case 'canal:error':
        if (!printed.has(message.line)) {
          printed.add(message.line);
          io.err(message.line);
        }
        return;
      case 'canal:gather':
        collect(worker, message.id, message.kind);
        return;
      case 'canal:collected': {
        const c = collections.get(message.id);
        if (!c || !c.waitingFor.delete(slot.index)) return;
        c.parts.push(message.part);
        if (c.waitingFor.size === 0) finishCollection(message.id);
        return;
      }
      case 'canal:listening':
        slot.listenedAt = Date.now();
        log.info({ worker: slot.index, pid: worker.process.pid, port: message.port }, 'worker listening');
        if (port !== undefined && message.port !== port) {
          // Only with port 0, after every worker had exited at once: the shared socket was closed.
          log.error({ worker: slot.index, port: message.port, was: port }, 'worker listens on another port than the others did');
        }
        port ??= message.port;
        if (!started && slots.every((s) => s.listenedAt !== undefined)) {
          started = true;
          removeDevFile = announceListening(io, config, port,
            message.apiKey === undefined ? undefined : { apiKey: message.apiKey, tokenSecret: message.tokenSecret });
          log.info({ workers: count, port }, 'every worker listening');
        }
        return;
    }
  };

  const fork = (slot: Slot): void => {
    slot.restartTimer = undefined;
    if (stopping) return;
    const worker = cluster.fork({ [WORKER_ENV]: String(slot.index) });
    slot.worker = worker;
    slot.listenedAt = undefined;
    worker.on('message', (message: unknown) => onMessage(slot, worker, message));
    worker.on('exit', (code, signal) => {
      // What it sent last (why it could not start) may still be in the channel: read it first.
      // (onExit acts once: the timer is there in case the channel never says it closed.)
      if (!worker.isConnected()) return onExit(slot, worker, code, signal);
      worker.once('disconnect', () => onExit(slot, worker, code, signal));
      setTimeout(() => onExit(slot, worker, code, signal), 1000).unref();
    });
  };

  const stop = (code: number): void => {
    if (stopping) return;
    stopping = { code };
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
    for (const slot of slots) clearTimeout(slot.restartTimer);
    // Each worker drains as one node does (Canal.close); more than that is a hung worker.
    for (const slot of slots) slot.worker?.process.kill('SIGTERM');
    killTimer = setTimeout(() => {
      for (const slot of slots) {
        if (!slot.worker) continue;
        log.error({ worker: slot.index }, 'worker still running after shutdown_timeout; killing it');
        slot.worker.process.kill('SIGKILL');
        stopping = { code: ExitCode.Failure };
      }
    }, config.shutdown_timeout + STOP_GRACE_MS);
    killTimer.unref();
    finishIfAllExited();
  };

  const finishIfAllExited = (): void => {
    if (!stopping || slots.some((s) => s.worker !== undefined)) return;
    clearTimeout(killTimer);
    removeDevFile?.();
    done(stopping.code);
  };

  const onExit = (slot: Slot, worker: Worker, code: number | null, signal: string | null): void => {
    if (slot.worker !== worker) return;
    const how = signal ? `signal ${signal}` : `exit code ${code}`;
    const listenedAt = slot.listenedAt;
    slot.worker = undefined;
    slot.listenedAt = undefined;
    for (const [key, c] of collections) if (c.waitingFor.delete(slot.index) && c.waitingFor.size === 0) finishCollection(key);
    if (stopping) {
      finishIfAllExited();
      return;
    }
    if (!started) {
      // As one process that cannot start: it has said why (its error lines came through).
      io.err(`canal: worker ${slot.index} exited while starting (${how}); stopping the others`);
      stop(ExitCode.Failure);
      return;
    }
    const decision = policy.onExit(slot.index, { listenedAt, exitedAt: Date.now() });
    if (decision.action === 'give-up') {
      io.err(`canal: worker ${slot.index} failed to start ${decision.failures} times in a row (last: ${how}); giving up, stopping the other workers`);
      stop(ExitCode.Failure);
      return;
    }
    log.warn({ worker: slot.index, pid: worker.process.pid, code, signal, restartInMs: decision.delayMs, failures: decision.failures },
      `worker ${slot.index} exited (${how}); starting a new one${decision.delayMs > 0 ? ` in ${decision.delayMs} ms` : ''}`);
    slot.restartTimer = setTimeout(() => fork(slot), decision.delayMs);
  };

  const onSignal = (): void => stop(ExitCode.Ok);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  for (const slot of slots) fork(slot);
  return finished;
}
