/**
 * One worker of `canal serve --workers N`: a full node, sharing the port of its siblings through
 * node:cluster. It takes its configuration (and dev mode's secrets) from the primary, tells the
 * primary when it listens, answers the primary's requests for its metrics, and, when a scrape
 * of /metrics or /stats reaches it, asks the primary for every worker's part.
 */
import cluster from 'node:cluster';
import type { Canal } from '../canal.js';
import type { Config } from '../config/schema.js';
import { createLogger } from '../log.js';
import { combineMetrics, combineStats, type MetricsData, type Stats, type StatsPart } from '../metrics.js';
import { ExitCode, type CliIo } from './io.js';
import { runNode } from './run-node.js';
import {
  isCanalMessage, WORKER_ENV, type DevSecrets, type GatherKind, type GatherPart, type ToPrimary, type ToWorker,
} from './worker-messages.js';

/** How long a scrape waits for the primary's gathered parts before answering with this worker's own. */
const GATHER_TIMEOUT_MS = 3000;

/** Whether this process is a worker started by `canal serve --workers N` (not any cluster worker). */
export function isWorkerProcess(env: Readonly<Record<string, string | undefined>>): boolean {
  return cluster.isWorker && env[WORKER_ENV] !== undefined;
}

/** Messages handed to the IPC channel and not yet written. */
const unsent = new Set<Promise<void>>();

/** Sends `message` to the primary; false when there is no primary to send to. */
function send(message: ToPrimary): boolean {
  if (!process.connected || !process.send) return false;
  const sent = new Promise<void>((resolve) => process.send!(message, undefined, {}, () => resolve()));
  unsent.add(sent);
  void sent.then(() => unsent.delete(sent));
  return true;
}

/** Resolves once every message sent so far is written (at most `timeoutMs`): an exit right after a send would lose it. */
async function flushed(timeoutMs = 1000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(unsent), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  clearTimeout(timer);
}

/** Resolves with the primary's setup once it answers this worker's hello. */
function setupFromPrimary(): Promise<{ config: Config; devSecrets?: DevSecrets }> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: unknown): void => {
      if (!isCanalMessage<ToWorker>(message) || message.type !== 'canal:setup') return;
      process.off('message', onMessage);
      process.off('disconnect', onDisconnect);
      resolve(message);
    };
    const onDisconnect = (): void => reject(new Error('the primary went away before it sent this worker its setup'));
    process.on('message', onMessage);
    process.once('disconnect', onDisconnect);
    if (!send({ type: 'canal:hello' })) onDisconnect();
  });
}

/** Runs this process as worker `CANAL_WORKER` of its primary; resolves with the exit code. */
export async function serveAsWorker(io: CliIo): Promise<number> {
  const index = Number(io.env[WORKER_ENV]);
  // A line for stderr goes through the primary, which prints it once, not once per worker.
  const workerIo: CliIo = { ...io, out: () => {}, err: (line) => send({ type: 'canal:error', line }) || io.err(line) };
  let setup;
  try {
    setup = await setupFromPrimary();
  } catch (err) {
    io.err(`canal: worker ${index}: ${(err as Error).message}`);
    return ExitCode.Failure;
  }
  const { config, devSecrets } = setup;

  let canal: Canal | undefined;
  let nextId = 0;
  const waiting = new Map<number, (parts: readonly GatherPart[]) => void>();
  /** This worker's own part. */
  const ownPart = async (kind: GatherKind): Promise<GatherPart> => {
    if (!canal) throw new Error('not listening yet');
    return kind === 'metrics'
      ? canal.metrics.registry.getMetricsAsJSON()
      : { stats: canal.metrics.snapshot(), latencies: canal.metrics.latencySamples() } satisfies StatsPart;
  };
  /** Every worker's part, or only this one's when the primary does not answer in time. */
  const gather = async (kind: GatherKind): Promise<readonly GatherPart[]> => {
    const id = nextId++;
    const gathered = new Promise<readonly GatherPart[] | undefined>((resolve) => {
      const timer = setTimeout(() => {
        waiting.delete(id);
        resolve(undefined);
      }, GATHER_TIMEOUT_MS);
      waiting.set(id, (parts) => {
        clearTimeout(timer);
        waiting.delete(id);
        resolve(parts);
      });
    });
    if (!send({ type: 'canal:gather', id, kind })) waiting.get(id)?.([]);
    const parts = await gathered;
    return parts !== undefined && parts.length > 0 ? parts : [await ownPart(kind)];
  };

  const primaryGone = new Promise<void>((resolve) => process.once('disconnect', resolve));
  process.on('message', (message: unknown) => {
    if (!isCanalMessage<ToWorker>(message)) return;
    if (message.type === 'canal:gathered') waiting.get(message.id)?.(message.parts);
    else if (message.type === 'canal:collect') {
      ownPart(message.kind).then(
        (part) => send({ type: 'canal:collected', id: message.id, part }),
        // Not listening yet (or the registry failed): the primary's timeout leaves this worker out.
        () => {},
      );
    }
  });

  const code = await runNode(workerIo, config, {
    logger: createLogger(config.log_level).child({ worker: index }),
    worker: {
      index,
      ...(devSecrets ? { devSecrets } : {}),
      gather: {
        metrics: async (): Promise<string> => combineMetrics((await gather('metrics')) as MetricsData[]),
        stats: async (): Promise<Stats> => combineStats((await gather('stats')) as StatsPart[]),
      },
    },
    // The primary is gone (killed): nobody hands this worker new connections; drain and exit.
    stopped: primaryGone,
    onListening: (listening, address) => {
      canal = listening;
      send({
        type: 'canal:listening',
        port: address.port,
        ...(config.api_key === undefined && listening.apiKey !== undefined ? { apiKey: listening.apiKey } : {}),
        ...(config.token_hmac_secret === undefined && listening.tokenSecret !== undefined ? { tokenSecret: listening.tokenSecret } : {}),
      });
    },
  });
  await flushed();
  return code;
}
