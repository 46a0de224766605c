import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { NAMESPACE_DEFAULTS } from '../../src/config/namespaces.js';
import { createMemoryEngine, ErrorCode, ReplyError, type Engine } from '../../src/index.js';

import { assertSubset, assertWellFormed, connectedClient, expectReply, type ProtocolClient } from '../helpers/protocol-client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { closedWithin, connectClient, TestClient } from '../helpers/ws-client.js';
import { sleep, until } from '../helpers/wait.js';

let unique = 0;
/** A channel name no other test uses. */
const fresh = (ns: string): string => `${ns}:t${++unique}`;

/** Sends a WebSocket upgrade for `path` with node:http and resolves with the refusal's status and body. */
function upgradeRefusal(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1', port, path,
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' },
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      reject(new Error(`upgraded on ${path}`));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('plain channels ws://HOST:PORT/raw/<channel>', async () => {
  const server = await startServer({
    raw_max_message_bytes: 4096,
    namespaces: { members: { ...NAMESPACE_DEFAULTS, allow_subscribe_for_client: true } },
  });
  const raw = (channel: string): string => `${server.wsUrl}/raw/${channel}`;
  const plain = (channel: string): Promise<TestClient> => connectClient(raw(channel));
  const subscriber = async (channel: string): Promise<ProtocolClient> => {
    const c = await connectedClient(server.wsUrl);
    await c.subscribe(channel);
    return c;
  };

  it('delivers a text message to every plain client on the channel, the sender included, as its bare text', async () => {
    const channel = fresh('chat');
    const clients = await Promise.all([plain(channel), plain(channel), plain(channel)]);
    clients[0]!.send('hello, room');
    for (const c of clients) {
      const m = await c.next();
      assert.equal(m.text, 'hello, room');
      assert.equal(m.isBinary, false);
    }
    for (const c of clients) c.close();
  });

  it('follows the seed\'s client flow: new WebSocket(url), send "hello" on open, receive "hello"', async () => {
    const url = `ws://127.0.0.1:${server.port}/raw/chat:lobby`;
    const received = await new Promise<string>((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.onopen = () => ws.send('hello');
      ws.onmessage = (e) => {
        resolve(String(e.data));
        ws.close();
      };
      ws.onerror = (e) => reject(e.error);
    });
    assert.equal(received, 'hello');
  });

  it('delivers {"a":1} from a plain client as {"a":1} to plain clients and as data {a:1} to protocol subscribers', async () => {
    const channel = fresh('chat');
    const [sender, other] = [await plain(channel), await plain(channel)];
    const sub = await subscriber(channel);
    sender.send('{"a":1}');
    assert.equal(await sender.nextText(), '{"a":1}');
    assert.equal(await other.nextText(), '{"a":1}');
    assertSubset(await sub.nextPush({ kind: 'pub', channel }), { push: { channel, pub: { data: { a: 1 }, offset: 1 } } });
    for (const c of [sender, other, sub]) c.close();
  });

  it('delivers a protocol publish of {"text":"hi"} to plain clients as {"text":"hi"}, and of "hola" as hola', async () => {
    const channel = fresh('chat');
    const p = await plain(channel);
    const publisher = await connectedClient(server.wsUrl);
    await publisher.call('publish', { channel, data: { text: 'hi' } });
    assert.equal(await p.nextText(), '{"text":"hi"}');
    await publisher.call('publish', { channel, data: 'hola' });
    assert.equal(await p.nextText(), 'hola');
    p.close();
    publisher.close();
  });

  it('compacts a pretty-printed multi-line JSON message, so protocol frames carry it on one line', async () => {
    const channel = fresh('chat');
    const [sender, other] = [await plain(channel), await plain(channel)];
    const sub = await subscriber(channel);
    sender.send('{\n  "a": 1,\n  "list": [\n    1,\n    2\n  ]\n}\n');
    assert.equal(await other.nextText(), '{"a":1,"list":[1,2]}');
    assertSubset(await sub.nextPush({ kind: 'pub', channel }), { push: { channel, pub: { data: { a: 1, list: [1, 2] } } } });
    assertWellFormed(sub);
    assert.ok(sub.lines.some((l) => l.includes('"data":{"a":1,"list":[1,2]}')), sub.lines.join(' | '));
    for (const c of [sender, other, sub]) c.close();
  });

  it('delivers a multi-line text that is not JSON as a JSON string to protocol subscribers, and as is to plain clients', async () => {
    const channel = fresh('chat');
    const [sender, other] = [await plain(channel), await plain(channel)];
    const sub = await subscriber(channel);
    sender.send('line one\nline two');
    assert.equal(await other.nextText(), 'line one\nline two');
    assertSubset(await sub.nextPush({ kind: 'pub', channel }), { push: { pub: { data: 'line one\nline two' } } });
    assertWellFormed(sub);
    for (const c of [sender, other, sub]) c.close();
  });

  it('delivers a number a plain client sends with every digit, even beyond 2^53', async () => {
    const channel = fresh('chat');
    const [sender, other] = [await plain(channel), await plain(channel)];
    sender.send('12345678901234567890');
    assert.equal(await other.nextText(), '12345678901234567890');
    sender.close();
    other.close();
  });

  it('keeps the order of 500 messages from one plain client, for plain and protocol subscribers', async () => {
    const channel = fresh('chat');
    const [sender, other] = [await plain(channel), await plain(channel)];
    const sub = await subscriber(channel);
    const sent = Array.from({ length: 500 }, (_, i) => `m${i}`);
    for (const m of sent) sender.send(m);
    for (const c of [sender, other]) {
      const got: string[] = [];
      for (let i = 0; i < sent.length; i++) got.push(await c.nextText());
      assert.deepEqual(got, sent);
    }
    for (let i = 0; i < sent.length; i++) {
      assertSubset(await sub.nextPush({ kind: 'pub', channel }), { push: { pub: { data: sent[i], offset: i + 1 } } });
    }
    for (const c of [sender, other, sub]) c.close();
  });

  it('delivers publications from Canal.publish() to plain clients: a string as bare text, anything else as JSON', async () => {
    const channel = fresh('chat');
    const p = await plain(channel);
    await server.canal.publish(channel, 'from the server');
    await server.canal.publish(channel, { n: 1, ok: true });
    await server.canal.publish(channel, 42);
    assert.equal(await p.nextText(), 'from the server');
    assert.equal(await p.nextText(), '{"n":1,"ok":true}');
    assert.equal(await p.nextText(), '42');
    p.close();
  });

  it('delivers nothing from one channel to plain clients of another', async () => {
    const [a, b] = [await plain(fresh('chat')), await plain(fresh('chat'))];
    a.send('only for a');
    assert.equal(await a.nextText(), 'only for a');
    // A wait for something that must not happen: a stray delivery to b would land within it.
    await sleep(100);
    assert.equal(b.pending, 0);
    a.close();
    b.close();
  });

  it('keeps plain clients\' messages in the channel history', async () => {
    const channel = fresh('chat');
    const p = await plain(channel);
    p.send('first');
    p.send('{"second":2}');
    await p.next();
    await p.next();
    const reader = await subscriber(channel);
    const { history } = await reader.call('history', { channel, limit: 10 });
    assertSubset(history.publications, [{ data: 'first', offset: 1 }, { data: { second: 2 }, offset: 2 }]);
    p.close();
    reader.close();
  });

  it('serves a percent-encoded channel name as the decoded one (chat%3Aenc is chat:enc)', async () => {
    const channel = fresh('chat');
    const encoded = await connectClient(`${server.wsUrl}/raw/${encodeURIComponent(channel)}`);
    const direct = await plain(channel);
    encoded.send('same channel');
    assert.equal(await direct.nextText(), 'same channel');
    encoded.close();
    direct.close();
  });

  it('refuses an unknown namespace with HTTP 404 whose body names the namespaces', async () => {
    const { status, body } = await upgradeRefusal(server.port, '/raw/nope:lobby');
    assert.equal(status, 404);
    assert.match(body, /nope/);
    for (const ns of ['chat', 'scores', 'game']) assert.match(body, new RegExp(ns));
  });

  it('refuses a bad channel name (a space, %20) with HTTP 400', async () => {
    const { status, body } = await upgradeRefusal(server.port, '/raw/chat:a%20b');
    assert.equal(status, 400);
    assert.notEqual(body.trim(), '');
  });

  it('refuses a namespace that does not allow anonymous subscribers with HTTP 403', async () => {
    for (const path of ['/raw/members:x', '/raw/lobby']) {
      const { status, body } = await upgradeRefusal(server.port, path);
      assert.equal(status, 403, path);
      assert.match(body, /permission denied/);
    }
  });

  it('accepts a plain client in subscribe-only scores, delivers it publications, and closes it 1008 with a reason when it sends text', async () => {
    const channel = fresh('scores');
    const p = await plain(channel);
    await server.canal.publish(channel, { home: 1, away: 0 });
    assert.equal(await p.nextText(), '{"home":1,"away":0}');
    p.send('{"home":9}');
    const { code, reason } = await closedWithin(p);
    assert.equal(code, 1008);
    assert.notEqual(reason, '');
  });

  it('closes 1003 on a binary message', async () => {
    const p = await plain(fresh('chat'));
    p.send(Buffer.from([1, 2, 3]), { binary: true });
    const { code, reason } = await closedWithin(p);
    assert.equal(code, 1003);
    assert.notEqual(reason, '');
  });

  it('closes 1009 when a message is larger than raw_max_message_bytes', async () => {
    const p = await plain(fresh('chat'));
    p.send('x'.repeat(4097));
    assert.equal((await closedWithin(p)).code, 1009);
  });

  it('closes plain clients with 1001 on Canal.close()', async () => {
    const other = await startServer();
    const p = await connectClient(`${other.wsUrl}/raw/chat:lobby`);
    await other.canal.close();
    assert.equal((await closedWithin(p)).code, 1001);
  });
});

describe('plain channels and the embedding application\'s handlers', async () => {
  const server = await startServer({
    onSubscribe(ctx) {
      if (ctx.channel.startsWith('chat:locked')) throw new ReplyError(ErrorCode.PermissionDenied);
    },
    onPublish(ctx) {
      if (ctx.channel.startsWith('chat:moderated') && JSON.stringify(ctx.data).includes('spam')) throw new ReplyError(ErrorCode.PermissionDenied);
      if (ctx.channel.startsWith('chat:stamped')) return { data: { text: ctx.data, stamped: true } };
      return undefined;
    },
  });
  const raw = (channel: string): string => `${server.wsUrl}/raw/${channel}`;

  it('lets no plain client read or write a channel that onSubscribe denies', async () => {
    const channel = fresh('chat:locked');
    const denied = await connectedClient(server.wsUrl);
    expectReply(await denied.call('subscribe', { channel }), { id: 2, error: { code: 103 } });
    denied.close();
    const p = new TestClient(raw(channel));
    const opened = await p.opened.then(() => true, () => false);
    if (!opened) return; // refused at the handshake: fine
    await server.canal.publish(channel, 'secret');
    const outcome = await Promise.race([
      p.closed,
      p.next(1000).then((m) => ({ received: m.text }), () => ({ stillOpen: true })),
    ]);
    assert.ok(!('received' in outcome), `a plain client of a channel onSubscribe denies received ${JSON.stringify(outcome)}`);
    assert.ok(!('stillOpen' in outcome), 'a plain client of a channel onSubscribe denies is still connected');
    assert.equal(outcome.code, 1008);
  });

  it('passes plain clients\' messages through onPublish: a denied one closes 1008 and reaches nobody', async () => {
    const channel = fresh('chat:moderated');
    const sub = await connectedClient(server.wsUrl);
    await sub.subscribe(channel);
    const p = await connectClient(raw(channel));
    p.send('buy spam now');
    await sub.expectNone(200);
    assert.equal((await closedWithin(p, 1000)).code, 1008);
    sub.close();
  });

  it('passes plain clients\' messages through onPublish: the data it returns is what is published', async () => {
    const channel = fresh('chat:stamped');
    const p = await connectClient(raw(channel));
    p.send('hello');
    assert.equal(await p.nextText(), '{"text":"hello","stamped":true}');
    p.close();
  });
});

describe('plain clients are held to the rate limit and to a bounded publish window', async () => {
  /** The memory engine with a gate in front of publish: while closed, publishes wait. */
  function gatedEngine(): { engine: Engine; open(): void; publishes(): number } {
    const engine = createMemoryEngine();
    let release: () => void = () => {};
    let gate = new Promise<void>((r) => (release = r));
    let calls = 0;
    const publish = engine.broker.publish.bind(engine.broker);
    engine.broker.publish = async (...args) => {
      calls++;
      await gate;
      return publish(...args);
    };
    return {
      engine,
      open: () => {
        release();
        gate = Promise.resolve();
      },
      publishes: () => calls,
    };
  }

  it('closes a plain client with 1008 "too many messages" at the first message past the burst; the accepted ones all arrive, in order', async () => {
    const server = await startServer({ client_command_rate: 10, client_command_burst: 20 });
    const channel = fresh('chat');
    const sub = await connectedClient(server.wsUrl);
    await sub.subscribe(channel);
    const p = await connectClient(`${server.wsUrl}/raw/${channel}`);
    for (let i = 0; i < 30; i++) p.send(`m${i}`);
    const { code, reason } = await closedWithin(p, 3000);
    assert.equal(code, 1008);
    assert.match(reason, /^too many messages: at most 10 per second/);
    const got: unknown[] = [];
    for (let i = 0; i < 20; i++) got.push((await sub.nextPush({ kind: 'pub', channel })).push?.pub?.data);
    assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => `m${i}`));
    await sub.expectNone(200);
    sub.close();
  });

  it('stops reading from a plain client while its publications wait for the engine, and loses none of them', async () => {
    const gated = gatedEngine();
    const server = await startServer({ engine: gated.engine, raw_max_message_bytes: 64 * 1024, client_queue_max_bytes: 64 * 1024 * 1024 });
    after(() => gated.engine.close());
    const channel = fresh('chat');
    const sub = await connectedClient(server.wsUrl);
    await sub.subscribe(channel);
    const p = await connectClient(`${server.wsUrl}/raw/${channel}`);
    const big = 'x'.repeat(60 * 1024);
    const sent = Array.from({ length: 200 }, (_, i) => `${i} ${big}`);
    for (const m of sent) p.send(m);
    // 200 x 60 KB = 12 MB sent; with the engine stalled, canal reads a bounded window and leaves
    // the rest to TCP (before: every message was read and queued in memory).
    await until(() => gated.publishes() >= 1, 'the first publish reaches the engine');
    // A wait for something that must not happen: were canal to read on while the engine is
    // stalled, it would read many more messages within this bound (12 MB on loopback).
    await sleep(300);
    const received = await messagesReceived(server, 'raw');
    assert.ok(received < 40, `canal read ${received} of 200 messages while the engine was stalled`);
    gated.open();
    for (let i = 0; i < sent.length; i++) {
      const data = (await sub.nextPush({ kind: 'pub', channel }, 5000)).push?.pub?.data as string;
      assert.equal(data.slice(0, data.indexOf(' ')), String(i));
    }
    p.close();
    sub.close();
  });
});

/** canal_messages_received_total for `endpoint`, from /metrics. */
async function messagesReceived(server: TestServer, endpoint: string): Promise<number> {
  const text = await server.canal.metrics.text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('canal_messages_received_total{') && line.includes(`endpoint="${endpoint}"`)) total += Number(line.split(' ').pop());
  }
  return total;
}

describe('JSON nesting depth on every entry point', async () => {
  const server = await startServer();
  const deep = (n: number): string => `${'['.repeat(n)}${']'.repeat(n)}`;

  it('closes a protocol client that publishes JSON nested 101 levels deep with 3501, and publishes nothing', async () => {
    const channel = fresh('chat');
    const sub = await connectedClient(server.wsUrl);
    await sub.subscribe(channel);
    const c = await connectedClient(server.wsUrl);
    c.send(`{"id":9,"publish":{"channel":"${channel}","data":${deep(200)}}}`);
    const { code, reason } = await closedWithin(c);
    assert.equal(code, 3501);
    assert.match(reason, /nests JSON deeper than 100 levels/);
    await sub.expectNone(200);
    sub.close();
  });

  it('answers the server API 400 with code 107 for a body nested 101 levels deep', async () => {
    const res = await fetch(`${server.httpUrl}/api/publish`, {
      method: 'POST', headers: { 'x-api-key': server.canal.apiKey! }, body: `{"channel":"chat:deep","data":${deep(100)}}`,
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { code: number; message: string } };
    assert.deepEqual(body.error, { code: 107, message: 'bad request: the body nests JSON deeper than 100 levels' });
  });

  it('closes a plain client whose JSON nests 101 levels deep with 1008, after publishing what it sent before', async () => {
    const channel = fresh('chat');
    const other = await plain(channel);
    const p = await connectClient(`${server.wsUrl}/raw/${channel}`);
    p.send('before');
    p.send(deep(101));
    assert.equal(await other.nextText(), 'before');
    const { code, reason } = await closedWithin(p);
    assert.equal(code, 1008);
    assert.match(reason, /nests JSON deeper than 100 levels/);
    other.close();
  });

  it('publishes a plain text full of brackets that is not JSON as text', async () => {
    const channel = fresh('chat');
    const p = await plain(channel);
    const text = `${'['.repeat(150)} not json`;
    p.send(text);
    assert.equal(await p.nextText(), text);
    p.close();
  });

  async function plain(channel: string): Promise<TestClient> {
    return connectClient(`${server.wsUrl}/raw/${channel}`);
  }
});
