/**
 * The few pieces of RFC 6455 the load generator and the ceiling peer need, as pure functions
 * over bytes: the opening handshake, frame headers, masking. Deliberately minimal (no
 * fragmentation, no extensions, payloads below 64 KiB): it exists so the load generator costs
 * far less per message than the servers it measures, not to be a general client.
 */
import { createHash, randomBytes } from 'node:crypto';

/** RFC 6455 §1.3: the GUID appended to Sec-WebSocket-Key before hashing. */
const HANDSHAKE_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Frame opcodes (RFC 6455 §5.2), the only ones the bench speaks. */
export const Opcode = {
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;

const FIN = 0x80;
const MASK_BIT = 0x80;

/** Largest payload these helpers frame: the 16-bit extended length (RFC 6455 §5.2). */
export const MAX_PAYLOAD = 0xffff;

/** The Sec-WebSocket-Accept value a server must answer to `key` (RFC 6455 §4.2.2). */
export function acceptKey(key: string): string {
  return createHash('sha1').update(key + HANDSHAKE_GUID).digest('base64');
}

/** A client's opening handshake for `ws://host:port/path`, with a fresh random key. */
export function handshakeRequest(host: string, port: number, path: string): { request: string; key: string } {
  const key = randomBytes(16).toString('base64');
  const request =
    `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
  return { request, key };
}

/**
 * Checks a server's handshake response head (without the final CRLFCRLF); returns undefined
 * when it accepts `key`, else why not.
 */
export function checkHandshakeResponse(head: string, key: string): string | undefined {
  const [status = ''] = head.split('\r\n', 1);
  if (!/^HTTP\/1\.1 101 /.test(status)) return `handshake refused: ${status}`;
  const accept = /\r\nsec-websocket-accept:\s*(\S+)/i.exec(head)?.[1];
  if (accept !== acceptKey(key)) return 'handshake answered with a wrong Sec-WebSocket-Accept';
  return undefined;
}

/** Bytes of frame header before the payload: 2, plus 2 for a 16-bit length, plus 4 if masked. */
export function headerLength(payloadLength: number, masked: boolean): number {
  return (payloadLength < 126 ? 2 : 4) + (masked ? 4 : 0);
}

/**
 * Writes a final frame's header at `offset` in `out`, with `mask` when given (client frames
 * must be masked, RFC 6455 §5.3); returns the offset where the payload starts. Throws past
 * {@link MAX_PAYLOAD}.
 */
export function writeHeader(out: Buffer, offset: number, opcode: number, payloadLength: number, mask?: Buffer): number {
  if (payloadLength > MAX_PAYLOAD) throw new RangeError(`payload of ${payloadLength} bytes: at most ${MAX_PAYLOAD}`);
  const maskBit = mask ? MASK_BIT : 0;
  out[offset] = FIN | opcode;
  let at = offset + 2;
  if (payloadLength < 126) {
    out[offset + 1] = maskBit | payloadLength;
  } else {
    out[offset + 1] = maskBit | 126;
    out.writeUInt16BE(payloadLength, offset + 2);
    at += 2;
  }
  if (mask) {
    mask.copy(out, at, 0, 4);
    at += 4;
  }
  return at;
}

/** A complete client frame: `payload` masked with a fresh random key. */
export function clientFrame(opcode: number, payload: Buffer): Buffer {
  const mask = randomBytes(4);
  const out = Buffer.allocUnsafe(headerLength(payload.length, true) + payload.length);
  const at = writeHeader(out, 0, opcode, payload.length, mask);
  for (let i = 0; i < payload.length; i++) out[at + i] = payload[i]! ^ mask[i & 3]!;
  return out;
}

/** Where one frame lies in a buffer: as parsed by {@link parseFrameHeader}. */
export interface FrameHeader {
  fin: boolean;
  opcode: number;
  /** Offset of the 4-byte masking key, or -1 when the frame is not masked. */
  maskAt: number;
  payloadAt: number;
  payloadLength: number;
  /** Offset just past the frame. */
  end: number;
}

/**
 * Parses the frame header at `offset` into `into` (reused, so parsing allocates nothing).
 * Returns false when `buf` does not yet hold the whole frame; throws on a 64-bit length,
 * which nothing in the bench sends.
 */
export function parseFrameHeader(buf: Buffer, offset: number, into: FrameHeader): boolean {
  if (buf.length - offset < 2) return false;
  const b0 = buf[offset]!;
  const b1 = buf[offset + 1]!;
  let length = b1 & 0x7f;
  let at = offset + 2;
  if (length === 126) {
    if (buf.length - offset < 4) return false;
    length = buf.readUInt16BE(at);
    at += 2;
  } else if (length === 127) {
    throw new RangeError('frame with a 64-bit length: the bench never sends one');
  }
  const masked = (b1 & MASK_BIT) !== 0;
  const payloadAt = masked ? at + 4 : at;
  if (buf.length < payloadAt + length) return false;
  into.fin = (b0 & FIN) !== 0;
  into.opcode = b0 & 0x0f;
  into.maskAt = masked ? at : -1;
  into.payloadAt = payloadAt;
  into.payloadLength = length;
  into.end = payloadAt + length;
  return true;
}

/** A fresh header record for {@link parseFrameHeader}. */
export function emptyFrameHeader(): FrameHeader {
  return { fin: false, opcode: 0, maskAt: -1, payloadAt: 0, payloadLength: 0, end: 0 };
}
