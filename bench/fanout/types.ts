/**
 * What the fan-out benchmark and its load processes say to each other (see
 * bench/lib/load-child.ts): one load process per target holds that target's subscribers and its
 * publishers; the benchmark sends it one measurement at a time.
 */
import type { TargetCpu } from '../lib/cpu.js';
import type { LoadConfigBase } from '../lib/load-child.js';
import type { LatencyFigures } from '../lib/tally.js';
import type { TargetKind } from '../lib/targets.js';

/** One target under load. */
export interface FanoutTarget {
  readonly name: string;
  readonly kind: TargetKind;
  /** Subscribers are spread over these ports in turn; the publishers use the first. */
  readonly ports: readonly number[];
  /** The processes whose CPU time is the target's: its server(s), and Redis with the redis engine. */
  readonly pids: readonly number[];
  /** What each pid is, for the report (`node 1`, `redis`, ...). */
  readonly pidNames: readonly string[];
  /** The channel, for `protocol` targets. */
  readonly channel: string;
}

/** A load process's configuration (its one argument). */
export interface FanoutLoadConfig extends LoadConfigBase {
  readonly load: 'fanout';
  readonly target: FanoutTarget;
  readonly subscribers: number;
  /** Publisher connections (on the first port), used in turn: publication `seq` goes through publisher `seq % publishers`. */
  readonly publishers: number;
  /** Bytes of each publication's data. */
  readonly size: number;
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

/** The connections are open and subscribed (first line), or the warm-up is over. */
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

/** The answer to `done`. */
export interface FanoutDone {
  readonly type: 'done';
  readonly target: string;
  /** Every delivery checked (warm-up included): each the next publication its subscriber expected. */
  readonly verified: number;
  readonly publications: number;
  readonly fixed: LatencyFigures;
  readonly saturate: LatencyFigures;
}

export type FanoutLine = ReadyLine | FanoutSlice | FanoutDone;
