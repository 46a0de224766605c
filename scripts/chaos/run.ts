/**
 * One chaos run, from nothing to a verdict: a private Redis, canal nodes, subscribers and
 * publishers; the planned faults, one after another, while publishing goes on; then the faults
 * stop, everything is healed, each channel gets one last publication, every subscriber gets
 * `--settle-seconds` to catch up with it, and the ledger and the trackers are judged.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, writeFileSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '../../test/helpers/random.js';
import { removeAtExit } from './children.js';
import { CanalNode, freePort, RedisServer, type NodeCrash } from './cluster.js';
import { NodePicker, PublisherClient, Subscriber } from './clients.js';
import { runFault, type FaultRecord } from './faults.js';
import { Ledger, type Position } from './ledger.js';
import { BULK_CHANNEL, chaosChannels, nodeConfig, RECOVERY_MAX } from './node-config.js';
import type { ChaosOptions } from './options.js';
import { ApiPublisher, ClientPublisher, PublicationIds, publishMarker, readHistory, type PublishContext } from './publishers.js';
import { describePlanned, planFaults, type PlannedFault } from './schedule.js';
import { judge, type Verdict } from './verdict.js';

/** How many subscribers also take the bulk channel (the slow-consumer candidates). */
const SLOW_CANDIDATES = 4;
/** Subscribers connecting at once during setup. */
const CONNECT_BATCH = 25;
/** A subscriber must be subscribed to all its channels within this at setup. */
const SUBSCRIBE_TIMEOUT_MS = 30_000;

export interface RunResult {
  readonly verdict: Verdict;
  readonly plan: readonly PlannedFault[];
  readonly faults: readonly FaultRecord[];
  readonly crashes: readonly NodeCrash[];
  /** Problems of the run itself (a subscription ended for good, a message that is not the run's...). */
  readonly problems: readonly string[];
  readonly nodes: ReadonlyArray<{ readonly name: string; readonly peakRss: number; readonly starts: number }>;
  readonly redisPeakRss: number;
  readonly harnessPeakRss: number;
  /** Subscriptions that had not reached their channel's last publication when the settle time ran out. */
  readonly unsettled: readonly string[];
  /** How often subscribers' connections ended with each code (connecting/disconnected events). */
  readonly codes: ReadonlyMap<number, number>;
  /** When the fault window opened and closed, on the run clock (ms). */
  readonly windowMs: readonly [number, number];
  readonly skippedTicks: number;
}

/** Prints one line of progress. */
export type Out = (line: string) => void;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `chaos:c0`... as each subscriber's channels: `perSubscriber` distinct ones, drawn from the seed. */
function assignChannels(random: () => number, channels: readonly string[], subscribers: number, perSubscriber: number): string[][] {
  return Array.from({ length: subscribers }, () => {
    const pool = [...channels];
    const mine: string[] = [];
    for (let k = 0; k < perSubscriber; k++) mine.push(pool.splice(Math.min(pool.length - 1, Math.floor(random() * pool.length)), 1)[0]!);
    return mine.sort();
  });
}

export async function runChaos(options: ChaosOptions, out: Out): Promise<RunResult> {
  const origin = performance.now();
  const now = (): number => Math.round(performance.now() - origin);
  const random = seededRandom(options.seed);
  const ledger = new Ledger();
  const problems: string[] = [];
  const problem = (message: string): void => {
    if (problems.length < 100) problems.push(`${(now() / 1000).toFixed(1)} s: ${message}`);
  };

  const slowCandidates = Math.min(SLOW_CANDIDATES, options.subscribers);
  const plan = planFaults(random, {
    lengthMs: options.lengthMs, kinds: options.faults, meanGapMs: options.faultGapMs, nodes: options.nodes,
    subscribers: options.subscribers, slowCandidates, dropMax: options.dropMax,
  });
  out(`fault plan (seconds after the fault window opens; seed ${options.seed}):`);
  for (const f of plan) out(`  ${describePlanned(f)}`);

  const dir = mkdtempSync(join(tmpdir(), 'canal-chaos-'));
  removeAtExit(dir);
  const logs: WriteStream[] = [];
  const logFile = (name: string): WriteStream | undefined => {
    if (!options.logDir) return undefined;
    mkdirSync(options.logDir, { recursive: true });
    const s = createWriteStream(join(options.logDir, name), { flags: 'a' });
    logs.push(s);
    return s;
  };

  const redis = new RedisServer(await freePort(), logFile('redis.log'));
  const apiKey = randomBytes(16).toString('hex');
  const configPath = join(dir, 'canal.json');
  writeFileSync(configPath, JSON.stringify(nodeConfig({ redisUrl: redis.url, redisPrefix: `chaos-${options.seed}`, apiKey }), null, 2));

  const crashes: NodeCrash[] = [];
  let tearingDown = false;
  const nodes: CanalNode[] = [];
  for (let i = 0; i < options.nodes; i++) {
    nodes.push(new CanalNode({
      index: i, configPath, heapMb: options.nodeHeapMb, log: logFile(`node-${i + 1}.log`), now,
      onCrash: (crash) => {
        crashes.push(crash);
        out(`[${(crash.at / 1000).toFixed(1).padStart(7)} s] CRASH: node ${crash.node + 1} exited by itself (${crash.exit}); its log ends with:\n${crash.stderr.trim().split('\n').slice(-15).map((l) => `      ${l}`).join('\n')}`);
        if (!tearingDown) void nodes[crash.node]!.restart().catch((err: Error) => problem(`node ${crash.node + 1} could not be started again after its crash: ${err.message}`));
      },
    }));
  }

  let harnessPeakRss = 0;
  const sampler = setInterval(() => {
    for (const n of nodes) void n.sample();
    void redis.sample();
    harnessPeakRss = Math.max(harnessPeakRss, process.memoryUsage().rss);
  }, 250);

  const subscribers: Subscriber[] = [];
  const publisherClients: PublisherClient[] = [];
  try {
    await redis.start();
    await Promise.all(nodes.map((n) => n.start()));
    out(`redis-server on port ${redis.port}; ${nodes.map((n) => `${n.name} on port ${n.port}`).join(', ')}`);

    const picker = new NodePicker(nodes);
    const channels = chaosChannels(options.channels);
    const assigned = assignChannels(random, channels, options.subscribers, options.channelsPerSubscriber);
    // The candidates are spread over the subscribers (and so over the nodes).
    const candidateIndexes = Array.from({ length: slowCandidates }, (_, k) => Math.floor((k * options.subscribers) / slowCandidates));
    for (let i = 0; i < options.subscribers; i++) {
      const mine = candidateIndexes.includes(i) ? [...assigned[i]!, BULK_CHANNEL] : assigned[i]!;
      subscribers.push(new Subscriber({ name: `subscriber #${i}`, index: i, home: i % nodes.length, picker, now, channels: mine, ledger, problem }));
    }
    for (let i = 0; i < subscribers.length; i += CONNECT_BATCH) {
      await Promise.all(subscribers.slice(i, i + CONNECT_BATCH).map((s) => s.start(SUBSCRIBE_TIMEOUT_MS).catch((err: Error) => {
        throw new Error(`${s.name} could not subscribe at setup: ${err.message}`);
      })));
    }
    for (let i = 0; i < options.clientPublishers; i++) {
      const c = new PublisherClient({ name: `publisher client #${i}`, home: i % nodes.length, picker, now });
      await c.start(SUBSCRIBE_TIMEOUT_MS);
      publisherClients.push(c);
    }
    const subscriptions = subscribers.reduce((a, s) => a + s.trackers.length, 0);
    out(`${subscribers.length} subscribers (${subscriptions} subscriptions over ${channels.length} channels and ${BULK_CHANNEL}), ` +
      `${publisherClients.length} publisher clients, connected at ${(now() / 1000).toFixed(1)} s`);

    const publish: PublishContext = { ledger, ids: new PublicationIds(), nodes, apiKey, now };
    const apiPublisher = new ApiPublisher(publish, channels, options.apiRate);
    const clientPublishers = publisherClients.map((c, i) => new ClientPublisher(publish, c, channels, options.clientRate, i));

    const windowOpen = now();
    out(`fault window opens at ${(windowOpen / 1000).toFixed(1)} s for ${(options.lengthMs / 1000).toFixed(0)} s`);
    apiPublisher.start();
    for (const p of clientPublishers) p.start();
    if (options.selfCheck) {
      setTimeout(() => (subscribers[0]!.swallowNext = true), 1000).unref();
      out('self-check: subscriber #0 will ignore one publication 1 s into the window; the run must fail');
    }

    const faults: FaultRecord[] = [];
    const ctx = {
      redis, nodes, subscribers, slowCandidates: candidateIndexes.map((i) => subscribers[i]!), publish, now,
      flood: { clients: options.floodClients, messages: options.floodMessages, bytes: options.floodBytes, ms: options.floodMs },
      slowBurst: { count: options.slowBurst, bytes: options.slowBurstBytes },
    };
    for (const f of plan) {
      await sleep(windowOpen + f.at - now());
      const record = await runFault(f, ctx);
      faults.push(record);
      out(`[${(record.startedAt / 1000).toFixed(1).padStart(7)} s] ${record.kind}: ${record.detail}`);
    }
    await sleep(windowOpen + options.lengthMs - now());
    const windowClose = now();
    out(`fault window closed at ${(windowClose / 1000).toFixed(1)} s; publishing stops, everything is healed`);

    await apiPublisher.stop();
    await Promise.all(clientPublishers.map((p) => p.stop()));
    if (!redis.running) await redis.start();
    await Promise.all(nodes.filter((n) => !n.running).map((n) => n.restart()));
    for (const s of subscribers) s.resumeReading();

    const unsettled = await settle(options, subscribers, [...channels, BULK_CHANNEL], publish, out, now);
    // Places the publications no subscriber received (those still in history), and checks the others.
    for (const channel of [...channels, BULK_CHANNEL]) {
      if ((await readHistory(publish, channel)) === undefined) problem(`the history of ${channel} could not be read at the end`);
    }
    const verdict = judge(ledger, subscribers.flatMap((s) => s.trackers), { recoveryMax: RECOVERY_MAX });
    // A channel starts an epoch when it is first used, and a new one after each Redis restart (its data is gone); never otherwise.
    const restarts = faults.filter((f) => f.kind === 'restart-redis' && f.applied).length;
    for (const channel of [...channels, BULK_CHANNEL]) {
      const epochs = ledger.epochs(channel).length;
      if (epochs > 1 + restarts) problem(`${channel} went through ${epochs} epochs, but Redis lost its data only ${restarts} times`);
    }
    const codes = new Map<number, number>();
    for (const s of subscribers) for (const [code, n] of s.codeCounts) codes.set(code, (codes.get(code) ?? 0) + n);
    return {
      // Copies: the teardown below must not add to what was judged.
      verdict, plan, faults, crashes: [...crashes], problems: [...problems], unsettled, codes, windowMs: [windowOpen, windowClose],
      nodes: nodes.map((n) => ({ name: n.name, peakRss: n.peakRss, starts: n.starts })),
      redisPeakRss: redis.peakRss, harnessPeakRss,
      skippedTicks: apiPublisher.skipped + clientPublishers.reduce((a, p) => a + p.skipped, 0),
    };
  } finally {
    tearingDown = true;
    clearInterval(sampler);
    for (const c of [...subscribers, ...publisherClients]) c.close();
    await Promise.all(nodes.map((n) => n.stop()));
    await redis.kill();
    for (const s of logs) s.end();
  }
}

/**
 * Publishes a last publication to every channel and waits until every subscription has it (or
 * has been told it was lost: its position is past it); returns the subscriptions that did not
 * get there within the settle time.
 */
async function settle(options: ChaosOptions, subscribers: readonly Subscriber[], channels: readonly string[], publish: PublishContext, out: Out, now: () => number): Promise<string[]> {
  const deadline = performance.now() + options.settleMs;
  const markers = new Map<string, Position>();
  for (const channel of channels) {
    const p = await publishMarker(publish, channel, Math.max(1000, deadline - performance.now()));
    if (p) markers.set(channel, p);
  }
  const trackers = subscribers.flatMap((s) => s.trackers);
  const reached = (t: (typeof trackers)[number]): boolean => {
    const m = markers.get(t.channel);
    const p = t.position;
    return m !== undefined && p !== undefined && p.epoch === m.epoch && p.offset >= m.offset;
  };
  while (performance.now() < deadline && !trackers.every(reached)) await sleep(100);
  const missing = [...channels].filter((c) => !markers.has(c));
  const unsettled = trackers.filter((t) => !reached(t)).map((t) => `${t.subscriber} in ${t.channel} at ${t.position ? `${t.position.epoch}:${t.position.offset}` : 'no position'}` +
    `${markers.has(t.channel) ? `, last publication at ${markers.get(t.channel)!.epoch}:${markers.get(t.channel)!.offset}` : ''}`);
  out(`settled at ${(now() / 1000).toFixed(1)} s: ${trackers.length - unsettled.length} of ${trackers.length} subscriptions reached their channel's last publication` +
    `${missing.length > 0 ? `; no last publication could be made in ${missing.join(', ')}` : ''}`);
  return unsettled;
}
