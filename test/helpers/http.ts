/**
 * HTTP requests that fetch() would not send: a request target exactly as written (no `..`
 * resolution, no re-encoding), and arbitrary bytes on a bare TCP socket; and a backend that
 * records the requests it gets.
 */
import { once } from 'node:events';
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';

export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/**
 * Sends `head` (a request head) to 127.0.0.1:port, then body chunks of 64 KiB (in chunked
 * encoding when `chunked`) until the server answers or closes the connection or 8 MiB went out;
 * resolves with what the server sent and how many body bytes were written. The body starts
 * 200 ms after the head unless an answer came first: a server that answers from the head alone
 * (a declared length over its limit) closes a connection it has not read, and a body still
 * arriving there makes its kernel reset the connection, which can discard the answer before
 * this side reads it.
 */
export function sendHugeBody(port: number, head: string, chunked: boolean): Promise<{ response: string; sent: number }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let response = '';
    let sent = 0;
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const pump = (): void => {
      while (!socket.destroyed && response === '' && sent < 8 * 1024 * 1024) {
        const ok = socket.write(chunked ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]) : chunk);
        sent += chunk.length;
        if (!ok) return void socket.once('drain', pump);
      }
    };
    socket.on('connect', () => {
      socket.write(head);
      setTimeout(pump, 200);
    });
    socket.on('data', (d: Buffer) => (response += d.toString()));
    socket.on('error', () => {}); // EPIPE/ECONNRESET once the server closes: expected
    socket.on('close', () => resolve({ response, sent }));
    setTimeout(() => reject(new Error(`still open after sending ${sent} bytes; received ${response.slice(0, 200)}`)), 10_000).unref();
  });
}

/** Sends `GET <path>` with the path byte for byte as given; resolves with the whole response. */
export function getRaw(port: number, path: string, timeoutMs = 5000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no response within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Writes `bytes` on a fresh TCP connection and resolves with everything the server sends until
 * it closes the connection; rejects when it is still open after `timeoutMs`.
 */
export function exchangeRaw(port: number, bytes: string | Buffer, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connection still open ${timeoutMs} ms after sending ${JSON.stringify(bytes.toString())}; received ${JSON.stringify(Buffer.concat(chunks).toString())}`));
    }, timeoutMs);
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString());
    });
  });
}

/** One request a recording backend received. */
export interface Seen {
  readonly url: string;
  readonly method: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** An HTTP backend on 127.0.0.1 that records every request; its answer to each path is a function of the request (404 elsewhere). */
export async function recordingBackend(routes: Record<string, (req: Seen, res: ServerResponse) => void>): Promise<{ url: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const s = { url: req.url ?? '', method: req.method ?? '', headers: req.headers, body };
      seen.push(s);
      (routes[s.url] ?? ((_r, w) => w.writeHead(404).end()))(s, res);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, seen, server };
}
