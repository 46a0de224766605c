/**
 * Channel names: `ns:rest` belongs to namespace `ns`; a name with no colon belongs to the
 * default namespace (''). Names are checked for length and characters so that they are safe
 * to log, to use in URLs (/raw/<channel>) and as Redis keys. Pure.
 */
import { ErrorCode } from './codes.js';
import { ReplyError } from './errors.js';

/** Letters (with their combining marks) and digits of any script, and `_ - : . @ = + , ; ! ~ # $ /`. */
const CHANNEL_CHARS = /^[\p{L}\p{M}\p{N}_\-:.@=+,;!~#$/]+$/u;

export const CHANNEL_CHARSET_DESCRIPTION = 'letters, digits and _ - : . @ = + , ; ! ~ # $ /';

/** Whether `s` is all ASCII (then it is in NFC with no further check). */
function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/**
 * Throws ReplyError 107 (bad request) when `channel` is empty, longer than `maxLength` bytes
 * of UTF-8, has a character outside {@link CHANNEL_CHARSET_DESCRIPTION}, or is not in Unicode
 * normalization form C. Names are compared as strings, so `chat:é` written as one code point and
 * as `e` plus U+0301 would be two channels that look the same; only the NFC spelling (the one
 * keyboards and most text produce) is accepted, so there is one channel per name a person sees.
 */
export function checkChannelName(channel: string, maxLength: number): void {
  if (channel === '') throw new ReplyError(ErrorCode.BadRequest, 'channel name is empty');
  if (Buffer.byteLength(channel) > maxLength) {
    throw new ReplyError(ErrorCode.BadRequest, `channel name is longer than ${maxLength} bytes`);
  }
  if (!CHANNEL_CHARS.test(channel)) {
    throw new ReplyError(ErrorCode.BadRequest, `channel name may only contain ${CHANNEL_CHARSET_DESCRIPTION}`);
  }
  if (!isAscii(channel) && channel.normalize('NFC') !== channel) {
    throw new ReplyError(ErrorCode.BadRequest, `channel name must be in Unicode normalization form C (NFC); as NFC it is ${JSON.stringify(channel.normalize('NFC'))}`);
  }
}

/** The namespace of `channel`: the part before the first colon, or '' when there is none. */
export function namespaceOf(channel: string): string {
  const i = channel.indexOf(':');
  return i === -1 ? '' : channel.slice(0, i);
}
