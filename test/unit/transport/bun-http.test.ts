/**
 * The node:http-style request and response over fetch's Request and Response (what the Bun
 * transport hands the HTTP handlers): status, headers, whole and streamed bodies, the request's
 * body as a stream, and a client that goes away ending the response.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { serveAdapted } from '../../../src/transport/bun-http.js';

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
