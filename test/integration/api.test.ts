/**
 * The server API over HTTP (POST /api/<method>): every method's success path against real
 * protocol clients, and every way a request can be wrong, answered with the documented status
 * and a JSON error naming what to fix.
 *
 * @runtimes node bun
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { closedWithin, connectedClient, type ProtocolClient } from '../helpers/protocol-client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { HMAC_SECRET, hmacKey, mintToken, secondsFromNow } from '../helpers/tokens.js';
import { sleep, until } from '../helpers/wait.js';

/** What an API call answered: status, headers and the parsed JSON body. */
interface ApiAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: { result?: any; error?: { code: number; message: string; temporary?: boolean } };
  readonly text: string;
}

interface CallOptions {
  /** The key, sent as X-API-Key unless `via` says otherwise; null sends none. */
  readonly key?: string | null;
  readonly via?: 'x-api-key' | 'authorization' | 'query';
  /** The request method (default POST). */
  readonly method?: string;
  /** A body sent exactly as given (string or bytes) instead of JSON.stringify(params). */
  readonly raw?: string | Buffer;
}

/** Calls `method` on `server` with `params` (JSON) and the server's own key unless told otherwise. */
async function call(server: TestServer, method: string, params?: unknown, options: CallOptions = {}): Promise<ApiAnswer> {
  const key = options.key === undefined ? server.canal.apiKey : options.key;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  let url = `${server.httpUrl}/api/${method}`;
  if (key !== null && key !== undefined) {
    if (options.via === 'authorization') headers.authorization = `apikey ${key}`;
    else if (options.via === 'query') url += `?api_key=${encodeURIComponent(key)}`;
    else headers['x-api-key'] = key;
  }
  const httpMethod = options.method ?? 'POST';
  const body = httpMethod === 'GET' || httpMethod === 'HEAD'
    ? undefined
    : options.raw ?? (params === undefined ? '' : JSON.stringify(params));
  const res = await fetch(url, { method: httpMethod, headers, ...(body === undefined ? {} : { body }), signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  let parsed: ApiAnswer['body'];
  try {
    parsed = JSON.parse(text) as ApiAnswer['body'];
  } catch {
    assert.fail(`${httpMethod} /api/${method} answered HTTP ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** Asserts a 200 with a result; returns the result. */
function ok(answer: ApiAnswer): any {
  assert.equal(answer.status, 200, `expected 200, got ${answer.status}: ${answer.text}`);
  assert.ok(answer.body.result !== undefined, `expected a result, got ${answer.text}`);
  assert.equal(answer.body.error, undefined);
  return answer.body.result;
}

/** Asserts an error answer with `status` and `code`; returns its message. */
function failed(answer: ApiAnswer, status: number, code: number): string {
  assert.equal(answer.status, status, `expected HTTP ${status}, got ${answer.status}: ${answer.text}`);
  assert.ok(answer.body.error, `expected an error, got ${answer.text}`);
  assert.equal(answer.body.error.code, code, `expected error ${code}, got ${answer.text}`);
  assert.equal(answer.body.result, undefined);
  assert.equal(typeof answer.body.error.message, 'string');
  assert.notEqual(answer.body.error.message, '');
  return answer.body.error.message;
}

let unique = 0;
/** A channel name no other test uses. */
const fresh = (ns: string): string => `${ns}:api${++unique}`;


/** A protocol client connected with a token for `user` (the server has token_hmac_secret). */
async function clientOf(server: TestServer, user: string): Promise<ProtocolClient> {
  const token = await mintToken(hmacKey(), { sub: user, exp: secondsFromNow(600) });
  return connectedClient(server.wsUrl, { token });
}

/** Every method of the API with a valid body, its required fields, and a wrongly typed field. */
const METHODS: ReadonlyArray<{
  readonly method: string;
  readonly valid: Record<string, unknown>;
  readonly required: readonly string[];
  readonly wrongType?: { readonly field: string; readonly value: unknown };
}> = [
  { method: 'publish', valid: { channel: 'chat:shape', data: { a: 1 } }, required: ['channel', 'data'], wrongType: { field: 'channel', value: 42 } },
  { method: 'broadcast', valid: { channels: ['chat:shape'], data: 1 }, required: ['channels', 'data'], wrongType: { field: 'channels', value: 'chat:shape' } },
  { method: 'subscribe', valid: { user: 'nobody', channel: 'chat:shape' }, required: ['user', 'channel'], wrongType: { field: 'user', value: 7 } },
  { method: 'unsubscribe', valid: { user: 'nobody', channel: 'chat:shape' }, required: ['user', 'channel'], wrongType: { field: 'channel', value: ['chat:shape'] } },
  { method: 'disconnect', valid: { user: 'nobody' }, required: ['user'], wrongType: { field: 'disconnect', value: 3000.5 } },
  { method: 'refresh', valid: { user: 'nobody' }, required: ['user'], wrongType: { field: 'expired', value: 'yes' } },
  { method: 'presence', valid: { channel: 'chat:shape' }, required: ['channel'], wrongType: { field: 'channel', value: {} } },
  { method: 'presence_stats', valid: { channel: 'chat:shape' }, required: ['channel'], wrongType: { field: 'channel', value: true } },
  { method: 'history', valid: { channel: 'chat:shape' }, required: ['channel'], wrongType: { field: 'limit', value: '10' } },
  { method: 'history_remove', valid: { channel: 'chat:shape' }, required: ['channel'], wrongType: { field: 'channel', value: 1.5 } },
  { method: 'channels', valid: {}, required: [], wrongType: { field: 'pattern', value: 3 } },
  { method: 'info', valid: {}, required: [] },
  { method: 'batch', valid: { commands: [{ method: 'info', params: {} }] }, required: ['commands'], wrongType: { field: 'commands', value: { method: 'info' } } },
];

const BODY_LIMIT = 64 * 1024;

describe('server API: success paths', async () => {
  const server = await startServer({ token_hmac_secret: HMAC_SECRET, max_message_bytes: BODY_LIMIT });

  it('publish answers the offset and epoch, and a subscriber receives the publication', async () => {
    const channel = fresh('chat');
    const sub = await connectedClient(server.wsUrl);
    await sub.subscribe(channel);
    const result = ok(await call(server, 'publish', { channel, data: { text: 'hi' } }));
    assert.equal(result.offset, 1);
    assert.equal(typeof result.epoch, 'string');
    assert.notEqual(result.epoch, '');
    const push = await sub.nextPush({ kind: 'pub', channel });
    assert.deepEqual(push.push.pub.data, { text: 'hi' });
    assert.equal(push.push.pub.offset, 1);
    sub.close();
  });

  it('publish twice with one idempotency_key makes one publication and answers the same offset', async () => {
    const channel = fresh('chat');
    const sub = await connectedClient(server.wsUrl);
    await sub.subscribe(channel);
    const first = ok(await call(server, 'publish', { channel, data: 'once', idempotency_key: 'k-1' }));
    const second = ok(await call(server, 'publish', { channel, data: 'once', idempotency_key: 'k-1' }));
    assert.deepEqual(second, first);
    const history = ok(await call(server, 'history', { channel, limit: 10 }));
    assert.equal(history.publications.length, 1);
    assert.equal(history.offset, first.offset);
    await sub.nextPush({ kind: 'pub', channel });
    await sub.expectNone(200, (m) => m.push?.pub !== undefined, 'second publication');
    const other = ok(await call(server, 'publish', { channel, data: 'twice', idempotency_key: 'k-2' }));
    assert.equal(other.offset, first.offset + 1);
    sub.close();
  });

  it('publish with skip_history delivers to subscribers and leaves the history as it was', async () => {
    const channel = fresh('chat');
    const sub = await connectedClient(server.wsUrl);
    await sub.subscribe(channel);
    ok(await call(server, 'publish', { channel, data: 'kept' }));
    const skipped = ok(await call(server, 'publish', { channel, data: 'not kept', skip_history: true }));
    assert.ok(skipped.offset === undefined || skipped.offset === 0, `a publication outside history has no offset: ${JSON.stringify(skipped)}`);
    assert.deepEqual((await sub.nextPush({ kind: 'pub', channel })).push.pub.data, 'kept');
    assert.deepEqual((await sub.nextPush({ kind: 'pub', channel })).push.pub.data, 'not kept');
    const history = ok(await call(server, 'history', { channel, limit: 10 }));
    assert.deepEqual(history.publications.map((p: any) => p.data), ['kept']);
    assert.equal(history.offset, 1);
    sub.close();
  });

  it('publish to a channel of an unknown namespace answers 200 with error 102', async () => {
    const message = failed(await call(server, 'publish', { channel: 'nowhere:x', data: 1 }), 200, 102);
    assert.match(message, /nowhere/);
  });

  for (const method of ['subscribe', 'presence', 'presence_stats', 'history', 'history_remove']) {
    it(`${method} on a channel of an unknown namespace answers 200 with error 102 naming the namespaces`, async () => {
      const params = method === 'subscribe' ? { user: 'ana', channel: 'nowhere:x' } : { channel: 'nowhere:x' };
      const message = failed(await call(server, method, params), 200, 102);
      assert.match(message, /"chat:"/);
    });
  }

  it('publish to a channel with a bad name answers 200 with error 107', async () => {
    failed(await call(server, 'publish', { channel: 'chat:a b', data: 1 }), 200, 107);
  });

  it('broadcast publishes to every channel and answers one response per channel, errors in place', async () => {
    const [a, b] = [fresh('chat'), fresh('chat')];
    const sa = await connectedClient(server.wsUrl);
    const sb = await connectedClient(server.wsUrl);
    await sa.subscribe(a);
    await sb.subscribe(b);
    const result = ok(await call(server, 'broadcast', { channels: [a, 'nowhere:x', b], data: { n: 7 } }));
    assert.equal(result.responses.length, 3);
    assert.equal(result.responses[0].result.offset, 1);
    assert.equal(result.responses[1].error.code, 102);
    assert.equal(result.responses[2].result.offset, 1);
    assert.deepEqual((await sa.nextPush({ kind: 'pub', channel: a })).push.pub.data, { n: 7 });
    assert.deepEqual((await sb.nextPush({ kind: 'pub', channel: b })).push.pub.data, { n: 7 });
    sa.close();
    sb.close();
  });

  it('subscribe sends a subscribe push to the user\'s connection, which then receives publications', async () => {
    const channel = fresh('chat');
    const ana = await clientOf(server, 'ana-sub');
    assert.deepEqual(ok(await call(server, 'subscribe', { user: 'ana-sub', channel })), {});
    const push = await ana.nextPush({ kind: 'subscribe', channel });
    assert.equal(typeof push.push.subscribe, 'object');
    ok(await call(server, 'publish', { channel, data: 'after server subscribe' }));
    assert.equal((await ana.nextPush({ kind: 'pub', channel })).push.pub.data, 'after server subscribe');
    ana.close();
  });

  it('unsubscribe sends an unsubscribe push with code 2000, and publications stop', async () => {
    const channel = fresh('chat');
    const ana = await clientOf(server, 'ana-unsub');
    await ana.subscribe(channel);
    assert.deepEqual(ok(await call(server, 'unsubscribe', { user: 'ana-unsub', channel })), {});
    const push = await ana.nextPush({ kind: 'unsubscribe', channel });
    assert.equal(push.push.unsubscribe.code, 2000);
    ok(await call(server, 'publish', { channel, data: 'after unsubscribe' }));
    await ana.expectNone(200, (m) => m.push?.pub !== undefined, 'publication after unsubscribe');
    assert.ok(ana.isOpen);
    ana.close();
  });

  it('disconnect with no code closes the user\'s connections with 3503', async () => {
    const c1 = await clientOf(server, 'ana-dc');
    const c2 = await clientOf(server, 'ana-dc');
    const bystander = await clientOf(server, 'bob-dc');
    assert.deepEqual(ok(await call(server, 'disconnect', { user: 'ana-dc' })), {});
    for (const c of [c1, c2]) {
      const { code, reason } = await closedWithin(c);
      assert.equal(code, 3503);
      assert.match(reason, /^force disconnect/);
    }
    assert.ok(bystander.isOpen);
    bystander.close();
  });

  it('disconnect with a code and reason closes with them, and with a client only that connection', async () => {
    const c1 = await clientOf(server, 'ana-dc2');
    const c2 = await clientOf(server, 'ana-dc2');
    ok(await call(server, 'disconnect', { user: 'ana-dc2', client: c1.clientId, disconnect: { code: 4001, reason: 'go away' } }));
    assert.deepEqual(await closedWithin(c1), { code: 4001, reason: 'go away' });
    await sleep(100);
    assert.ok(c2.isOpen);
    c2.close();
  });

  it('disconnect with a code outside 3000-4999 answers 400 naming the field', async () => {
    const message = failed(await call(server, 'disconnect', { user: 'ana', disconnect: { code: 1000, reason: 'x' } }), 400, 107);
    assert.match(message, /disconnect\.disconnect/);
  });

  it('disconnect with a reason longer than a close frame allows (123 bytes) is refused or shortened, never leaves a dead connection', async () => {
    const ana = await clientOf(server, 'ana-long-reason');
    const reason = 'é'.repeat(100);
    const answer = await call(server, 'disconnect', { user: 'ana-long-reason', disconnect: { code: 4000, reason } });
    if (answer.status === 400) {
      const message = failed(answer, 400, 107);
      assert.match(message, /reason/);
      assert.deepEqual((await ana.call('ping', {}, 2000)).ping, {}, 'the connection still answers');
      ana.close();
    } else {
      assert.deepEqual(ok(answer), {});
      const closed = await closedWithin(ana);
      assert.equal(closed.code, 4000);
      assert.ok(Buffer.byteLength(closed.reason) <= 123 && closed.reason.length > 0, `reason of ${Buffer.byteLength(closed.reason)} bytes`);
    }
  });

  it('refresh with expired:true closes the user\'s connection with 3005', async () => {
    const ana = await clientOf(server, 'ana-refresh');
    assert.deepEqual(ok(await call(server, 'refresh', { user: 'ana-refresh', expired: true })), {});
    assert.equal((await closedWithin(ana)).code, 3005);
  });

  it('presence lists the subscribed clients with their user', async () => {
    const channel = fresh('chat');
    const ana = await clientOf(server, 'ana-presence');
    await ana.subscribe(channel);
    const result = ok(await call(server, 'presence', { channel }));
    assert.deepEqual(Object.keys(result.presence), [ana.clientId]);
    assert.equal(result.presence[ana.clientId].user, 'ana-presence');
    assert.equal(result.presence[ana.clientId].client, ana.clientId);
    ana.close();
  });

  it('presence_stats counts clients and distinct users', async () => {
    const channel = fresh('chat');
    const a1 = await clientOf(server, 'ana-ps');
    const a2 = await clientOf(server, 'ana-ps');
    const bob = await clientOf(server, 'bob-ps');
    for (const c of [a1, a2, bob]) await c.subscribe(channel);
    assert.deepEqual(ok(await call(server, 'presence_stats', { channel })), { num_clients: 3, num_users: 2 });
    for (const c of [a1, a2, bob]) c.close();
  });

  it('presence in a namespace without presence answers 200 with error 108', async () => {
    failed(await call(server, 'presence', { channel: fresh('scores') }), 200, 108);
    failed(await call(server, 'presence_stats', { channel: fresh('scores') }), 200, 108);
  });

  it('history honours limit, reverse and since', async () => {
    const channel = fresh('chat');
    for (let i = 1; i <= 5; i++) ok(await call(server, 'publish', { channel, data: i }));
    const all = ok(await call(server, 'history', { channel, limit: -1 }));
    assert.deepEqual(all.publications.map((p: any) => p.data), [1, 2, 3, 4, 5]);
    assert.equal(all.offset, 5);
    const { epoch } = all;
    const first2 = ok(await call(server, 'history', { channel, limit: 2 }));
    assert.deepEqual(first2.publications.map((p: any) => [p.offset, p.data]), [[1, 1], [2, 2]]);
    const last2 = ok(await call(server, 'history', { channel, limit: 2, reverse: true }));
    assert.deepEqual(last2.publications.map((p: any) => p.offset), [5, 4]);
    const since3 = ok(await call(server, 'history', { channel, limit: 10, since: { offset: 3, epoch } }));
    assert.deepEqual(since3.publications.map((p: any) => p.offset), [4, 5]);
    const none = ok(await call(server, 'history', { channel }));
    assert.deepEqual(none.publications ?? [], []);
    assert.equal(none.offset, 5);
    assert.equal(none.epoch, epoch);
  });

  it('history since a position of another epoch answers 200 with error 112', async () => {
    const channel = fresh('chat');
    ok(await call(server, 'publish', { channel, data: 1 }));
    failed(await call(server, 'history', { channel, limit: 10, since: { offset: 1, epoch: 'another-epoch' } }), 200, 112);
  });

  it('history in a namespace without history answers 200 with error 108', async () => {
    failed(await call(server, 'history', { channel: fresh('game') }), 200, 108);
  });

  it('history_remove empties the history and keeps its position', async () => {
    const channel = fresh('chat');
    for (let i = 1; i <= 3; i++) ok(await call(server, 'publish', { channel, data: i }));
    const before = ok(await call(server, 'history', { channel, limit: 0 }));
    assert.deepEqual(ok(await call(server, 'history_remove', { channel })), {});
    const after = ok(await call(server, 'history', { channel, limit: -1 }));
    assert.deepEqual(after.publications ?? [], []);
    assert.equal(after.offset, before.offset);
    assert.equal(after.epoch, before.epoch);
  });

  it('channels lists channels with subscribers and their counts, filtered by a pattern', async () => {
    const [a, b, other] = [fresh('chat'), fresh('chat'), fresh('game')];
    const c1 = await connectedClient(server.wsUrl);
    const c2 = await connectedClient(server.wsUrl);
    await c1.subscribe(a);
    await c2.subscribe(a);
    await c2.subscribe(b);
    await c1.subscribe(other);
    const all = ok(await call(server, 'channels', {})).channels;
    assert.deepEqual(all[a], { num_clients: 2 });
    assert.deepEqual(all[other], { num_clients: 1 });
    const chat = ok(await call(server, 'channels', { pattern: 'chat:*' })).channels;
    assert.deepEqual(chat[a], { num_clients: 2 });
    assert.deepEqual(chat[b], { num_clients: 1 });
    assert.equal(chat[other], undefined);
    assert.ok(Object.keys(chat).every((ch) => ch.startsWith('chat:')), JSON.stringify(chat));
    const exact = ok(await call(server, 'channels', { pattern: b })).channels;
    assert.deepEqual(Object.keys(exact), [b]);
    c1.close();
    c2.close();
  });

  it('info describes this node: uid, name, version, clients, users, channels, uptime', async () => {
    const c = await clientOf(server, 'ana-info');
    const result = ok(await call(server, 'info', {}));
    assert.equal(result.nodes.length, 1);
    const node = result.nodes[0];
    assert.match(node.uid, /^[0-9a-f-]{36}$/);
    assert.equal(typeof node.name, 'string');
    assert.notEqual(node.name, '');
    assert.match(node.version, /^\d+\.\d+\.\d+/);
    for (const field of ['num_clients', 'num_users', 'num_channels', 'uptime']) {
      assert.ok(Number.isInteger(node[field]) && node[field] >= 0, `${field}: ${JSON.stringify(node[field])}`);
    }
    assert.ok(node.num_clients >= 1);
    assert.ok(node.num_users >= 1);
    c.close();
  });

  it('info with no body at all answers the same result', async () => {
    const result = ok(await call(server, 'info', undefined));
    assert.equal(result.nodes.length, 1);
  });

  it('batch runs commands in order and answers one reply per command', async () => {
    const channel = fresh('chat');
    const result = ok(await call(server, 'batch', {
      commands: [
        { method: 'publish', params: { channel, data: 'one' } },
        { method: 'publish', params: { channel, data: 'two' } },
        { method: 'history', params: { channel, limit: -1 } },
        { method: 'publish', params: { channel: 'nowhere:x', data: 1 } },
        { method: 'publish', params: { chanel: channel } },
        { method: 'no_such_method' },
      ],
    }));
    assert.equal(result.replies.length, 6);
    assert.equal(result.replies[0].result.offset, 1);
    assert.equal(result.replies[1].result.offset, 2);
    assert.deepEqual(result.replies[2].result.publications.map((p: any) => p.data), ['one', 'two']);
    assert.equal(result.replies[3].error.code, 102);
    assert.equal(result.replies[4].error.code, 107);
    assert.match(result.replies[4].error.message, /chanel/);
    assert.equal(result.replies[5].error.code, 104);
  });

  it('batch with parallel:true answers every reply in the order of the commands', async () => {
    const channels = [fresh('chat'), fresh('chat'), fresh('chat')];
    const result = ok(await call(server, 'batch', {
      parallel: true,
      commands: [
        ...channels.map((channel) => ({ method: 'publish', params: { channel, data: channel } })),
        { method: 'info' },
      ],
    }));
    assert.equal(result.replies.length, 4);
    for (let i = 0; i < 3; i++) assert.equal(result.replies[i].result.offset, 1);
    assert.equal(result.replies[3].result.nodes.length, 1);
    for (const channel of channels) {
      const h = ok(await call(server, 'history', { channel, limit: -1 }));
      assert.deepEqual(h.publications.map((p: any) => p.data), [channel]);
    }
  });

  it('batch refuses a batch inside a batch with 400, and runs none of its commands', async () => {
    const channel = fresh('chat');
    const message = failed(await call(server, 'batch', {
      commands: [
        { method: 'publish', params: { channel, data: 1 } },
        { method: 'batch', params: { commands: [] } },
      ],
    }), 400, 107);
    assert.match(message, /batch/);
    const h = ok(await call(server, 'history', { channel, limit: -1 }));
    assert.deepEqual(h.publications ?? [], []);
  });
});

describe('server API: null for an optional parameter means the parameter is absent', async () => {
  const server = await startServer({ token_hmac_secret: HMAC_SECRET, client_expired_close_delay: 0, ping_interval: 1000 });

  it('publish with idempotency_key null publishes every time, as with no key', async () => {
    const channel = fresh('chat');
    const first = ok(await call(server, 'publish', { channel, data: 1, idempotency_key: null }));
    const second = ok(await call(server, 'publish', { channel, data: 2, idempotency_key: null }));
    assert.equal(second.offset, first.offset + 1);
    const history = ok(await call(server, 'history', { channel, limit: -1 }));
    assert.deepEqual(history.publications.map((p: any) => p.data), [1, 2]);
  });

  it('channels with pattern null lists every channel, as with no pattern', async () => {
    const channel = fresh('chat');
    const c = await connectedClient(server.wsUrl);
    await c.subscribe(channel);
    const result = ok(await call(server, 'channels', { pattern: null }));
    assert.deepEqual(result.channels[channel], { num_clients: 1 });
    c.close();
  });

  it('disconnect with client null disconnects every connection of the user, as with no client', async () => {
    const ana = await clientOf(server, 'ana-null-client');
    ok(await call(server, 'disconnect', { user: 'ana-null-client', client: null }));
    assert.equal((await closedWithin(ana, 2000)).code, 3503);
  });

  it('subscribe with client null subscribes every connection of the user, as with no client', async () => {
    const channel = fresh('chat');
    const ana = await clientOf(server, 'ana-null-sub');
    ok(await call(server, 'subscribe', { user: 'ana-null-sub', channel, client: null }));
    await ana.nextPush({ kind: 'subscribe', channel }, 2000);
    ana.close();
  });

  it('refresh with expire_at null leaves the connection open, as with no expire_at', async () => {
    const ana = await clientOf(server, 'ana-null-refresh');
    ok(await call(server, 'refresh', { user: 'ana-null-refresh', expire_at: null }));
    // Each heartbeat checks expiry and then pings: once two pings came, two checks passed.
    const before = ana.pings;
    await until(() => ana.pings >= before + 2, 'two heartbeats passed', 4000);
    assert.ok(ana.isOpen, 'the connection was closed');
    assert.deepEqual((await ana.call('ping')).ping, {});
    ana.close();
  });
});

describe('server API: keys', async () => {
  const server = await startServer({ token_hmac_secret: HMAC_SECRET });

  it('makes a random key of 32 hex characters in loopback dev mode', () => {
    assert.match(server.canal.apiKey ?? '', /^[0-9a-f]{32}$/);
  });

  it('accepts the key as an X-API-Key header', async () => {
    ok(await call(server, 'info', {}, { via: 'x-api-key' }));
  });

  it('accepts the key as "Authorization: apikey KEY"', async () => {
    ok(await call(server, 'info', {}, { via: 'authorization' }));
  });

  it('accepts the key as ?api_key=KEY', async () => {
    ok(await call(server, 'info', {}, { via: 'query' }));
  });

  it('answers 401 with error 101 to a wrong key in each place a key may be', async () => {
    for (const via of ['x-api-key', 'authorization', 'query'] as const) {
      const message = failed(await call(server, 'info', {}, { key: 'wrong-key-0123456789', via }), 401, 101);
      assert.match(message, /wrong API key/);
    }
  });

  it('answers 401 to a key that differs only in length from the right one', async () => {
    failed(await call(server, 'info', {}, { key: `${server.canal.apiKey!}0` }), 401, 101);
    failed(await call(server, 'info', {}, { key: server.canal.apiKey!.slice(0, -1) }), 401, 101);
  });

  it('uses a configured api_key instead of a random one', async () => {
    const configured = await startServer({ api_key: 'configured-key-123' });
    assert.equal(configured.canal.apiKey, 'configured-key-123');
    ok(await call(configured, 'info', {}));
  });
});

describe('server API: every method refuses malformed requests', async () => {
  const server = await startServer({ token_hmac_secret: HMAC_SECRET, max_message_bytes: BODY_LIMIT });

  for (const { method, valid, required, wrongType } of METHODS) {
    describe(method, () => {
      it(`answers 400 with code 107 when the body is not JSON`, async () => {
        const message = failed(await call(server, method, undefined, { raw: '{"channel": "chat:x",' }), 400, 107);
        assert.match(message, /not valid JSON/);
      });

      it('answers 400 with code 107 when the body is JSON but not an object', async () => {
        for (const raw of ['[1,2]', '"text"', '42', 'true']) {
          const message = failed(await call(server, method, undefined, { raw }), 400, 107);
          assert.match(message, new RegExp(`${method} takes a JSON object`));
        }
      });

      for (const field of required) {
        it(`answers 400 naming "${field}" when it is missing`, async () => {
          const params = { ...valid };
          delete params[field];
          const message = failed(await call(server, method, params), 400, 107);
          assert.match(message, new RegExp(`"${field}"`));
        });
      }

      it('answers 400 naming an unknown field', async () => {
        const message = failed(await call(server, method, { ...valid, chanel_typo: 'x' }), 400, 107);
        assert.match(message, /"chanel_typo"/);
      });

      if (wrongType) {
        it(`answers 400 naming ${wrongType.field} when it has the wrong type`, async () => {
          const message = failed(await call(server, method, { ...valid, [wrongType.field]: wrongType.value }), 400, 107);
          assert.match(message, new RegExp(`${method}\\.${wrongType.field} must be`));
        });
      }

      it('answers 401 with code 101 to a wrong key', async () => {
        failed(await call(server, method, valid, { key: 'not-the-key-at-all' }), 401, 101);
      });

      it('answers 401 with code 101 saying how to send the key when there is none', async () => {
        const message = failed(await call(server, method, valid, { key: null }), 401, 101);
        assert.match(message, /X-API-Key: KEY/);
        assert.match(message, /Authorization: apikey KEY/);
      });

      it('answers 405 with Allow: POST to a GET', async () => {
        const answer = await call(server, method, undefined, { method: 'GET' });
        failed(answer, 405, 107);
        assert.equal(answer.headers.get('allow'), 'POST');
      });

      it('answers 413 with code 106 when the body is over the limit', async () => {
        const padding = ' '.repeat(BODY_LIMIT + 1 - JSON.stringify(valid).length);
        const raw = `${JSON.stringify(valid)}${padding}`;
        assert.equal(Buffer.byteLength(raw), BODY_LIMIT + 1);
        const message = failed(await call(server, method, undefined, { raw }), 413, 106);
        assert.match(message, new RegExp(String(BODY_LIMIT)));
      });

      it('accepts a body of exactly the limit', async () => {
        const raw = `${JSON.stringify(valid)}${' '.repeat(BODY_LIMIT - JSON.stringify(valid).length)}`;
        const answer = await call(server, method, undefined, { raw });
        assert.equal(answer.status, 200, answer.text);
      });
    });
  }

  it('answers 404 with code 104 listing the methods to an unknown method', async () => {
    const message = failed(await call(server, 'publsh', { channel: 'chat:x', data: 1 }), 404, 104);
    assert.match(message, /publsh/);
    for (const { method } of METHODS) assert.match(message, new RegExp(`\\b${method}\\b`));
  });

  it('answers 404 with code 104 listing the methods to POST /api/ with no method', async () => {
    const message = failed(await call(server, '', {}), 404, 104);
    for (const { method } of METHODS) assert.match(message, new RegExp(`\\b${method}\\b`));
  });

  it('answers 404 with code 104 to a method named like a property every object has', async () => {
    for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf']) {
      const message = failed(await call(server, name, {}), 404, 104);
      assert.match(message, new RegExp(name));
    }
  });

  it('answers a batch command named like an object property with error 104 in its reply', async () => {
    const result = ok(await call(server, 'batch', { commands: [{ method: 'toString' }, { method: 'constructor', params: {} }] }));
    assert.deepEqual(result.replies.map((r: any) => r.error?.code), [104, 104]);
  });

  it('answers 404 with code 104 (not a 500) when the method in the path is not valid percent-encoding', async () => {
    for (const path of ['%', '%E0%A4%A', 'pub%ZZlish']) {
      failed(await call(server, path, {}), 404, 104);
    }
  });

  it('answers 400 when a batch command has no method', async () => {
    const message = failed(await call(server, 'batch', { commands: [{ params: {} }] }), 400, 107);
    assert.match(message, /batch\.commands/);
  });

  it('answers 400 when history since is not a position', async () => {
    const message = failed(await call(server, 'history', { channel: 'chat:x', since: { offset: -1, epoch: 'e' } }), 400, 107);
    assert.match(message, /history\.since/);
  });
});

describe('server API: deeply nested values', async () => {
  const server = await startServer();

  it('publishes data nested 200,000 levels deep and reads it back, or refuses it with 400, never a temporary internal error', async () => {
    const channel = fresh('chat');
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    const answer = await call(server, 'publish', undefined, { raw: `{"channel":"${channel}","data":${deep}}` });
    if (answer.status === 400) {
      failed(answer, 400, 107);
      return;
    }
    assert.equal(ok(answer).offset, 1);
    const history = await call(server, 'history', { channel, limit: -1 });
    assert.equal(history.status, 200);
    assert.equal(history.body.error, undefined, history.text.slice(0, 200));
    assert.equal(history.body.result.publications.length, 1);
  });
});

describe('server API: switched off', async () => {
  const server = await startServer({ dev: false });

  it('has no key when dev mode is off and no api_key is configured', () => {
    assert.equal(server.canal.apiKey, undefined);
  });

  for (const { method, valid } of METHODS) {
    it(`answers ${method} with 404 and code 108 saying how to turn the API on`, async () => {
      const message = failed(await call(server, method, valid, { key: 'any-key-at-all' }), 404, 108);
      assert.match(message, /api_key/);
      assert.match(message, /--api-key|CANAL_API_KEY/);
    });
  }
});
