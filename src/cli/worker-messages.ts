/**
 * The messages between the primary of `canal serve --workers N` and its workers, over the IPC
 * channel node:cluster opens for each worker. Every message has a `type` starting with `canal:`,
 * so other users of the channel (prom-client's cluster support, a host's own) are left alone.
 *
 *   worker -> primary   canal:hello          ready for its setup
 *   primary -> worker   canal:setup          the configuration, and dev mode's secrets
 *   worker -> primary   canal:listening      it listens on `port` (and which dev secrets it uses)
 *   worker -> primary   canal:error          a line for stderr (printed once, however many say it)
 *   worker -> primary   canal:gather         a scrape reached it: collect every worker's part
 *   primary -> worker   canal:collect        send your part
 *   worker -> primary   canal:collected      its part
 *   primary -> worker   canal:gathered       the parts of every worker that answered in time
 */
import type { WorkerRole } from '../canal.js';
import type { Config } from '../config/schema.js';
import type { MetricsData, StatsPart } from '../metrics.js';

/** The environment variable that makes a cluster worker a canal worker: its index, 1 to N. */
export const WORKER_ENV = 'CANAL_WORKER';

/** What a scrape gathers: every worker's metrics, or every worker's /stats figures. */
export type GatherKind = 'metrics' | 'stats';

/** One worker's part of a gather. */
export type GatherPart = MetricsData | StatsPart;

export type DevSecrets = NonNullable<WorkerRole['devSecrets']>;

export type ToPrimary =
  | { readonly type: 'canal:hello' }
  | { readonly type: 'canal:listening'; readonly port: number; readonly apiKey?: string; readonly tokenSecret?: string }
  | { readonly type: 'canal:error'; readonly line: string }
  | { readonly type: 'canal:gather'; readonly id: number; readonly kind: GatherKind }
  | { readonly type: 'canal:collected'; readonly id: number; readonly part: GatherPart };

export type ToWorker =
  | { readonly type: 'canal:setup'; readonly config: Config; readonly devSecrets?: DevSecrets }
  | { readonly type: 'canal:collect'; readonly id: number; readonly kind: GatherKind }
  | { readonly type: 'canal:gathered'; readonly id: number; readonly parts: readonly GatherPart[] };

/** Whether `message` is one of ours (of either direction). */
export function isCanalMessage<T extends ToPrimary | ToWorker>(message: unknown): message is T {
  return typeof message === 'object' && message !== null && typeof (message as { type?: unknown }).type === 'string' &&
    (message as { type: string }).type.startsWith('canal:');
}
