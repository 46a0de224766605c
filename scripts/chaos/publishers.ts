/**
 * The run's publications: through the server API (acknowledged by a 200 with an offset and an
 * epoch) and through protocol clients (acknowledged by the publish reply), at a steady rate,
 * each with a unique id in its data so every delivery can be matched to what was published.
 * Every loop is bounded: in flight, in rate, and it stops when told.
 */
import type { CanalNode } from './cluster.js';
import type { PublisherClient } from './clients.js';
import type { Ledger, Position } from './ledger.js';

/** An API publish that got no answer within this is counted as not acknowledged. */
const API_TIMEOUT_MS = 4000;
/** Most API publishes waiting for their answer at once; a tick past it is skipped. */
const API_IN_FLIGHT = 32;

/** Ids of the run's publications: 1, 2, 3... */
export class PublicationIds {
  #next = 1;
  next(): number {
    return this.#next++;
  }
}

/** What the publishers share. */
export interface PublishContext {
  readonly ledger: Ledger;
  readonly ids: PublicationIds;
  readonly nodes: readonly CanalNode[];
  readonly apiKey: string;
  readonly now: () => number;
}

/** POST /api/publish to `node`; resolves with the position, rejects with why it was not acknowledged. */
export async function apiPublish(node: CanalNode, apiKey: string, channel: string, data: unknown, timeoutMs = API_TIMEOUT_MS): Promise<Position> {
  const res = await fetch(`${node.httpUrl}/api/publish`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
    body: JSON.stringify({ channel, data }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let body: { result?: { offset?: unknown; epoch?: unknown }; error?: { code: number; message: string } };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new Error(`HTTP ${res.status}: ${text.slice(0, 200)}`);
  }
  const r = body.result;
  if (res.status === 200 && r && typeof r.offset === 'number' && typeof r.epoch === 'string') return { offset: r.offset, epoch: r.epoch };
  throw new Error(body.error ? `error ${body.error.code}: ${body.error.message}` : `HTTP ${res.status}: ${text.slice(0, 200)}`);
}

/**
 * Reads the whole history of `channel` through the API and tells the ledger where each of the
 * run's publications sits in it; resolves with how many were read, or undefined when no node answered.
 */
export async function readHistory(ctx: PublishContext, channel: string): Promise<number | undefined> {
  const counter = { n: 0 };
  for (let attempt = 0; attempt < ctx.nodes.length; attempt++) {
    const node = nextUpNode(ctx.nodes, counter);
    if (!node) return undefined;
    try {
      const res = await fetch(`${node.httpUrl}/api/history`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': ctx.apiKey },
        body: JSON.stringify({ channel, limit: -1 }),
        signal: AbortSignal.timeout(API_TIMEOUT_MS),
      });
      const body = (await res.json()) as { result?: { epoch: string; publications?: Array<{ data?: { id?: unknown }; offset?: number }> } };
      const r = body.result;
      if (!r) continue;
      const at = ctx.now();
      for (const p of r.publications ?? []) {
        if (typeof p.data?.id === 'number' && typeof p.offset === 'number') ctx.ledger.inHistory(p.data.id, { epoch: r.epoch, offset: p.offset }, at);
      }
      return r.publications?.length ?? 0;
    } catch {
      // Another node may answer.
    }
  }
  return undefined;
}

/** The node after `last` that is up (round robin), or undefined when none is. */
function nextUpNode(nodes: readonly CanalNode[], counter: { n: number }): CanalNode | undefined {
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[counter.n++ % nodes.length]!;
    if (node.up) return node;
  }
  return undefined;
}

/** One publish through the API, recorded in the ledger from send to answer. */
export async function publishViaApi(ctx: PublishContext, node: CanalNode, channel: string, extra: Record<string, unknown> = {}): Promise<boolean> {
  const id = ctx.ids.next();
  ctx.ledger.sent(id, channel, 'api', ctx.now());
  try {
    const position = await apiPublish(node, ctx.apiKey, channel, { id, ...extra });
    ctx.ledger.acknowledged(id, ctx.now(), position);
    return true;
  } catch (err) {
    ctx.ledger.failed(id, ctx.now(), `${node.name}: ${(err as Error).message}`);
    return false;
  }
}

/** Calls `tick` `rate` times a second on a fixed schedule until stopped (no catching up after a stall). */
class Steady {
  readonly #rate: number;
  readonly #tick: () => void;
  #timer: NodeJS.Timeout | undefined;
  #next = 0;

  constructor(rate: number, tick: () => void) {
    this.#rate = rate;
    this.#tick = tick;
  }

  start(): void {
    if (this.#rate <= 0) return;
    this.#next = performance.now();
    this.#schedule();
  }

  #schedule(): void {
    const period = 1000 / this.#rate;
    this.#next += period;
    const now = performance.now();
    if (this.#next < now - period) this.#next = now;
    this.#timer = setTimeout(() => {
      this.#tick();
      this.#schedule();
    }, Math.max(0, this.#next - now));
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** Publishes through the server API of the nodes in turn, at `rate` per second over `channels` in turn. */
export class ApiPublisher {
  readonly #ctx: PublishContext;
  readonly #channels: readonly string[];
  readonly #steady: Steady;
  readonly #inFlight = new Set<Promise<boolean>>();
  readonly #nodeCounter = { n: 0 };
  #channel = 0;
  skipped = 0;

  constructor(ctx: PublishContext, channels: readonly string[], rate: number) {
    this.#ctx = ctx;
    this.#channels = channels;
    this.#steady = new Steady(rate, () => this.#tick());
  }

  #tick(): void {
    const node = nextUpNode(this.#ctx.nodes, this.#nodeCounter);
    if (!node || this.#inFlight.size >= API_IN_FLIGHT) {
      this.skipped++;
      return;
    }
    const channel = this.#channels[this.#channel++ % this.#channels.length]!;
    const call = publishViaApi(this.#ctx, node, channel).finally(() => this.#inFlight.delete(call));
    this.#inFlight.add(call);
  }

  start(): void {
    this.#steady.start();
  }

  /** Stops publishing and waits for every answer (each bounded by its timeout). */
  async stop(): Promise<void> {
    this.#steady.stop();
    await Promise.all(this.#inFlight);
  }
}

/** Publishes through one protocol client at `rate` per second, one publish in flight at a time. */
export class ClientPublisher {
  readonly #ctx: PublishContext;
  readonly #client: PublisherClient;
  readonly #channels: readonly string[];
  readonly #steady: Steady;
  #channel: number;
  #inFlight: Promise<void> | undefined;
  skipped = 0;

  constructor(ctx: PublishContext, client: PublisherClient, channels: readonly string[], rate: number, firstChannel: number) {
    this.#ctx = ctx;
    this.#client = client;
    this.#channels = channels;
    this.#channel = firstChannel;
    this.#steady = new Steady(rate, () => this.#tick());
  }

  #tick(): void {
    if (this.#inFlight) {
      this.skipped++;
      return;
    }
    const channel = this.#channels[this.#channel++ % this.#channels.length]!;
    const id = this.#ctx.ids.next();
    const { ledger, now } = this.#ctx;
    ledger.sent(id, channel, 'client', now());
    this.#inFlight = this.#client.publish(channel, { id }).then(
      () => ledger.acknowledged(id, now()),
      (err: { code?: number; message?: string }) => ledger.failed(id, now(), `${this.#client.name}: ${err.code ?? ''} ${err.message ?? String(err)}`),
    ).finally(() => (this.#inFlight = undefined));
  }

  start(): void {
    this.#steady.start();
  }

  async stop(): Promise<void> {
    this.#steady.stop();
    await this.#inFlight;
  }
}

/**
 * Publishes `count` publications of about `bytes` each to `channel` through the API, `concurrency`
 * at a time; resolves with how many were acknowledged.
 */
export async function publishBurst(ctx: PublishContext, channel: string, count: number, bytes: number, concurrency = 8): Promise<number> {
  const pad = 'x'.repeat(Math.max(0, bytes - 30));
  const counter = { n: 0 };
  let next = 0;
  let acked = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++;
      const node = nextUpNode(ctx.nodes, counter);
      if (!node) return;
      if (await publishViaApi(ctx, node, channel, { pad })) acked++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return acked;
}

/**
 * Publishes one last publication to `channel` through the API, trying again until one is
 * acknowledged (at most `timeoutMs`); resolves with its position, or undefined.
 */
export async function publishMarker(ctx: PublishContext, channel: string, timeoutMs: number): Promise<Position | undefined> {
  const deadline = performance.now() + timeoutMs;
  const counter = { n: 0 };
  while (performance.now() < deadline) {
    const node = nextUpNode(ctx.nodes, counter);
    if (node) {
      const id = ctx.ids.next();
      ctx.ledger.sent(id, channel, 'api', ctx.now());
      try {
        const position = await apiPublish(node, ctx.apiKey, channel, { id, last: true });
        ctx.ledger.acknowledged(id, ctx.now(), position);
        return position;
      } catch (err) {
        ctx.ledger.failed(id, ctx.now(), `${node.name}: ${(err as Error).message}`);
      }
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return undefined;
}
