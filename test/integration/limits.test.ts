/**
 * Limits with defaults (DESIGN "Bad input"): browser origins, connections per node, channels
 * per connection, commands per second, a slow consumer's outbound queue, and the message size
 * of each endpoint. Each is refused with its documented code: an HTTP status at upgrade, a
 * reply error, or a close code.
 *
 * @runtimes node bun
 */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { closedWithin, connectedClient, openProtocolClient, type ProtocolClient, type Wire } from '../helpers/protocol-client.js';
import { HMAC_SECRET, hmacKey, mintToken } from '../helpers/tokens.js';
import { channelClients, presentClients } from '../helpers/server-api.js';
import { startServer } from '../helpers/server.js';
import { closedWithin as plainClosedWithin, connectClient } from '../helpers/ws-client.js';
import { sleep } from '../helpers/wait.js';

/** What an upgrade got: 101 (the socket, open), or a refusal's status and body. */
interface UpgradeOutcome {
  readonly status: number;
  readonly body: string;
  readonly ws: WebSocket;
}

/** Attempts a WebSocket upgrade to `url` with `headers`; resolves with 101 or the refusal. */
function upgrade(url: string, headers: Record<string, string> = {}): Promise<UpgradeOutcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const timer = setTimeout(() => reject(new Error(`no answer to the upgrade of ${url} within 5 s`)), 5000);
    ws.once('open', () => {
      clearTimeout(timer);
      resolve({ status: 101, body: '', ws });
    });
    ws.once('unexpected-response', (_req, res: IncomingMessage) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body, ws });
      });
    });
    ws.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** The replies with the given ids among `lines`, in the order received. */
function repliesOf(lines: readonly Wire[], ids: ReadonlySet<number>): Wire[] {
  return lines.filter((m) => typeof m.id === 'number' && ids.has(m.id));
}

/** Waits until `client` has received lines matching `count` ids, at most `timeoutMs`. */
async function collectReplies(client: ProtocolClient, ids: readonly number[], timeoutMs = 5000): Promise<Wire[]> {
  const out: Wire[] = [];
  for (const id of ids) {
    try {
      out.push(await client.reply(id, timeoutMs));
    } catch {
      break;
    }
  }
  return out;
}

describe('allowed_origins', async () => {
  const server = await startServer({ allowed_origins: ['https://*.example.com', 'null'] });
  const endpoints = ['/', '/connection/websocket', '/raw/chat:origins'];

  for (const path of endpoints) {
    it(`lets a matching Origin open ${path}`, async () => {
      for (const origin of ['https://app.example.com', 'https://a.b.example.com', 'HTTPS://APP.EXAMPLE.COM']) {
        const { status, ws } = await upgrade(`${server.wsUrl}${path}`, { origin });
        assert.equal(status, 101, `${origin} on ${path}`);
        ws.close();
      }
    });

    it(`lets Origin: null (a page opened from disk) open ${path} when "null" is listed`, async () => {
      const { status, ws } = await upgrade(`${server.wsUrl}${path}`, { origin: 'null' });
      assert.equal(status, 101);
      ws.close();
    });

    it(`refuses another Origin on ${path} with HTTP 403 saying which origins are allowed`, async () => {
      for (const origin of ['https://evil.com', 'https://example.com', 'http://app.example.com', 'https://app.example.com.evil.com', 'https://app.example.com:8443']) {
        const { status, body } = await upgrade(`${server.wsUrl}${path}`, { origin });
        assert.equal(status, 403, `${origin} on ${path}`);
        assert.match(body, /not allowed/);
        assert.match(body, /https:\/\/\*\.example\.com/);
      }
    });

    it(`lets a client that sends no Origin header open ${path}`, async () => {
      const { status, ws } = await upgrade(`${server.wsUrl}${path}`);
      assert.equal(status, 101);
      ws.close();
    });
  }

  it('lets any origin in when allowed_origins is empty', async () => {
    const open = await startServer();
    const { status, ws } = await upgrade(`${open.wsUrl}/`, { origin: 'https://anything.test' });
    assert.equal(status, 101);
    ws.close();
  });
});

describe('max_connections', async () => {
  const server = await startServer({ max_connections: 3 });

  it('refuses the 4th upgrade with HTTP 503 (on any endpoint) and accepts again once one closes', async () => {
    const a = await connectClient(`${server.wsUrl}/`);
    const b = await connectedClient(server.wsUrl);
    const c = await connectClient(`${server.wsUrl}/raw/chat:max`);
    for (const path of ['/', '/connection/websocket', '/raw/chat:max']) {
      const { status, body } = await upgrade(`${server.wsUrl}${path}`);
      assert.equal(status, 503, path);
      assert.match(body, /max_connections 3/);
    }
    a.close();
    await plainClosedWithin(a);
    let outcome: UpgradeOutcome | undefined;
    for (let i = 0; i < 50; i++) {
      outcome = await upgrade(`${server.wsUrl}/`);
      if (outcome.status === 101) break;
      await sleep(20);
    }
    assert.equal(outcome?.status, 101, 'a slot is free again once a connection closed');
    outcome!.ws.close();
    b.close();
    c.close();
    await Promise.all([closedWithin(b), plainClosedWithin(c), new Promise((r) => outcome!.ws.once('close', r))]);
  });

  it('lets exactly 3 of 10 simultaneous upgrades through and refuses the others with 503', async () => {
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => upgrade(`${server.wsUrl}/`)));
    assert.deepEqual(outcomes.map((o) => o.status).sort(), [101, 101, 101, 503, 503, 503, 503, 503, 503, 503]);
    const open = outcomes.filter((o) => o.status === 101).map((o) => o.ws);
    for (const ws of open) ws.close();
    await Promise.all(open.map((ws) => new Promise((r) => ws.once('close', r))));
  });

  it('does not count refused upgrades as connections', async () => {
    const open = await Promise.all([connectClient(`${server.wsUrl}/`), connectClient(`${server.wsUrl}/`), connectClient(`${server.wsUrl}/`)]);
    for (let i = 0; i < 5; i++) assert.equal((await upgrade(`${server.wsUrl}/`)).status, 503);
    open[0]!.close();
    await plainClosedWithin(open[0]!);
    let status = 0;
    for (let i = 0; i < 50 && status !== 101; i++) {
      const o = await upgrade(`${server.wsUrl}/`);
      status = o.status;
      if (status === 101) o.ws.close();
      else await sleep(20);
    }
    assert.equal(status, 101);
    for (const c of open.slice(1)) c.close();
    await Promise.all(open.map((c) => plainClosedWithin(c)));
  });
});

describe('client_max_channels', async () => {
  const server = await startServer({ client_max_channels: 2, token_hmac_secret: HMAC_SECRET });

  it('closes with 3505 a connection whose token names more channels than the limit, subscribing none', async () => {
    const token = await mintToken(hmacKey(), { sub: 'many', channels: ['chat:tk1', 'chat:tk2', 'chat:tk3'] });
    const c = await openProtocolClient(server.wsUrl);
    c.command('connect', { token });
    const { code, reason } = await closedWithin(c);
    assert.equal(code, 3505);
    assert.match(reason, /^channel limit: .*3 channels, more than client_max_channels \(2\)/);
    assert.equal(await channelClients(server, 'chat:tk1'), 0);
  });

  it('keeps a token at the limit: 2 server-side channels are subscribed', async () => {
    const token = await mintToken(hmacKey(), { sub: 'two', channels: ['chat:tk4', 'chat:tk5'] });
    const c = await connectedClient(server.wsUrl, { token });
    assert.equal(await channelClients(server, 'chat:tk4'), 1);
    assert.equal(await channelClients(server, 'chat:tk5'), 1);
    c.close();
  });

  it('does not let the server API subscribe a connection past the limit', async () => {
    const token = await mintToken(hmacKey(), { sub: 'full', channels: ['chat:tk6', 'chat:tk7'] });
    const c = await connectedClient(server.wsUrl, { token });
    const res = await fetch(`${server.httpUrl}/api/subscribe`, {
      method: 'POST', headers: { 'x-api-key': server.canal.apiKey! }, body: JSON.stringify({ user: 'full', channel: 'chat:tk8' }),
    });
    assert.equal(res.status, 200);
    await c.expectNone(300, (m) => m.push?.subscribe !== undefined, 'subscribe push');
    assert.equal(await channelClients(server, 'chat:tk8'), 0);
    c.close();
  });

  it('answers error 106 to the subscribe past the limit, and the connection stays', async () => {
    const c = await connectedClient(server.wsUrl);
    await c.subscribe('chat:max1');
    await c.subscribe('chat:max2');
    const reply = await c.call('subscribe', { channel: 'chat:max3' });
    assert.equal(reply.error?.code, 106);
    assert.equal(reply.subscribe, undefined);
    assert.ok(c.isOpen);
    assert.deepEqual((await c.call('ping')).ping, {});
    const again = await c.call('unsubscribe', { channel: 'chat:max1' });
    assert.deepEqual(again.unsubscribe, {});
    await c.subscribe('chat:max3');
    c.close();
  });
});

describe('client_command_rate and client_command_burst', async () => {
  const server = await startServer({ client_command_rate: 10, client_command_burst: 20 });

  /** A connected client whose bucket is full again (connect took a token; 10/s refills it in 100 ms). */
  async function rested(): Promise<ProtocolClient> {
    const c = await connectedClient(server.wsUrl);
    await sleep(250);
    return c;
  }

  /** Sends `n` pings with ids `first`.. in one frame; returns their ids. */
  function pingBurst(c: ProtocolClient, n: number, first = 100): number[] {
    const ids = Array.from({ length: n }, (_, i) => first + i);
    c.send(ids.map((id) => JSON.stringify({ id, ping: {} })).join('\n'));
    return ids;
  }

  it('answers 20 of 30 pings in one frame and refuses the other 10 with temporary error 111, connection open', async () => {
    const c = await rested();
    const ids = pingBurst(c, 30);
    const replies = await collectReplies(c, ids);
    assert.equal(replies.length, 30);
    assert.deepEqual(replies.slice(0, 20).map((r) => Object.keys(r).sort()), Array(20).fill(['id', 'ping']));
    for (const r of replies.slice(20)) {
      assert.equal(r.error?.code, 111, JSON.stringify(r));
      assert.equal(r.error?.temporary, true);
    }
    assert.deepEqual(repliesOf(c.queued, new Set(ids)), []);
    assert.ok(c.isOpen);
    c.close();
  });

  it('accepts commands again once the rate has refilled the bucket', async () => {
    const c = await rested();
    const burst = pingBurst(c, 25);
    await collectReplies(c, burst);
    await sleep(300);
    const reply = await c.call('ping');
    assert.deepEqual(reply.ping, {});
    c.close();
  });

  it('disconnects with 3013 after more than 20 refusals within a second (100 pings in one frame)', async () => {
    const c = await rested();
    const ids = pingBurst(c, 100);
    const { code, reason } = await closedWithin(c);
    assert.equal(code, 3013);
    assert.match(reason, /^too many requests/);
    const got = c.lines.map((l) => JSON.parse(l) as Wire).filter((m) => typeof m.id === 'number' && ids.includes(m.id));
    assert.equal(got.filter((m) => m.ping).length, 20, 'the first 20 are answered');
    assert.equal(got.filter((m) => m.error?.code === 111).length, 20, 'the next 20 are refused with 111');
    assert.equal(got.length, 40, 'nothing is answered after the disconnect');
  });
  it('disconnects with 3013 a flood that refills let through now and then (pings every 5 ms at 10/s)', async () => {
    const c = await rested();
    // 200 pings/s against 10/s: each 100 ms refill lets one through, so refusals never run 20
    // in a row; counting them over a window catches the flood all the same.
    let id = 1000;
    const timer = setInterval(() => {
      if (c.isOpen) c.send(JSON.stringify({ id: id++, ping: {} }));
    }, 5);
    try {
      const { code } = await closedWithin(c, 3000);
      assert.equal(code, 3013);
    } finally {
      clearInterval(timer);
    }
    const answered = c.lines.map((l) => JSON.parse(l) as Wire).filter((m) => m.ping !== undefined && typeof m.id === 'number' && m.id >= 1000);
    assert.ok(answered.length >= 20, `the burst was answered first (${answered.length})`);
  });

  it('counts pongs nobody asked for as commands: 100 unsolicited {} in one frame close with 3013', async () => {
    const c = await rested();
    c.send(Array(100).fill('{}').join('\n'));
    const { code, reason } = await closedWithin(c);
    assert.equal(code, 3013);
    assert.match(reason, /^too many requests/);
  });
});

describe('client_queue_max_bytes (slow consumer)', async () => {
  const server = await startServer({ client_queue_max_bytes: 64 * 1024 });

  it('delivers one publication larger than client_queue_max_bytes to every subscriber and cuts nobody off', async () => {
    const channel = 'chat:huge-one';
    const subs = await Promise.all([0, 1, 2].map(async () => {
      const c = await connectedClient(server.wsUrl);
      await c.subscribe(channel);
      return c;
    }));
    const big = 'x'.repeat(200 * 1024); // three times the limit
    await server.canal.publish(channel, { big });
    for (const c of subs) {
      const push = await c.nextPush({ kind: 'pub', channel });
      assert.equal(push.push.pub.data.big.length, big.length);
      assert.ok(c.isOpen, 'a single big publication cut a subscriber off');
    }
    for (const c of subs) c.close();
  });

  it('closes a client that stops reading with 3008 while others keep receiving every publication', async () => {
    const channel = 'chat:slow';
    const slow = await connectedClient(server.wsUrl);
    const fast = await connectedClient(server.wsUrl);
    await slow.subscribe(channel);
    await fast.subscribe(channel);
    const slowId = slow.clientId;
    const socket = (slow.ws as unknown as { _socket: Socket })._socket;
    socket.pause();
    const payload = 'x'.repeat(16 * 1024);
    let published = 0;
    // Publish one large publication per turn (so the reading client's queue drains between
    // them) until the server has cut the slow one: at most 2,000 (32 MiB) or 15 s.
    // Whether the server still holds the slow client is asked (presence) after every 8.
    const deadline = Date.now() + 15_000;
    const stillThere = async (): Promise<boolean> => (await presentClients(server, channel)).includes(slowId);
    while (published < 2000 && Date.now() < deadline && (published % 8 !== 0 || await stillThere())) {
      await server.canal.publish(channel, { n: ++published, payload });
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(await stillThere(), false, `the slow client is still connected after ${published} publications`);
    for (let i = 0; i < 3; i++) await server.canal.publish(channel, { n: ++published, payload: 'after' });
    socket.resume();
    const { code, reason } = await closedWithin(slow, 10_000);
    assert.equal(code, 3008);
    assert.match(reason, /^slow/);
    const received: number[] = [];
    for (let i = 0; i < published; i++) {
      const push = await fast.nextPush({ kind: 'pub', channel }, 10_000);
      received.push(push.push.pub.data.n);
    }
    assert.deepEqual(received, Array.from({ length: published }, (_, i) => i + 1));
    assert.ok(fast.isOpen);
    fast.close();
  });
});

describe('max message size per endpoint', async () => {
  const server = await startServer({ max_message_bytes: 1000, protocol_max_message_bytes: 2048, raw_max_message_bytes: 500 });

  it('echoes a message of max_message_bytes and closes 1009 on one byte more', async () => {
    const c = await connectClient(`${server.wsUrl}/`);
    c.send('a'.repeat(1000));
    assert.equal(await c.nextText(), `echo: ${'a'.repeat(1000)}`);
    c.send('a'.repeat(1001));
    assert.equal((await plainClosedWithin(c)).code, 1009);
  });

  it('accepts a protocol frame of protocol_max_message_bytes and closes 1009 on one byte more', async () => {
    const c = await connectedClient(server.wsUrl);
    const frame = (size: number, id: number): string => {
      const head = `{"id":${id},"publish":{"channel":"chat:size","data":"`;
      const tail = '"}}';
      return head + 'x'.repeat(size - head.length - tail.length) + tail;
    };
    const ok = frame(2048, 2);
    assert.equal(Buffer.byteLength(ok), 2048);
    c.send(ok);
    assert.deepEqual((await c.reply(2)).publish, {});
    c.send(frame(2049, 3));
    assert.equal((await closedWithin(c)).code, 1009);
  });

  it('publishes a raw message of raw_max_message_bytes and closes 1009 on one byte more', async () => {
    const c = await connectClient(`${server.wsUrl}/raw/chat:size`);
    c.send('r'.repeat(500));
    assert.equal(await c.nextText(), 'r'.repeat(500));
    c.send('r'.repeat(501));
    assert.equal((await plainClosedWithin(c)).code, 1009);
  });

  it('keeps the limits apart: a 1500-byte message passes on the protocol endpoint but not on echo or raw', async () => {
    const p = await connectedClient(server.wsUrl);
    p.send(`{"id":2,"publish":{"channel":"chat:size2","data":"${'y'.repeat(1450)}"}}`);
    assert.deepEqual((await p.reply(2)).publish, {});
    p.close();
    const e = await connectClient(`${server.wsUrl}/`);
    e.send('y'.repeat(1500));
    assert.equal((await plainClosedWithin(e)).code, 1009);
    const r = await connectClient(`${server.wsUrl}/raw/chat:size2`);
    r.send('y'.repeat(1500));
    assert.equal((await plainClosedWithin(r)).code, 1009);
  });
});
