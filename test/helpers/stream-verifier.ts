/**
 * The verifier of multi-node and failover tests: official centrifuge clients subscribed to a
 * recovering channel record every event with its time, and `checkMember` checks one of them
 * against the accepted publications — in order, no gap, no duplicate within a stream, and every
 * accepted publication either received or covered by a `subscribed` with recovered: false.
 */
import type { TestContext } from 'node:test';
import type { Centrifuge, Subscription } from 'centrifuge';
import { connectedCentrifuge } from './centrifuge.js';
import { sleep, until } from './wait.js';

/** What the server API's publish answers. */
export interface PublishResult {
  offset: number;
  epoch: string;
}

/** A subscriber and everything that happened to it, with times. */
export interface Member {
  readonly where: string;
  readonly client: Centrifuge;
  readonly sub: Subscription;
  readonly events: Array<{ event: string; ctx: any; at: number }>;
}

export async function member(t: TestContext, where: string, url: string, channel: string): Promise<Member> {
  const client = await connectedCentrifuge(t, url);
  const sub = client.newSubscription(channel);
  const m: Member = { where, client, sub, events: [] };
  for (const event of ['subscribing', 'subscribed', 'publication', 'unsubscribed']) {
    sub.on(event as 'subscribed', (ctx: unknown) => m.events.push({ event, ctx, at: Date.now() }));
  }
  for (const event of ['connecting', 'connected', 'disconnected']) {
    client.on(event as 'connected', (ctx: unknown) => m.events.push({ event: `client ${event}`, ctx, at: Date.now() }));
  }
  const subscribed = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${where}: not subscribed within 5 s`)), 5000);
    sub.once('subscribed', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  sub.subscribe();
  await subscribed;
  return m;
}

export function publications(m: Member): Array<{ id: unknown; offset: number | undefined }> {
  return m.events.filter((e) => e.event === 'publication').map((e) => ({ id: (e.ctx.data as { n: unknown }).n, offset: e.ctx.offset as number | undefined }));
}

/**
 * Checks one subscriber against the accepted publications (id -> position): within one stream
 * it receives publications in offset order with no gap and no duplicate; a jump (a gap, another
 * epoch) is allowed only where it was told so by 'subscribed' with recovered: false; and at the
 * end it is at the top of the last stream. Returns the problems found (none: it is fine).
 */
export function checkMember(m: Member, accepted: ReadonlyMap<unknown, PublishResult>, top: PublishResult): string[] {
  const problems: string[] = [];
  const seen = new Set<unknown>();
  let epoch: string | undefined;
  let offset = 0;
  for (const e of m.events) {
    if (e.event === 'subscribed') {
      const sp = e.ctx.streamPosition as PublishResult | undefined;
      if (!sp) {
        problems.push(`subscribed without a stream position: ${JSON.stringify(e.ctx)}`);
        continue;
      }
      if (epoch === undefined || e.ctx.recovered !== true) {
        // The first subscribe, or told honestly that what came before may be missing.
        if (epoch !== undefined && e.ctx.wasRecovering !== true) problems.push(`resubscribed without recovering: ${JSON.stringify(e.ctx)}`);
        epoch = sp.epoch;
        offset = sp.offset;
      } else if (sp.epoch !== epoch) {
        problems.push(`subscribed with recovered: true but the epoch changed from ${epoch} to ${sp.epoch}: ${JSON.stringify(e.ctx)}`);
        epoch = sp.epoch;
        offset = sp.offset;
      }
      continue;
    }
    if (e.event === 'unsubscribed') {
      problems.push(`unsubscribed: ${JSON.stringify(e.ctx)}`);
      continue;
    }
    if (e.event !== 'publication') continue;
    const id = (e.ctx.data as { n: unknown }).n;
    const got = e.ctx.offset as number | undefined;
    if (seen.has(id)) problems.push(`publication ${String(id)} received twice`);
    seen.add(id);
    const acc = accepted.get(id);
    if (got !== offset + 1) problems.push(`publication ${String(id)} has offset ${got} right after offset ${offset} (epoch ${epoch}): a gap or disorder nobody was told about`);
    if (acc && acc.epoch !== epoch) problems.push(`publication ${String(id)} of epoch ${acc.epoch} arrived while the subscription was in epoch ${epoch}`);
    if (acc && acc.offset !== got) problems.push(`publication ${String(id)} was accepted at offset ${acc.offset} but arrived with offset ${got}`);
    offset = got ?? offset;
  }
  if (epoch !== top.epoch || offset !== top.offset) {
    problems.push(`ends at ${JSON.stringify({ offset, epoch })}, not at the top of the stream ${JSON.stringify(top)}`);
  }
  // Every accepted publication it lacks must lie in a jump it was told about.
  const missing = [...accepted.entries()].filter(([id]) => !seen.has(id));
  const jumps: Array<{ from: PublishResult | undefined; to: PublishResult }> = [];
  let position: PublishResult | undefined;
  for (const e of m.events) {
    if (e.event === 'subscribed' && e.ctx.streamPosition) {
      if (position === undefined || e.ctx.recovered !== true) jumps.push({ from: position, to: e.ctx.streamPosition });
      position = { ...e.ctx.streamPosition };
    } else if (e.event === 'publication' && position && e.ctx.offset !== undefined) {
      position = { epoch: position.epoch, offset: e.ctx.offset };
    }
  }
  for (const [id, p] of missing) {
    const explained = jumps.some(({ from, to }) =>
      (from === undefined && p.epoch === to.epoch && p.offset <= to.offset) ||
      (from !== undefined && ((p.epoch === from.epoch && p.offset > from.offset) || (p.epoch === to.epoch && p.offset <= to.offset) ||
        (p.epoch !== from.epoch && p.epoch !== to.epoch))));
    if (!explained) problems.push(`accepted publication ${String(id)} ${JSON.stringify(p)} is missing, and no recovered: false covers it`);
  }
  return problems;
}


/** The nodes a traffic run publishes through (canal processes, or anything with the API). */
export interface ApiNode {
  readonly name: string;
  api<T = unknown>(method: string, params?: unknown, timeoutMs?: number): Promise<{ result?: T; error?: { code: number; message: string; temporary?: boolean }; status: number; text: string }>;
}

/** What a traffic run measured. */
export interface TrafficReport {
  /** Publishes sent, accepted (an offset), refused with a temporary error, unanswered. */
  readonly sent: number;
  readonly accepted: number;
  readonly refused: number;
  readonly unanswered: number;
  /** From the fault to the first publish accepted after it (ms), when there was a refusal. */
  readonly outageMs: number;
  /** Subscribers told recovered: false at least once, and how many resubscribes recovered. */
  readonly toldLost: number;
  readonly recovered: number;
  /** Problems per member (none: every accepted publication arrived once in order, or it was told). */
  readonly problems: string[];
}

/**
 * Publishes `count` numbered publications to `channel` at one every `everyMs` through `nodes` in
 * turn (at most 8 unanswered), runs `fault` once `faultAfter` were answered, then publishes final
 * rounds through every node until each reaches every member, and checks every member.
 */
export async function runTraffic(options: {
  readonly nodes: readonly ApiNode[];
  readonly members: readonly Member[];
  readonly channel: string;
  readonly count: number;
  readonly everyMs: number;
  readonly faultAfter: number;
  readonly fault: () => Promise<void>;
  readonly finalTimeoutMs?: number;
}): Promise<TrafficReport> {
  const { nodes, members, channel } = options;
  const accepted = new Map<unknown, PublishResult>();
  let refused = 0;
  let unanswered = 0;
  let answered = 0;
  let faultAt = 0;
  let firstAfterFault = 0;
  const started = Date.now();
  const inFlight = new Set<Promise<void>>();
  let faulted: Promise<void> | undefined;
  for (let n = 1; n <= options.count; n++) {
    // Paced traffic, not a wait for an event: publication n leaves at n x everyMs from the start.
    await sleep(Math.max(0, started + options.everyMs * n - Date.now()));
    while (inFlight.size >= 8) await Promise.race(inFlight);
    if (!faulted && answered >= options.faultAfter) {
      faultAt = Date.now();
      faulted = options.fault();
    }
    const node = nodes[n % nodes.length]!;
    const call: Promise<void> = node.api<PublishResult>('publish', { channel, data: { n } }, 5000).then((reply) => {
      answered++;
      if (reply.result) {
        accepted.set(n, reply.result);
        if (faultAt > 0 && refused > 0 && firstAfterFault === 0) firstAfterFault = Date.now();
      } else refused++;
    }, () => {
      answered++;
      unanswered++;
    }).finally(() => inFlight.delete(call));
    inFlight.add(call);
  }
  await Promise.all(inFlight);
  await faulted;
  // Final rounds: one publication through each node, until a round reaches every member.
  let top: PublishResult | undefined;
  const deadline = Date.now() + (options.finalTimeoutMs ?? 20_000);
  for (let round = 0; ; round++) {
    const ids: string[] = [];
    for (const [i, node] of nodes.entries()) {
      const id = `final-${round}-${i}`;
      const reply = await node.api<PublishResult>('publish', { channel, data: { n: id } }).catch(() => undefined);
      if (reply?.result) {
        accepted.set(id, reply.result);
        ids.push(id);
        top = reply.result;
      }
    }
    const reached = (): boolean => ids.length === nodes.length && members.every((m) => ids.every((id) => publications(m).some((p) => p.id === id)));
    if (await until(reached, 'a final round reached every member', 3000).then(() => true, () => false)) break;
    if (Date.now() > deadline) {
      throw new Error(`final publications did not reach every member:\n${members.map((m) => `${m.where}: ${m.client.state}/${m.sub.state} ${JSON.stringify(m.events.slice(-3))}`).join('\n')}`);
    }
  }
  // A wait for something that must not happen: a late duplicate or stray publication still on
  // its way would arrive within this bound and be caught by checkMember below.
  await sleep(200);
  // Order accepted publications by position so the last one is the top.
  const problems: string[] = [];
  for (const m of members) for (const p of checkMember(m, accepted, top!)) problems.push(`${m.where}: ${p}`);
  const subscribedAgain = members.flatMap((m) => m.events.filter((e) => e.event === 'subscribed').slice(1));
  return {
    sent: options.count,
    accepted: [...accepted.keys()].filter((k) => typeof k === 'number').length,
    refused,
    unanswered,
    outageMs: firstAfterFault > 0 ? firstAfterFault - faultAt : 0,
    toldLost: members.filter((m) => m.events.some((e, i) => e.event === 'subscribed' && i > 0 && e.ctx.recovered !== true && e.ctx.wasRecovering === true)).length,
    recovered: subscribedAgain.filter((e) => e.ctx.recovered === true).length,
    problems,
  };
}
