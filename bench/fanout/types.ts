/**
 * What the fan-out benchmark and its load generators say to each other. One generator process
 * per target holds that target's subscribers and its publisher (so 10,000 subscribers per target
 * need 10,000 descriptors per process, not per benchmark); it gets its configuration as one
 * JSON argument, then one command per line on stdin, and answers each with one JSON line on
 * stdout. Only one generator is loading at a time: the benchmark runs them in turn.
 */
import type { TargetCpu } from './fanout-cpu.js';

/**
 * How a target is spoken to. `protocol`: canal's /connection/websocket, subscribers send
 * connect + subscribe in one frame and answer server pings `{}`, the publisher publishes with
 * the protocol's publish command. `plain`: a broadcast server where every frame the publisher
 * sends goes to every other connection (the ws peer, the ceiling).
 */
export type TargetKind = 'protocol' | 'plain';

/** One target under load. */
export interface FanoutTarget {
  readonly name: string;
  readonly kind: TargetKind;
  /** Subscribers are spread over these ports in turn; the publisher uses the first. */
  readonly ports: readonly number[];
  /** The processes whose CPU time is the target's: its server(s), and Redis with the redis engine. */
  readonly pids: readonly number[];
  /** What each pid is, for the report (`node 1`, `redis`, ...). */
  readonly pidNames: readonly string[];
  /** The channel, for `protocol` targets. */
  readonly channel: string;
}

/** A generator's configuration (its one argument). */
export interface FanoutLoadConfig {
  readonly target: FanoutTarget;
  readonly subscribers: number;
  /** Publisher connections (on the first port), used in turn: publication `seq` goes through publisher `seq % publishers`. */
  readonly publishers: number;
  /** Bytes of each publication's data. */
  readonly size: number;
  /** The generator exits with an error past this, whatever it is doing. */
  readonly deadlineMs: number;
}

/** Measurement (a): `publications` publications sent at `rate` deliveries per second (open loop). */
export interface FixedCommand {
  readonly cmd: 'fixed';
  readonly round: number;
  readonly rate: number;
  readonly publications: number;
}

/** Measurement (b): `window` publications in flight (closed loop) for `sliceMs` after `settleMs`. */
export interface SaturateCommand {
  readonly cmd: 'saturate';
  readonly round: number;
  readonly window: number;
  readonly settleMs: number;
  readonly sliceMs: number;
}

/** Load without counting, so JIT and buffers settle. */
export interface WarmupCommand {
  readonly cmd: 'warmup';
  readonly window: number;
  readonly ms: number;
}

export interface DoneCommand {
  readonly cmd: 'done';
}

export type FanoutCommand = FixedCommand | SaturateCommand | WarmupCommand | DoneCommand;

/** The connections are open and subscribed. */
export interface ReadyLine {
  readonly type: 'ready';
  readonly connectSeconds: number;
}

/** One measured slice of one target. */
export interface FanoutSlice {
  readonly type: 'slice';
  readonly phase: 'fixed' | 'saturate';
  readonly target: string;
  readonly round: number;
  /** Messages received by subscribers during the slice, every one checked. */
  readonly deliveries: number;
  readonly publications: number;
  readonly seconds: number;
  readonly perSecond: number;
  /** CPU time of the target's processes per delivery, in microseconds. */
  readonly cpuUsPerDelivery: number;
  /** Publish-to-receive latency over the slice's deliveries, in milliseconds. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly cpu: TargetCpu;
  readonly quiet: boolean;
}

/** Latency over a whole run of one phase (quiet slices only, all when none was quiet). */
export interface PhaseLatency {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly samples: number;
}

/** The answer to `done`. */
export interface FanoutDone {
  readonly type: 'done';
  readonly target: string;
  /** Every delivery checked (warm-up included): each the next publication its subscriber expected. */
  readonly verified: number;
  readonly publications: number;
  readonly fixed: PhaseLatency;
  readonly saturate: PhaseLatency;
}

export type FanoutLine = ReadyLine | FanoutSlice | FanoutDone;

/** The generator's entry point, relative to the repository root. */
export const FANOUT_LOAD_ENTRY = 'bench/lib/fanout-load.ts';
