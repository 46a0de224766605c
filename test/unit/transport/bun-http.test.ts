/**
 * The node:http-style request and response over fetch's Request and Response (what the Bun
 * transport hands the HTTP handlers): status, headers, whole and streamed bodies, the request's
 * body as a stream, and a client that goes away ending the response; request headers in Node's
 * form on both runtimes.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { headersOf, requestTarget, serveAdapted } from '../../../src/transport/bun-http.js';
import { BUN } from '../../helpers/cli.js';

function serve(request: Request, listener: (req: IncomingMessage, res: ServerResponse) => void): Promise<Response> {
  return serveAdapted(request, '127.0.0.9', listener);
}

describe('serveAdapted', () => {
  it('gives the handler the method, path with query, lower-case headers and peer address', async () => {
    let seen: unknown;
    const response = await serve(new Request('http://h/api/info?x=1', { method: 'POST', headers: { 'X-API-Key': 'k' }, body: '{}' }), (req, res) => {
      seen = { method: req.method, url: req.url, key: req.headers['x-api-key'], remote: req.socket.remoteAddress };
      res.end();
    });
    assert.deepEqual(seen, { method: 'POST', url: '/api/info?x=1', key: 'k', remote: '127.0.0.9' });
    assert.equal(response.status, 200);
  });

  it('sends writeHead\'s status and headers with end(body) as one response', async () => {
    const response = await serve(new Request('http://h/healthz'), (_req, res) => {
      res.setHeader('Set-Cookie', ['a=1', 'b=2']);
      res.writeHead(503, { 'content-type': 'application/json', 'content-length': 19 });
      res.end('{"status":"drain"}\n');
    });
    assert.equal(response.status, 503);
    assert.equal(response.headers.get('content-type'), 'application/json');
    assert.deepEqual(response.headers.getSetCookie(), ['a=1', 'b=2']);
    assert.equal(await response.text(), '{"status":"drain"}\n');
  });

  it('reads the request body as a stream of Buffers', async () => {
    const response = await serve(new Request('http://h/api/publish', { method: 'POST', body: 'x'.repeat(100_000) }), (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => res.end(String(Buffer.concat(chunks).length)));
    });
    assert.equal(await response.text(), '100000');
  });

  it('streams: the headers go at flushHeaders, each write as it comes, and end closes the body', async () => {
    let res!: ServerResponse;
    const response = await serve(new Request('http://h/connection/sse'), (_req, r) => {
      res = r;
      r.writeHead(200, { 'content-type': 'text/event-stream' });
      r.flushHeaders();
    });
    assert.equal(response.headers.get('content-type'), 'text/event-stream');
    const reader = response.body!.getReader();
    res.write('data: 1\n\n');
    assert.equal(Buffer.from((await reader.read()).value!).toString(), 'data: 1\n\n');
    res.write('data: 2\n\n');
    res.end();
    assert.equal(Buffer.from((await reader.read()).value!).toString(), 'data: 2\n\n');
    assert.equal((await reader.read()).done, true);
  });

  it('keeps the last event of a stream that is ended and then destroyed (an SSE session closed by the server)', async () => {
    let res!: ServerResponse;
    const response = await serve(new Request('http://h/connection/sse'), (_req, r) => {
      res = r;
      r.writeHead(200, { 'content-type': 'text/event-stream' });
      r.flushHeaders();
    });
    const reader = response.body!.getReader();
    res.end('data: {"disconnect":{"code":3501}}\n\n');
    res.destroy();
    assert.equal(Buffer.from((await reader.read()).value!).toString(), 'data: {"disconnect":{"code":3501}}\n\n');
    assert.equal((await reader.read()).done, true);
  });

  it('ends quietly, as node:http does, a body that fails while nobody listens for errors (a handler that answered and drained it with resume())', async () => {
    // Bun closes a request's body once its response is sent: reading on fails with an AbortError.
    let fail!: (err: Error) => void;
    const body = new ReadableStream<Uint8Array>({ start: (controller) => void (fail = (err) => controller.error(err)) });
    let req!: IncomingMessage;
    const response = await serve(new Request('http://h/api/publish', { method: 'POST', body, duplex: 'half' } as RequestInit), (r, res) => {
      req = r;
      res.writeHead(401);
      res.end('{}');
      r.resume();
    });
    assert.equal(response.status, 401);
    // Not once(): it would listen for 'error' itself.
    const closed = new Promise<void>((resolve) => req.on('close', resolve));
    fail(new DOMException('The connection was closed.', 'AbortError'));
    await closed;
    assert.equal(req.destroyed, true);
  });

  it('gives a handler that reads the body the error when the body fails', async () => {
    let fail!: (err: Error) => void;
    const body = new ReadableStream<Uint8Array>({ start: (controller) => void (fail = (err) => controller.error(err)) });
    let seen: Promise<unknown[]> | undefined;
    await serve(new Request('http://h/api/publish', { method: 'POST', body, duplex: 'half' } as RequestInit), (r, res) => {
      seen = once(r, 'error');
      r.resume();
      res.end();
    });
    fail(new Error('client went away'));
    const [err] = await seen!;
    assert.equal((err as Error).message, 'client went away');
  });

  it('makes Node\'s header object: lower-case names, repeated headers joined, set-cookie as an array, on Node and on Bun', () => {
    const entries: Array<[string, string]> = [['Origin', 'http://x'], ['X-Multi', '1'], ['x-multi', '2'], ['Set-Cookie', 'a=1'], ['set-cookie', 'b=2']];
    const expected = { origin: 'http://x', 'x-multi': '1, 2', 'set-cookie': ['a=1', 'b=2'] };
    assert.deepEqual({ ...headersOf(new Headers(entries)) }, expected);
    assert.deepEqual({ ...headersOf(new Headers([['origin', 'http://x']])) }, { origin: 'http://x' }, 'no set-cookie, no key');
    // Bun has Headers.prototype.toJSON, which headersOf uses there: the same object.
    const module = fileURLToPath(new URL('../../../src/transport/bun-http.ts', import.meta.url));
    const script = `const { headersOf } = await import(${JSON.stringify(module)});
      console.log(JSON.stringify([typeof Headers.prototype.toJSON, headersOf(new Headers(${JSON.stringify(entries)}))]));`;
    const [toJson, onBun] = JSON.parse(execFileSync(BUN, ['-e', script], { encoding: 'utf8' })) as [string, unknown];
    assert.equal(toJson, 'function');
    assert.deepEqual(onBun, expected);
  });

  it('passes the path and query on as the request line had them, not parsed again', () => {
    assert.equal(requestTarget('http://127.0.0.1:8000/api/info?x=1&y=%20'), '/api/info?x=1&y=%20');
    assert.equal(requestTarget('http://127.0.0.1:8000/a%2Fb/%7Ec'), '/a%2Fb/%7Ec');
    assert.equal(requestTarget('http://127.0.0.1:8000'), '/');
    assert.equal(requestTarget('http://[::1]:8000/x#frag'), '/x');
  });

  it('closes the response (its \'close\' event) when the client cancels the stream', async () => {
    let res!: ServerResponse;
    const response = await serve(new Request('http://h/connection/http_stream'), (_req, r) => {
      res = r;
      r.writeHead(200);
      r.flushHeaders();
    });
    const closed = once(res, 'close');
    await response.body!.cancel();
    await closed;
    assert.equal(res.destroyed, true);
  });
});
