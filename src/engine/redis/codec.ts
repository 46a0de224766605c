/**
 * How publications travel through Redis: a small JSON header (offset, epoch, time, info, tags),
 * a newline, then the data's JSON text untouched. JSON text never holds a raw newline, so the
 * first newline ends the header, and the data is never parsed and serialised again.
 */
import { encodeClientInfo } from '../../protocol/encode.js';
import type { ClientInfo, Publication, JsonText, StreamPosition } from '../../protocol/types.js';
import type { PublicationInput } from '../types.js';

/** Pub/sub message kinds: the first character of a message. */
export const Kind = { Publication: 'p', Join: 'j', Leave: 'l' } as const;

/** The header fields after offset and epoch (the Lua script writes those), e.g. `,"t":1700000000000`. */
export function headerRest(input: PublicationInput, time: number): string {
  let out = `,"t":${time}`;
  if (input.info) out += `,"i":${encodeClientInfo(input.info)}`;
  if (input.tags && Object.keys(input.tags).length > 0) out += `,"g":${JSON.stringify(input.tags)}`;
  return out;
}

interface WireInfo {
  user: string;
  client: string;
  conn_info?: unknown;
  chan_info?: unknown;
}

/** A ClientInfo from its parsed JSON; conn_info and chan_info become JSON text again. */
export function infoFromWire(w: WireInfo): ClientInfo {
  const info: { user: string; client: string; conn_info?: JsonText; chan_info?: JsonText } = { user: w.user, client: w.client };
  if (w.conn_info !== undefined) info.conn_info = JSON.stringify(w.conn_info) as JsonText;
  if (w.chan_info !== undefined) info.chan_info = JSON.stringify(w.chan_info) as JsonText;
  return info;
}

/** Decodes a stored or published body (header, newline, data). Throws on a malformed body. */
export function decodeBody(body: string): { pub: Publication; position: StreamPosition } {
  const nl = body.indexOf('\n');
  if (nl === -1) throw new Error('malformed publication from Redis: no header');
  const h = JSON.parse(body.slice(0, nl)) as { o: number; e: string; t?: number; i?: WireInfo; g?: Record<string, string> };
  const pub: { data: JsonText; offset?: number; time?: number; info?: ClientInfo; tags?: Record<string, string> } = {
    data: body.slice(nl + 1) as JsonText,
  };
  if (h.o > 0) pub.offset = h.o;
  if (h.t !== undefined) pub.time = h.t;
  if (h.i) pub.info = infoFromWire(h.i);
  if (h.g) pub.tags = h.g;
  return { pub, position: { offset: h.o, epoch: h.e } };
}
