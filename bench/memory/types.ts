/**
 * What the memory benchmark and its connection holders say to each other: a holder's
 * configuration (one JSON argument), its commands (JSON lines on stdin) and its answers (JSON
 * lines on stdout). One holder per target, so each process needs descriptors for one target only.
 */
import type { TargetKind } from './fanout-load-types.js';

/** What one holder connects to. */
export interface MemoryLoadConfig {
  readonly name: string;
  readonly kind: TargetKind;
  readonly port: number;
  /** The channel every protocol connection subscribes to, or the prefix of each one's own channel. */
  readonly channel: string;
  /** Each protocol connection subscribes to its own channel, `<channel>-<index>`. */
  readonly ownChannels: boolean;
  readonly deadlineMs: number;
}

export type MemoryLoadCommand = { readonly cmd: 'open'; readonly total: number } | { readonly cmd: 'done' };

export interface OpenedLine {
  readonly type: 'opened';
  readonly total: number;
  readonly seconds: number;
}

/** The holder's entry point, relative to the repository root. */
export const MEMORY_LOAD_ENTRY = 'bench/lib/memory-load.ts';
