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

/**
 * Throws ReplyError 107 (bad request) when `channel` is empty, longer than `maxLength` bytes
 * of UTF-8, or has a character outside {@link CHANNEL_CHARSET_DESCRIPTION}.
 */
export function checkChannelName(channel: string, maxLength: number): void {
  if (channel === '') throw new ReplyError(ErrorCode.BadRequest, 'channel name is empty');
  if (Buffer.byteLength(channel) > maxLength) {
    throw new ReplyError(ErrorCode.BadRequest, `channel name is longer than ${maxLength} bytes`);
  }
  if (!CHANNEL_CHARS.test(channel)) {
    throw new ReplyError(ErrorCode.BadRequest, `channel name may only contain ${CHANNEL_CHARSET_DESCRIPTION}`);
  }
}

/** The namespace of `channel`: the part before the first colon, or '' when there is none. */
export function namespaceOf(channel: string): string {
  const i = channel.indexOf(':');
  return i === -1 ? '' : channel.slice(0, i);
}
