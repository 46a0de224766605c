/**
 * How a ClientSession keeps its state small (issue 11: idle memory per connection is a figure we
 * publish): its booleans and its place in the state machine as bits of one number, and what few
 * connections ever have in one object made when the first of it is set. On Node each field of a
 * per-connection object is 8 bytes.
 */
import type { Codec } from '../protocol/codec.js';
import type { JsonText } from '../protocol/types.js';
import type { UpgradeHeaders } from '../proxy/proxy.js';
import type { Refusals } from './rate-limit.js';

/** Where a connection is: connecting -> connected -> closed. */
export type State = 'connecting' | 'connected' | 'closed';

/** The bits of ClientSession's flags. */
export const PROCESSING = 1;
export const PAUSED = 2;
export const AWAITING_PONG = 4;
export const CLEANED_UP = 8;
export const WAS_CONNECTED = 16;
export const REFRESHING = 32;
/** The state, in the same number ('connecting' when neither bit is set). */
const CONNECTED = 64;
const CLOSED = 128;

/** The state that `flags` hold. */
export function stateOf(flags: number): State {
  return (flags & CLOSED) !== 0 ? 'closed' : (flags & CONNECTED) !== 0 ? 'connected' : 'connecting';
}

/** `flags` with their state bits set to `state`, the other bits as they were. */
export function withState(flags: number, state: State): number {
  return (flags & ~(CONNECTED | CLOSED)) | (state === 'closed' ? CLOSED : state === 'connected' ? CONNECTED : 0);
}

/**
 * What few connections ever have — a Protobuf codec, an emulated session id, proxied headers,
 * meta, a counted admission, an expiry, the close code: an idle anonymous connection keeps one
 * empty field for all of it.
 */
export interface RareState {
  /** Protobuf's; JSON (undefined here) is the default. */
  codec: Codec | undefined;
  /** The secret id of an emulated connection (SessionOptions.emulationSession). */
  emulationSession: string | undefined;
  /** From the token or the connect proxy: sent to the backend with proxy calls, never to clients. */
  meta: JsonText | undefined;
  /** The upgrade request's headers that some proxy forwards. */
  headers: UpgradeHeaders | undefined;
  /** The connect command's emulated headers that some proxy forwards. */
  emulated: Readonly<Record<string, string>> | undefined;
  /** The engine's number for this connection when it counts toward its user's limit. */
  admission: number | undefined;
  /**
   * When the connection token must be refreshed by (Unix ms), if it expires; with a refresh
   * proxy, when the backend must be asked again (the server refreshes, the client is not told).
   */
  expiresAt: number | undefined;
  closeCode: number;
  /** The rate limit's refusals in their window, from the first refusal until a heartbeat finds the window over. */
  refusals: Refusals | undefined;
}

/** A RareState with nothing set (every field present, so all of them share one shape). */
export function emptyRareState(): RareState {
  return {
    codec: undefined, emulationSession: undefined, meta: undefined, headers: undefined,
    emulated: undefined, admission: undefined, expiresAt: undefined, closeCode: 0, refusals: undefined,
  };
}
