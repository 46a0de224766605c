/**
 * The fan-out benchmark's printed output: one line per round as it completes, then for each
 * subscriber count the report tables (bench/lib/report.ts) of the fixed load and of saturation,
 * the goals with their verdicts, the A/A control, and which side limited each rate at
 * saturation (server or load generator).
 */
import { countedSlices, pairedRatios, verdict, type Round } from '../lib/quiet-slices.js';
import {
  controlLine, fewestQuiet, formatCount, formatFixed, goalLine, mark, medianOf, middleHalf, pairedRatio, percent, quietLine, roundRatio, sliceTable, type Goal,
} from '../lib/report.js';
import { median, quantile } from '../lib/stats.js';
import type { FanoutDone, FanoutSlice } from './types.js';

/** A server at this share of its CPU or more is saturated. */
const SERVER_BUSY = 0.95;
/** Redis's CPU share below which its cost per publication is mostly its own idle work. */
const REDIS_MEASURABLE = 0.05;
/** A generator at this share of its CPU or more may be what limits the rate. */
const GENERATOR_BUSY = 0.9;
/** The subscriber count issue 11's saturation target is set at. */
export const SATURATION_TARGET_SUBSCRIBERS = 10_000;

export type Phase = FanoutSlice['phase'];

/** Each phase's rounds. */
export interface FanoutRounds {
  readonly fixed: readonly Round<FanoutSlice>[];
  readonly saturate: readonly Round<FanoutSlice>[];
}

/** Who is compared with whom in a run. */
export interface Comparison {
  /** The servers judged: the canal targets (or canal on two Redis nodes), with their runtime. */
  readonly subjects: readonly { readonly name: string; readonly runtime: 'node' | 'bun' }[];
  /** What `vs` means in the round lines and the p99 check (the naive ws loop, or canal with the memory engine). */
  readonly baseline: string;
  /** A second, identical baseline: its ratio to the baseline is the noise of the method. */
  readonly control: string;
  /** The `vs X` columns of the tables, those that ran. */
  readonly baselines: readonly string[];
  /** The ceiling peer, when the run has one. */
  readonly ceiling: string | undefined;
  /** Names of each target's processes, for the CPU split (`node 1`, `node 2`, `redis`). */
  readonly processNames: Readonly<Record<string, readonly string[]>>;
}

function micros(us: number): string {
  return formatFixed(us, 2);
}

const cpuPick = (s: FanoutSlice): number => s.cpuUsPerDelivery;
const ratePick = (s: FanoutSlice): number => s.perSecond;
const p99Pick = (s: FanoutSlice): number => s.p99Ms;

/** The progress line for one completed round; disturbed slices are marked `*`. */
export function roundLine(fixed: Round<FanoutSlice>, saturate: Round<FanoutSlice>, index: number, targets: readonly string[], c: Comparison): string {
  const cells = targets.map((t) => {
    const f = fixed.get(t);
    const s = saturate.get(t);
    return `${t} ${mark(f, `${micros(f?.cpuUsPerDelivery ?? Number.NaN).padStart(5)} µs`)} ${mark(s, `${formatCount(s?.perSecond ?? Number.NaN).padStart(9)}/s`)}`;
  });
  // Each canal against the peer its goal names (ws-once on Node, bun on Bun) when it ran, else the baseline; the control against the baseline.
  const against = (s: Comparison['subjects'][number]): string =>
    c.baseline === 'ws' ? [s.runtime === 'bun' ? 'bun' : 'ws-once', c.baseline].find((b) => targets.includes(b)) ?? c.baseline : c.baseline;
  const versus = [...c.subjects.map((s) => [s.name, against(s)] as const), [c.control, c.baseline] as const]
    .filter(([n, d]) => targets.includes(n) && targets.includes(d) && n !== d)
    .map(([n, d]) => `${n}/${d} CPU ${roundRatio(fixed, n, d, cpuPick)} rate ${roundRatio(saturate, n, d, ratePick)}`);
  const other = Math.max(...[...fixed.values(), ...saturate.values()].map((s) => s.cpu.other + s.cpu.steal));
  return `round ${String(index).padStart(2)}  ${cells.join('  ')}  ${versus.join('  ')}  other work ${percent(other)}`;
}

/** The bounds issues set on fan-out ratios, for the canal targets of this run. */
function goals(c: Comparison, subscribers: number): { fixed: Goal<FanoutSlice>[]; saturate: Goal<FanoutSlice>[] } {
  const fixed: Goal<FanoutSlice>[] = [];
  const saturate: Goal<FanoutSlice>[] = [];
  const cpu = 'server CPU per delivery';
  const rate = 'deliveries/s';
  const judged = subscribers === SATURATION_TARGET_SUBSCRIBERS;
  for (const { name, runtime } of c.subjects) {
    if (c.baseline !== 'ws') {
      fixed.push({ source: '', subject: name, baseline: c.baseline, what: cpu, pick: cpuPick });
      saturate.push({ source: '', subject: name, baseline: c.baseline, what: rate, pick: ratePick });
      continue;
    }
    if (runtime === 'node') {
      fixed.push({ source: '', subject: name, baseline: 'ws', what: cpu, pick: cpuPick });
      fixed.push({ source: 'issue 11', subject: name, baseline: 'ws-once', what: cpu, pick: cpuPick, atMost: 1.05 });
      fixed.push({ source: '', subject: name, baseline: 'bun', what: cpu, pick: cpuPick });
      saturate.push({ source: '', subject: name, baseline: 'ws', what: rate, pick: ratePick });
      saturate.push({ source: `issue 11 (at N = ${formatCount(SATURATION_TARGET_SUBSCRIBERS)})`, subject: name, baseline: 'bun', what: rate, pick: ratePick, ...(judged ? { atLeast: 1 } : {}) });
    } else {
      fixed.push({ source: 'issue 17', subject: name, baseline: 'bun', what: cpu, pick: cpuPick, atMost: 1.15 });
      saturate.push({ source: '', subject: name, baseline: 'bun', what: rate, pick: ratePick });
    }
  }
  return { fixed, saturate };
}

/**
 * The report for one subscriber count: each phase's rounds in order, `wanted` quiet slices per
 * target and phase asked for, the load processes' summaries, who is compared with whom.
 */
export function fanoutReport(
  subscribers: number,
  rounds: FanoutRounds,
  wanted: number,
  targets: readonly string[],
  done: Readonly<Record<string, FanoutDone>>,
  c: Comparison,
): string {
  const fixedTable = sliceTable<FanoutSlice>({
    rounds: rounds.fixed,
    targets,
    metric: { header: 'server CPU µs per delivery', pick: cpuPick, format: micros },
    columns: [
      { header: 'in kernel', cell: (_t, slices) => percent(median(slices.map((s) => s.cpu.systemShare))) },
      { header: 'writes per delivery', cell: (_t, slices) => formatFixed(median(slices.map((s) => s.cpu.writeCalls / s.deliveries)), 3) },
      { header: 'reads per delivery', cell: (_t, slices) => formatFixed(median(slices.map((s) => s.cpu.readCalls / s.deliveries)), 3) },
      { header: 'p50 ms', cell: (t) => formatFixed(done[t]?.fixed.p50Ms ?? Number.NaN, 2) },
      { header: 'p99 ms', cell: (t) => formatFixed(done[t]?.fixed.p99Ms ?? Number.NaN, 2) },
      { header: 'max ms', cell: (t) => formatFixed(done[t]?.fixed.maxMs ?? Number.NaN, 1) },
    ],
    baselines: c.baselines,
  });
  const satTable = sliceTable<FanoutSlice>({
    rounds: rounds.saturate,
    targets,
    metric: { header: 'deliveries/s', pick: ratePick, format: formatCount },
    columns: [
      { header: 'publications/s', cell: (_t, slices) => formatCount(median(slices.map((s) => s.publications / s.seconds))) },
      { header: 'server CPU', cell: (_t, slices) => percent(median(slices.map((s) => s.cpu.server))) },
      { header: 'in kernel', cell: (_t, slices) => percent(median(slices.map((s) => s.cpu.systemShare))) },
      { header: 'writes per delivery', cell: (_t, slices) => formatFixed(median(slices.map((s) => s.cpu.writeCalls / s.deliveries)), 3) },
      { header: 'generator CPU', cell: (_t, slices) => percent(median(slices.map((s) => s.cpu.generator))) },
      { header: 'per server CPU-s', cell: (_t, slices) => formatCount(median(slices.map((s) => s.perSecond / s.cpu.server))) },
      { header: 'p99 ms', cell: (t) => formatFixed(done[t]?.saturate.p99Ms ?? Number.NaN, 1) },
    ],
    baselines: c.baselines,
  });

  const lines: string[] = [];
  const { baseline: b, control: a } = c;
  const g = goals(c, subscribers);
  const source = (line: string | undefined, prefix: string): void => {
    if (line !== undefined) lines.push(`${prefix}: ${line}`);
  };

  // (a) CPU per delivery at a fixed load, and p99 no worse than the baseline's.
  for (const goal of g.fixed) source(goalLine(rounds.fixed, targets, goal), 'fixed load');
  if (c.ceiling && targets.includes(b)) {
    lines.push(
      `fixed load: the ceiling, which does nothing but one write per delivery, is at ${formatFixed(pairedRatio(rounds.fixed, c.ceiling, b, cpuPick), 2)} of ${b}'s CPU per delivery`,
    );
  }
  for (const { name } of c.subjects) {
    if (!targets.includes(name) || !targets.includes(b) || !targets.includes(a)) continue;
    const p99Pairs = pairedRatios(rounds.fixed, name, b, p99Pick);
    const p99Aa = pairedRatios(rounds.fixed, a, b, p99Pick);
    const p99Ratio = median(p99Pairs.values);
    const p99Band = Math.max(1, quantile(p99Aa.values, 0.75));
    lines.push(
      `fixed load: p99 ${name} ${formatFixed(done[name]?.fixed.p99Ms ?? Number.NaN, 2)} ms, ${b} ${formatFixed(done[b]?.fixed.p99Ms ?? Number.NaN, 2)} ms (over quiet slices); ` +
        `per round ${name}/${b} = ${formatFixed(p99Ratio, 2)} (middle half ${middleHalf(p99Pairs.values)}), A/A ${a}/${b} = ${formatFixed(median(p99Aa.values), 2)} ` +
        `(middle half ${middleHalf(p99Aa.values)}); "p99 no worse" (${name}/${b} <= ${formatFixed(p99Band, 2)}, the A/A's upper quartile or 1): ${verdict(p99Ratio <= p99Band, p99Pairs, p99Aa)}`,
    );
  }

  // (b) Saturation.
  for (const goal of g.saturate) source(goalLine(rounds.saturate, targets, goal), 'saturation');
  if (targets.includes(a) && targets.includes(b)) {
    lines.push(controlLine(rounds.fixed, a, b, 'CPU per delivery', cpuPick));
    lines.push(controlLine(rounds.saturate, a, b, 'deliveries/s', ratePick));
  }

  // Where each target's CPU went, when it has several processes (two nodes and Redis).
  for (const t of targets) {
    const names = c.processNames[t] ?? [];
    if (names.length < 2) continue;
    const slices = countedSlices(rounds.saturate, t);
    const shares = names.map((n, i) => `${n} ${percent(median(slices.map((x) => x.cpu.processes[i] ?? Number.NaN)))}`).join(', ');
    const fixedSlices = countedSlices(rounds.fixed, t);
    const perDelivery = names
      .map((n, i) => `${n} ${micros(median(fixedSlices.map((x) => ((x.cpu.processes[i] ?? Number.NaN) * x.seconds * 1e6) / x.deliveries)))}`)
      .join(', ');
    lines.push(`${t}: CPU at saturation ${shares}; µs per delivery at fixed load ${perDelivery}`);
    const redisAt = names.indexOf('redis');
    if (redisAt !== -1) {
      const redisCpu = median(slices.map((x) => x.cpu.processes[redisAt] ?? Number.NaN));
      const pubsPerRedisSecond = median(slices.map((x) => x.publications / x.seconds / (x.cpu.processes[redisAt] ?? Number.NaN)));
      lines.push(
        `${t}: ${formatCount(medianOf(rounds.saturate, t, (x) => x.publications / x.seconds))} publications/s through Redis at ${percent(redisCpu)} of a CPU` +
          (redisCpu >= REDIS_MEASURABLE
            ? `: ${formatCount(pubsPerRedisSecond)} publications per Redis CPU-second (publish script + pub/sub to 2 nodes, ${formatCount(subscribers)} subscribers)`
            : ` (too little for Redis's cost per publication to be read from it; see --subscribers 10 --publishers 16 --window 64)`),
      );
    }
  }

  // Which side limited each rate at saturation: a server-bound target sits at its full CPU
  // while the generator, on its own CPU, has time to spare.
  const limit = (t: string): string => {
    const server = medianOf(rounds.saturate, t, (x) => x.cpu.server);
    const generator = medianOf(rounds.saturate, t, (x) => x.cpu.generator);
    const who =
      generator >= GENERATOR_BUSY
        ? 'the generator was busy too: a lower bound'
        : server >= SERVER_BUSY
          ? 'the server is the limit'
          : 'neither was saturated: the closed loop\'s window limits it';
    return `${t} server ${percent(server)}, generator ${percent(generator)} (${who})`;
  };
  const ceilingPart = c.ceiling
    ? `; the ceiling delivered ${targets
        .filter((t) => t !== c.ceiling)
        .map((t) => `${formatFixed(pairedRatio(rounds.saturate, c.ceiling!, t, ratePick), 2)}x ${t}'s rate`)
        .join(', ')} through the same generator`
    : '';
  lines.push(`at saturation: ${targets.filter((t) => t !== c.ceiling).map(limit).join('; ')}${ceilingPart}`);
  const fewest = Math.min(fewestQuiet(rounds.fixed, targets), fewestQuiet(rounds.saturate, targets));
  lines.push(quietLine(fewest, wanted, true));
  lines.push(
    `deliveries verified (each the next publication its subscriber expected, all ${formatCount(subscribers)} subscribers every publication): ` +
      targets.map((t) => `${t} ${formatCount(done[t]?.verified ?? 0)} (${formatCount(done[t]?.publications ?? 0)} publications)`).join(', '),
  );
  return [`(a) fixed load, N = ${formatCount(subscribers)}:`, '', fixedTable, '', `(b) saturation, N = ${formatCount(subscribers)}:`, '', satTable, '', ...lines].join('\n');
}
