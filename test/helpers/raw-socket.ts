/**
 * A WebSocket handshake over a bare TCP socket, for tests that must send bytes no well-behaved
 * client would (framing violations), and read the server's frames as bytes.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/** Opens a TCP connection, performs the opening handshake on `path`, resolves with the socket. */
export function rawHandshake(port: number, path = '/', headers: Record<string, string> = {}): Promise<{ socket: Socket; response: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let buf = Buffer.alloc(0);
    socket.once('error', reject);
    socket.on('connect', () => {
      const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`,
      );
    });
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      const rest = buf.subarray(end + 4);
      if (rest.length > 0) socket.unshift(rest);
      resolve({ socket, response: buf.subarray(0, end).toString() });
    };
    socket.on('data', onData);
  });
}

/** A client frame (masked, RFC 6455 §5.3) with the given first byte and payload. */
export function clientFrame(firstByte: number, payload: Buffer): Buffer {
  const mask = randomBytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  if (payload.length >= 126) throw new Error('clientFrame: short payloads only');
  return Buffer.concat([Buffer.from([firstByte, 0x80 | payload.length]), mask, masked]);
}

/** Reads server frames until a close frame; resolves with its status code (1005 when none). */
export function readCloseCode(socket: Socket, timeoutMs = 5000): Promise<number> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => reject(new Error('no close frame')), timeoutMs);
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2) {
        const opcode = buf[0]! & 0x0f;
        let len = buf[1]! & 0x7f;
        let offset = 2;
        if (len === 126) {
          if (buf.length < 4) return;
          len = buf.readUInt16BE(2);
          offset = 4;
        } else if (len === 127) {
          if (buf.length < 10) return;
          len = Number(buf.readBigUInt64BE(2));
          offset = 10;
        }
        if (buf.length < offset + len) return;
        const payload = buf.subarray(offset, offset + len);
        buf = buf.subarray(offset + len);
        if (opcode === 0x8) {
          clearTimeout(timer);
          socket.off('data', onData);
          resolve(payload.length >= 2 ? payload.readUInt16BE(0) : 1005);
          return;
        }
      }
    };
    socket.on('data', onData);
    socket.once('close', () => {
      clearTimeout(timer);
      reject(new Error('socket closed without a close frame'));
    });
  });
}
