/**
 * What the memory benchmark and its connection holders (load processes, one per target) say to
 * each other: a holder's configuration, its commands and its answers (see bench/lib/load-child.ts).
 */
import type { LoadConfigBase } from '../lib/load-child.js';
import type { TargetKind } from '../lib/targets.js';

/** What one holder connects to. */
export interface MemoryLoadConfig extends LoadConfigBase {
  readonly load: 'memory';
  readonly kind: TargetKind;
  readonly port: number;
  /** The channel every protocol connection subscribes to, or the prefix of each one's own channel. */
  readonly channel: string;
  /** Each protocol connection subscribes to its own channel, `<channel>-<index>`. */
  readonly ownChannels: boolean;
}

/** Open connections until `total` are open. */
export interface OpenCommand {
  readonly cmd: 'open';
  readonly total: number;
}

/** Close every connection and exit. */
export interface DoneCommand {
  readonly cmd: 'done';
}

export type MemoryCommand = OpenCommand | DoneCommand;

/** The holder is up (first line), or `total` connections are open. */
export interface OpenedLine {
  readonly type: 'opened';
  readonly total: number;
  readonly seconds: number;
}
