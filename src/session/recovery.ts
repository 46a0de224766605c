/**
 * Recovery decisions, pure: given what the client had (its position), what the history holds
 * after it, and the channel's recovery mode, what does the subscribe result say? No I/O: the
 * caller reads history and passes the page in.
 */
import type { Publication, StreamPosition } from '../protocol/types.js';

export type RecoveryMode = 'stream' | 'cache';

/** What the history read returned for the client's position. */
export type HistorySlice =
  /** Publications after the client's offset, oldest first (at most `max + 1` of them), and the stream's top. */
  | { readonly kind: 'page'; readonly publications: readonly Publication[]; readonly top: StreamPosition }
  /** The client's epoch is not the stream's, or its offset is past the top. */
  | { readonly kind: 'unrecoverable'; readonly top: StreamPosition };

export interface RecoveryOutcome {
  readonly recovered: boolean;
  /** What to send in the subscribe result, oldest first; empty when not recovered. */
  readonly publications: readonly Publication[];
}

/**
 * Stream mode: recovered when the slice starts right after the client's offset and is
 * contiguous up to the top, with at most `maxPublications` of them; otherwise not recovered
 * and nothing is sent (the client must reload its state: sending a partial gap would hide it).
 */
export function recoverStream(from: StreamPosition, slice: HistorySlice, maxPublications: number): RecoveryOutcome {
  const none: RecoveryOutcome = { recovered: false, publications: [] };
  if (slice.kind === 'unrecoverable') return none;
  const { publications, top } = slice;
  if (top.epoch !== from.epoch) return none;
  if (publications.length > maxPublications) return none;
  let expected = from.offset + 1;
  for (const pub of publications) {
    if (pub.offset !== expected) return none;
    expected++;
  }
  if (expected - 1 !== top.offset) return none;
  return { recovered: true, publications };
}

/**
 * Cache mode (latest-value channels): the newest publication is the whole state. A client
 * already at the top of the same epoch gets nothing and is recovered; any other client gets
 * the newest publication and is recovered. When the stream holds no publication (none yet,
 * expired, or removed) there is nothing to hand over: not recovered, and the application must
 * load the state itself.
 */
export function recoverLatest(from: StreamPosition | undefined, latest: Publication | undefined, top: StreamPosition): RecoveryOutcome {
  if (from && from.epoch === top.epoch && from.offset >= top.offset) return { recovered: true, publications: [] };
  if (latest) return { recovered: true, publications: [latest] };
  return { recovered: false, publications: [] };
}
