/**
 * A load generator's client socket: a WebSocket opening handshake over node:net, then raw
 * bytes. Every socket reads into one shared buffer (net's `onread`): no Buffer and no 'data'
 * event per read, which is most of a reader's cost when messages arrive a few at a time. Safe
 * because each read is handled synchronously and receivers copy out what they keep.
 */
import { connect, type Socket } from 'node:net';
import { checkHandshakeResponse, handshakeRequest } from './ws-frames.js';

const HOST = '127.0.0.1';
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);

export interface ClientSocket {
  readonly socket: Socket;
  /** Routes the socket's bytes to `receive` from now on (bytes that came with the handshake answer at once). */
  route(receive: (bytes: Buffer) => void): void;
}

/**
 * Opens `ws://127.0.0.1:port<path>` and completes the opening handshake. Rejects, naming
 * `what`, when the server refuses or is silent for `timeoutMs`.
 */
export function openClientSocket(port: number, path: string, what: string, timeoutMs: number): Promise<ClientSocket> {
  return new Promise((resolve, reject) => {
    let sink = (_bytes: Buffer): void => {};
    const socket = connect({
      host: HOST,
      port,
      noDelay: true,
      onread: {
        buffer: READ_BUFFER,
        callback: (n) => {
          sink(READ_BUFFER.subarray(0, n));
          return true;
        },
      },
    });
    const { request, key } = handshakeRequest(HOST, port, path);
    let head = Buffer.alloc(0);
    const fail = (err: Error): void => {
      socket.destroy();
      reject(new Error(`${what}: ${err.message}`));
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`no handshake answer within ${timeoutMs} ms`)));
    socket.once('error', fail);
    socket.once('connect', () => socket.write(request));
    sink = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('error', fail);
      socket.setTimeout(0);
      const problem = checkHandshakeResponse(head.subarray(0, end).toString('latin1'), key);
      if (problem) return fail(new Error(problem));
      let rest: Buffer | undefined = Buffer.from(head.subarray(end + 4));
      sink = (bytes) => {
        rest = rest ? Buffer.concat([rest, bytes]) : Buffer.from(bytes);
      };
      resolve({
        socket,
        route: (receive) => {
          sink = receive;
          if (rest && rest.length > 0) receive(rest);
          rest = undefined;
        },
      });
    };
  });
}
