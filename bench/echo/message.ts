/**
 * The messages of the echo load: ASCII text of a fixed size that starts with a 10-digit
 * sequence number, so every reply can be checked to answer exactly the message sent at its
 * place in the stream, and patching the number is the only per-message work.
 */

/** What the echo endpoint puts before a text message in its reply. */
export const ECHO_PREFIX = 'echo: ';

/** Digits of the sequence number at the start of each message. */
export const SEQ_DIGITS = 10;

/** The last sequence number a message can carry; a connection sends no more than this many. */
export const MAX_SEQ = 10 ** SEQ_DIGITS - 1;

/** The smallest message that holds a sequence number and a separator. */
export const MIN_MESSAGE_BYTES = SEQ_DIGITS + 1;

const FILLER = 'abcdefghijklmnopqrstuvwxyz0123456789';

/**
 * The message body for connection `connection`, `size` bytes of ASCII, sequence number 0;
 * throws below {@link MIN_MESSAGE_BYTES}.
 */
export function messageTemplate(connection: number, size: number): Buffer {
  if (size < MIN_MESSAGE_BYTES) throw new RangeError(`message size ${size}: at least ${MIN_MESSAGE_BYTES} bytes`);
  let text = `${'0'.repeat(SEQ_DIGITS)} c${connection} `;
  while (text.length < size) text += FILLER;
  return Buffer.from(text.slice(0, size), 'latin1');
}

/**
 * Writes `seq` as {@link SEQ_DIGITS} ASCII digits at `offset` in `out`, XORed with `mask` when
 * given (RFC 6455 §5.3: payload byte i is masked with mask[i % 4]; the digits start the payload).
 */
export function writeSeq(out: Buffer, offset: number, seq: number, mask?: Buffer): void {
  let rest = seq;
  for (let i = SEQ_DIGITS - 1; i >= 0; i--) {
    const quotient = Math.floor(rest / 10);
    const digit = 0x30 + rest - quotient * 10;
    out[offset + i] = mask ? digit ^ mask[i & 3]! : digit;
    rest = quotient;
  }
}
