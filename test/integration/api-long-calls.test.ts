/**
 * Long server API calls (issue 13, item 2): a broadcast to many channels and a batch of many
 * commands take time linear in their size, and while they run the event loop keeps turning, so
 * other clients are answered before the call ends.
 *
 * @runtimes node bun
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectedClient } from '../helpers/protocol-client.js';
import { sendHugeBody } from '../helpers/http.js';
import { startServer, type TestServer } from '../helpers/server.js';

/** POSTs /api/<method>; resolves with the parsed body. */
async function api(server: TestServer, method: string, params: unknown): Promise<{ result?: any; error?: unknown }> {
  const res = await fetch(`${server.httpUrl}/api/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': server.canal.apiKey! },
    body: JSON.stringify(params),
    signal: AbortSignal.timeout(60_000),
  });
  assert.equal(res.status, 200);
  return (await res.json()) as { result?: any };
}

/**
 * Starts `call`; once `channel`'s subscriber has its publication (the call is under way), sends
 * a ping on that connection. Resolves with what finished first, and the call's answer.
 */
async function pingDuring(server: TestServer, channel: string, call: () => Promise<{ result?: any }>): Promise<{ first: string; answer: { result?: any } }> {
  const sub = await connectedClient(server.wsUrl);
  await sub.subscribe(channel);
  const order: string[] = [];
  const answer = call().then((a) => {
    order.push('api');
    return a;
  });
  await sub.nextPush({ kind: 'pub', channel }, 60_000);
  await sub.call('ping');
  order.push('ping');
  const a = await answer;
  sub.close();
  return { first: order[0]!, answer: a };
}

describe('long server API calls', async () => {
  const server = await startServer({ max_message_bytes: 4 * 1024 * 1024 });

  it('answers a ping sent during a broadcast to 20,000 channels before the broadcast ends, and publishes to all of them', async () => {
    const channels = Array.from({ length: 20_000 }, (_, i) => `chat:bc${i}`);
    const { first, answer } = await pingDuring(server, channels[0]!, () => api(server, 'broadcast', { channels, data: { n: 1 } }));
    assert.equal(answer.result.responses.length, 20_000);
    assert.ok(answer.result.responses.every((r: { result?: { offset: number } }) => r.result?.offset === 1));
    assert.equal(first, 'ping', 'the broadcast held the event loop until it ended');
  });

  it('answers a ping sent during a batch of 1,000 publishes before the batch ends, with one reply per command in order', async () => {
    const commands = Array.from({ length: 1000 }, (_, i) => ({ method: 'publish', params: { channel: `chat:bt${i % 100}`, data: { i, pad: 'x'.repeat(500) } } }));
    const { first, answer } = await pingDuring(server, 'chat:bt0', () => api(server, 'batch', { commands }));
    assert.equal(answer.result.replies.length, 1000);
    assert.deepEqual(answer.result.replies.map((r: { result: { offset: number } }) => r.result.offset), commands.map((_, i) => Math.floor(i / 100) + 1));
    assert.equal(first, 'ping', 'the batch held the event loop until it ended');
  });
});

describe('the channels API pattern', async () => {
  const server = await startServer();

  it('answers *a*a*a*a*b against a 255-character channel at once (a backtracking matcher took 56 s)', async () => {
    const sub = await connectedClient(server.wsUrl);
    const channel = `chat:${'a'.repeat(250)}`;
    await sub.subscribe(channel);
    const answer = await api(server, 'channels', { pattern: '*a*a*a*a*a*a*a*a*b' });
    assert.deepEqual(answer.result.channels, {});
    assert.deepEqual(Object.keys((await api(server, 'channels', { pattern: '*a*a*a*a*a*a*a*a*' })).result.channels), [channel]);
    sub.close();
  });

  it('refuses a pattern longer than 1,024 characters with 400 and code 107', async () => {
    const res = await fetch(`${server.httpUrl}/api/channels`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': server.canal.apiKey! },
      body: JSON.stringify({ pattern: '*'.repeat(1025) }),
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { code: number; message: string } };
    assert.equal(body.error.code, 107);
    assert.match(body.error.message, /pattern is longer than 1024 characters/);
  });
});

describe('an API body over the limit', async () => {
  const server = await startServer({ max_message_bytes: 64 * 1024 });

  it('answers 413 to a declared 300 MiB body and closes the connection without reading it', async () => {
    const head = `POST /api/publish HTTP/1.1\r\nHost: x\r\nX-API-Key: ${server.canal.apiKey}\r\nContent-Type: application/json\r\nContent-Length: ${300 * 1024 * 1024}\r\n\r\n`;
    const { response, sent } = await sendHugeBody(server.port, head, false);
    assert.match(response, /^HTTP\/1\.1 413 /);
    assert.match(response, /request body too large: at most 65536 bytes/);
    assert.ok(sent < 8 * 1024 * 1024, `the server read all ${sent} bytes before closing`);
  });
});
