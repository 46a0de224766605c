/**
 * The server side of the WebSocket opening handshake for the bench's node:net peers (the
 * ceilings): read the request, answer 101 with the accept key (RFC 6455 §4.2.2), then hand every
 * later chunk of bytes — and any that came with the request — to `onFrames` (with the socket as
 * `this`, one listener shared by every socket). `beforeAnswer` runs just before the 101 leaves.
 * A request with no key gets 400.
 */
import type { Socket } from 'node:net';
import { acceptKey } from './ws-frames.js';

export function acceptUpgrade(
  socket: Socket,
  onFrames: (this: Socket, chunk: Buffer) => void,
  beforeAnswer?: (socket: Socket) => void,
): void {
  let head = Buffer.alloc(0);
  const onHead = (chunk: Buffer): void => {
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end === -1) return;
    socket.off('data', onHead);
    const key = /\r\nsec-websocket-key:\s*(\S+)/i.exec(head.subarray(0, end).toString('latin1'))?.[1];
    if (!key) {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      return;
    }
    beforeAnswer?.(socket);
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`,
    );
    socket.on('data', onFrames);
    const rest = head.subarray(end + 4);
    if (rest.length > 0) onFrames.call(socket, rest);
  };
  socket.on('data', onHead);
}
