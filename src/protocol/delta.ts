/**
 * Fossil deltas of publication data (the protocol's `delta: "fossil"` subscriptions). A delta
 * turns the previous publication's data into the next one's; the client keeps the previous data
 * and applies it. A delta is only worth sending when it is smaller than the data itself, and —
 * on the JSON protocol, where it travels inside a JSON string — when its bytes are valid UTF-8
 * (a copy boundary may fall inside a multi-byte character; such a delta would not survive the
 * string). Either way the caller sends the full data instead, which is always correct. Pure.
 */
import { createDelta } from 'fossil-delta';

/** The delta types canal can negotiate, as the subscribe command names them. */
export const DELTA_TYPES = ['fossil'] as const;

export type DeltaType = (typeof DELTA_TYPES)[number];

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The UTF-8 bytes of `text`. */
export function utf8Bytes(text: string): Uint8Array {
  return utf8.encode(text);
}

/** The fossil delta from `prev` to `next`, or undefined when it is not smaller than `next`. */
export function binaryDelta(prev: Uint8Array, next: Uint8Array): Uint8Array | undefined {
  const delta = createDelta(prev, next);
  return delta.length < next.length ? delta : undefined;
}

/**
 * The fossil delta from the UTF-8 bytes of `prev` to those of `next`, as the string a JSON
 * client puts back into bytes (TextEncoder) before applying it; undefined when the full text
 * should be sent instead (not smaller, or not valid UTF-8).
 */
export function textDelta(prev: Uint8Array, next: Uint8Array): string | undefined {
  const delta = binaryDelta(prev, next);
  if (delta === undefined) return undefined;
  try {
    return strictUtf8.decode(delta);
  } catch {
    return undefined;
  }
}
