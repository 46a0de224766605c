/**
 * The memory benchmark's printed output: the baselines, then for each step one table (bytes per
 * connection, ratios to the bare ws connection and to raw Bun), the A/A control and the goals.
 */
import { formatCount, formatFixed, markdownTable } from '../lib/table.js';
import type { ServerCommand } from '../lib/server-process.js';
import type { TargetKind } from '../lib/targets.js';
import type { ProcessMemory } from './process-memory.js';

/** One target as the benchmark runs it. */
export interface TargetPlan {
  readonly name: string;
  readonly kind: TargetKind;
  readonly ownChannels: boolean;
  readonly server: ServerCommand;
}

/** One reading of one server. */
export interface Reading {
  readonly connections: number;
  /** RSS --early seconds after the connections opened: the connection storm's transient. */
  readonly early: ProcessMemory;
  /** RSS --settle seconds after: idle, each runtime's collector having had time to run. */
  readonly idle: ProcessMemory;
  /** JavaScript heap in use after a forced full collection (V8 on Node, JavaScriptCore on Bun). */
  readonly heapUsed: number;
  readonly afterGc: ProcessMemory;
}

/** How much more an idle protocol connection may cost than the peer's bare one, by issue. */
const GOALS = [
  { source: 'issue 11', subject: 'canal', baseline: 'ws', atMostBytes: 1024 },
  { source: 'issue 17', subject: 'canal-bun', baseline: 'bun', atMostBytes: 1024 },
] as const;

/** Each A/A control and the peer it repeats: their difference is the noise of a goal's difference against that peer. */
const CONTROLS = [['ws2', 'ws'], ['bun2', 'bun']] as const;

/**
 * The verdict on one reading of a goal: `difference` (subject − baseline, bytes per connection)
 * against `limit`, unless `noise` — the same reading's A/A difference, twin − baseline — is larger
 * than the limit itself: then two identical servers differ by more than the goal allows, and the
 * reading cannot tell either way (Node's idle RSS, when V8 shrinks one process's young generation
 * and not the other's). Undefined `noise`: no A/A control in the run.
 */
export function goalVerdict(difference: number, limit: number, noise?: number): string {
  if (noise !== undefined && Math.abs(noise) > limit) return `CANNOT TELL (A/A ${signed(noise)})`;
  return difference <= limit ? 'met' : 'NOT MET';
}

function mib(bytes: number): string {
  return formatFixed(bytes / 2 ** 20, 1);
}

function signed(bytes: number): string {
  return `${bytes >= 0 ? '+' : '-'}${formatCount(Math.abs(bytes))}`;
}

/**
 * The report: baselines, then one table per step with its ratios and goals. The goals are judged
 * on the idle RSS and on RSS after GC; the early RSS (`earlySeconds` after the connections
 * opened) is shown beside them.
 */
export function memoryReport(targets: readonly TargetPlan[], readings: ReadonlyMap<string, readonly Reading[]>, steps: readonly number[], earlySeconds: number): string {
  const names = targets.map((t) => t.name);
  const runtime = new Map(targets.map((t) => [t.name, t.server.runtime]));
  const out: string[] = [];
  const base = (name: string): Reading => readings.get(name)![0]!;
  out.push('baseline (0 connections):');
  out.push('');
  out.push(
    markdownTable(
      ['target', 'runtime', 'RSS MiB', 'RSS after GC MiB', 'JS heap used MiB'],
      names.map((n) => [n, runtime.get(n) ?? '?', mib(base(n).idle.rss), mib(base(n).afterGc.rss), mib(base(n).heapUsed)]),
      [false, false, true, true, true],
    ),
  );
  const vs = ['ws', 'bun'].filter((b) => names.includes(b));
  for (const [i, m] of steps.entries()) {
    const at = (name: string): Reading => readings.get(name)![i + 1]!;
    const earlyPer = (name: string): number => (at(name).early.rss - base(name).idle.rss) / m;
    const rssPer = (name: string): number => (at(name).idle.rss - base(name).idle.rss) / m;
    const gcPer = (name: string): number => (at(name).afterGc.rss - base(name).afterGc.rss) / m;
    const heapPer = (name: string): number => (at(name).heapUsed - base(name).heapUsed) / m;
    out.push('');
    out.push(`${formatCount(m)} idle connections per target:`);
    out.push('');
    out.push(
      markdownTable(
        ['target', 'idle RSS MiB', `RSS at ${earlySeconds} s: bytes per connection`, 'idle RSS: bytes per connection', 'after GC: RSS bytes per connection', 'JS heap bytes per connection', ...vs.map((b) => `idle RSS vs ${b}`), ...vs.map((b) => `after GC vs ${b}`)],
        names.map((n) => [
          n,
          mib(at(n).idle.rss),
          formatCount(earlyPer(n)),
          formatCount(rssPer(n)),
          formatCount(gcPer(n)),
          formatCount(heapPer(n)),
          ...vs.map((b) => formatFixed(rssPer(n) / rssPer(b), 2)),
          ...vs.map((b) => formatFixed(gcPer(n) / gcPer(b), 2)),
        ]),
        [false, true, true, true, true, true, ...vs.map(() => true), ...vs.map(() => true)],
      ),
    );
    out.push('');
    for (const [twin, peer] of CONTROLS) {
      if (!names.includes(twin) || !names.includes(peer)) continue;
      out.push(
        `A/A control: ${twin}/${peer} = ${formatFixed(rssPer(twin) / rssPer(peer), 2)} idle RSS, ${formatFixed(gcPer(twin) / gcPer(peer), 2)} after GC, ` +
          `${formatFixed(heapPer(twin) / heapPer(peer), 2)} heap (two identical servers: the noise of each figure); ` +
          `${twin} - ${peer} per connection: RSS at ${earlySeconds} s ${signed(earlyPer(twin) - earlyPer(peer))} bytes, idle RSS ${signed(rssPer(twin) - rssPer(peer))}, ` +
          `after GC ${signed(gcPer(twin) - gcPer(peer))} (the noise of a goal's difference)`,
      );
    }
    if (names.includes('canal-own') && names.includes('canal')) {
      out.push(`canal-own/canal = ${formatFixed(rssPer('canal-own') / rssPer('canal'), 2)} idle RSS, ${formatFixed(heapPer('canal-own') / heapPer('canal'), 2)} heap (a channel per connection)`);
    }
    for (const goal of GOALS) {
      if (!names.includes(goal.subject) || !names.includes(goal.baseline)) continue;
      const early = earlyPer(goal.subject) - earlyPer(goal.baseline);
      const rss = rssPer(goal.subject) - rssPer(goal.baseline);
      const gc = gcPer(goal.subject) - gcPer(goal.baseline);
      const heap = runtime.get(goal.subject) === runtime.get(goal.baseline) ? `, JS heap ${signed(heapPer(goal.subject) - heapPer(goal.baseline))}` : '';
      // The A/A control of the goal's baseline, where the run has it: its difference is the noise of this one.
      const twin = CONTROLS.find(([, peer]) => peer === goal.baseline)?.[0];
      const noise = (per: (name: string) => number): number | undefined =>
        twin !== undefined && names.includes(twin) ? per(twin) - per(goal.baseline) : undefined;
      const judge = (bytes: number, per: (name: string) => number): string => goalVerdict(bytes, goal.atMostBytes, noise(per));
      out.push(
        `${goal.subject} - ${goal.baseline} per connection: RSS at ${earlySeconds} s ${signed(early)} bytes, idle RSS ${signed(rss)}, after GC ${signed(gc)}${heap}; ` +
          `${goal.source} (<= ${goal.baseline} + ${formatCount(goal.atMostBytes)} bytes idle): idle RSS ${judge(rss, rssPer)}, after GC ${judge(gc, gcPer)} ` +
          `(at ${earlySeconds} s: ${judge(early, earlyPer)})`,
      );
    }
  }
  return out.join('\n');
}
