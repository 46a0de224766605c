/**
 * The fan-out benchmark's printed output: one line per round as it completes, then for each
 * subscriber count the medians per target over quiet slices (two Markdown tables: the fixed
 * load and saturation), the ratios the issue asks for with their verdicts, the A/A control,
 * and which side limited each rate at saturation (server or load generator).
 */
import type { FanoutDone, FanoutSlice } from './lib/fanout-load-types.js';
import { DISTURBED_CPU } from './lib/quiet-slices.js';
import { median, quantile, range } from './lib/stats.js';
import { formatCount, formatFixed, markdownTable } from './lib/table.js';

/** The goal at N = 10,000: canal's CPU per delivered message at most this fraction of the ws loop's. */
export const CPU_RATIO_TARGET = 0.7;
/** The subscriber count the goal is set at. */
export const TARGET_SUBSCRIBERS = 10_000;
/** A server at this share of its CPU or more is saturated. */
const SERVER_BUSY = 0.95;
/** Redis's CPU share below which its cost per publication is mostly its own idle work. */
const REDIS_MEASURABLE = 0.05;
/** A generator at this share of its CPU or more may be what limits the rate. */
const GENERATOR_BUSY = 0.9;

export type Phase = FanoutSlice['phase'];

/** One round: each target's fixed-load slice and saturation slice. */
export interface FanoutRound {
  readonly fixed: ReadonlyMap<string, FanoutSlice>;
  readonly saturate: ReadonlyMap<string, FanoutSlice>;
}

/** Who is compared with whom in a run. */
export interface Comparison {
  /** The server judged (canal, or canal on two Redis nodes). */
  readonly subject: string;
  /** What it is judged against (the ws loop, or canal with the memory engine). */
  readonly baseline: string;
  /** A second, identical baseline: its ratio to the baseline is the noise of the method. */
  readonly control: string;
  /** The ceiling peer, when the run has one. */
  readonly ceiling: string | undefined;
  /** Whether the CPU target applies (canal vs the ws loop). */
  readonly judgeCpu: boolean;
  /** Names of each target's processes, for the CPU split (`node 1`, `node 2`, `redis`). */
  readonly processNames: Readonly<Record<string, readonly string[]>>;
}

function percent(cpus: number): string {
  return `${formatFixed(cpus * 100, 0)}%`;
}

function micros(us: number): string {
  return formatFixed(us, 2);
}

/** The progress line for one completed round; disturbed slices are marked `*`. */
export function roundLine(round: FanoutRound, index: number, targets: readonly string[], c: Comparison): string {
  const cells = targets.map((t) => {
    const f = round.fixed.get(t);
    const s = round.saturate.get(t);
    const mark = (x: FanoutSlice | undefined): string => (x?.quiet === false ? '*' : ' ');
    return `${t} ${micros(f?.cpuUsPerDelivery ?? Number.NaN).padStart(5)} µs${mark(f)} ${formatCount(s?.perSecond ?? Number.NaN).padStart(9)}/s${mark(s)}`;
  });
  const ratio = (phase: Phase, num: string, pick: (x: FanoutSlice) => number): string => {
    const map = phase === 'fixed' ? round.fixed : round.saturate;
    const n = map.get(num);
    const d = map.get(c.baseline);
    return n && d ? formatFixed(pick(n) / pick(d), 2) : '-';
  };
  const cpu = (x: FanoutSlice): number => x.cpuUsPerDelivery;
  const rate = (x: FanoutSlice): number => x.perSecond;
  const other = Math.max(...[...round.fixed.values(), ...round.saturate.values()].map((s) => s.cpu.other + s.cpu.steal));
  return (
    `round ${String(index).padStart(2)}  ${cells.join('  ')}  ` +
    `${c.subject}/${c.baseline} CPU ${ratio('fixed', c.subject, cpu)} rate ${ratio('saturate', c.subject, rate)}  ` +
    `${c.control}/${c.baseline} CPU ${ratio('fixed', c.control, cpu)} rate ${ratio('saturate', c.control, rate)}  other work ${percent(other)}`
  );
}

/** The slices of `target` in `phase` that count: its quiet ones, or all when none was quiet. */
function counted(rounds: readonly FanoutRound[], phase: Phase, target: string): FanoutSlice[] {
  const all = rounds.flatMap((r) => (phase === 'fixed' ? r.fixed : r.saturate).get(target) ?? []);
  const quiet = all.filter((s) => s.quiet);
  return quiet.length > 0 ? quiet : all;
}

function quietCount(rounds: readonly FanoutRound[], phase: Phase, target: string): number {
  return rounds.filter((r) => (phase === 'fixed' ? r.fixed : r.saturate).get(target)?.quiet).length;
}

/** Ratios of two targets in each round where both slices were quiet (every round, `quiet` false, when none). */
interface Paired {
  readonly values: number[];
  readonly quiet: boolean;
}

function paired(rounds: readonly FanoutRound[], phase: Phase, num: string, den: string, pick: (s: FanoutSlice) => number): Paired {
  const pairs = rounds.flatMap((r) => {
    const map = phase === 'fixed' ? r.fixed : r.saturate;
    const n = map.get(num);
    const d = map.get(den);
    return n && d ? [{ n, d }] : [];
  });
  const quiet = pairs.filter(({ n, d }) => n.quiet && d.quiet);
  const kept = quiet.length > 0 ? quiet : pairs;
  return { values: kept.map(({ n, d }) => pick(n) / pick(d)), quiet: quiet.length > 0 };
}

function middleHalf(values: readonly number[]): string {
  return `${formatFixed(quantile(values, 0.25), 2)} – ${formatFixed(quantile(values, 0.75), 2)}`;
}

function verdict(met: boolean, ...basis: readonly Paired[]): string {
  if (!basis.every((b) => b.quiet)) return 'CANNOT TELL (no round with both slices quiet)';
  return met ? 'met' : 'NOT MET';
}

const cpuPick = (s: FanoutSlice): number => s.cpuUsPerDelivery;
const ratePick = (s: FanoutSlice): number => s.perSecond;
const p99Pick = (s: FanoutSlice): number => s.p99Ms;

/**
 * The report for one subscriber count: `rounds` in order, `wanted` quiet slices per target and
 * phase asked for, the generators' summaries, who is compared with whom.
 */
export function fanoutReport(
  subscribers: number,
  rounds: readonly FanoutRound[],
  wanted: number,
  targets: readonly string[],
  done: Readonly<Record<string, FanoutDone>>,
  c: Comparison,
): string {
  const med = (phase: Phase, target: string, pick: (s: FanoutSlice) => number): number => median(counted(rounds, phase, target).map(pick));
  const ratio = (phase: Phase, num: string, den: string, pick: (s: FanoutSlice) => number): number => median(paired(rounds, phase, num, den, pick).values);

  const fixedRows = targets.map((t) => {
    const { min, max } = range(counted(rounds, 'fixed', t).map(cpuPick));
    const latency = done[t]?.fixed;
    return [
      t,
      micros(med('fixed', t, cpuPick)),
      `${micros(min)} – ${micros(max)}`,
      `${quietCount(rounds, 'fixed', t)}/${rounds.length}`,
      percent(med('fixed', t, (x) => x.cpu.systemShare)),
      formatFixed(latency?.p50Ms ?? Number.NaN, 2),
      formatFixed(latency?.p99Ms ?? Number.NaN, 2),
      formatFixed(latency?.maxMs ?? Number.NaN, 1),
      formatFixed(t === c.baseline ? 1 : ratio('fixed', t, c.baseline, cpuPick), 2),
    ];
  });
  const fixedTable = markdownTable(
    ['target', 'server CPU µs per delivery (median)', 'min – max', 'quiet', 'in kernel', 'p50 ms', 'p99 ms', 'max ms', `vs ${c.baseline}`],
    fixedRows,
    [false, true, true, true, true, true, true, true, true],
  );

  const satRows = targets.map((t) => {
    const { min, max } = range(counted(rounds, 'saturate', t).map(ratePick));
    const latency = done[t]?.saturate;
    return [
      t,
      formatCount(med('saturate', t, ratePick)),
      `${formatCount(min)} – ${formatCount(max)}`,
      `${quietCount(rounds, 'saturate', t)}/${rounds.length}`,
      formatCount(med('saturate', t, (s) => s.publications / s.seconds)),
      percent(med('saturate', t, (s) => s.cpu.server)),
      percent(med('saturate', t, (s) => s.cpu.systemShare)),
      percent(med('saturate', t, (s) => s.cpu.generator)),
      formatCount(med('saturate', t, (s) => s.perSecond / s.cpu.server)),
      formatFixed(latency?.p99Ms ?? Number.NaN, 1),
      formatFixed(t === c.baseline ? 1 : ratio('saturate', t, c.baseline, ratePick), 2),
    ];
  });
  const satTable = markdownTable(
    ['target', 'deliveries/s (median)', 'min – max', 'quiet', 'publications/s', 'server CPU', 'in kernel', 'generator CPU', 'per server CPU-s', 'p99 ms', `vs ${c.baseline}`],
    satRows,
    [false, true, true, true, true, true, true, true, true, true, true],
  );

  const lines: string[] = [];
  const { subject: s, baseline: b, control: a } = c;

  // (a) CPU per delivery at a fixed load.
  const cpuPairs = paired(rounds, 'fixed', s, b, cpuPick);
  const cpuAa = paired(rounds, 'fixed', a, b, cpuPick);
  const cpuRatio = median(cpuPairs.values);
  const cpuOfMedians = med('fixed', s, cpuPick) / med('fixed', b, cpuPick);
  let cpuVerdict = '';
  if (c.judgeCpu) {
    cpuVerdict =
      subscribers === TARGET_SUBSCRIBERS
        ? `; target <= ${formatFixed(CPU_RATIO_TARGET, 2)}: ${verdict(cpuRatio <= CPU_RATIO_TARGET, cpuPairs)}`
        : ` (the target, <= ${formatFixed(CPU_RATIO_TARGET, 2)}, is set at N = ${formatCount(TARGET_SUBSCRIBERS)})`;
  }
  const floor = c.ceiling
    ? `; the ceiling, which does nothing but one write per delivery, is at ${formatFixed(ratio('fixed', c.ceiling, b, cpuPick), 2)}`
    : '';
  lines.push(
    `fixed load: ${s}/${b} server CPU per delivery = ${formatFixed(cpuRatio, 2)} (median over rounds of the pair, middle half ${middleHalf(cpuPairs.values)}; ` +
      `ratio of medians ${formatFixed(cpuOfMedians, 2)})${floor}${cpuVerdict}`,
  );
  const p99Pairs = paired(rounds, 'fixed', s, b, p99Pick);
  const p99Aa = paired(rounds, 'fixed', a, b, p99Pick);
  const p99Ratio = median(p99Pairs.values);
  const p99Band = Math.max(1, quantile(p99Aa.values, 0.75));
  lines.push(
    `fixed load: p99 ${s} ${formatFixed(done[s]?.fixed.p99Ms ?? Number.NaN, 2)} ms, ${b} ${formatFixed(done[b]?.fixed.p99Ms ?? Number.NaN, 2)} ms (over quiet slices); ` +
      `per round ${s}/${b} = ${formatFixed(p99Ratio, 2)} (middle half ${middleHalf(p99Pairs.values)}), A/A ${a}/${b} = ${formatFixed(median(p99Aa.values), 2)} ` +
      `(middle half ${middleHalf(p99Aa.values)})` +
      (c.judgeCpu ? `; "p99 no worse" (${s}/${b} <= ${formatFixed(p99Band, 2)}, the A/A's upper quartile or 1): ${verdict(p99Ratio <= p99Band, p99Pairs, p99Aa)}` : ''),
  );

  // (b) Saturation.
  const ratePairs = paired(rounds, 'saturate', s, b, ratePick);
  const perCpu = (t: string): number => med('saturate', t, (x) => x.perSecond / x.cpu.server) / med('saturate', b, (x) => x.perSecond / x.cpu.server);
  lines.push(
    `saturation: ${s}/${b} deliveries/s = ${formatFixed(median(ratePairs.values), 2)} (median over rounds, middle half ${middleHalf(ratePairs.values)}; ` +
      `per server CPU-second ${formatFixed(perCpu(s), 2)})`,
  );
  lines.push(
    `A/A control: ${a}/${b} = ${formatFixed(median(cpuAa.values), 2)} CPU per delivery (middle half ${middleHalf(cpuAa.values)}), ` +
      `${formatFixed(ratio('saturate', a, b, ratePick), 2)} deliveries/s (middle half ${middleHalf(paired(rounds, 'saturate', a, b, ratePick).values)}): ` +
      `a ${s}/${b} difference inside that spread is noise`,
  );

  // Where each target's CPU went, when it has several processes (two nodes and Redis).
  for (const t of targets) {
    const names = c.processNames[t] ?? [];
    if (names.length < 2) continue;
    const slices = counted(rounds, 'saturate', t);
    const shares = names.map((n, i) => `${n} ${percent(median(slices.map((x) => x.cpu.processes[i] ?? Number.NaN)))}`).join(', ');
    const fixedSlices = counted(rounds, 'fixed', t);
    const perDelivery = names
      .map((n, i) => `${n} ${micros(median(fixedSlices.map((x) => ((x.cpu.processes[i] ?? Number.NaN) * x.seconds * 1e6) / x.deliveries)))}`)
      .join(', ');
    lines.push(`${t}: CPU at saturation ${shares}; µs per delivery at fixed load ${perDelivery}`);
    const redisAt = names.indexOf('redis');
    if (redisAt !== -1) {
      const redisCpu = median(slices.map((x) => x.cpu.processes[redisAt] ?? Number.NaN));
      const pubsPerRedisSecond = median(slices.map((x) => x.publications / x.seconds / (x.cpu.processes[redisAt] ?? Number.NaN)));
      lines.push(
        `${t}: ${formatCount(med('saturate', t, (x) => x.publications / x.seconds))} publications/s through Redis at ${percent(redisCpu)} of a CPU` +
          (redisCpu >= REDIS_MEASURABLE
            ? `: ${formatCount(pubsPerRedisSecond)} publications per Redis CPU-second (publish script + pub/sub to 2 nodes, ${formatCount(subscribers)} subscribers)`
            : ` (too little for Redis's cost per publication to be read from it; see --subscribers 10 --publishers 16 --window 64)`),
      );
    }
  }

  // Which side limited each rate at saturation: a server-bound target sits at its full CPU
  // while the generator, on its own CPU, has time to spare.
  const limit = (t: string): string => {
    const server = med('saturate', t, (x) => x.cpu.server);
    const generator = med('saturate', t, (x) => x.cpu.generator);
    const who =
      generator >= GENERATOR_BUSY
        ? 'the generator was busy too: a lower bound'
        : server >= SERVER_BUSY
          ? 'the server is the limit'
          : 'neither was saturated: the closed loop\'s window limits it';
    return `${t} server ${percent(server)}, generator ${percent(generator)} (${who})`;
  };
  const ceilingPart = c.ceiling
    ? (() => {
        const vsSubject = ratio('saturate', c.ceiling, s, ratePick);
        const vsBaseline = ratio('saturate', c.ceiling, b, ratePick);
        return `; the ceiling delivered ${formatFixed(vsSubject, 2)}x ${s}'s rate and ${formatFixed(vsBaseline, 2)}x ${b}'s through the same generator`;
      })()
    : '';
  lines.push(`at saturation: ${[s, b].map(limit).join('; ')}${ceilingPart}`);
  const fewest = Math.min(...targets.flatMap((t) => [quietCount(rounds, 'fixed', t), quietCount(rounds, 'saturate', t)]));
  lines.push(
    `machine: only quiet slices count (other work under ${percent(DISTURBED_CPU)} of a CPU; column "quiet"), ratios pair slices of the same round; ` +
      (fewest === 0
        ? 'a target had NO quiet slice in a phase: its figures mostly measure the neighbours; rerun on a quieter machine'
        : fewest < wanted
          ? `a target had only ${fewest} of the ${wanted} quiet slices asked for: the figures are less certain; rerun on a quieter machine`
          : `every target had at least the ${wanted} asked for in each phase`),
  );
  lines.push(
    `deliveries verified (each the next publication its subscriber expected, all ${formatCount(subscribers)} subscribers every publication): ` +
      targets.map((t) => `${t} ${formatCount(done[t]?.verified ?? 0)} (${formatCount(done[t]?.publications ?? 0)} publications)`).join(', '),
  );
  return [
    `(a) fixed load, N = ${formatCount(subscribers)}:`,
    '',
    fixedTable,
    '',
    `(b) saturation, N = ${formatCount(subscribers)}:`,
    '',
    satTable,
    '',
    ...lines,
  ].join('\n');
}
