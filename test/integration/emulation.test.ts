/**
 * HTTP streaming, SSE and /emulation (issue 15): the official client's `http_stream` transport
 * (JSON and its Protobuf build) through fetch, SSE frames read off the wire, commands routed to
 * the node holding the session across two nodes on the shared Redis, and what every bad request
 * gets: origins, methods, sizes, unknown sessions. Pings, the slow-consumer cut-off and drain on
 * an emulated connection.
 *
 * @runtimes node bun
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, describe, it, type TestContext } from 'node:test';
import { Centrifuge, type Options, type TransportEndpoint } from 'centrifuge';
import { Centrifuge as ProtobufCentrifuge } from 'centrifuge/build/protobuf';
import { clientId, collect, FAST_RECONNECT, once, subscribe } from '../helpers/centrifuge.js';
import { deleteKeys, SHARED_REDIS_URL, testPrefix } from '../helpers/redis.js';
import { disconnectClient, numClients, serverStats } from '../helpers/server-api.js';
import { startServer } from '../helpers/server.js';
import { until } from '../helpers/wait.js';

/** The transport list for HTTP streaming to `stream`. */
function httpStream(stream: string): TransportEndpoint[] {
  return [{ transport: 'http_stream', endpoint: `${stream}/connection/http_stream` }];
}

/** Options that send the client's commands to `emulation`'s /emulation, with fast reconnects. */
function emulationOptions(emulation: string): Partial<Options> {
  return { emulationEndpoint: `${emulation}/emulation`, ...FAST_RECONNECT };
}

/** A JSON client over HTTP streaming, connected; disconnected when `t` ends. */
async function streamClient(t: TestContext, stream: string, emulation = stream): Promise<Centrifuge> {
  const client = new Centrifuge(httpStream(stream), emulationOptions(emulation));
  client.on('error', () => {});
  t.after(() => client.disconnect());
  const connected = once(client, 'connected');
  client.connect();
  const ctx = await connected;
  assert.equal(ctx.transport, 'http_stream');
  return client;
}

/**
 * Reads a streamed response as it comes: `text()` is everything so far; resolves `ended` when it
 * ends. `pause()` stops reading (the server's writes then pile up), `resume()` reads on.
 */
function openStream(url: string, init: { method: string; body?: string; headers?: Record<string, string> }): Promise<{ status: number; text(): string; ended: Promise<void>; abort(): void; pause(): void; resume(): void }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method, headers: init.headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { text += chunk; });
      const ended = new Promise<void>((done) => res.once('close', done));
      resolve({ status: res.statusCode ?? 0, text: () => text, ended, abort: () => req.destroy(), pause: () => res.pause(), resume: () => res.resume() });
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

async function post(url: string, body: string | Uint8Array, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(url, { method: 'POST', headers, body });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

describe('HTTP streaming with the official client', async () => {
  const server = await startServer({ onRpc: (ctx) => ({ echo: ctx.data }) });

  it('connects, subscribes, publishes and receives, reads history and presence, calls RPC', async (t) => {
    const client = await streamClient(t, server.httpUrl);
    const sub = await subscribe(client, 'chat:stream-1');
    const pubs = collect(sub, 'publication');
    await sub.publish({ text: 'over http' });
    const [got] = await pubs.waitFor(1);
    assert.deepEqual(got!.data, { text: 'over http' });
    const history = await sub.history({ limit: 5 });
    assert.deepEqual(history.publications.map((p) => p.data), [{ text: 'over http' }]);
    const presence = await sub.presence();
    assert.equal(Object.keys(presence.clients).length, 1);
    assert.deepEqual((await client.rpc('x', { a: 1 })).data, { echo: { a: 1 } });
  });

  it('works with the Protobuf build (binary stream, binary emulation requests)', async (t) => {
    const client = new ProtobufCentrifuge(httpStream(server.httpUrl), emulationOptions(server.httpUrl));
    client.on('error', () => {});
    t.after(() => client.disconnect());
    const connected = once(client as never, 'connected');
    client.connect();
    await connected;
    const sub = client.newSubscription('chat:stream-pb');
    const pubs = collect(sub as never, 'publication');
    const subscribed = once(sub as never, 'subscribed');
    sub.subscribe();
    await subscribed;
    await sub.publish(new TextEncoder().encode('{"pb":true}'));
    const [got] = await pubs.waitFor(1);
    assert.equal(new TextDecoder().decode((got as { data: Uint8Array }).data), '{"pb":true}');
  });

  it('recovers what it missed when the stream is cut', async (t) => {
    const client = await streamClient(t, server.httpUrl);
    const sub = await subscribe(client, 'chat:stream-2');
    const pubs = collect(sub, 'publication');
    await server.canal.publish('chat:stream-2', { n: 1 });
    await pubs.waitFor(1);
    const resubscribed = once(sub, 'subscribed');
    const cut = once(client, 'connecting');
    await disconnectClient(server, '', clientId(client), 3011, 'force reconnect');
    await cut; // the next publication is made while the client is away: recovery must bring it
    await server.canal.publish('chat:stream-2', { n: 2 });
    const ctx = await resubscribed;
    assert.equal(ctx.recovered, true);
    await pubs.waitFor(2);
    assert.deepEqual(pubs.items.map((p) => p.data), [{ n: 1 }, { n: 2 }]);
  });
});

describe('SSE frames on the wire', async () => {
  const server = await startServer();

  it('streams the connect reply as an event, takes commands through /emulation, and pushes publications as events', async () => {
    const connect = JSON.stringify({ id: 1, connect: {} });
    const stream = await openStream(`${server.httpUrl}/connection/sse?cf_connect=${encodeURIComponent(connect)}`, { method: 'GET' });
    assert.equal(stream.status, 200);
    await until(() => stream.text().includes('\n\n'), 'the connect reply arrived');
    const first = /^data: (.*)\n\n/.exec(stream.text());
    const reply = JSON.parse(first![1]!) as { id: number; connect: { session: string; node: string; client: string } };
    assert.equal(reply.id, 1);
    assert.match(reply.connect.session, /^[0-9a-f-]{36}$/);
    assert.notEqual(reply.connect.session, reply.connect.client, 'the session id is a secret of its own, not the client id others see');
    assert.equal(reply.connect.node, server.canal.node.id);
    const sent = await post(`${server.httpUrl}/emulation`, JSON.stringify({
      session: reply.connect.session, node: reply.connect.node, data: JSON.stringify({ id: 2, subscribe: { channel: 'chat:sse-1' } }),
    }));
    assert.equal(sent.status, 204);
    await until(() => stream.text().includes('"id":2'), 'the subscribe reply arrived');
    await server.canal.publish('chat:sse-1', { over: 'sse' });
    await until(() => stream.text().includes('"pub"'), 'the publication arrived');
    assert.match(stream.text(), /data: \{"push":\{"channel":"chat:sse-1","pub":\{"data":\{"over":"sse"\},"offset":1,"time":\d+\}\}\}\n\n/);
    stream.abort();
    await until(async () => await numClients(server) === 0, 'the session ended with the stream');
  });

  it('answers 400 with a sentence when cf_connect is missing', async () => {
    const res = await fetch(`${server.httpUrl}/connection/sse`);
    assert.equal(res.status, 400);
    assert.match(await res.text(), /cf_connect/);
  });

  it('ends the stream with a 3501 disconnect event when the connect command is malformed', async () => {
    const stream = await openStream(`${server.httpUrl}/connection/sse?cf_connect=not-json`, { method: 'GET' });
    await stream.ended;
    assert.match(stream.text(), /data: \{"push":\{"disconnect":\{"code":3501,"reason":"bad request: line 1 is not valid JSON"\}\}\}\n\n$/);
  });
});

describe('/emulation refusals', async () => {
  const server = await startServer({ allowed_origins: ['http://good.example'], protocol_max_message_bytes: 4096 });
  const url = `${server.httpUrl}/emulation`;

  it('answers 404 naming the reason for a session this node does not hold', async () => {
    const res = await post(url, JSON.stringify({ session: 'nope', node: server.canal.node.id, data: '{}' }));
    assert.equal(res.status, 404);
    assert.match(res.text, /no such session on this node/);
  });

  it('answers 404 for a node that is not in the cluster', async () => {
    const res = await post(url, JSON.stringify({ session: 's', node: 'no-such-node', data: '{}' }));
    assert.equal(res.status, 404);
    assert.match(res.text, /no node "no-such-node"/);
  });

  it('answers 400 for a body that is not an emulation request', async () => {
    assert.match((await post(url, 'not json')).text, /bad request: the body is not JSON/);
    const res = await post(url, JSON.stringify({ session: 1 }));
    assert.equal(res.status, 400);
    assert.match(res.text, /session, node and data must be strings/);
    const pb = await post(url, Uint8Array.of(0x0a, 0x05, 1), { 'content-type': 'application/octet-stream' });
    assert.equal(pb.status, 400);
    assert.match(pb.text, /not a valid Protobuf EmulationRequest/);
  });

  it('answers 405 for GET, 413 past protocol_max_message_bytes', async () => {
    const get = await fetch(url);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST, OPTIONS');
    const big = await post(url, JSON.stringify({ session: 's', node: 'n', data: 'x'.repeat(5000) }));
    assert.equal(big.status, 413);
    assert.match(big.text, /at most 4096 bytes/);
  });

  it('refuses a foreign origin with 403 and answers an allowed one\'s preflight with CORS headers', async () => {
    const foreign = await post(`${server.httpUrl}/connection/http_stream`, '{}', { 'content-type': 'application/json', origin: 'http://evil.example' });
    assert.equal(foreign.status, 403);
    assert.match(foreign.text, /origin http:\/\/evil.example is not allowed/);
    const preflight = await fetch(url, { method: 'OPTIONS', headers: { origin: 'http://good.example', 'access-control-request-method': 'POST' } });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'http://good.example');
    assert.equal(preflight.headers.get('access-control-allow-headers'), 'content-type');
  });
});

describe('an emulated connection keeps the connection rules', async () => {
  const server = await startServer({ ping_interval: 1000, pong_timeout: 400 });

  it('is pinged and stays connected by answering through /emulation', async (t) => {
    const client = await streamClient(t, server.httpUrl);
    const id = (client as unknown as { _client: string })._client;
    const pings = async (): Promise<number> => (await serverStats(server)).messages_out;
    const before = await pings();
    await until(async () => await pings() >= before + 2, 'two pings went out', 5000);
    assert.equal(client.state, 'connected');
    assert.equal((client as unknown as { _client: string })._client, id, 'the same connection: every ping was answered');
  });

  // A server of its own with the default ping interval: a stream that does not read cannot
  // answer pings either, and a 3012 (no pong) must not come before the 3008 on a busy machine.
  it('cuts a client that does not read with a 3008 disconnect at the end of its stream', async () => {
    const server = await startServer({ client_queue_max_bytes: 64 * 1024 });
    const body = `${JSON.stringify({ id: 1, connect: {} })}\n${JSON.stringify({ id: 2, subscribe: { channel: 'chat:slow' } })}`;
    const stream = await openStream(`${server.httpUrl}/connection/http_stream`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    await until(() => stream.text().includes('"id":2'), 'subscribed');
    // The client stops reading; the server (in this process or another) sees its writes pile up.
    stream.pause();
    const big = 'x'.repeat(32 * 1024);
    // Batches of 512 KiB: the kernel's socket buffers on loopback take megabytes before the
    // server's own queue grows.
    let published = 0;
    while (published < 400 && await numClients(server) > 0) {
      await Promise.all(Array.from({ length: 16 }, () => server.canal.publish('chat:slow', { big })));
      published += 16;
    }
    assert.equal(await numClients(server), 0, `still connected after ${published} publications of 32 KiB`);
    // What the server queued before it cut the client is read now, the disconnect event last.
    stream.resume();
    await stream.ended;
    assert.match(stream.text().slice(-200), /\{"push":\{"disconnect":\{"code":3008,"reason":"slow: more than 65536 bytes waiting to be sent","reconnect":true\}\}\}\n$/);
  });
});

describe('drain with emulated connections', () => {
  it('tells an HTTP-streaming client 3001 shutdown before its stream ends', async () => {
    const server = await startServer({ shutdown_drain_window: 0 });
    const stream = await openStream(`${server.httpUrl}/connection/http_stream`, {
      method: 'POST', body: JSON.stringify({ id: 1, connect: {} }), headers: { 'content-type': 'application/json' },
    });
    await until(() => stream.text().includes('"id":1'), 'connected');
    await server.canal.close();
    await stream.ended;
    assert.match(stream.text(), /\{"push":\{"disconnect":\{"code":3001,"reason":"shutdown","reconnect":true\}\}\}\n$/);
  });
});

describe('an emulated stream at the connection limit', () => {
  it('counts toward max_connections: the next stream is refused with 503, as an upgrade would be', async () => {
    const server = await startServer({ max_connections: 1 });
    const open = (): ReturnType<typeof openStream> => openStream(`${server.httpUrl}/connection/http_stream`, {
      method: 'POST', body: JSON.stringify({ id: 1, connect: {} }), headers: { 'content-type': 'application/json' },
    });
    const first = await open();
    await until(() => first.text().includes('"id":1'), 'the first stream connected');
    const second = await open();
    await second.ended;
    assert.equal(second.status, 503);
    assert.match(second.text(), /connection limit reached on this node \(max_connections 1\)/);
    first.abort();
  });
});

describe('emulation across two nodes on the shared Redis', async () => {
  const prefix = testPrefix();
  const options = { engine: 'redis', redis_url: SHARED_REDIS_URL, redis_prefix: prefix } as const;
  const [a, b] = await Promise.all([startServer(options), startServer(options)]);
  after(async () => {
    await Promise.all([a.canal.close(), b.canal.close()]);
    await deleteKeys(SHARED_REDIS_URL, prefix);
  });

  it('routes the commands posted to node B to the session streaming from node A', async (t) => {
    const client = await streamClient(t, a.httpUrl, b.httpUrl);
    const sub = await subscribe(client, 'chat:two-nodes');
    const pubs = collect(sub, 'publication');
    await sub.publish({ via: 'b' });
    const [got] = await pubs.waitFor(1);
    assert.deepEqual(got!.data, { via: 'b' });
    assert.equal(await numClients(a), 1);
    assert.equal(await numClients(b), 0, 'the session lives on A only');
  });
});
