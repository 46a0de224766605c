/**
 * The official client's Protobuf build (`centrifuge/build/protobuf`), unchanged, against canal
 * on the `centrifuge-protobuf` subprotocol: connect, subscribe, publish, history, presence, RPC
 * and recovery; payloads are bytes end to end (binary that is not JSON reaches Protobuf clients
 * unchanged); a JSON client and a Protobuf client share a channel.
 *
 * @runtimes node bun
 */
import assert from 'node:assert/strict';
import { after, describe, it, type TestContext } from 'node:test';
import { Centrifuge as ProtobufCentrifuge } from 'centrifuge/build/protobuf';
import WebSocket from 'ws';
import type { RpcContext } from '../../src/handlers.js';
import { clientId, collect, type Collected, connectedCentrifuge, FAST_RECONNECT, once, protocolUrl, recordingWebSocket } from '../helpers/centrifuge.js';
import { recordingBackend } from '../helpers/http.js';
import { disconnectClient } from '../helpers/server-api.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { until } from '../helpers/wait.js';

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();
const json = (value: unknown): Uint8Array => utf8.encode(JSON.stringify(value));
const parse = (bytes: Uint8Array): unknown => JSON.parse(fromUtf8.decode(bytes));

/** A Protobuf client for `server`, connected; disconnected when `t` ends. */
async function protobufClient(t: TestContext, server: TestServer, websocket: typeof WebSocket = WebSocket): Promise<ProtobufCentrifuge> {
  const client = new ProtobufCentrifuge(protocolUrl(server), { websocket, ...FAST_RECONNECT });
  client.on('error', () => {});
  t.after(() => client.disconnect());
  const connected = once(client as never, 'connected');
  client.connect();
  await connected;
  return client;
}

/** A subscription of `client` to `channel`, subscribed, with its publications collected from the start. */
async function subscribed(client: ProtobufCentrifuge, channel: string): Promise<{ sub: ReturnType<ProtobufCentrifuge['newSubscription']>; pubs: Collected<unknown> }> {
  const sub = client.newSubscription(channel);
  const pubs = collect(sub as never, 'publication') as Collected<unknown>;
  const done = once(sub as never, 'subscribed');
  sub.subscribe();
  await done;
  return { sub, pubs };
}

function onRpc(ctx: RpcContext): unknown {
  return { got: ctx.data, method: ctx.method };
}

describe('the centrifuge client Protobuf build against canal', async () => {
  const server = await startServer({ onRpc });

  it('connects on the centrifuge-protobuf subprotocol and gets a client id the server knows', async (t) => {
    const ws = recordingWebSocket();
    const client = await protobufClient(t, server, ws.WebSocket);
    assert.equal(ws.last().protocol, 'centrifuge-protobuf');
    // The server knows the id: a server API disconnect of that client reaches this connection.
    const disconnected = once(client as never, 'disconnected') as Promise<{ code: number; reason: string }>;
    await disconnectClient(server, '', clientId(client as never), 4501, 'known by id');
    assert.deepEqual(await disconnected, { code: 4501, reason: 'known by id' });
  });

  it('subscribes, publishes JSON bytes and receives them back, byte for byte', async (t) => {
    const client = await protobufClient(t, server);
    const { sub, pubs } = await subscribed(client, 'chat:pb-1');
    await sub.publish(json({ text: 'hello', n: 12345678901234567890n.toString() }));
    const [got] = await pubs.waitFor(1);
    assert.ok((got as { data: unknown }).data instanceof Uint8Array);
    assert.deepEqual(parse((got as { data: Uint8Array }).data), { text: 'hello', n: '12345678901234567890' });
  });

  it('keeps binary that is not JSON exactly as published', async (t) => {
    const client = await protobufClient(t, server);
    const { sub, pubs } = await subscribed(client, 'chat:pb-bin');
    const bytes = Uint8Array.from([0, 255, 10, 13, 0x80, 0xc3, 0x28, 1, 2, 3]);
    await sub.publish(bytes);
    const [got] = await pubs.waitFor(1);
    assert.deepEqual([...(got as { data: Uint8Array }).data], [...bytes]);
    const history = await sub.history({ limit: 10 });
    assert.deepEqual([...(history.publications[0]!.data as Uint8Array)], [...bytes], 'history keeps the bytes too');
  });

  it('reads history and presence, and calls RPC with bytes in and out', async (t) => {
    const client = await protobufClient(t, server);
    const { sub } = await subscribed(client, 'chat:pb-2');
    for (const n of [1, 2, 3]) await sub.publish(json({ n }));
    const history = await sub.history({ limit: 10 });
    assert.deepEqual(history.publications.map((p) => parse(p.data as Uint8Array)), [{ n: 1 }, { n: 2 }, { n: 3 }]);
    assert.ok(history.offset >= 3 && history.epoch !== '');
    const presence = await sub.presence();
    const id = (client as unknown as { _client: string })._client;
    assert.deepEqual(Object.keys(presence.clients), [id]);
    const stats = await sub.presenceStats();
    assert.deepEqual(stats, { numClients: 1, numUsers: 1 });
    const rpc = await client.rpc('echo', json({ x: 1 }));
    assert.deepEqual(parse(rpc.data as Uint8Array), { got: { x: 1 }, method: 'echo' });
  });

  it('recovers what it missed after a dropped connection', async (t) => {
    const ws = recordingWebSocket();
    const client = await protobufClient(t, server, ws.WebSocket);
    const { sub, pubs } = await subscribed(client, 'chat:pb-3');
    await server.canal.publish('chat:pb-3', { n: 1 });
    await pubs.waitFor(1);
    const resubscribed = once(sub as never, 'subscribed');
    ws.last().terminate();
    await until(() => client.state !== 'connected', 'the client saw the drop');
    await server.canal.publish('chat:pb-3', { n: 2 });
    await server.canal.publish('chat:pb-3', { n: 3 });
    const ctx = await resubscribed as { recovered: boolean; wasRecovering: boolean };
    assert.equal(ctx.wasRecovering, true);
    assert.equal(ctx.recovered, true);
    await pubs.waitFor(3);
    assert.deepEqual(pubs.items.map((p) => parse((p as { data: Uint8Array }).data)), [{ n: 1 }, { n: 2 }, { n: 3 }]);
  });

  it('shares a channel with a JSON client: each reads what the other publishes', async (t) => {
    const pbClient = await protobufClient(t, server);
    const jsonClient = await connectedCentrifuge(t, server);
    const pbSub = pbClient.newSubscription('chat:pb-mixed');
    const jsonSub = jsonClient.newSubscription('chat:pb-mixed');
    const pbPubs = collect(pbSub as never, 'publication');
    const jsonPubs = collect(jsonSub, 'publication');
    const both = [once(pbSub as never, 'subscribed'), once(jsonSub, 'subscribed')];
    pbSub.subscribe();
    jsonSub.subscribe();
    await Promise.all(both);
    await jsonSub.publish({ from: 'json', list: [1, 2] });
    await pbSub.publish(json({ from: 'protobuf' }));
    await pbPubs.waitFor(2);
    await jsonPubs.waitFor(2);
    assert.deepEqual(pbPubs.items.map((p) => parse((p as { data: Uint8Array }).data)), [{ from: 'json', list: [1, 2] }, { from: 'protobuf' }]);
    assert.deepEqual(jsonPubs.items.map((p) => p.data), [{ from: 'json', list: [1, 2] }, { from: 'protobuf' }]);
  });

  it('is told a malformed binary frame is a bad request (3501), with a reason', async () => {
    const ws = new WebSocket(protocolUrl(server), 'centrifuge-protobuf');
    await new Promise((resolve) => ws.once('open', resolve));
    const closed = new Promise<[number, string]>((resolve) => ws.once('close', (code, reason) => resolve([code, reason.toString()])));
    ws.send(Uint8Array.of(5, 0xff, 0xff));
    const [code, reason] = await closed;
    assert.equal(code, 3501);
    assert.match(reason, /^bad request: command 1 is not a valid Protobuf Command/);
  });
});

describe('the centrifuge client Protobuf build through proxies with binary_encoding', async () => {
  const rpcAnswer = Uint8Array.from([0, 255, 7]);
  const backend = await recordingBackend({
    '/publish': (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"result":{}}'),
    '/rpc': (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ result: { b64data: Buffer.from(rpcAnswer).toString('base64') } })),
  });
  after(() => backend.server.close());
  const server = await startServer({
    proxies: {
      rpc: { endpoint: `${backend.url}/rpc`, binary_encoding: true },
      moderation: { endpoint: `${backend.url}/publish`, binary_encoding: true },
    },
    namespaces: { mod: { publish_proxy: 'moderation', allow_subscribe_for_anonymous: true, allow_publish_for_anonymous: true } },
  });

  it('sends the backend the exact bytes in b64data, says protobuf, and passes its b64data back unchanged', async (t) => {
    const client = await protobufClient(t, server);
    const { sub, pubs } = await subscribed(client, 'mod:pb-proxy');
    await sub.publish(Uint8Array.from([255, 1, 128]));
    const [got] = await pubs.waitFor(1);
    assert.deepEqual([...(got as { data: Uint8Array }).data], [255, 1, 128]);
    const publish = JSON.parse(backend.seen.find((s) => s.url === '/publish')!.body) as Record<string, unknown>;
    assert.equal(publish.transport, 'websocket');
    assert.equal(publish.protocol, 'protobuf');
    assert.equal(publish.encoding, 'binary');
    assert.deepEqual([...Buffer.from(publish.b64data as string, 'base64')], [255, 1, 128]);

    const rpc = await client.rpc('bytes', Uint8Array.from([9, 0x80]));
    assert.deepEqual([...(rpc.data as Uint8Array)], [...rpcAnswer]);
    const call = JSON.parse(backend.seen.find((s) => s.url === '/rpc')!.body) as Record<string, unknown>;
    assert.deepEqual([...Buffer.from(call.b64data as string, 'base64')], [9, 0x80]);
  });
});
