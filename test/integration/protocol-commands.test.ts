/**
 * The Centrifugo client protocol frame by frame over a plain WebSocket: bad input and the close
 * it earns, batching, reply errors, liveness (pings), publications, RPC with and without a
 * handler, and shutdown.
 *
 * @runtimes node bun
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NAMESPACE_DEFAULTS } from '../../src/config/namespaces.js';
import { DisconnectError, ErrorCode, ReplyError, type MessageContext } from '../../src/index.js';
import {
  assertSubset, assertWellFormed, closedWithin, connectedClient, expectReply, openProtocolClient, type ProtocolClient, type Wire,
} from '../helpers/protocol-client.js';
import { startServer } from '../helpers/server.js';
import { sleep, until } from '../helpers/wait.js';

let unique = 0;
/** A channel name no other test uses. */
const fresh = (ns: string): string => `${ns}:t${++unique}`;

describe('protocol: bad input closes the connection', async () => {
  const server = await startServer({ protocol_max_message_bytes: 4096 });

  it('closes 3501 with a reason when the first command is subscribe, not connect', async () => {
    const c = await openProtocolClient(server.wsUrl);
    c.send('{"id":1,"subscribe":{"channel":"chat:a"}}');
    const { code, reason } = await closedWithin(c);
    assert.equal(code, 3501);
    assert.match(reason, /first command must be connect/);
  });

  it('closes 3501 with a reason when a frame is not JSON', async () => {
    const c = await openProtocolClient(server.wsUrl);
    c.send('{"id":1,"connect":{}');
    const { code, reason } = await closedWithin(c);
    assert.equal(code, 3501);
    assert.notEqual(reason, '');
  });

  it('closes 3501 when a line has no known method', async () => {
    const c = await openProtocolClient(server.wsUrl);
    c.send('{"id":1,"conect":{}}');
    const { code, reason } = await closedWithin(c);
    assert.equal(code, 3501);
    assert.match(reason, /no known method/);
  });

  it('closes 3501 when a line is a JSON array, not an object', async () => {
    const c = await connectedClient(server.wsUrl);
    c.send('[{"id":2,"ping":{}}]');
    assert.equal((await closedWithin(c)).code, 3501);
  });

  it('closes 3501 on a binary frame', async () => {
    const c = await connectedClient(server.wsUrl);
    c.sendBinary(Buffer.from('{"id":2,"ping":{}}'));
    const { code, reason } = await closedWithin(c);
    assert.equal(code, 3501);
    assert.match(reason, /binary/);
  });

  it('closes 1009 when a frame is larger than protocol_max_message_bytes', async () => {
    const c = await connectedClient(server.wsUrl);
    c.send(`{"id":2,"publish":{"channel":"chat:big","data":"${'x'.repeat(4096)}"}}`);
    assert.equal((await closedWithin(c)).code, 1009);
  });

  it('closes 3501 when connect is sent a second time', async () => {
    const c = await connectedClient(server.wsUrl);
    c.send('{"id":2,"connect":{}}');
    const { code, reason } = await closedWithin(c);
    assert.equal(code, 3501);
    assert.match(reason, /already connected/);
  });

  it('closes 3501 when publish has no data', async () => {
    const c = await connectedClient(server.wsUrl);
    c.send('{"id":2,"publish":{"channel":"chat:a"}}');
    const { code, reason } = await closedWithin(c);
    assert.equal(code, 3501);
    assert.match(reason, /publish\.data is required/);
  });
});

describe('protocol: batching', async () => {
  const server = await startServer();

  it('answers 1,000 commands in one frame with 1,000 replies in order, batched in few frames', async () => {
    const c = await openProtocolClient(server.wsUrl);
    const channel = fresh('chat');
    const lines = ['{"id":1,"connect":{}}'];
    for (let id = 2; id <= 1000; id++) {
      lines.push(id % 2 === 0
        ? `{"id":${id},"publish":{"channel":"${channel}","data":{"n":${id}}}}`
        : `{"id":${id},"ping":{}}`);
    }
    c.send(lines.join('\n'));
    const ids: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const m = await c.next();
      ids.push(m.id as number);
      const method = i === 0 ? 'connect' : m.id % 2 === 0 ? 'publish' : 'ping';
      assert.equal(typeof m[method], 'object', `reply ${m.id} should carry "${method}": ${JSON.stringify(m)}`);
    }
    assert.deepEqual(ids, Array.from({ length: 1000 }, (_, i) => i + 1));
    assert.ok(c.frames.length <= 10, `1,000 replies came in ${c.frames.length} frames`);
    assertWellFormed(c);
    c.close();
  });
});

describe('protocol: reply errors and replies (dev namespaces)', async () => {
  const server = await startServer({ client_max_channels: 2 });

  it('ignores unknown fields in a command and in its body', async () => {
    const c = await openProtocolClient(server.wsUrl);
    c.send('{"id":1,"connect":{"name":"js","future_field":{"x":1}},"extra":true}');
    expectReply(await c.reply(1), { id: 1, error: undefined });
    assert.equal(typeof (await c.call('subscribe', { channel: fresh('chat'), flag: 1, tf: { op: 'x' }, delta: 'fossil' })).subscribe, 'object');
    c.close();
  });

  it('replies 105 already subscribed when subscribing twice to one channel', async () => {
    const c = await connectedClient(server.wsUrl);
    const channel = fresh('chat');
    await c.subscribe(channel);
    const id = c.nextId;
    expectReply(await c.call('subscribe', { channel }), { id, error: { code: 105 } });
    assert.ok(c.isOpen);
    c.close();
  });

  for (const [what, channel] of [['empty', ''], ['with a space', 'chat:a b'], ['longer than 255 bytes', `chat:${'a'.repeat(251)}`]] as const) {
    it(`replies 107 bad request for a channel name ${what}`, async () => {
      const c = await connectedClient(server.wsUrl);
      expectReply(await c.call('subscribe', { channel }), { id: 2, error: { code: 107 } });
      assert.ok(c.isOpen);
      c.close();
    });
  }

  it('accepts a channel name of exactly 255 bytes', async () => {
    const c = await connectedClient(server.wsUrl);
    assert.equal(typeof (await c.call('subscribe', { channel: `chat:${'b'.repeat(250)}` })).subscribe, 'object');
    c.close();
  });

  it('replies 102 unknown channel when subscribing to an undeclared namespace, listing the namespaces', async () => {
    const c = await connectedClient(server.wsUrl);
    const reply = await c.call('subscribe', { channel: 'nope:x' });
    expectReply(reply, { id: 2, error: { code: 102 } });
    assert.match(reply.error.message, /nope/);
    for (const ns of ['chat', 'scores', 'game']) assert.match(reply.error.message, new RegExp(ns));
    c.close();
  });

  it('replies 103 permission denied when publishing to the subscribe-only scores namespace', async () => {
    const c = await connectedClient(server.wsUrl);
    const channel = fresh('scores');
    await c.subscribe(channel);
    expectReply(await c.call('publish', { channel, data: { score: 1 } }), { id: 3, error: { code: 103 } });
    assert.ok(c.isOpen);
    c.close();
  });

  it('replies 108 not available for history in game (which keeps none)', async () => {
    const c = await connectedClient(server.wsUrl);
    const channel = fresh('game');
    await c.subscribe(channel);
    expectReply(await c.call('history', { channel, limit: 10 }), { id: 3, error: { code: 108 } });
    c.close();
  });

  it('replies 108 not available for presence in scores (which keeps none)', async () => {
    const c = await connectedClient(server.wsUrl);
    const channel = fresh('scores');
    await c.subscribe(channel);
    expectReply(await c.call('presence', { channel }), { id: 3, error: { code: 108 } });
    expectReply(await c.call('presence_stats', { channel }), { id: 4, error: { code: 108 } });
    c.close();
  });

  it('replies 106 limit exceeded past client_max_channels', async () => {
    const c = await connectedClient(server.wsUrl);
    await c.subscribe(fresh('chat'));
    await c.subscribe(fresh('chat'));
    expectReply(await c.call('subscribe', { channel: fresh('chat') }), { id: 4, error: { code: 106 } });
    assert.ok(c.isOpen);
    c.close();
  });

  it('replies {"id":N,"unsubscribe":{}} to an unsubscribe from a channel never subscribed', async () => {
    const c = await connectedClient(server.wsUrl);
    await c.call('unsubscribe', { channel: fresh('chat') });
    assert.ok(c.lines.includes('{"id":2,"unsubscribe":{}}'), `got ${c.lines.join(' | ')}`);
    c.close();
  });

  it('answers {"id":N,"ping":{}} to a ping command', async () => {
    const c = await connectedClient(server.wsUrl);
    await c.call('ping', {});
    assert.equal(c.lines.at(-1), '{"id":2,"ping":{}}');
    c.close();
  });

  it('sends replies and pushes as text frames of JSON lines, each reply carrying its method object', async () => {
    const c = await connectedClient(server.wsUrl);
    const channel = fresh('chat');
    const calls: Array<[string, unknown]> = [
      ['subscribe', { channel }],
      ['publish', { channel, data: { text: 'hi' } }],
      ['history', { channel, limit: 10 }],
      ['presence', { channel }],
      ['presence_stats', { channel }],
      ['ping', {}],
      ['unsubscribe', { channel }],
    ];
    for (const [method, body] of calls) {
      const reply = await c.call(method, body);
      assert.equal(reply.error, undefined, `${method}: ${JSON.stringify(reply)}`);
      assert.ok(reply[method] !== null && typeof reply[method] === 'object', `${method} reply lacks "${method}": ${JSON.stringify(reply)}`);
    }
    const pub = await c.nextPush({ kind: 'pub', channel });
    assertSubset(pub, { push: { channel, pub: { data: { text: 'hi' }, offset: 1 } } });
    assertWellFormed(c);
    c.close();
  });
});

describe('protocol: liveness', async () => {
  const server = await startServer({
    client_connect_timeout: 300,
    ping_interval: 1000,
    pong_timeout: 300,
    onConnecting(ctx) {
      if ((ctx.data as { deny?: boolean } | undefined)?.deny) throw new ReplyError(ErrorCode.Unauthorized);
    },
  });

  it('closes 3502 stale when no connect arrives within client_connect_timeout', async () => {
    const c = await openProtocolClient(server.wsUrl);
    const started = Date.now();
    const { code, reason } = await closedWithin(c, 3000);
    assert.equal(code, 3502);
    assert.match(reason, /stale/);
    assert.ok(Date.now() - started >= 250, 'closed before client_connect_timeout');
  });

  it('closes 3502 stale when the only connect failed and none succeeds within client_connect_timeout', async () => {
    const c = await openProtocolClient(server.wsUrl);
    expectReply(await c.call('connect', { data: { deny: true } }), { id: 1, error: { code: 101 } });
    const { code } = await closedWithin(c, 1500);
    assert.equal(code, 3502);
  });

  it('keeps a connected client that answers server pings with {}', async () => {
    const c = await connectedClient(server.wsUrl);
    // The second ping comes after the first pong check passed (real timers; the rule itself is
    // tested under a fake clock in test/unit/session/client-session.test.ts).
    await until(() => c.pings >= 2, 'two server pings arrived', 4000);
    assert.ok(c.isOpen, 'closed although it answered every ping');
    expectReply(await c.call('ping', {}), { id: 2, ping: {} });
    c.close();
  });

  it('closes 3012 no pong when a client does not answer a server ping within pong_timeout', async () => {
    const c = await connectedClient(server.wsUrl, {}, { autoPong: false });
    const { code, reason } = await closedWithin(c, 3000);
    assert.equal(code, 3012);
    assert.notEqual(reason, '');
    assert.equal(c.pings, 1);
  });
});

describe('protocol: publications', async () => {
  const server = await startServer();

  it('delivers a publish once to each other subscriber, with offsets 1, 2, 3 and info {user, client}', async () => {
    const channel = fresh('chat');
    const [b, d] = [await connectedClient(server.wsUrl), await connectedClient(server.wsUrl)];
    await b.subscribe(channel);
    await d.subscribe(channel);
    const a = await connectedClient(server.wsUrl);
    for (const n of [1, 2, 3]) expectReply(await a.call('publish', { channel, data: { n } }), { id: n + 1, publish: {} });
    for (const sub of [b, d]) {
      for (const n of [1, 2, 3]) {
        const push = await sub.nextPush({ kind: 'pub', channel });
        assertSubset(push, { push: { channel, pub: { data: { n }, offset: n, info: { user: '', client: a.clientId } } } });
      }
      await sub.expectNone(200);
    }
    await a.expectNone(0);
    for (const c of [a, b, d]) c.close();
  });

  it('delivers publish data as sent, keeping every digit of an integer beyond 2^53', async () => {
    const channel = fresh('chat');
    const sub = await connectedClient(server.wsUrl);
    await sub.subscribe(channel);
    const a = await connectedClient(server.wsUrl);
    a.send(`{"id":2,"publish":{"channel":"${channel}","data":{"order":12345678901234567890}}}`);
    expectReply(await a.reply(2), { id: 2, publish: {} });
    await sub.nextPush({ kind: 'pub', channel });
    const line = sub.lines.find((l) => l.includes('"pub"'));
    assert.match(line ?? '', /"data":\{"order":12345678901234567890\}/);
    a.close();
    sub.close();
  });

  it('stops delivering a channel after unsubscribe', async () => {
    const channel = fresh('chat');
    const c = await connectedClient(server.wsUrl);
    await c.subscribe(channel);
    expectReply(await c.call('unsubscribe', { channel }), { id: 3, unsubscribe: {} });
    await server.canal.publish(channel, { late: true });
    await c.expectNone(150);
    c.close();
  });

  it('removes a client from presence once it disconnects', async () => {
    const channel = fresh('chat');
    const [watcher, leaver] = [await connectedClient(server.wsUrl), await connectedClient(server.wsUrl)];
    await watcher.subscribe(channel);
    await leaver.subscribe(channel);
    const before = (await watcher.call('presence', { channel })).presence.presence as Wire;
    assert.deepEqual(Object.keys(before).sort(), [watcher.clientId, leaver.clientId].sort());
    leaver.close();
    await leaver.closed;
    await sleep(50);
    const after = (await watcher.call('presence', { channel })).presence.presence as Wire;
    assert.deepEqual(Object.keys(after), [watcher.clientId]);
    watcher.close();
  });

  it('delivers a publication from Canal.publish() with no info', async () => {
    const channel = fresh('chat');
    const c = await connectedClient(server.wsUrl);
    await c.subscribe(channel);
    await server.canal.publish(channel, { from: 'server' });
    const push = await c.nextPush({ kind: 'pub', channel });
    assertSubset(push, { push: { channel, pub: { data: { from: 'server' }, offset: 1, info: undefined } } });
    c.close();
  });
});

describe('protocol: rpc without a handler', async () => {
  const server = await startServer();

  it('replies 104 method not found to rpc when no onRpc handler is set', async () => {
    const c = await connectedClient(server.wsUrl);
    expectReply(await c.call('rpc', { method: 'anything', data: {} }), { id: 2, error: { code: 104 } });
    assert.ok(c.isOpen);
    c.close();
  });
});

describe('protocol: handlers', async () => {
  const messages: MessageContext[] = [];
  const server = await startServer({
    dev: false,
    allow_anonymous_connect: true,
    namespaces: {
      room: { ...NAMESPACE_DEFAULTS, presence: true, allow_presence_for_subscriber: true, history_size: 10, history_ttl: 60_000 },
    },
    onConnecting(ctx) {
      const data = ctx.data as { user?: string; deny?: boolean } | undefined;
      if (data?.deny) throw new ReplyError(ErrorCode.Unauthorized, 'not you');
      if (data?.user) return { user: data.user, info: { name: data.user.toUpperCase() }, data: { welcome: data.user } };
      return undefined;
    },
    onSubscribe(ctx) {
      if (ctx.channel.startsWith('room:closed')) throw new ReplyError(ErrorCode.PermissionDenied);
      if (ctx.channel.startsWith('room:vip')) return { info: { role: 'vip' }, data: { hello: ctx.user } };
      return undefined;
    },
    onPublish(ctx) {
      if (ctx.channel.startsWith('room:readonly')) throw new ReplyError(ErrorCode.PermissionDenied);
      const data = ctx.data as { text?: string; shout?: boolean };
      if (data.shout) return { data: { text: String(data.text).toUpperCase() } };
      return undefined;
    },
    onRpc(ctx) {
      switch (ctx.method) {
        case 'echo': return { echoed: ctx.data, user: ctx.user };
        case 'denied': throw new ReplyError(ErrorCode.PermissionDenied);
        case 'boom': throw new Error('database password is hunter2');
        case 'bye': throw new DisconnectError(4000, 'x');
        default: throw new ReplyError(ErrorCode.MethodNotFound);
      }
    },
    onMessage(ctx) {
      messages.push(ctx);
    },
  });

  it('replies with the value onRpc returns as rpc.data', async () => {
    const c = await connectedClient(server.wsUrl, { data: { user: 'alice' } });
    expectReply(await c.call('rpc', { method: 'echo', data: { x: [1, 2] } }), {
      id: 2, rpc: { data: { echoed: { x: [1, 2] }, user: 'alice' } },
    });
    c.close();
  });

  it('replies 103 when onRpc throws ReplyError(PermissionDenied)', async () => {
    const c = await connectedClient(server.wsUrl);
    expectReply(await c.call('rpc', { method: 'denied' }), { id: 2, error: { code: 103 } });
    assert.ok(c.isOpen);
    c.close();
  });

  it('replies 100 temporary "internal server error" when onRpc throws a plain Error, leaking nothing', async () => {
    const c = await connectedClient(server.wsUrl);
    const reply = await c.call('rpc', { method: 'boom' });
    expectReply(reply, { id: 2, error: { code: 100, message: 'internal server error', temporary: true } });
    assert.doesNotMatch(c.lines.join('\n'), /hunter2/);
    assert.ok(c.isOpen);
    c.close();
  });

  it('closes 4000 with reason "x" when onRpc throws DisconnectError(4000, "x")', async () => {
    const c = await connectedClient(server.wsUrl);
    c.command('rpc', { method: 'bye' });
    assert.deepEqual(await closedWithin(c), { code: 4000, reason: 'x' });
  });

  it('uses the user, info and data onConnecting returns: data in the connect result, user and conn_info in presence', async () => {
    const c = await openProtocolClient(server.wsUrl);
    const result = await c.connect({ data: { user: 'alice' } });
    assert.deepEqual(result.data, { welcome: 'alice' });
    const channel = fresh('room');
    await c.subscribe(channel);
    const { presence } = (await c.call('presence', { channel })).presence as Wire;
    assertSubset(presence, { [c.clientId]: { user: 'alice', client: c.clientId, conn_info: { name: 'ALICE' } } });
    c.close();
  });

  it('replies with the error onConnecting throws and does not connect', async () => {
    const c = await openProtocolClient(server.wsUrl);
    expectReply(await c.call('connect', { data: { deny: true } }), { id: 1, error: { code: 101, message: 'not you' } });
    c.close();
  });

  it('replies 103 when onSubscribe denies', async () => {
    const c = await connectedClient(server.wsUrl);
    expectReply(await c.call('subscribe', { channel: fresh('room:closed') }), { id: 2, error: { code: 103 } });
    c.close();
  });

  it('subscribes when onSubscribe allows, with its data in the result and its info as chan_info', async () => {
    const c = await connectedClient(server.wsUrl, { data: { user: 'bob' } });
    const channel = fresh('room:vip');
    const result = await c.subscribe(channel);
    assert.deepEqual(result.data, { hello: 'bob' });
    const { presence } = (await c.call('presence', { channel })).presence as Wire;
    assertSubset(presence, { [c.clientId]: { user: 'bob', conn_info: { name: 'BOB' }, chan_info: { role: 'vip' } } });
    c.close();
  });

  it('replies 103 when onPublish denies, and publishes nothing', async () => {
    const channel = fresh('room:readonly');
    const sub = await connectedClient(server.wsUrl);
    await sub.subscribe(channel);
    const c = await connectedClient(server.wsUrl);
    expectReply(await c.call('publish', { channel, data: { text: 'hi' } }), { id: 2, error: { code: 103 } });
    await sub.expectNone(200);
    sub.close();
    c.close();
  });

  it('publishes the data onPublish returns instead, with the publisher\'s conn_info and chan_info', async () => {
    const channel = fresh('room:vip');
    const sub = await connectedClient(server.wsUrl);
    await sub.subscribe(channel);
    const c = await connectedClient(server.wsUrl, { data: { user: 'carol' } });
    await c.subscribe(channel);
    expectReply(await c.call('publish', { channel, data: { text: 'hi', shout: true } }), { id: 3, publish: {} });
    assertSubset(await sub.nextPush({ kind: 'pub', channel }), {
      push: { channel, pub: { data: { text: 'HI' }, info: { user: 'carol', client: c.clientId, conn_info: { name: 'CAROL' }, chan_info: { role: 'vip' } } } },
    });
    expectReply(await c.call('publish', { channel, data: { text: 'calm' } }), { id: 4, publish: {} });
    assertSubset(await sub.nextPush({ kind: 'pub', channel }), { push: { pub: { data: { text: 'calm' } } } });
    sub.close();
    c.close();
  });

  it('passes send data to onMessage and sends no reply', async () => {
    const c = await connectedClient(server.wsUrl, { data: { user: 'dave' } });
    c.send('{"send":{"data":{"note":"fire and forget"}}}');
    expectReply(await c.call('ping', {}), { id: 2, ping: {} });
    assert.equal(c.lines.length, 2, `expected only the connect and ping replies, got ${c.lines.join(' | ')}`);
    const got = messages.find((m) => m.client === c.clientId);
    assert.ok(got, 'onMessage was not called');
    assert.deepEqual(got.data, { note: 'fire and forget' });
    assert.equal(got.user, 'dave');
    c.close();
  });
});

describe('protocol: shutdown', () => {
  it('closes protocol clients with 3001 "shutdown" on Canal.close()', async () => {
    const server = await startServer();
    const connected = await connectedClient(server.wsUrl);
    await connected.subscribe(fresh('chat'));
    const notYetConnected: ProtocolClient = await openProtocolClient(server.wsUrl);
    await server.canal.close();
    for (const c of [connected, notYetConnected]) assert.deepEqual(await closedWithin(c), { code: 3001, reason: 'shutdown' });
  });
});
