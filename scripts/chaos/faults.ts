/**
 * What each planned fault does to the running system, and what came of it. Every fault is
 * bounded in time and size; the run executes them one after another.
 */
import WebSocket from 'ws';
import type { CanalNode, RedisServer } from './cluster.js';
import type { Subscriber } from './clients.js';
import { FLOOD_NAMESPACE, BULK_CHANNEL } from './node-config.js';
import { publishBurst, type PublishContext } from './publishers.js';
import type { FaultKind, PlannedFault } from './schedule.js';

/** A fault as it happened. */
export interface FaultRecord {
  readonly kind: FaultKind;
  readonly plannedAt: number;
  /** Run clock (ms) when it started and ended. */
  readonly startedAt: number;
  readonly endedAt: number;
  /** Whether it was done (a drop with no open connection to cut, or a sleep Redis refused, was not). */
  readonly applied: boolean;
  readonly detail: string;
}

export interface FaultContext {
  readonly redis: RedisServer;
  readonly nodes: readonly CanalNode[];
  readonly subscribers: readonly Subscriber[];
  /** The subscribers that also subscribe to the bulk channel, where slow-consumer bursts go. */
  readonly slowCandidates: readonly Subscriber[];
  readonly publish: PublishContext;
  readonly flood: { readonly clients: number; readonly messages: number; readonly bytes: number; readonly ms: number };
  readonly slowBurst: { readonly count: number; readonly bytes: number };
  /** The run clock (ms). */
  readonly now: () => number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const sec = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

let floods = 0;

/** Runs `fault` to its end; never throws (a failure to apply is part of the record). */
export async function runFault(fault: PlannedFault, ctx: FaultContext): Promise<FaultRecord> {
  const startedAt = ctx.now();
  let outcome: { applied: boolean; detail: string };
  try {
    outcome = await apply(fault, ctx);
  } catch (err) {
    outcome = { applied: false, detail: `failed: ${(err as Error).message}` };
  }
  return { kind: fault.kind, plannedAt: fault.at, startedAt, endedAt: ctx.now(), ...outcome };
}

async function apply(fault: PlannedFault, ctx: FaultContext): Promise<{ applied: boolean; detail: string }> {
  switch (fault.kind) {
    case 'drop': {
      const cut = fault.subscribers.map((i) => ctx.subscribers[i % ctx.subscribers.length]!).filter((s) => s.drop());
      return { applied: cut.length > 0, detail: `cut ${cut.length} of ${fault.subscribers.length} planned subscribers' connections (no close frame)` };
    }
    case 'kill-node': return killNode(ctx.nodes[fault.node]!, fault.downMs);
    case 'pause-redis': {
      const t0 = performance.now();
      await ctx.redis.sleep(fault.sleepMs);
      return { applied: true, detail: `DEBUG SLEEP ${sec(fault.sleepMs)}; Redis answered again after ${sec(performance.now() - t0)}` };
    }
    case 'restart-redis': {
      await ctx.redis.kill();
      await sleep(fault.downMs);
      const t0 = performance.now();
      await ctx.redis.start();
      return { applied: true, detail: `SIGKILL (every key lost), down ${sec(fault.downMs)}, answering again after ${sec(performance.now() - t0)} more` };
    }
    case 'slow-consumer': return slowConsumer(ctx, fault.candidate, fault.stopMs);
    case 'raw-flood': return rawFlood(ctx, ctx.nodes[fault.node]!);
  }
}

async function killNode(node: CanalNode, downMs: number): Promise<{ applied: boolean; detail: string }> {
  const wasUp = node.up;
  await node.kill();
  await sleep(downMs);
  const t0 = performance.now();
  await node.restart();
  const again = `listening again on port ${node.port} after ${sec(performance.now() - t0)} more`;
  return { applied: wasUp, detail: wasUp ? `${node.name} SIGKILLed, down ${sec(downMs)}, ${again}` : `${node.name} was not running; ${again}` };
}

/**
 * A stalled consumer must be cut with 3008 by its node. An earlier fault can still be closing
 * connections (a Redis restart's 3010s are spread over `insufficient_state_window`, later on a
 * busy machine), and such a close ends the stall before the burst overflows the queue: so the
 * fault picks a candidate that has been quiet for a while, and tries again (a bounded number of
 * times) when the stall was ended by another close. The detail reports every try.
 */
async function slowConsumer(ctx: FaultContext, candidate: number, stopMs: number): Promise<{ applied: boolean; detail: string }> {
  const tries: string[] = [];
  for (let attempt = 0; attempt < SLOW_TRIES; attempt++) {
    const sub = await quietCandidate(ctx.slowCandidates, candidate + attempt, ctx.now);
    if (!sub || !sub.stopReading()) {
      tries.push('no candidate had an open connection');
      break;
    }
    const start = ctx.now();
    const t0 = performance.now();
    const acked = await publishBurst(ctx.publish, BULK_CHANNEL, ctx.slowBurst.count, ctx.slowBurst.bytes);
    await sleep(Math.max(0, stopMs - (performance.now() - t0)));
    sub.resumeReading();
    // The close (if any) is read only now that the client reads again.
    await sleep(500);
    const codes = sub.codes.filter((c) => c.at >= start);
    const burst = `${acked}/${ctx.slowBurst.count} publications of ${ctx.slowBurst.bytes} B acknowledged to ${BULK_CHANNEL}`;
    tries.push(`${sub.name} stopped reading for ${sec(stopMs)} while ${burst}; then it saw ${codes.length > 0 ? codes.map((c) => `${c.code} ${c.reason}`).join(', ') : 'no close'}`);
    // Cut as a slow consumer, or not cut at all (for the verdict to see): either way, done.
    if (codes.length === 0 || codes.some((c) => c.code === 3008)) break;
  }
  const applied = !tries.at(-1)!.startsWith('no candidate');
  return { applied, detail: tries.length === 1 ? tries[0]! : tries.map((t, i) => `try ${i + 1}: ${t}`).join('; ') };
}

/** Stalls a slow-consumer fault tries at most. */
const SLOW_TRIES = 3;
/** A candidate must have seen no close for this long (longer than the nodes' 2 s `insufficient_state_window`). */
const SLOW_QUIET_MS = 3000;
/** How long a slow-consumer fault waits for a quiet candidate. */
const SLOW_WAIT_MS = 10_000;

/** The planned candidate, or the next quiet one; waits for one (up to {@link SLOW_WAIT_MS}), then takes any open one. */
async function quietCandidate(candidates: readonly Subscriber[], first: number, now: () => number): Promise<Subscriber | undefined> {
  const n = candidates.length;
  const pick = (ok: (s: Subscriber) => boolean): Subscriber | undefined => {
    for (let i = 0; i < n; i++) {
      const s = candidates[(first + i) % n]!;
      if (ok(s)) return s;
    }
    return undefined;
  };
  const deadline = now() + SLOW_WAIT_MS;
  while (now() < deadline) {
    const quiet = pick((s) => s.quiet(SLOW_QUIET_MS));
    if (quiet) return quiet;
    await sleep(100);
  }
  return pick((s) => s.open);
}

async function rawFlood(ctx: FaultContext, node: CanalNode): Promise<{ applied: boolean; detail: string }> {
  if (!node.up) return { applied: false, detail: `${node.name} was down` };
  const channel = `${FLOOD_NAMESPACE}:f${++floods}`;
  const { clients, messages, bytes, ms } = ctx.flood;
  const message = 'f'.repeat(bytes);
  const rssBefore = node.peakRss;
  const t0 = performance.now();
  const results = await Promise.all(Array.from({ length: clients }, () => floodOne(node.rawUrl(channel), message, messages, ms)));
  const sent = results.reduce((a, r) => a + r.sent, 0);
  const echoed = results.reduce((a, r) => a + r.echoed, 0);
  const closes = results.filter((r) => r.closedBy).map((r) => r.closedBy);
  await node.sample();
  const crashed = node.running ? '' : `; ${node.name} is no longer running`;
  const peak = node.peakRss > rssBefore ? `; ${node.name}'s peak RSS rose to ${mib(node.peakRss)}` : '';
  return {
    applied: sent > 0,
    detail: `${clients} client${clients === 1 ? '' : 's'} sent ${sent} messages of ${bytes} B to /raw/${channel} on ${node.name} and received ${echoed} back, in ${sec(performance.now() - t0)}` +
      `${closes.length > 0 ? `; closed by the server: ${closes.join(', ')}` : ''}${peak}${crashed}`,
  };
}

/** Bytes a flood client lets wait in its own socket before it waits for them to drain. */
const FLOOD_BUFFER = 1024 * 1024;
/** How long a flood client stays after its last message, for the server's close (if any). */
const FLOOD_LINGER_MS = 2000;

async function floodOne(url: string, message: string, count: number, limitMs: number): Promise<{ sent: number; echoed: number; closedBy: string | undefined }> {
  const ws = new WebSocket(url);
  ws.on('error', () => {});
  // Every plain client of a channel receives its publications, its own included.
  let echoed = 0;
  ws.on('message', () => echoed++);
  let closedBy: string | undefined;
  const closed = new Promise<void>((resolve) => ws.once('close', (code, reason) => {
    closedBy = `${code}${reason.length > 0 ? ` ${reason.toString()}` : ''}`;
    resolve();
  }));
  const opened = await Promise.race([
    new Promise<boolean>((resolve) => ws.once('open', () => resolve(true))),
    closed.then(() => false),
    sleep(5000).then(() => false),
  ]);
  let sent = 0;
  if (opened) {
    const deadline = performance.now() + limitMs;
    while (sent < count && ws.readyState === WebSocket.OPEN && performance.now() < deadline) {
      if (ws.bufferedAmount > FLOOD_BUFFER) {
        await sleep(2);
        continue;
      }
      ws.send(message);
      sent++;
      if (sent % 200 === 0) await new Promise((r) => setImmediate(r));
    }
  }
  // The server may still be working through what it read, and close the connection after that.
  await Promise.race([closed, sleep(FLOOD_LINGER_MS)]);
  if (ws.readyState === WebSocket.CLOSED) return { sent, echoed, closedBy };
  ws.close(1000, 'flood over');
  await Promise.race([closed, sleep(3000)]);
  // (close() changed the state, which TypeScript's narrowing above cannot know.)
  if ((ws.readyState as number) !== WebSocket.CLOSED) ws.terminate();
  return { sent, echoed, closedBy: undefined };
}
