/**
 * What the echo benchmark and its load processes (one per target) say to each other: the
 * configuration, the commands, the lines answered (see bench/lib/load-child.ts).
 */
import type { CpuShares } from '../lib/cpu.js';
import type { LoadConfigBase } from '../lib/load-child.js';
import type { LatencyFigures } from '../lib/tally.js';

/** One target's load: C connections to ws://127.0.0.1:port/, each keeping `window` messages in flight. */
export interface EchoLoadConfig extends LoadConfigBase {
  readonly load: 'echo';
  readonly port: number;
  /** The target's processes, whose CPU time is sampled at both ends of each of its slices. */
  readonly serverPids: readonly number[];
  readonly connections: number;
  /** Messages in flight per connection. */
  readonly window: number;
  /** Bytes per message. */
  readonly size: number;
}

/** Load without counting, so JIT and socket buffers settle. */
export interface EchoWarmup {
  readonly cmd: 'warmup';
  readonly ms: number;
}

/** One measured slice: loaded for `settleMs` (back to a steady state), then counted for `sliceMs`, then drained. */
export interface EchoSliceCommand {
  readonly cmd: 'slice';
  readonly round: number;
  readonly settleMs: number;
  readonly sliceMs: number;
}

export interface EchoDoneCommand {
  readonly cmd: 'done';
}

export type EchoCommand = EchoWarmup | EchoSliceCommand | EchoDoneCommand;

/** The connections are open (first line), or the warm-up is over. */
export interface EchoReady {
  readonly type: 'ready';
  readonly seconds: number;
}

/** One target's slice of one round. */
export interface EchoSlice {
  readonly type: 'slice';
  readonly phase: 'echo';
  readonly target: string;
  readonly round: number;
  readonly roundTrips: number;
  readonly seconds: number;
  readonly perSecond: number;
  /** CPU used during the slice, in CPUs. */
  readonly cpu: CpuShares;
  /** Whether other work on the machine stayed under the disturbance threshold. */
  readonly quiet: boolean;
}

/** The answer to `done`: the target over the whole run. */
export interface EchoDone {
  readonly type: 'done';
  /** Replies checked, warm-up and drains included; all were right (a wrong one ends the run). */
  readonly verified: number;
  /** Round-trip latency, write to reply, over quiet slices (all when none was). */
  readonly latency: LatencyFigures;
}

export type EchoLine = EchoReady | EchoSlice | EchoDone;
