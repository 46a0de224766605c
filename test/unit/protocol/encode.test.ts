/**
 * Replies and pushes out, as the exact JSON text the client receives. Embedded JSON (data,
 * conn_info, chan_info) is inserted as it is; fields at their default value are left out; every
 * encoded value is one line of valid JSON (frames are newline-delimited).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyDelta } from 'fossil-delta';
import {
  encodeClientInfo, encodeErrorReply, encodeJoinPush, encodeLeavePush,
  encodePublication, encodePublicationPush, encodeReply, encodeSubscribePush, encodeUnsubscribePush, PING,
} from '../../../src/protocol/encode.js';
import type { ClientInfo, Publication, JsonText } from '../../../src/protocol/types.js';

const raw = (text: string): JsonText => text as JsonText;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** A game snapshot's JSON text: each one repeats most of the one before, so a delta of it is small. */
const snapshot = (t: number): string =>
  JSON.stringify({ players: Array.from({ length: 8 }, (_, i) => ({ id: `p${i}`, x: i * 10 + t, y: 50 })), t });

/** Asserts the exact text, and that it is one line of valid JSON. */
function expectLine(actual: string, expected: string): void {
  assert.equal(actual, expected);
  assert.doesNotThrow(() => JSON.parse(actual), `not valid JSON: ${actual}`);
  assert.ok(!actual.includes('\n') && !actual.includes('\r'), `contains a line break: ${JSON.stringify(actual)}`);
}

const ann: ClientInfo = { user: 'u1', client: 'c1', conn_info: raw('{"name":"Ann"}'), chan_info: raw('{"role":"mod"}') };

describe('encodeReply: connect', () => {
  it('encodes the minimal result the centrifuge client needs', () => {
    expectLine(encodeReply(1, 'connect', { client: 'c1', version: '0.1.0', ping: 25, pong: true }),
      '{"id":1,"connect":{"client":"c1","version":"0.1.0","ping":25,"pong":true}}');
  });

  it('encodes expires, ttl, data, subs and node when the connection has them', () => {
    const text = encodeReply(1, 'connect', {
      client: 'c1',
      version: '0.1.0',
      expires: true,
      ttl: 60,
      data: raw('{"motd":"hi"}'),
      subs: { news: { recoverable: true, epoch: 'e1', offset: 4, positioned: true } },
      ping: 25,
      pong: true,
      node: 'n1',
    });
    expectLine(text, '{"id":1,"connect":{"client":"c1","version":"0.1.0","expires":true,"ttl":60,"data":{"motd":"hi"},'
      + '"subs":{"news":{"recoverable":true,"epoch":"e1","offset":4,"positioned":true}},"ping":25,"pong":true,"node":"n1"}}');
  });

  it('leaves out subs when there are none, and expires, ttl, ping and pong at their defaults', () => {
    expectLine(encodeReply(1, 'connect', { client: 'c1', version: 'v', subs: {}, expires: false, ttl: 0, ping: 0, pong: false }),
      '{"id":1,"connect":{"client":"c1","version":"v"}}');
  });

  it('encodes recovered publications of a server-side subscription inside subs', () => {
    const text = encodeReply(3, 'connect', {
      client: 'c1', version: 'v',
      subs: { news: { recoverable: true, epoch: 'e', offset: 2, recovered: true, was_recovering: true, publications: [{ data: raw('1'), offset: 2 }] } },
    });
    expectLine(text, '{"id":3,"connect":{"client":"c1","version":"v","subs":{"news":{"recoverable":true,"epoch":"e",'
      + '"publications":[{"data":1,"offset":2}],"recovered":true,"offset":2,"was_recovering":true}}}}');
  });
});

describe('encodeReply: subscribe', () => {
  it('encodes an empty object when the channel keeps no history', () => {
    expectLine(encodeReply(2, 'subscribe', {}), '{"id":2,"subscribe":{}}');
  });

  it('encodes publications, recovered, was_recovering and positioned in protocol field order when a subscription recovers', () => {
    const text = encodeReply(2, 'subscribe', {
      recoverable: true,
      epoch: 'e1',
      offset: 5,
      positioned: true,
      recovered: true,
      was_recovering: true,
      publications: [{ data: raw('{"n":4}'), offset: 4 }, { data: raw('{"n":5}'), offset: 5 }],
    });
    expectLine(text, '{"id":2,"subscribe":{"recoverable":true,"epoch":"e1","publications":[{"data":{"n":4},"offset":4},'
      + '{"data":{"n":5},"offset":5}],"recovered":true,"offset":5,"positioned":true,"was_recovering":true}}');
  });

  it('encodes was_recovering without recovered when recovery failed', () => {
    expectLine(encodeReply(2, 'subscribe', { recoverable: true, epoch: 'e2', offset: 9, recovered: false, was_recovering: true, publications: [] }),
      '{"id":2,"subscribe":{"recoverable":true,"epoch":"e2","offset":9,"was_recovering":true}}');
  });

  it('encodes expires, ttl and data when the subscription has a token and the app returned data', () => {
    expectLine(encodeReply(2, 'subscribe', { expires: true, ttl: 30, data: raw('"welcome"') }),
      '{"id":2,"subscribe":{"expires":true,"ttl":30,"data":"welcome"}}');
  });

  it('encodes a positioned subscription with the stream top only', () => {
    expectLine(encodeReply(2, 'subscribe', { positioned: true, epoch: 'e', offset: 12 }), '{"id":2,"subscribe":{"epoch":"e","offset":12,"positioned":true}}');
  });

  it('starts a recovered batch of a delta subscription in full, then sends each next publication as a delta against the one before', () => {
    const texts = [1, 2, 3].map(snapshot);
    const text = encodeReply(2, 'subscribe', {
      recoverable: true, epoch: 'e1', offset: 3, positioned: true, recovered: true, was_recovering: true, delta: true,
      publications: texts.map((t, i) => ({ data: raw(t), offset: i + 1 })),
    });
    assert.ok(!text.includes('\n'), 'one line');
    const reply = JSON.parse(text) as { subscribe: { delta?: boolean; publications: { data: unknown; offset: number; delta?: boolean }[] } };
    assert.equal(reply.subscribe.delta, true);
    const [first, ...rest] = reply.subscribe.publications;
    assert.equal(reply.subscribe.publications.length, 3);
    // The first goes in full: no delta flag, and its data is the whole JSON text as a JSON string.
    assert.equal(first!.delta, undefined, 'the first publication carries no delta flag');
    assert.equal(first!.data, texts[0]);
    let prev = utf8.encode(texts[0]!);
    for (const [i, pub] of rest.entries()) {
      assert.equal(pub.delta, true, `publication ${i + 2} is a delta`);
      assert.equal(typeof pub.data, 'string');
      assert.ok((pub.data as string).length < texts[i + 1]!.length, `publication ${i + 2}'s delta is smaller than its data`);
      const rebuilt = applyDelta(prev, utf8.encode(pub.data as string));
      assert.equal(fromUtf8.decode(rebuilt), texts[i + 1], `publication ${i + 2} rebuilds from the one before`);
      prev = rebuilt;
    }
  });
});

describe('encodeReply: methods with empty results', () => {
  it('always includes the method object, because the centrifuge client reads it', () => {
    expectLine(encodeReply(3, 'publish', {}), '{"id":3,"publish":{}}');
    expectLine(encodeReply(4, 'unsubscribe', {}), '{"id":4,"unsubscribe":{}}');
    expectLine(encodeReply(5, 'ping', {}), '{"id":5,"ping":{}}');
  });
});

describe('encodeReply: history, presence, presence_stats, rpc, refresh, sub_refresh', () => {
  it('encodes history publications with the stream position', () => {
    expectLine(encodeReply(6, 'history', { publications: [{ data: raw('"a"'), offset: 1 }, { data: raw('"b"'), offset: 2 }], epoch: 'e1', offset: 2 }),
      '{"id":6,"history":{"publications":[{"data":"a","offset":1},{"data":"b","offset":2}],"epoch":"e1","offset":2}}');
  });

  it('encodes an empty publications array when history has none', () => {
    expectLine(encodeReply(6, 'history', { publications: [], epoch: 'e1', offset: 7 }), '{"id":6,"history":{"publications":[],"epoch":"e1","offset":7}}');
    expectLine(encodeReply(6, 'history', { publications: [], epoch: '', offset: 0 }), '{"id":6,"history":{"publications":[]}}');
  });

  it('encodes presence as a map of client id to client info with embedded conn_info and chan_info', () => {
    expectLine(encodeReply(4, 'presence', { presence: { c1: ann, c2: { user: '', client: 'c2' } } }),
      '{"id":4,"presence":{"presence":{"c1":{"user":"u1","client":"c1","conn_info":{"name":"Ann"},"chan_info":{"role":"mod"}},'
      + '"c2":{"user":"","client":"c2"}}}}');
  });

  it('encodes an empty presence map when nobody is there', () => {
    expectLine(encodeReply(4, 'presence', { presence: {} }), '{"id":4,"presence":{"presence":{}}}');
  });

  it('encodes presence stats, zeros included', () => {
    expectLine(encodeReply(5, 'presence_stats', { num_clients: 3, num_users: 2 }), '{"id":5,"presence_stats":{"num_clients":3,"num_users":2}}');
    expectLine(encodeReply(5, 'presence_stats', { num_clients: 0, num_users: 0 }), '{"id":5,"presence_stats":{"num_clients":0,"num_users":0}}');
  });

  it('encodes rpc data when the method returned some', () => {
    expectLine(encodeReply(7, 'rpc', { data: raw('{"ok":true}') }), '{"id":7,"rpc":{"data":{"ok":true}}}');
  });

  it('encodes an empty rpc object when the method returned nothing', () => {
    expectLine(encodeReply(7, 'rpc', {}), '{"id":7,"rpc":{}}');
  });

  it('encodes refresh with client, version, expires and ttl', () => {
    expectLine(encodeReply(8, 'refresh', { client: 'c1', version: '0.1.0', expires: true, ttl: 30 }),
      '{"id":8,"refresh":{"client":"c1","version":"0.1.0","expires":true,"ttl":30}}');
    expectLine(encodeReply(8, 'refresh', { client: 'c1', version: '0.1.0' }), '{"id":8,"refresh":{"client":"c1","version":"0.1.0"}}');
  });

  it('encodes sub_refresh with expires and ttl, or as an empty object', () => {
    expectLine(encodeReply(9, 'sub_refresh', { expires: true, ttl: 45 }), '{"id":9,"sub_refresh":{"expires":true,"ttl":45}}');
    expectLine(encodeReply(9, 'sub_refresh', {}), '{"id":9,"sub_refresh":{}}');
  });
});

describe('encodeErrorReply', () => {
  it('leaves temporary out when the error is not temporary', () => {
    expectLine(encodeErrorReply(2, 103, 'permission denied', false), '{"id":2,"error":{"code":103,"message":"permission denied"}}');
  });

  it('sends temporary true when the client may retry', () => {
    expectLine(encodeErrorReply(1, 100, 'internal server error', true), '{"id":1,"error":{"code":100,"message":"internal server error","temporary":true}}');
  });

  it('escapes quotes and line breaks in the message so the reply stays one line', () => {
    expectLine(encodeErrorReply(3, 107, 'bad "name"\nsecond line', false), '{"id":3,"error":{"code":107,"message":"bad \\"name\\"\\nsecond line"}}');
  });
});

describe('pushes', () => {
  it('encodes a publication push with info, offset, tags and time', () => {
    const pub: Publication = { data: raw('{"text":"hi"}'), info: ann, offset: 7, tags: { k: 'v' }, time: 1_700_000_000_000 };
    expectLine(encodePublicationPush('chat:1', pub),
      '{"push":{"channel":"chat:1","pub":{"data":{"text":"hi"},"info":{"user":"u1","client":"c1","conn_info":{"name":"Ann"},'
      + '"chan_info":{"role":"mod"}},"offset":7,"tags":{"k":"v"},"time":1700000000000}}}');
  });

  it('encodes a bare publication push when the channel keeps no history', () => {
    expectLine(encodePublicationPush('game:1', { data: raw('"go"') }), '{"push":{"channel":"game:1","pub":{"data":"go"}}}');
  });

  it('leaves out empty tags and a zero offset', () => {
    expectLine(encodePublicationPush('c', { data: raw('1'), tags: {}, offset: 0 }), '{"push":{"channel":"c","pub":{"data":1}}}');
  });

  it('encodes a join push', () => {
    expectLine(encodeJoinPush('chat:1', { user: 'u1', client: 'c1' }), '{"push":{"channel":"chat:1","join":{"info":{"user":"u1","client":"c1"}}}}');
  });

  it('encodes a leave push', () => {
    expectLine(encodeLeavePush('chat:1', ann),
      '{"push":{"channel":"chat:1","leave":{"info":{"user":"u1","client":"c1","conn_info":{"name":"Ann"},"chan_info":{"role":"mod"}}}}}');
  });

  it('encodes an unsubscribe push with code and reason', () => {
    expectLine(encodeUnsubscribePush('chat:1', 2501, 'subscription expired'),
      '{"push":{"channel":"chat:1","unsubscribe":{"code":2501,"reason":"subscription expired"}}}');
  });

  it('encodes a server-side subscribe push', () => {
    expectLine(encodeSubscribePush('news', { recoverable: true, epoch: 'e1', offset: 3, positioned: true, data: raw('{"x":1}') }),
      '{"push":{"channel":"news","subscribe":{"recoverable":true,"epoch":"e1","offset":3,"positioned":true,"data":{"x":1}}}}');
    expectLine(encodeSubscribePush('news', {}), '{"push":{"channel":"news","subscribe":{}}}');
  });

  it('quotes channel names that need escaping', () => {
    expectLine(encodePublicationPush('a"b\\c', { data: raw('0') }), '{"push":{"channel":"a\\"b\\\\c","pub":{"data":0}}}');
  });
});

describe('PING', () => {
  it('is the bare empty object the client answers with a pong', () => {
    expectLine(PING, '{}');
  });
});

describe('embedded JSON', () => {
  it('inserts publication data as it is, never re-serialised', () => {
    const data = raw('{"b":1,  "a":[1, 2.50, "\\u00e9"]}');
    const text = encodePublicationPush('c', { data });
    expectLine(text, `{"push":{"channel":"c","pub":{"data":${data}}}}`);
    assert.ok(text.includes('"a":[1, 2.50, "\\u00e9"]'));
  });

  it('inserts conn_info and chan_info as they are', () => {
    expectLine(encodeClientInfo({ user: 'u', client: 'c', conn_info: raw('[1 ,2]'), chan_info: raw('null') }),
      '{"user":"u","client":"c","conn_info":[1 ,2],"chan_info":null}');
  });

  it('inserts rpc, connect and subscribe data as they are', () => {
    expectLine(encodeReply(1, 'rpc', { data: raw('{ "z" : 0 }') }), '{"id":1,"rpc":{"data":{ "z" : 0 }}}');
    expectLine(encodeReply(1, 'connect', { client: 'c', version: 'v', data: raw('[ ]') }), '{"id":1,"connect":{"client":"c","version":"v","data":[ ]}}');
    expectLine(encodeReply(1, 'subscribe', { data: raw('false') }), '{"id":1,"subscribe":{"data":false}}');
  });

  it('encodes one publication object on its own as the value of pub', () => {
    assert.equal(encodePublication({ data: raw('"x"'), offset: 1 }), '{"data":"x","offset":1}');
  });
});
