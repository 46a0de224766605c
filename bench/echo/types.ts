/**
 * What the echo benchmark passes to its load-generator process (as one JSON argument) and what
 * the generator prints back (JSON lines on stdout: one per measured slice, then a summary).
 */
import type { CpuShares } from './cpu-usage.js';

/** One server under test, listening on ws://127.0.0.1:port/. */
export interface EchoTargetAddress {
  readonly name: string;
  readonly port: number;
  /** Its process, whose CPU time is sampled at both ends of each of its slices. */
  readonly serverPid: number;
}

/**
 * A run: every target warmed up in turn, then rounds in which each target in turn carries the
 * whole load for one slice, until every target has `rounds` quiet slices or `maxRounds` rounds
 * were run.
 */
export interface EchoLoadConfig {
  readonly targets: readonly EchoTargetAddress[];
  /** Connections per target (each target has its own, idle while another is measured). */
  readonly connections: number;
  /** Messages in flight per connection. */
  readonly window: number;
  /** Bytes per message. */
  readonly size: number;
  /** Load per target before the first round, so JIT and socket buffers settle. */
  readonly warmupMs: number;
  /** Measured time of one target in one round. */
  readonly sliceMs: number;
  /** Quiet slices wanted per target. */
  readonly rounds: number;
  /** Rounds run at most, quiet or not. */
  readonly maxRounds: number;
}

/** One target's slice of one round. */
export interface SliceReport {
  readonly type: 'slice';
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

/** One target over the whole run. */
export interface TargetSummary {
  /** Replies checked, warm-up and drains included; all were right (a wrong one ends the run). */
  readonly verified: number;
  /** Round-trip latency percentiles, write to reply, in milliseconds, over quiet slices (all when none was). */
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** The last line: per-target summaries. */
export interface DoneReport {
  readonly type: 'done';
  readonly targets: Readonly<Record<string, TargetSummary>>;
}

export type EchoLoadLine = SliceReport | DoneReport;

/** The path of the load-generator entry point, relative to the repository root. */
export const ECHO_LOAD_ENTRY = 'bench/lib/echo-load.ts';
