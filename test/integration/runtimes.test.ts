/**
 * One server, two runtimes: `canal serve` started as a user starts it, on Node (node:http + ws)
 * and on Bun (Bun.serve and its native WebSocket server, issue 17), each asked the same
 * questions over the wire: echo, the protocol in JSON and Protobuf, /raw/ channels, the server
 * API and the HTTP pages, the upgrade refusals (403, 503, 404), message sizes (1009), slow
 * consumers (3008), heartbeats (pings both ways, 3012 for a silent client) and the drain on
 * SIGTERM (3001 and 1001, exit 0). What differs between the runtimes must not show here.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { Centrifuge } from 'centrifuge';
import { Centrifuge as ProtobufCentrifuge } from 'centrifuge/build/protobuf';
import WebSocket from 'ws';
import { RUNTIMES, serveProcess, type Runtime } from '../helpers/cli.js';
import { FAST_RECONNECT, connectedCentrifuge, subscribe } from '../helpers/centrifuge.js';
import { closedWithin, connectedClient } from '../helpers/protocol-client.js';
import { connectClient } from '../helpers/ws-client.js';
import { until } from '../helpers/wait.js';

/** Calls the server API method `method` with `params`; resolves with the parsed JSON body. */
async function api(httpUrl: string, apiKey: string, method: string, params: unknown): Promise<any> {
  const res = await fetch(`${httpUrl}/api/${method}`, {
    method: 'POST', headers: { 'x-api-key': apiKey, 'content-type': 'application/json' }, body: JSON.stringify(params),
  });
  assert.equal(res.status, 200, `${method}: HTTP ${res.status}`);
  return res.json();
}

/** The HTTP status a WebSocket upgrade to `url` was refused with, or 101 when it opened. */
function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    ws.on('error', () => {});
  });
}

for (const runtime of RUNTIMES) describeRuntime(runtime);

function describeRuntime(runtime: Runtime): void {
  describe(`canal serve on ${runtime}`, async () => {
    const server = await serveProcess([
      '--allowed-origins', 'http://good.example', '--max-connections', '16', '--client-queue-max-bytes', '65536',
      '--max-message-bytes', '100000', '--raw-max-message-bytes', '2000', '--protocol-max-message-bytes', '3000',
    ], { runtime });
    const { wsUrl, httpUrl, apiKey } = server;

    it('echoes text as "echo: m" and binary unchanged, in order, and closes 1009 one byte past max_message_bytes (100,000)', async () => {
      const c = await connectClient(`${wsUrl}/`);
      c.send('hello');
      c.send('ñandú 🚀');
      c.send(Buffer.from([0, 1, 0x7f, 0x80, 0xfe, 0xff]), { binary: true });
      c.send('x'.repeat(100_000));
      assert.equal(await c.nextText(), 'echo: hello');
      assert.equal(await c.nextText(), 'echo: ñandú 🚀');
      const binary = await c.next();
      assert.equal(binary.isBinary, true);
      assert.equal(binary.data.toString('hex'), '00017f80feff');
      assert.equal(await c.nextText(), `echo: ${'x'.repeat(100_000)}`);
      c.send('x'.repeat(100_001));
      assert.equal((await closedWithin(c)).code, 1009);
    });

    it('keeps each endpoint to its own size limit: 2000 bytes on /raw/, 3000 on the protocol endpoint', async () => {
      const raw = await connectClient(`${wsUrl}/raw/chat:sizes`);
      raw.send('y'.repeat(2001));
      assert.equal((await closedWithin(raw)).code, 1009);
      const p = await connectedClient(wsUrl);
      p.send(JSON.stringify({ id: 9, rpc: { method: 'x', data: 'z'.repeat(3000) } }));
      assert.equal((await closedWithin(p)).code, 1009);
    });

    it('connects, subscribes and delivers a publication to a JSON client and a /raw/ client, both ways', async () => {
      const p = await connectedClient(wsUrl);
      await p.subscribe('chat:both');
      const raw = await connectClient(`${wsUrl}/raw/chat:both`);
      await until(async () => (await api(httpUrl, apiKey, 'presence_stats', { channel: 'chat:both' })).result?.num_clients >= 1, 'the protocol client is present');
      raw.send('from raw');
      const push = await p.nextPush({ kind: 'pub', channel: 'chat:both' });
      assert.equal(push.push.pub.data, 'from raw');
      await api(httpUrl, apiKey, 'publish', { channel: 'chat:both', data: { n: 1 } });
      assert.equal(await raw.nextText(), 'from raw');
      assert.equal(await raw.nextText(), '{"n":1}');
      assert.deepEqual((await p.nextPush({ kind: 'pub', channel: 'chat:both' })).push.pub.data, { n: 1 });
      p.close();
      raw.close();
    });

    it('delivers every publication once, in order, to JSON, Protobuf and /raw/ subscribers of one channel, across an unsubscribe and a recovering resubscribe', async (t) => {
      const channel = 'chat:fan';
      const json = await Promise.all(Array.from({ length: 10 }, async () => {
        const c = await connectedClient(wsUrl);
        await c.subscribe(channel);
        return c;
      }));
      const raw = await Promise.all(Array.from({ length: 3 }, () => connectClient(`${wsUrl}/raw/${channel}`)));
      const pb = new ProtobufCentrifuge(`${wsUrl}/connection/websocket`, { websocket: WebSocket, ...FAST_RECONNECT });
      t.after(() => pb.disconnect());
      const pbSub = pb.newSubscription(channel);
      const atPb: number[] = [];
      pbSub.on('publication', (ctx) => atPb.push(JSON.parse(Buffer.from(ctx.data as Uint8Array).toString()).n));
      const pbReady = new Promise((resolve) => pbSub.once('subscribed', resolve));
      pbSub.subscribe();
      pb.connect();
      await pbReady;
      await until(async () => (await api(httpUrl, apiKey, 'presence_stats', { channel })).result.num_clients === 11, 'every protocol subscriber is present');
      const publisher = await connectedClient(wsUrl);
      /** Publishes n = from..to without waiting in between (several in one turn: the hub batches them). */
      const publish = async (from: number, to: number): Promise<void> => {
        let id = 0;
        for (let n = from; n <= to; n++) id = publisher.command('publish', { channel, data: { n } });
        await publisher.reply(id);
      };
      await publish(1, 30);
      const [leaver, ...stayers] = json;
      const positions: Array<{ offset: number; epoch: string }> = [];
      const seen = async (c: typeof leaver, count: number): Promise<number[]> => {
        const out: number[] = [];
        for (let i = 0; i < count; i++) {
          const push = await c!.nextPush({ kind: 'pub', channel });
          out.push(push.push.pub.data.n);
          positions.push({ offset: push.push.pub.offset, epoch: '' });
        }
        return out;
      };
      assert.deepEqual(await seen(leaver, 30), Array.from({ length: 30 }, (_, i) => i + 1));
      const last = positions[positions.length - 1]!.offset;
      await leaver!.call('unsubscribe', { channel });
      await publish(31, 40);
      const epoch = (await api(httpUrl, apiKey, 'history', { channel, limit: 0 })).result.epoch as string;
      const again = await leaver!.call('subscribe', { channel, recover: true, offset: last, epoch });
      assert.equal(again.subscribe.recovered, true);
      assert.deepEqual(again.subscribe.publications.map((p: any) => p.data.n), Array.from({ length: 10 }, (_, i) => 31 + i));
      await publish(41, 50);
      assert.deepEqual(await seen(leaver, 10), Array.from({ length: 10 }, (_, i) => 41 + i), 'after the resubscribe: the live ones, once');
      await leaver!.expectNone(200, (m) => m.push?.pub !== undefined);
      for (const c of stayers) assert.deepEqual(await seen(c, 50), Array.from({ length: 50 }, (_, i) => i + 1));
      for (const r of raw) {
        const texts: string[] = [];
        for (let i = 0; i < 50; i++) texts.push(await r.nextText());
        assert.deepEqual(texts, Array.from({ length: 50 }, (_, i) => JSON.stringify({ n: i + 1 })));
      }
      await until(() => atPb.length === 50, 'the Protobuf subscriber got 50');
      assert.deepEqual(atPb, Array.from({ length: 50 }, (_, i) => i + 1));
      for (const c of json) assert.deepEqual(c.frames.filter((f) => f.isBinary), [], 'a JSON client gets no Protobuf push');
      for (const c of [...json, publisher, ...raw]) c.close();
    });

    it('serves the centrifuge client on Protobuf and on JSON in one channel', async (t) => {
      const pb = new ProtobufCentrifuge(`${wsUrl}/connection/websocket`, { websocket: WebSocket, ...FAST_RECONNECT });
      t.after(() => pb.disconnect());
      const connected = new Promise((resolve) => pb.once('connected', resolve));
      pb.connect();
      await connected;
      const pbSub = pb.newSubscription('chat:mixed');
      const got = new Promise<any>((resolve) => pbSub.once('publication', resolve));
      const subscribed = new Promise((resolve) => pbSub.once('subscribed', resolve));
      pbSub.subscribe();
      await subscribed;
      const json = await connectedCentrifuge(t, wsUrl + '/connection/websocket');
      const jsonSub = await subscribe(json, 'chat:mixed');
      const atJson = new Promise<any>((resolve) => jsonSub.once('publication', resolve));
      await json.publish('chat:mixed', { from: 'json' });
      const bytes = (await got).data as Uint8Array;
      assert.ok(bytes instanceof Uint8Array, 'a Protobuf client receives the payload as bytes');
      assert.deepEqual(JSON.parse(Buffer.from(bytes).toString()), { from: 'json' });
      assert.deepEqual((await atJson).data, { from: 'json' });
    });

    it('serves the centrifuge client over HTTP streaming, and ends an SSE session when its stream is cut', async (t) => {
      const client = new Centrifuge([{ transport: 'http_stream', endpoint: `${httpUrl}/connection/http_stream` }], {
        emulationEndpoint: `${httpUrl}/emulation`, ...FAST_RECONNECT,
      });
      client.on('error', () => {});
      t.after(() => client.disconnect());
      const connected = new Promise<any>((resolve) => client.once('connected', resolve));
      client.connect();
      assert.equal((await connected).transport, 'http_stream');
      const sub = await subscribe(client, 'chat:stream');
      const got = new Promise<any>((resolve) => sub.once('publication', resolve));
      await sub.publish({ over: 'http' });
      assert.deepEqual((await got).data, { over: 'http' });

      const abort = new AbortController();
      const connect = encodeURIComponent(JSON.stringify({ id: 1, connect: {} }));
      const res = await fetch(`${httpUrl}/connection/sse?cf_connect=${connect}`, { signal: abort.signal });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
      const first = Buffer.from((await res.body!.getReader().read()).value!).toString();
      const reply = JSON.parse(/^data: (.*)\n\n/.exec(first)![1]!) as { connect: { session: string; node: string } };
      const sent = await fetch(`${httpUrl}/emulation`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ session: reply.connect.session, node: reply.connect.node, data: JSON.stringify({ id: 2, subscribe: { channel: 'chat:sse' } }) }),
      });
      assert.equal(sent.status, 204);
      const present = async (): Promise<number> => (await api(httpUrl, apiKey, 'presence_stats', { channel: 'chat:sse' })).result.num_clients;
      await until(async () => (await present()) === 1, 'the SSE session subscribed');
      abort.abort();
      await until(async () => (await present()) === 0, 'the SSE session ended with its stream');
    });

    it('answers /healthz, /metrics, /stats, the demo page, the client bundle and the server API', async () => {
      const health = await fetch(`${httpUrl}/healthz`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: 'ok' });
      const metrics = await (await fetch(`${httpUrl}/metrics`)).text();
      assert.match(metrics, /^canal_connections\{/m);
      const stats = await (await fetch(`${httpUrl}/stats`)).json() as Record<string, unknown>;
      assert.ok('connections' in stats, JSON.stringify(stats));
      const page = await fetch(`${httpUrl}/`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<html/i);
      const bundle = await fetch(`${httpUrl}/vendor/centrifuge/centrifuge.js`);
      assert.equal(bundle.status, 200);
      assert.ok((await bundle.arrayBuffer()).byteLength > 10_000);
      const refused = await fetch(`${httpUrl}/api/info`, { method: 'POST', body: '{}' });
      assert.equal(refused.status, 401);
      const info = await api(httpUrl, apiKey, 'info', {});
      assert.equal(info.result.nodes.length, 1);
    });

    it('counts protocol sockets in /stats from the upgrade to the close, however they end', async () => {
      const protocolCount = async (): Promise<number> => {
        const stats = await (await fetch(`${httpUrl}/stats`)).json() as { connections: Record<string, number> };
        return stats.connections.protocol!;
      };
      const before = await protocolCount();
      const connected = await Promise.all([connectedClient(wsUrl), connectedClient(wsUrl), connectedClient(wsUrl)]);
      // Upgraded, never sent connect: counted as well.
      const bare = await connectClient(`${wsUrl}/connection/websocket`);
      assert.equal(await protocolCount(), before + 4);
      connected[0]!.close();
      connected[1]!.ws.terminate();
      // A bad first command: the server closes this one itself.
      connected[2]!.ws.send('not json');
      bare.close();
      await until(async () => (await protocolCount()) === before, 'every protocol socket counted out', 5000);
      const again = await connectedClient(wsUrl);
      assert.equal(await protocolCount(), before + 1);
      again.close();
      await until(async () => (await protocolCount()) === before, 'counted out again', 5000);
    });

    it('refuses a foreign Origin with 403, an unknown path with 404, an unknown namespace with 404, and the 17th connection with 503', async () => {
      assert.equal(await upgradeStatus(`${wsUrl}/`, { origin: 'http://evil.example' }), 403);
      assert.equal(await upgradeStatus(`${wsUrl}/`, { origin: 'http://good.example' }), 101);
      assert.equal(await upgradeStatus(`${wsUrl}/nowhere`), 404);
      assert.equal(await upgradeStatus(`${wsUrl}/raw/nope:x`), 404);
      const open = await Promise.all(Array.from({ length: 16 }, () => connectClient(`${wsUrl}/`)));
      assert.equal(await upgradeStatus(`${wsUrl}/connection/websocket`), 503);
      open[0]!.close();
      await closedWithin(open[0]!);
      await until(async () => (await upgradeStatus(`${wsUrl}/`)) === 101, 'a connection is accepted again once one closed');
      for (const c of open) c.close();
      await Promise.all(open.map((c) => closedWithin(c)));
    });

    it('pings protocol clients and plain sockets, and cuts a protocol client that does not answer with 3012', async () => {
      // A server of its own: a 1 s ping would race the slow-consumer test's paused client.
      const pinging = await serveProcess(['--ping-interval', '1s', '--pong-timeout', '400ms'], { runtime });
      const p = await connectedClient(pinging.wsUrl);
      const plain = new WebSocket(`${pinging.wsUrl}/`);
      await once(plain, 'open');
      await once(plain, 'ping');
      await until(() => p.pings > 0, 'a protocol ping');
      const silent = await connectedClient(pinging.wsUrl, {}, { autoPong: false });
      assert.equal((await closedWithin(silent, 5000)).code, 3012);
      assert.ok(p.isOpen && plain.readyState === WebSocket.OPEN, 'the clients that answer stay');
      p.close();
      plain.close();
    });

    it('closes a protocol client that stops reading with 3008 and keeps delivering to the others', async () => {
      const channel = 'chat:slow';
      const slow = await connectedClient(wsUrl);
      const fast = await connectedClient(wsUrl);
      await slow.subscribe(channel);
      await fast.subscribe(channel);
      (slow.ws as unknown as { _socket: Socket })._socket.pause();
      const payload = 'x'.repeat(90 * 1024);
      let published = 0;
      const clients = async (): Promise<number> => (await api(httpUrl, apiKey, 'info', {})).result.nodes[0].num_clients;
      const before = await clients();
      while (published < 200 && (await clients()) === before) {
        await api(httpUrl, apiKey, 'publish', { channel, data: { n: ++published, payload } });
      }
      assert.ok((await clients()) < before, `the slow client is still connected after ${published} publications of 90 KiB`);
      (slow.ws as unknown as { _socket: Socket })._socket.resume();
      const { code } = await closedWithin(slow, 10_000);
      assert.equal(code, 3008);
      for (let n = 1; n <= published; n++) {
        assert.equal((await fast.nextPush({ kind: 'pub', channel }, 10_000)).push.pub.data.n, n);
      }
      fast.close();
    });

    it('drains on SIGTERM: protocol clients get 3001, plain sockets 1001, and the process exits 0', async () => {
      const p = await connectedClient(wsUrl);
      const echo = await connectClient(`${wsUrl}/`);
      const raw = await connectClient(`${wsUrl}/raw/chat:drain`);
      const exited = once(server.child, 'exit');
      server.child.kill('SIGTERM');
      assert.equal((await closedWithin(p, 10_000)).code, 3001);
      assert.equal((await closedWithin(echo, 10_000)).code, 1001);
      assert.equal((await closedWithin(raw, 10_000)).code, 1001);
      const [code] = await exited;
      assert.equal(code, 0);
    });
  });
}
