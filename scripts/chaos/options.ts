/**
 * The chaos run's options: one table gives each flag its default, bounds and help line, so
 * parsing, validation and `--help` cannot disagree. Every load is bounded: in rate, in count and
 * in time.
 */
import { parseArgs } from 'node:util';
import { FAULT_KINDS, type FaultKind } from './schedule.js';

/** A wrong command line: the message says which flag and what is allowed. */
export class UsageError extends Error {}

interface IntSpec {
  readonly default: number;
  /** How --help shows the default, when not as a number. */
  readonly shown?: string;
  readonly min: number;
  readonly max: number;
  readonly doc: string;
}

/** Every integer flag. `minutes` and `seconds` set one length: `seconds` wins when both are given. */
export const INT_FLAGS = {
  minutes: { default: 2, min: 1, max: 120, doc: 'How long faults are injected, in minutes' },
  seconds: { default: 0, shown: 'unset', min: 10, max: 7200, doc: 'The same in seconds, for short runs (overrides --minutes)' },
  seed: { default: -1, shown: 'random', min: 0, max: 0xffffffff, doc: 'Seed of the fault schedule and of every random choice (default: a random one, printed)' },
  nodes: { default: 3, min: 2, max: 6, doc: 'canal nodes (canal serve --engine redis) sharing the private Redis' },
  subscribers: { default: 200, min: 1, max: 2000, doc: 'Recovering subscribers (centrifuge clients), spread over the nodes' },
  channels: { default: 6, min: 1, max: 50, doc: 'Channels of the chaos namespace the subscribers share' },
  'channels-per-subscriber': { default: 2, min: 1, max: 10, doc: 'Channels each subscriber subscribes to' },
  'api-rate': { default: 20, min: 0, max: 2000, doc: 'Publications per second through the server API, over all channels' },
  'client-publishers': { default: 2, min: 0, max: 50, doc: 'Protocol clients that publish' },
  'client-rate': { default: 5, min: 1, max: 500, doc: 'Publications per second of each protocol publisher (one in flight at a time)' },
  'fault-gap': { default: 6, min: 1, max: 600, doc: 'Mean seconds between the planned starts of two faults (shortened so a run has every kind at least once)' },
  'drop-max': { default: 20, min: 1, max: 2000, doc: 'Most subscribers one "drop" fault cuts at once (TCP closed, no close frame)' },
  'slow-burst': { default: 100, min: 1, max: 10_000, doc: 'Publications sent to the slow consumer\'s channel while it stops reading' },
  'slow-burst-bytes': { default: 60_000, min: 16, max: 500_000, doc: 'Size of each of those publications (the burst must outgrow the kernel\'s socket buffers, a few MiB on loopback, to make canal cut the consumer)' },
  'flood-clients': { default: 1, min: 1, max: 20, doc: 'Plain WebSockets of one /raw/ flood' },
  'flood-messages': { default: 5000, min: 1, max: 1_000_000, doc: 'Messages each flood client sends (as fast as its socket takes them)' },
  'flood-bytes': { default: 1024, min: 1, max: 65_536, doc: 'Size of each flood message (canal refuses more than raw_max_message_bytes, 64 KiB)' },
  'flood-seconds': { default: 10, min: 1, max: 120, doc: 'Longest a flood client keeps sending' },
  'node-heap-mb': { default: 0, shown: 'unset', min: 0, max: 65_536, doc: 'Heap limit of each node (--max-old-space-size); 0 leaves Node\'s default' },
  'settle-seconds': { default: 45, min: 5, max: 600, doc: 'After the faults, how long every subscriber gets to catch up with the last publication' },
} as const satisfies Record<string, IntSpec>;

type IntName = keyof typeof INT_FLAGS;

const STRING_FLAGS = {
  faults: { doc: `Fault kinds to inject, comma-separated (default: all of ${FAULT_KINDS.join(', ')})` },
  summary: { doc: 'Also write the counts and the verdict as JSON to this file' },
  'log-dir': { doc: 'Keep every node\'s log (stderr) and Redis\'s output in this directory' },
} as const;

export interface ChaosOptions {
  /** How long faults are injected (ms). */
  readonly lengthMs: number;
  readonly seed: number;
  /** Whether the seed was given (a replay) or drawn. */
  readonly seedGiven: boolean;
  readonly nodes: number;
  readonly subscribers: number;
  readonly channels: number;
  readonly channelsPerSubscriber: number;
  readonly apiRate: number;
  readonly clientPublishers: number;
  readonly clientRate: number;
  readonly faultGapMs: number;
  readonly faults: readonly FaultKind[];
  readonly dropMax: number;
  readonly slowBurst: number;
  readonly slowBurstBytes: number;
  readonly floodClients: number;
  readonly floodMessages: number;
  readonly floodBytes: number;
  readonly floodMs: number;
  readonly nodeHeapMb: number;
  readonly settleMs: number;
  readonly summary: string | undefined;
  readonly logDir: string | undefined;
  /** Make one subscriber ignore one publication, to see the verifier fail (`--self-check`). */
  readonly selfCheck: boolean;
}

/** The options, or undefined when --help was asked. Throws UsageError naming the flag for anything wrong. */
export function parseOptions(argv: readonly string[], randomSeed: () => number): ChaosOptions | undefined {
  const spec: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' }, 'self-check': { type: 'boolean' } };
  for (const name of [...Object.keys(INT_FLAGS), ...Object.keys(STRING_FLAGS)]) spec[name] = { type: 'string' };
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: [...argv], options: spec, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError(`${(err as Error).message.split('\n')[0]} (see npm run chaos -- --help)`);
  }
  if (values.help) return undefined;
  const int = (name: IntName): number => {
    const s = INT_FLAGS[name];
    const raw = values[name];
    if (raw === undefined) return s.default;
    const n = Number(raw);
    if (typeof raw !== 'string' || raw.trim() === '' || !Number.isInteger(n) || n < s.min || n > s.max) {
      throw new UsageError(`--${name}: must be an integer from ${s.min} to ${s.max}, got ${JSON.stringify(raw)}`);
    }
    return n;
  };
  const str = (name: keyof typeof STRING_FLAGS): string | undefined => {
    const raw = values[name];
    if (raw === undefined) return undefined;
    if (typeof raw !== 'string' || raw === '') throw new UsageError(`--${name}: needs a value`);
    return raw;
  };
  const faults = parseFaultKinds(str('faults'));
  const seconds = int('seconds');
  const seedGiven = values.seed !== undefined;
  const channels = int('channels');
  const channelsPerSubscriber = int('channels-per-subscriber');
  if (channelsPerSubscriber > channels) throw new UsageError(`--channels-per-subscriber: must be at most --channels (${channels}), got ${channelsPerSubscriber}`);
  return {
    lengthMs: (seconds > 0 ? seconds : int('minutes') * 60) * 1000,
    seed: seedGiven ? int('seed') : randomSeed() >>> 0,
    seedGiven,
    nodes: int('nodes'),
    subscribers: int('subscribers'),
    channels,
    channelsPerSubscriber,
    apiRate: int('api-rate'),
    clientPublishers: int('client-publishers'),
    clientRate: int('client-rate'),
    faultGapMs: int('fault-gap') * 1000,
    faults,
    dropMax: int('drop-max'),
    slowBurst: int('slow-burst'),
    slowBurstBytes: int('slow-burst-bytes'),
    floodClients: int('flood-clients'),
    floodMessages: int('flood-messages'),
    floodBytes: int('flood-bytes'),
    floodMs: int('flood-seconds') * 1000,
    nodeHeapMb: int('node-heap-mb'),
    settleMs: int('settle-seconds') * 1000,
    summary: str('summary'),
    logDir: str('log-dir'),
    selfCheck: values['self-check'] === true,
  };
}

function parseFaultKinds(raw: string | undefined): readonly FaultKind[] {
  if (raw === undefined) return FAULT_KINDS;
  const kinds = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const unknown = kinds.filter((k) => !(FAULT_KINDS as readonly string[]).includes(k));
  if (unknown.length > 0 || kinds.length === 0) {
    throw new UsageError(`--faults: must be a comma-separated list of ${FAULT_KINDS.join(', ')}, got ${JSON.stringify(raw)}`);
  }
  return [...new Set(kinds)] as FaultKind[];
}

/** `--help`. */
export function usage(): string {
  const rows: Array<readonly [string, string]> = [
    ...Object.entries(INT_FLAGS).map(([name, s]: [string, IntSpec]) => [`--${name} N`, `${s.doc} (default ${s.shown ?? s.default}; ${s.min}..${s.max})`] as const),
    ...Object.entries(STRING_FLAGS).map(([name, s]) => [`--${name} ${name === 'faults' ? 'LIST' : name === 'log-dir' ? 'DIR' : 'FILE'}`, s.doc] as const),
    ['--self-check', 'Make subscriber #0 ignore one publication: the run must then fail with a silent loss'],
    ['-h, --help', 'Show this help.'],
  ];
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  return [
    'Usage: npm run chaos -- [--minutes N | --seconds N] [--seed N] [flags]',
    '',
    'Starts a private redis-server and canal nodes on 127.0.0.1, subscribers and publishers, injects',
    'faults on a seeded random schedule, then checks that every subscriber received every',
    'acknowledged publication once, in order, or was told it was lost (recovered: false).',
    'Exits 0 when it did, 1 on any silent loss, duplicate, reordering or crashed node, 2 on a bad flag.',
    '',
    'Flags:',
    ...rows.map(([flag, doc]) => `  ${flag.padEnd(width)}${doc}`),
  ].join('\n');
}
