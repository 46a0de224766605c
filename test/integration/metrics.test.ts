/**
 * Operations endpoints: GET /healthz, GET /metrics (Prometheus text exposition, checked by a
 * strict parser here) and GET /stats, and that their figures move when traffic flows.
 *
 * @runtimes node bun
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { closedWithin, connectedClient } from '../helpers/protocol-client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { connectClient } from '../helpers/ws-client.js';
import { parseExposition, seriesKey } from '../helpers/prometheus.js';
import { until } from '../helpers/wait.js';

/** Every series' value by `name{label="v",...}` (labels sorted). */
async function scrape(server: TestServer): Promise<Map<string, number>> {
  const res = await fetch(`${server.httpUrl}/metrics`);
  assert.equal(res.status, 200);
  const values = new Map<string, number>();
  for (const family of parseExposition(await res.text()).values()) {
    for (const s of family.samples) values.set(seriesKey(s.name, s.labels), s.value);
  }
  return values;
}

/** A series' value, 0 when absent (counters with no increments yet are not listed). */
function value(values: Map<string, number>, name: string, labels: Record<string, string> = {}): number {
  return values.get(seriesKey(name, labels)) ?? 0;
}

async function apiCall(server: TestServer, method: string, params: unknown, key = server.canal.apiKey!): Promise<Response> {
  return fetch(`${server.httpUrl}/api/${method}`, { method: 'POST', headers: { 'x-api-key': key }, body: JSON.stringify(params) });
}

/** Scrapes until `check` holds and returns that scrape: figures read at scrape time may trail a close by a tick. */
async function eventually(server: TestServer, check: (v: Map<string, number>) => boolean, what: string): Promise<Map<string, number>> {
  let v = await scrape(server);
  await until(async () => check(v) || check(v = await scrape(server)), what);
  return v;
}

describe('GET /healthz', async () => {
  const server = await startServer();

  it('answers 200 {"status":"ok"} as uncached JSON while serving', async () => {
    const res = await fetch(`${server.httpUrl}/healthz`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.deepEqual(await res.json(), { status: 'ok' });
  });
});

describe('GET /metrics', async () => {
  const server = await startServer();

  it('is Prometheus text exposition 0.0.4: HELP and TYPE for every family, every line name{labels} value', async () => {
    const res = await fetch(`${server.httpUrl}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const families = parseExposition(await res.text());
    for (const name of [
      'canal_connections', 'canal_clients', 'canal_channels', 'canal_subscriptions', 'canal_messages_received_total',
      'canal_messages_sent_total', 'canal_errors_total', 'canal_disconnects_total', 'canal_api_requests_total',
      'canal_delivery_latency_seconds',
    ]) {
      assert.ok(families.has(name), `no family ${name}`);
    }
    assert.equal(families.get('canal_connections')!.type, 'gauge');
    assert.equal(families.get('canal_messages_received_total')!.type, 'counter');
    assert.equal(families.get('canal_delivery_latency_seconds')!.type, 'histogram');
  });

  it('rejects what is not exposition (the parser itself is strict)', () => {
    assert.throws(() => parseExposition('canal_x 1\n'), /no HELP\/TYPE/);
    assert.throws(() => parseExposition('# HELP a x\n# TYPE a gauge\na{b=c} 1\n'), /not quoted/);
    assert.throws(() => parseExposition('# HELP a x\n# TYPE a gauge\na 1 2 3\n'), /not a sample line/);
    assert.throws(() => parseExposition('# HELP a x\n# TYPE a gauge\na 1\na 2\n'), /series twice/);
    assert.throws(() => parseExposition('# HELP a x\n# TYPE a gauge\na one\n'), /bad value/);
    assert.throws(() => parseExposition('# comment\n'), /neither HELP nor TYPE/);
  });

  it('counts a protocol publish as received, and the publication as sent once per subscriber', async () => {
    const channel = 'chat:metrics-pub';
    const subs = [await connectedClient(server.wsUrl), await connectedClient(server.wsUrl)];
    for (const s of subs) await s.subscribe(channel);
    const publisher = await connectedClient(server.wsUrl);
    const before = await scrape(server);
    const reply = await publisher.call('publish', { channel, data: { n: 1 } });
    assert.deepEqual(reply.publish, {});
    for (const s of subs) await s.nextPush({ kind: 'pub', channel });
    const after = await scrape(server);
    assert.equal(
      value(after, 'canal_messages_received_total', { endpoint: 'protocol', kind: 'publish' })
        - value(before, 'canal_messages_received_total', { endpoint: 'protocol', kind: 'publish' }), 1);
    assert.equal(value(after, 'canal_messages_sent_total', { kind: 'publication' }) - value(before, 'canal_messages_sent_total', { kind: 'publication' }), 2);
    assert.equal(value(after, 'canal_delivery_latency_seconds_count') - value(before, 'canal_delivery_latency_seconds_count'), 1);
    assert.ok(value(after, 'canal_delivery_latency_seconds_bucket', { le: '+Inf' }) >= 1);
    assert.equal(value(after, 'canal_delivery_latency_seconds_bucket', { le: '+Inf' }), value(after, 'canal_delivery_latency_seconds_count'));
    assert.ok(value(after, 'canal_messages_sent_total', { kind: 'reply' }) > value(before, 'canal_messages_sent_total', { kind: 'reply' }));
    for (const c of [...subs, publisher]) c.close();
  });

  it('counts server API calls by method and outcome', async () => {
    const before = await scrape(server);
    assert.equal((await apiCall(server, 'publish', { channel: 'chat:metrics-api', data: 1 })).status, 200);
    assert.equal((await apiCall(server, 'publish', { channel: 'nowhere:x', data: 1 })).status, 200);
    assert.equal((await apiCall(server, 'publish', { chanel: 'chat:x' })).status, 400);
    assert.equal((await apiCall(server, 'info', {}, 'wrong-key-123')).status, 401);
    assert.equal((await apiCall(server, 'nope', {})).status, 404);
    const after = await scrape(server);
    const delta = (labels: Record<string, string>): number =>
      value(after, 'canal_api_requests_total', labels) - value(before, 'canal_api_requests_total', labels);
    assert.equal(delta({ method: 'publish', outcome: 'ok' }), 1);
    assert.equal(delta({ method: 'publish', outcome: 'error' }), 1);
    assert.equal(delta({ method: 'publish', outcome: 'bad_request' }), 1);
    assert.equal(delta({ method: 'info', outcome: 'unauthorized' }), 1);
    assert.equal(delta({ method: 'unknown', outcome: 'not_found' }), 1);
  });

  it('counts reply errors by code: a publish clients may not make is 103', async () => {
    const c = await connectedClient(server.wsUrl);
    const before = await scrape(server);
    const reply = await c.call('publish', { channel: 'scores:metrics', data: 1 });
    assert.equal(reply.error?.code, 103);
    const after = await scrape(server);
    assert.equal(value(after, 'canal_errors_total', { code: '103' }) - value(before, 'canal_errors_total', { code: '103' }), 1);
    c.close();
  });

  it('counts disconnects by code: the server API\'s disconnect is 3503', async () => {
    const c = await connectedClient(server.wsUrl);
    const before = await scrape(server);
    assert.equal((await apiCall(server, 'disconnect', { user: '' })).status, 200);
    assert.equal((await closedWithin(c)).code, 3503);
    const after = await scrape(server);
    assert.equal(value(after, 'canal_disconnects_total', { code: '3503' }) - value(before, 'canal_disconnects_total', { code: '3503' }), 1);
  });

  it('gauges open connections by endpoint, and connected clients, channels and subscriptions', async () => {
    const before = await eventually(server, (v) => value(v, 'canal_connections', { endpoint: 'protocol' }) === 0, 'no protocol connection open');
    const echo = await connectClient(`${server.wsUrl}/`);
    const raw = await connectClient(`${server.wsUrl}/raw/chat:metrics-raw`);
    const p1 = await connectedClient(server.wsUrl);
    const p2 = await connectedClient(server.wsUrl);
    await p1.subscribe('chat:metrics-g1');
    await p1.subscribe('chat:metrics-g2');
    await p2.subscribe('chat:metrics-g1');
    const during = await scrape(server);
    assert.equal(value(during, 'canal_connections', { endpoint: 'echo' }) - value(before, 'canal_connections', { endpoint: 'echo' }), 1);
    assert.equal(value(during, 'canal_connections', { endpoint: 'raw' }) - value(before, 'canal_connections', { endpoint: 'raw' }), 1);
    assert.equal(value(during, 'canal_connections', { endpoint: 'protocol' }), 2);
    assert.equal(value(during, 'canal_clients') - value(before, 'canal_clients'), 2);
    // chat:metrics-g1, chat:metrics-g2 and the raw client's chat:metrics-raw.
    assert.equal(value(during, 'canal_channels') - value(before, 'canal_channels'), 3);
    assert.equal(value(during, 'canal_subscriptions') - value(before, 'canal_subscriptions'), 4);
    for (const c of [echo, raw, p1, p2]) c.close();
    await eventually(server, (v) => value(v, 'canal_connections', { endpoint: 'protocol' }) === 0
      && value(v, 'canal_connections', { endpoint: 'echo' }) === value(before, 'canal_connections', { endpoint: 'echo' })
      && value(v, 'canal_clients') === value(before, 'canal_clients')
      && value(v, 'canal_subscriptions') === value(before, 'canal_subscriptions'), 'the gauges go back down after the clients close');
  });

  it('counts an echo message as received on the echo endpoint', async () => {
    const before = await scrape(server);
    const echo = await connectClient(`${server.wsUrl}/`);
    echo.send('hello');
    assert.equal(await echo.nextText(), 'echo: hello');
    const after = await scrape(server);
    assert.equal(
      value(after, 'canal_messages_received_total', { endpoint: 'echo', kind: 'message' })
        - value(before, 'canal_messages_received_total', { endpoint: 'echo', kind: 'message' }), 1);
    echo.close();
  });

  it('counts a raw client\'s message as received on the raw endpoint', async () => {
    const before = await scrape(server);
    const raw = await connectClient(`${server.wsUrl}/raw/chat:metrics-raw2`);
    raw.send('hi from raw');
    assert.equal(await raw.nextText(), 'hi from raw');
    const after = await scrape(server);
    assert.equal(
      value(after, 'canal_messages_received_total', { endpoint: 'raw', kind: 'message' })
        - value(before, 'canal_messages_received_total', { endpoint: 'raw', kind: 'message' }), 1);
    raw.close();
  });

  it('keeps each server\'s figures apart when two run in one process', async () => {
    const other = await startServer();
    const before = await scrape(other);
    assert.equal((await apiCall(server, 'publish', { channel: 'chat:metrics-apart', data: 1 })).status, 200);
    const after = await scrape(other);
    assert.equal(value(after, 'canal_api_requests_total', { method: 'publish', outcome: 'ok' }),
      value(before, 'canal_api_requests_total', { method: 'publish', outcome: 'ok' }));
  });
});

describe('GET /stats', async () => {
  const server = await startServer();

  it('answers JSON with the documented fields, and publications and latency after traffic', async () => {
    const channel = 'chat:stats';
    const sub = await connectedClient(server.wsUrl);
    await sub.subscribe(channel);
    assert.equal((await apiCall(server, 'publish', { channel, data: 'x' })).status, 200);
    await sub.nextPush({ kind: 'pub', channel });
    const res = await fetch(`${server.httpUrl}/stats`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const stats = (await res.json()) as Record<string, any>;
    assert.deepEqual(Object.keys(stats).sort(), [
      'channels', 'clients', 'connections', 'latency_ms', 'messages_in', 'messages_out', 'publications', 'subscriptions', 'time', 'uptime_seconds',
    ]);
    assert.ok(Math.abs(stats.time - Date.now()) < 5000);
    assert.ok(Number.isInteger(stats.uptime_seconds) && stats.uptime_seconds >= 0);
    assert.deepEqual(Object.keys(stats.connections).sort(), ['echo', 'protocol', 'raw']);
    assert.equal(stats.connections.protocol, 1);
    assert.equal(stats.clients, 1);
    assert.equal(stats.channels, 1);
    assert.equal(stats.subscriptions, 1);
    assert.ok(stats.messages_in >= 2, `connect and subscribe were received: ${stats.messages_in}`);
    assert.ok(stats.messages_out >= 3, `two replies and a publication were sent: ${stats.messages_out}`);
    assert.equal(stats.publications, 1);
    assert.deepEqual(Object.keys(stats.latency_ms).sort(), ['max', 'p50', 'p99', 'samples']);
    assert.equal(stats.latency_ms.samples, 1);
    assert.ok(stats.latency_ms.p50 >= 0 && stats.latency_ms.p50 <= stats.latency_ms.p99 && stats.latency_ms.p99 <= stats.latency_ms.max);
    sub.close();
  });
});
