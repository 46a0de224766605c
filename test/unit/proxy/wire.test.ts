/**
 * Centrifugo's proxy bodies, exact: requests as Go's encoding of proxy.proto writes them (member
 * order, omitted empty members, `user` always present, data embedded or in base64), and answers
 * read the way Centrifugo reads them (disconnect over error over result; b64 twins; exact numbers).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DisconnectError, ReplyError } from '../../../src/protocol/errors.js';
import { payloadBytes, payloadFromBytes, payloadJson } from '../../../src/protocol/payload.js';
import type { JsonText } from '../../../src/protocol/types.js';
import {
  AnswerError, connectRequest, publishRequest, readConnectAnswer, readPublishAnswer, readRefreshAnswer, readRpcAnswer,
  readSubscribeAnswer, refreshRequest, rpcRequest, subRefreshRequest, subscribeRequest,
} from '../../../src/proxy/wire.js';

const raw = (s: string): JsonText => s as JsonText;
const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('proxy requests', () => {
  it('writes connect with client data embedded, name, version and the channels to recover', () => {
    assert.equal(
      connectRequest({ client: 'c1', transport: 'websocket', protocol: 'json', binary: false, data: raw('{"n":12345678901234567890}'), name: 'js', version: '5.8.0', channels: ['news:1'] }),
      '{"client":"c1","transport":"websocket","protocol":"json","encoding":"json","data":{"n":12345678901234567890},"name":"js","version":"5.8.0","channels":["news:1"]}',
    );
  });

  it('leaves out connect members that are empty, as Go\'s omitempty does', () => {
    assert.equal(connectRequest({ client: 'c1', transport: 'websocket', protocol: 'json', binary: false, channels: [] }), '{"client":"c1","transport":"websocket","protocol":"json","encoding":"json"}');
  });

  it('sends data as b64data with encoding "binary" under binary encoding', () => {
    assert.equal(
      publishRequest({ client: 'c1', transport: 'websocket', protocol: 'json', user: 'u', binary: true, channel: 'chat:1', data: raw('{"text":"hi"}') }),
      `{"client":"c1","transport":"websocket","protocol":"json","encoding":"binary","user":"u","channel":"chat:1","b64data":"${b64('{"text":"hi"}')}"}`,
    );
  });

  it('always writes user (empty for anonymous) and meta only when given', () => {
    assert.equal(refreshRequest({ client: 'c1', transport: 'websocket', protocol: 'json', user: '', binary: false }), '{"client":"c1","transport":"websocket","protocol":"json","encoding":"json","user":""}');
    assert.equal(
      subscribeRequest({ client: 'c1', transport: 'websocket', protocol: 'json', user: 'u', binary: false, channel: 'ch', meta: raw('{"plan":"gold"}'), data: raw('1') }),
      '{"client":"c1","transport":"websocket","protocol":"json","encoding":"json","user":"u","channel":"ch","meta":{"plan":"gold"},"data":1}',
    );
    assert.equal(
      rpcRequest({ client: 'c1', transport: 'websocket', protocol: 'json', user: 'u', binary: false, method: 'sum', data: raw('[1,2]'), meta: raw('{}') }),
      '{"client":"c1","transport":"websocket","protocol":"json","encoding":"json","user":"u","method":"sum","data":[1,2],"meta":{}}',
    );
    assert.equal(subRefreshRequest({ client: 'c1', transport: 'websocket', protocol: 'json', user: 'u', binary: false, channel: 'ch' }), '{"client":"c1","transport":"websocket","protocol":"json","encoding":"json","user":"u","channel":"ch"}');
  });

  it('says how the client is connected: its transport and protocol', () => {
    assert.equal(
      refreshRequest({ client: 'c1', transport: 'sse', protocol: 'json', user: 'u', binary: false }),
      '{"client":"c1","transport":"sse","protocol":"json","encoding":"json","user":"u"}',
    );
    assert.equal(
      connectRequest({ client: 'c1', transport: 'http_stream', protocol: 'protobuf', binary: true, channels: [] }),
      '{"client":"c1","transport":"http_stream","protocol":"protobuf","encoding":"binary"}',
    );
  });

  it('sends a Protobuf client\'s bytes that are not JSON exactly in b64data, and as their base64 in JSON data', () => {
    const bytes = payloadFromBytes(Uint8Array.from([255, 1, 128]));
    const binary = JSON.parse(publishRequest({ client: 'c1', transport: 'websocket', protocol: 'protobuf', user: 'u', binary: true, channel: 'ch', data: bytes }));
    assert.deepEqual([...Buffer.from(binary.b64data, 'base64')], [255, 1, 128]);
    const text = JSON.parse(rpcRequest({ client: 'c1', transport: 'websocket', protocol: 'protobuf', user: 'u', binary: false, method: 'm', data: bytes }));
    assert.equal(text.data, Buffer.from([255, 1, 128]).toString('base64'));
  });
});

describe('proxy answers', () => {
  it('reads a connect result: user, expire_at in ms, info, exact data, channels and subs, meta', () => {
    const a = readConnectAnswer('{"result":{"user":"56","expire_at":1700000000,"info":{"n":"A"},"data":{"big":12345678901234567890},"channels":["a"],"subs":{"b":{"info":{"r":1},"override":{"presence":{"value":false}}}},"meta":{"m":true}}}');
    assert.ok(a);
    assert.equal(a.user, '56');
    assert.equal(a.expiresAt, 1_700_000_000_000);
    assert.equal(a.info, '{"n":"A"}');
    assert.equal(a.data, '{"big":12345678901234567890}');
    assert.deepEqual([...a.subs], [['a', {}], ['b', { info: '{"r":1}', override: { presence: false } }]]);
    assert.equal(a.meta, '{"m":true}');
  });

  it('prefers b64info and b64data when they are not empty', () => {
    const a = readConnectAnswer(`{"result":{"user":"u","info":{"x":1},"b64info":"${b64('{"x":2}')}","b64data":"${b64('"hi"')}"}}`);
    assert.equal(a?.info, '{"x":2}');
    assert.equal(a?.data, '"hi"');
  });

  it('reads b64data that is not JSON as bytes, kept exactly for Protobuf clients and as base64 for JSON ones', () => {
    const data = readRpcAnswer(`{"result":{"b64data":"${Buffer.from([255, 1, 128]).toString('base64')}"}}`);
    assert.ok(data !== undefined);
    assert.deepEqual([...payloadBytes(data)], [255, 1, 128]);
    assert.equal(payloadJson(data), JSON.stringify(Buffer.from([255, 1, 128]).toString('base64')));
  });

  it('reads an answer without result as nobody authenticated', () => {
    assert.equal(readConnectAnswer('{}'), undefined);
    assert.equal(readConnectAnswer('{"result":null}'), undefined);
  });

  it('throws the backend\'s disconnect over its error, and its error over its result, with their codes', () => {
    assert.throws(() => readConnectAnswer('{"result":{"user":"u"},"error":{"code":4001,"message":"nope"},"disconnect":{"code":4500,"reason":"go away"}}'),
      (err: unknown) => err instanceof DisconnectError && err.code === 4500 && err.reason === 'go away');
    assert.throws(() => readPublishAnswer('{"result":{},"error":{"code":1000,"message":"refused","temporary":true}}'),
      (err: unknown) => err instanceof ReplyError && err.code === (1000 as never) && err.wireMessage === 'refused' && err.temporary);
    assert.throws(() => readRpcAnswer('{"error":{"code":103}}'),
      (err: unknown) => err instanceof ReplyError && err.code === 103 && err.message === 'permission denied' && !err.temporary);
  });

  it('reads refresh and sub_refresh answers from result only, as Centrifugo does', () => {
    assert.deepEqual(readRefreshAnswer('{"result":{"expire_at":1700000000,"info":{"v":2}}}'), { expired: false, expiresAt: 1_700_000_000_000, info: '{"v":2}' });
    assert.deepEqual(readRefreshAnswer('{"result":{"expired":true}}'), { expired: true });
    assert.equal(readRefreshAnswer('{"disconnect":{"code":4500,"reason":"x"}}'), undefined);
  });

  it('reads a subscribe result, a publish result and an RPC result', () => {
    assert.deepEqual(readSubscribeAnswer('{"result":{"info":{"role":"mod"},"data":{"n":1},"expire_at":1700000000}}'),
      { info: '{"role":"mod"}', data: '{"n":1}', expiresAt: 1_700_000_000_000 });
    assert.deepEqual(readSubscribeAnswer('{}'), {});
    assert.deepEqual(readPublishAnswer('{"result":{"data":{"text":"d**n"},"skip_history":true,"tags":{"k":"v"},"idempotency_key":"i1"}}'),
      { data: '{"text":"d**n"}', skipHistory: true, tags: { k: 'v' }, idempotencyKey: 'i1' });
    assert.deepEqual(readPublishAnswer('{"result":{}}'), { skipHistory: false });
    assert.equal(readRpcAnswer('{"result":{"data":{ "sum" : 3 }}}'), '{"sum":3}');
    assert.equal(readRpcAnswer('{"result":{}}'), undefined);
  });

  for (const [what, text, pattern] of [
    ['not JSON', 'Internal Server Error', /not JSON/],
    ['not an object', '[1,2]', /JSON object/],
    ['a result that is not an object', '{"result":"ok"}', /"result" must be an object/],
    ['a disconnect code outside 3000-4999', '{"disconnect":{"code":1000,"reason":"x"}}', /3000-4999/],
    ['an error with no code', '{"error":{"message":"x"}}', /positive integer/],
    ['a user that is not a string', '{"result":{"user":5}}', /result.user/],
    ['b64data that is not base64', '{"result":{"b64data":"***"}}', /base64/],
    ['JSON nested too deep', `{"result":{"data":${'['.repeat(200)}${']'.repeat(200)}}}`, /deeper/],
  ] as const) {
    it(`refuses ${what} as an unreadable answer`, () => {
      assert.throws(() => readConnectAnswer(text), (err: unknown) => err instanceof AnswerError && pattern.test(err.message));
    });
  }
});
