/**
 * The publications of the fan-out load: JSON data of about `size` bytes that starts with a
 * sequence number and the send time, `{"seq":12,"t":1795823922867123,"pad":"xx..."}`, so every
 * delivery can be checked to be the next one its subscriber expects, and timed, by reading a few
 * digits found with indexOf: no JSON.parse per delivery. JSON numbers cannot have leading zeros,
 * so the numbers have their natural width and the padding makes up the size.
 */
import { performance } from 'node:perf_hooks';

/** What every publication's data starts with; found with indexOf in what subscribers receive. */
export const SEQ_KEY = Buffer.from('{"seq":', 'latin1');
const TIME_KEY = Buffer.from(',"t":', 'latin1');

/** The smallest data worth sending: the two numbers and an empty padding. */
export const MIN_DATA_BYTES = 48;

const pads = new Map<number, string>();

function pad(length: number): string {
  let p = pads.get(length);
  if (p === undefined) {
    p = 'x'.repeat(Math.max(0, length));
    pads.set(length, p);
  }
  return p;
}

/** Now, in whole microseconds since the Unix epoch (performance.timeOrigin + performance.now()). */
export function nowMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/** The JSON text of publication `seq` sent at `sentUs`, padded to `size` bytes (more when the numbers need it). */
export function publicationData(seq: number, sentUs: number, size: number): string {
  const bare = `{"seq":${seq},"t":${sentUs},"pad":""}`;
  return `{"seq":${seq},"t":${sentUs},"pad":"${pad(size - bare.length)}"}`;
}

/** Where {@link findPublication} puts what it read. */
export interface FoundPublication {
  seq: number;
  sentUs: number;
}

/** The value of the last digits read by {@link readDigits}: a scratch, so reading allocates nothing. */
let digitsValue = 0;

/** Reads the ASCII digits at `at` into {@link digitsValue}; returns the offset past them, -1 when there are none. */
function readDigits(buf: Buffer, at: number, end: number): number {
  let value = 0;
  let i = at;
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c < 0x30 || c > 0x39) break;
    value = value * 10 + (c - 0x30);
  }
  digitsValue = value;
  return i === at ? -1 : i;
}

/**
 * Finds the next publication's data in `buf` between `from` and `end` (a frame's payload, which
 * may hold several newline-separated pushes) and reads its numbers into `into`. Returns the
 * offset to search on from, or -1 when there is none left. Throws when the data is cut short.
 */
export function findPublication(buf: Buffer, from: number, end: number, into: FoundPublication): number {
  const at = buf.indexOf(SEQ_KEY, from);
  if (at === -1 || at >= end) return -1;
  const afterSeq = readDigits(buf, at + SEQ_KEY.length, end);
  if (afterSeq === -1 || buf.compare(TIME_KEY, 0, TIME_KEY.length, afterSeq, afterSeq + TIME_KEY.length) !== 0) {
    throw new Error(`malformed publication data: ${JSON.stringify(buf.subarray(at, Math.min(end, at + 60)).toString('latin1'))}`);
  }
  into.seq = digitsValue;
  const afterTime = readDigits(buf, afterSeq + TIME_KEY.length, end);
  if (afterTime === -1) throw new Error(`publication ${into.seq} has no send time`);
  into.sentUs = digitsValue;
  return afterTime;
}
