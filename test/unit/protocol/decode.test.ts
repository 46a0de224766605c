/**
 * Client frames in, commands out: every method from its exact JSON text, the frames the real
 * centrifuge client (npm `centrifuge` 5.8) sends, and every way a frame can be a bad request
 * (disconnect 3501 with a reason that names the line and the field).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DisconnectCode } from '../../../src/protocol/codes.js';
import { decodeFrame, decodeLine } from '../../../src/protocol/decode.js';
import { DisconnectError } from '../../../src/protocol/errors.js';
import type { Incoming } from '../../../src/protocol/types.js';

/** Decodes a frame that must hold exactly one command and returns it. */
function decodeOne(frame: string): Incoming {
  const out = decodeFrame(frame);
  assert.equal(out.length, 1, `expected one command in ${JSON.stringify(frame)}`);
  return out[0]!;
}

/** Asserts that `frame` is a bad request: DisconnectError 3501 with exactly `reason`. */
function expectBadRequest(frame: string, reason: string): void {
  let caught: unknown;
  try {
    decodeFrame(frame);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof DisconnectError, `expected a DisconnectError for ${JSON.stringify(frame)}, got ${String(caught)}`);
  assert.deepEqual({ code: caught.code, reason: caught.reason }, { code: DisconnectCode.BadRequest, reason });
}

describe('decodeFrame: connect', () => {
  it('decodes every connect field when the client sends token, data, subs, name, version and headers', () => {
    const frame = '{"id":1,"connect":{"token":"T","data":{"app":"demo"},"subs":{"news":{"recover":true,"offset":7,"epoch":"e1"}},'
      + '"name":"js","version":"5.8.0","headers":{"Authorization":"Bearer x","X-Trace":"1"}}}';
    assert.deepEqual(decodeOne(frame), {
      id: 1,
      method: 'connect',
      request: {
        token: 'T',
        data: '{"app":"demo"}',
        subs: { news: { recover: true, offset: 7, epoch: 'e1' } },
        name: 'js',
        version: '5.8.0',
        headers: { Authorization: 'Bearer x', 'X-Trace': '1' },
      },
    });
  });

  it('decodes an empty request when connect has no fields', () => {
    assert.deepEqual(decodeOne('{"id":1,"connect":{}}'), { id: 1, method: 'connect', request: {} });
  });

  it('leaves the token out when the client sends an empty token', () => {
    assert.deepEqual(decodeOne('{"id":1,"connect":{"token":""}}'), { id: 1, method: 'connect', request: {} });
  });

  it('decodes a server-side subscription position with only recover when offset and epoch are absent', () => {
    assert.deepEqual(decodeOne('{"id":1,"connect":{"subs":{"a":{"recover":true},"b":{}}}}'), {
      id: 1, method: 'connect', request: { subs: { a: { recover: true }, b: { recover: false } } },
    });
  });

  it('keeps connect data as its compact JSON text when it is a string, number or array', () => {
    assert.deepEqual(decodeOne('{"id":1,"connect":{"data":"hello"}}'), { id: 1, method: 'connect', request: { data: '"hello"' } });
    assert.deepEqual(decodeOne('{"id":1,"connect":{"data":12.5}}'), { id: 1, method: 'connect', request: { data: '12.5' } });
    assert.deepEqual(decodeOne('{"id":1,"connect":{"data":[1, 2, {"a" : 3}]}}'), { id: 1, method: 'connect', request: { data: '[1,2,{"a":3}]' } });
  });
});

describe('decodeFrame: subscribe', () => {
  it('decodes every subscribe field when the client sends all flags, a position, a token and data', () => {
    const frame = '{"id":2,"subscribe":{"channel":"chat:1","token":"ST","recover":true,"offset":3,"epoch":"ep","data":{"k":1},'
      + '"positioned":true,"recoverable":true,"join_leave":true}}';
    assert.deepEqual(decodeOne(frame), {
      id: 2,
      method: 'subscribe',
      request: {
        channel: 'chat:1', token: 'ST', recover: true, offset: 3, epoch: 'ep', data: '{"k":1}',
        positioned: true, recoverable: true, join_leave: true,
      },
    });
  });

  it('defaults every flag to false when the client sends only the channel', () => {
    assert.deepEqual(decodeOne('{"id":2,"subscribe":{"channel":"a"}}'), {
      id: 2, method: 'subscribe', request: { channel: 'a', recover: false, positioned: false, recoverable: false, join_leave: false },
    });
  });

  it('decodes recover with offset 0 when the client resumes from the start of a stream', () => {
    assert.deepEqual(decodeOne('{"id":2,"subscribe":{"channel":"a","recover":true,"offset":0,"epoch":"e"}}'), {
      id: 2, method: 'subscribe', request: { channel: 'a', recover: true, offset: 0, epoch: 'e', positioned: false, recoverable: false, join_leave: false },
    });
  });

  it('ignores an empty subscription token', () => {
    assert.deepEqual(decodeOne('{"id":2,"subscribe":{"channel":"a","token":""}}'), {
      id: 2, method: 'subscribe', request: { channel: 'a', recover: false, positioned: false, recoverable: false, join_leave: false },
    });
  });
});

describe('decodeFrame: unsubscribe, presence, presence_stats', () => {
  it('decodes the channel of unsubscribe', () => {
    assert.deepEqual(decodeOne('{"id":3,"unsubscribe":{"channel":"chat:1"}}'), { id: 3, method: 'unsubscribe', request: { channel: 'chat:1' } });
  });

  it('decodes the channel of presence', () => {
    assert.deepEqual(decodeOne('{"id":4,"presence":{"channel":"chat:1"}}'), { id: 4, method: 'presence', request: { channel: 'chat:1' } });
  });

  it('decodes the channel of presence_stats', () => {
    assert.deepEqual(decodeOne('{"id":5,"presence_stats":{"channel":"chat:1"}}'), {
      id: 5, method: 'presence_stats', request: { channel: 'chat:1' },
    });
  });
});

describe('decodeFrame: publish', () => {
  it('keeps object data as its compact JSON text', () => {
    assert.deepEqual(decodeOne('{"id":3,"publish":{"channel":"chat:1","data":{ "text" : "hi" }}}'), {
      id: 3, method: 'publish', request: { channel: 'chat:1', data: '{"text":"hi"}' },
    });
  });

  it('keeps string data as a JSON string', () => {
    assert.deepEqual(decodeOne('{"id":3,"publish":{"channel":"c","data":"hi"}}'), { id: 3, method: 'publish', request: { channel: 'c', data: '"hi"' } });
  });

  it('keeps number data as its JSON text', () => {
    assert.deepEqual(decodeOne('{"id":3,"publish":{"channel":"c","data":42}}'), { id: 3, method: 'publish', request: { channel: 'c', data: '42' } });
  });

  it('keeps null data as JSON null when the client publishes null', () => {
    assert.deepEqual(decodeOne('{"id":3,"publish":{"channel":"c","data":null}}'), { id: 3, method: 'publish', request: { channel: 'c', data: 'null' } });
  });

  it('re-escapes characters so the data text stays on one line when the data holds a newline', () => {
    const cmd = decodeOne('{"id":3,"publish":{"channel":"c","data":"two\\nlines"}}');
    assert.deepEqual(cmd, { id: 3, method: 'publish', request: { channel: 'c', data: '"two\\nlines"' } });
  });

  it('is a bad request when publish has no data', () => {
    expectBadRequest('{"id":3,"publish":{"channel":"c"}}', 'bad request: publish.data is required');
  });
});

describe('decodeFrame: history', () => {
  it('decodes limit, since and reverse', () => {
    assert.deepEqual(decodeOne('{"id":6,"history":{"channel":"ch","since":{"offset":1,"epoch":"ep"},"limit":10,"reverse":true}}'), {
      id: 6, method: 'history', request: { channel: 'ch', reverse: true, limit: 10, since: { offset: 1, epoch: 'ep' } },
    });
  });

  it('decodes a bare history request as reverse false with no limit and no since', () => {
    assert.deepEqual(decodeOne('{"id":6,"history":{"channel":"ch"}}'), { id: 6, method: 'history', request: { channel: 'ch', reverse: false } });
  });

  it('decodes limit -1 (all publications) when the client asks for the whole stream', () => {
    assert.deepEqual(decodeOne('{"id":6,"history":{"channel":"ch","limit":-1}}'), {
      id: 6, method: 'history', request: { channel: 'ch', reverse: false, limit: -1 },
    });
  });

  it('defaults since to offset 0 and an empty epoch when since is an empty object', () => {
    assert.deepEqual(decodeOne('{"id":6,"history":{"channel":"ch","since":{}}}'), {
      id: 6, method: 'history', request: { channel: 'ch', reverse: false, since: { offset: 0, epoch: '' } },
    });
  });
});

describe('decodeFrame: ping, send, rpc, refresh, sub_refresh', () => {
  it('decodes ping as an empty request', () => {
    assert.deepEqual(decodeOne('{"id":7,"ping":{}}'), { id: 7, method: 'ping', request: {} });
  });

  it('decodes send with id 0 when the client sends it without an id', () => {
    assert.deepEqual(decodeOne('{"send":{"data":{"z":3}}}'), { id: 0, method: 'send', request: { data: '{"z":3}' } });
  });

  it('decodes send with no data as an empty request', () => {
    assert.deepEqual(decodeOne('{"send":{}}'), { id: 0, method: 'send', request: {} });
  });

  it('decodes rpc with its method and data', () => {
    assert.deepEqual(decodeOne('{"id":8,"rpc":{"method":"move","data":{"x":1}}}'), { id: 8, method: 'rpc', request: { method: 'move', data: '{"x":1}' } });
  });

  it('decodes rpc with an empty method name when the client leaves method out', () => {
    assert.deepEqual(decodeOne('{"id":8,"rpc":{"data":[1]}}'), { id: 8, method: 'rpc', request: { method: '', data: '[1]' } });
    assert.deepEqual(decodeOne('{"id":8,"rpc":{}}'), { id: 8, method: 'rpc', request: { method: '' } });
  });

  it('decodes the token of refresh', () => {
    assert.deepEqual(decodeOne('{"id":9,"refresh":{"token":"T2"}}'), { id: 9, method: 'refresh', request: { token: 'T2' } });
  });

  it('decodes the channel and token of sub_refresh', () => {
    assert.deepEqual(decodeOne('{"id":10,"sub_refresh":{"channel":"ch","token":"ST"}}'), {
      id: 10, method: 'sub_refresh', request: { channel: 'ch', token: 'ST' },
    });
  });
});

describe('decodeFrame: the frames of the real centrifuge client', () => {
  it('decodes connect and subscribe in one frame, in order, when the client opens a connection', () => {
    const frame = '{"connect":{"token":"T","name":"test"},"id":1}\n{"subscribe":{"channel":"ch","flag":1},"id":2}';
    assert.deepEqual(decodeFrame(frame), [
      { id: 1, method: 'connect', request: { token: 'T', name: 'test' } },
      { id: 2, method: 'subscribe', request: { channel: 'ch', recover: false, positioned: false, recoverable: false, join_leave: false } },
    ]);
  });

  it('decodes the default connect with name "js"', () => {
    assert.deepEqual(decodeOne('{"connect":{"name":"js"},"id":1}'), { id: 1, method: 'connect', request: { name: 'js' } });
  });

  it('decodes a connect that recovers a server-side subscription', () => {
    assert.deepEqual(decodeOne('{"connect":{"name":"js","subs":{"s1":{"recover":true,"offset":3,"epoch":"e"}}},"id":2}'), {
      id: 2, method: 'connect', request: { name: 'js', subs: { s1: { recover: true, offset: 3, epoch: 'e' } } },
    });
  });

  it('decodes a recovering subscribe with every option and ignores flag', () => {
    const frame = '{"subscribe":{"channel":"ch","token":"ST","positioned":true,"recoverable":true,"join_leave":true,"flag":1,"recover":true,"offset":3,"epoch":"ep"},"id":2}';
    assert.deepEqual(decodeOne(frame), {
      id: 2,
      method: 'subscribe',
      request: { channel: 'ch', token: 'ST', recover: true, offset: 3, epoch: 'ep', positioned: true, recoverable: true, join_leave: true },
    });
  });

  it('decodes the resubscribe to game:1 after a reconnect', () => {
    const frame = '{"subscribe":{"channel":"game:1","positioned":true,"recoverable":true,"join_leave":true,"flag":1,"recover":true,"offset":3,"epoch":"e1"},"id":2}';
    assert.deepEqual(decodeOne(frame), {
      id: 2,
      method: 'subscribe',
      request: { channel: 'game:1', recover: true, offset: 3, epoch: 'e1', positioned: true, recoverable: true, join_leave: true },
    });
  });

  it('keeps the delta type a client asks for and ignores a tags filter', () => {
    const frame = '{"subscribe":{"channel":"a","flag":3,"delta":"fossil","tf":{"key":"team","cmp":"eq","val":"eng"}},"id":2}';
    assert.deepEqual(decodeOne(frame), {
      id: 2, method: 'subscribe', request: { channel: 'a', recover: false, positioned: false, recoverable: false, join_leave: false, delta: 'fossil' },
    });
  });

  it('decodes each of the verbatim call frames', () => {
    const cases: Array<[string, Incoming]> = [
      ['{"publish":{"channel":"game:1","data":{"move":"e4"}},"id":3}', { id: 3, method: 'publish', request: { channel: 'game:1', data: '{"move":"e4"}' } }],
      ['{"publish":{"channel":"ch","data":{"x":1}},"id":3}', { id: 3, method: 'publish', request: { channel: 'ch', data: '{"x":1}' } }],
      ['{"rpc":{"method":"x","data":{}},"id":4}', { id: 4, method: 'rpc', request: { method: 'x', data: '{}' } }],
      ['{"presence":{"channel":"ch"},"id":4}', { id: 4, method: 'presence', request: { channel: 'ch' } }],
      ['{"presence_stats":{"channel":"ch"},"id":5}', { id: 5, method: 'presence_stats', request: { channel: 'ch' } }],
      ['{"history":{"channel":"ch","since":{"offset":1,"epoch":"ep"},"limit":10,"reverse":true},"id":6}',
        { id: 6, method: 'history', request: { channel: 'ch', reverse: true, limit: 10, since: { offset: 1, epoch: 'ep' } } }],
      ['{"rpc":{"method":"m","data":{"y":2}},"id":7}', { id: 7, method: 'rpc', request: { method: 'm', data: '{"y":2}' } }],
      ['{"send":{"data":{"z":3}}}', { id: 0, method: 'send', request: { data: '{"z":3}' } }],
      ['{"refresh":{"token":"T2"},"id":8}', { id: 8, method: 'refresh', request: { token: 'T2' } }],
      ['{"sub_refresh":{"channel":"ch","token":"ST"},"id":9}', { id: 9, method: 'sub_refresh', request: { channel: 'ch', token: 'ST' } }],
      ['{"unsubscribe":{"channel":"ch"},"id":10}', { id: 10, method: 'unsubscribe', request: { channel: 'ch' } }],
      ['{}', { method: 'pong' }],
    ];
    for (const [frame, expected] of cases) assert.deepEqual(decodeOne(frame), expected, frame);
  });

  it('accepts ids past the first connection when the client reconnects without resetting its counter', () => {
    assert.deepEqual(decodeFrame('{"connect":{"name":"js"},"id":10}\n{"subscribe":{"channel":"a","flag":1},"id":11}').map((c) => ('id' in c ? c.id : 0)), [10, 11]);
  });
});

describe('decodeFrame: framing', () => {
  it('decodes several commands in order when the frame has blank lines and \\r\\n line ends', () => {
    const frame = '{"id":1,"connect":{}}\r\n\r\n{"id":2,"subscribe":{"channel":"a"}}\r\n   \n{"id":3,"ping":{}}\r\n';
    assert.deepEqual(decodeFrame(frame).map((c) => c.method), ['connect', 'subscribe', 'ping']);
  });

  it('decodes {} as the client pong', () => {
    assert.deepEqual(decodeFrame('{}'), [{ method: 'pong' }]);
  });

  it('decodes a pong between commands of one frame', () => {
    assert.deepEqual(decodeFrame('{"id":5,"ping":{}}\n{}\n{"send":{}}'), [
      { id: 5, method: 'ping', request: {} },
      { method: 'pong' },
      { id: 0, method: 'send', request: {} },
    ]);
  });

  it('decodes a pong when the object has id 0 or a null id and no method', () => {
    assert.deepEqual(decodeFrame('{"id":0}\n{"id":null}'), [{ method: 'pong' }, { method: 'pong' }]);
  });

  it('rejects the whole frame, naming the line, when a later line is malformed', () => {
    expectBadRequest('{"id":1,"ping":{}}\n\n{"id":2,', 'bad request: line 3 is not valid JSON');
  });

  it('decodes one line with decodeLine and names the line number it was given', () => {
    assert.deepEqual(decodeLine('{"id":4,"ping":{}}', 9), { id: 4, method: 'ping', request: {} });
    assert.throws(() => decodeLine('nope', 9), (err: unknown) => err instanceof DisconnectError && err.reason === 'bad request: line 9 is not valid JSON');
  });
});

describe('decodeFrame: numbers, nulls and unknown fields', () => {
  it('reads 64-bit offsets sent as decimal strings', () => {
    assert.deepEqual(decodeOne('{"id":2,"subscribe":{"channel":"a","recover":true,"offset":"12345","epoch":"e"}}'), {
      id: 2, method: 'subscribe', request: { channel: 'a', recover: true, offset: 12345, epoch: 'e', positioned: false, recoverable: false, join_leave: false },
    });
    assert.deepEqual(decodeOne('{"id":6,"history":{"channel":"ch","since":{"offset":"9007199254740991","epoch":"e"}}}'), {
      id: 6, method: 'history', request: { channel: 'ch', reverse: false, since: { offset: 9007199254740991, epoch: 'e' } },
    });
    assert.deepEqual(decodeOne('{"id":1,"connect":{"subs":{"s":{"recover":true,"offset":"5"}}}}'), {
      id: 1, method: 'connect', request: { subs: { s: { recover: true, offset: 5 } } },
    });
  });

  it('is a bad request when a string offset does not fit a safe integer', () => {
    const reason = 'bad request: subscribe.offset must be a non-negative integer';
    expectBadRequest('{"id":2,"subscribe":{"channel":"a","offset":"9007199254740993"}}', reason);
    expectBadRequest('{"id":2,"subscribe":{"channel":"a","offset":"18446744073709551615"}}', reason);
    expectBadRequest('{"id":2,"subscribe":{"channel":"a","offset":"-1"}}', reason);
    expectBadRequest('{"id":2,"subscribe":{"channel":"a","offset":"1e3"}}', reason);
    expectBadRequest('{"id":2,"subscribe":{"channel":"a","offset":""}}', reason);
  });

  it('treats null fields as absent', () => {
    const frame = '{"id":2,"subscribe":{"channel":"a","token":null,"recover":null,"offset":null,"epoch":null,"positioned":null,"recoverable":null,"join_leave":null}}';
    assert.deepEqual(decodeOne(frame), {
      id: 2, method: 'subscribe', request: { channel: 'a', recover: false, positioned: false, recoverable: false, join_leave: false },
    });
    assert.deepEqual(decodeOne('{"id":1,"connect":{"token":null,"subs":null,"name":null,"version":null,"headers":null}}'), {
      id: 1, method: 'connect', request: {},
    });
    assert.deepEqual(decodeOne('{"id":6,"history":{"channel":"ch","limit":null,"since":null,"reverse":null}}'), {
      id: 6, method: 'history', request: { channel: 'ch', reverse: false },
    });
  });

  it('ignores a null method next to the real one', () => {
    assert.deepEqual(decodeOne('{"id":7,"ping":{},"publish":null,"connect":null}'), { id: 7, method: 'ping', request: {} });
  });

  it('ignores unknown fields at the top level and inside the method object', () => {
    assert.deepEqual(decodeOne('{"id":7,"ping":{"future":1},"trace":"abc","meta":{"x":[1]}}'), { id: 7, method: 'ping', request: {} });
    assert.deepEqual(decodeOne('{"id":2,"subscribe":{"channel":"a","type":1,"phase":2,"cursor":"c","limit":5,"asc":true}}'), {
      id: 2, method: 'subscribe', request: { channel: 'a', recover: false, positioned: false, recoverable: false, join_leave: false },
    });
    assert.deepEqual(decodeOne('{"id":1,"connect":{"name":"js","flag":1,"unknown":{"deep":true}}}'), { id: 1, method: 'connect', request: { name: 'js' } });
  });
});

describe('decodeFrame: malformed frames are bad requests (3501)', () => {
  it('names the line when it is not valid JSON', () => {
    expectBadRequest('{"id":1,', 'bad request: line 1 is not valid JSON');
    expectBadRequest("{'id':1}", 'bad request: line 1 is not valid JSON');
  });

  it('names the line when it is a JSON value but not an object', () => {
    for (const line of ['42', '"ping"', 'null', 'true']) expectBadRequest(line, 'bad request: line 1 is not a JSON object');
  });

  it('names the line when it is an array, even an array of commands', () => {
    expectBadRequest('[{"id":1,"ping":{}}]', 'bad request: line 1 is not a JSON object');
  });

  it('names common methods within the close-reason limit when a command with an id has no known method', () => {
    const reason = 'bad request: line 1 has no known method (such as connect, subscribe, publish, rpc; see docs/protocol.md)';
    expectBadRequest('{"id":1,"subscribe_all":{}}', reason);
    expectBadRequest('{"id":1}', reason);
    assert.ok(Buffer.byteLength(reason) <= 123);
  });

  it('names both methods when a command has two', () => {
    expectBadRequest('{"id":1,"ping":{},"publish":{"channel":"a","data":1}}', 'bad request: line 1 has two methods (publish and ping); send one per command');
    expectBadRequest('{}\n{"id":1,"connect":{},"subscribe":{"channel":"a"}}', 'bad request: line 2 has two methods (connect and subscribe); send one per command');
  });

  it('says the id range when the id is negative, fractional, too big or a string', () => {
    const reason = 'bad request: line 1: id must be an integer from 0 to 4294967295';
    for (const id of ['-1', '1.5', '4294967296', '"1"', 'true', '{}']) expectBadRequest(`{"id":${id},"ping":{}}`, reason);
  });

  it('accepts the largest uint32 id', () => {
    assert.deepEqual(decodeOne('{"id":4294967295,"ping":{}}'), { id: 4294967295, method: 'ping', request: {} });
  });

  it('says the method needs an id when a command other than send has none', () => {
    expectBadRequest('{"ping":{}}', 'bad request: line 1: ping needs an id greater than 0');
    expectBadRequest('{"id":0,"connect":{}}', 'bad request: line 1: connect needs an id greater than 0');
    expectBadRequest('{"id":null,"subscribe":{"channel":"a"}}', 'bad request: line 1: subscribe needs an id greater than 0');
  });

  it('says the method must be an object when its body is not one', () => {
    expectBadRequest('{"id":1,"ping":[]}', 'bad request: line 1: ping must be an object');
    expectBadRequest('{"id":1,"subscribe":"chat:1"}', 'bad request: line 1: subscribe must be an object');
    expectBadRequest('{"id":1,"connect":true}', 'bad request: line 1: connect must be an object');
    expectBadRequest('{"send":1}', 'bad request: line 1: send must be an object');
  });

  it('is a bad request when the frame is empty or only blank lines', () => {
    for (const frame of ['', '\n', '\r\n\r\n', '   \n\t']) expectBadRequest(frame, 'bad request: empty frame');
  });
});

describe('decodeFrame: fields of the wrong type name their path', () => {
  const cases: Array<[string, string]> = [
    ['{"id":1,"connect":{"token":5}}', 'connect.token must be a string'],
    ['{"id":1,"connect":{"name":false}}', 'connect.name must be a string'],
    ['{"id":1,"connect":{"version":1}}', 'connect.version must be a string'],
    ['{"id":1,"connect":{"subs":[]}}', 'connect.subs must be an object'],
    ['{"id":1,"connect":{"subs":{"news":true}}}', 'connect.subs.news must be an object'],
    ['{"id":1,"connect":{"subs":{"news":null}}}', 'connect.subs.news must be an object'],
    ['{"id":1,"connect":{"subs":{"news":{"recover":"yes"}}}}', 'connect.subs.news.recover must be true or false'],
    ['{"id":1,"connect":{"subs":{"news":{"offset":-1}}}}', 'connect.subs.news.offset must be a non-negative integer'],
    ['{"id":1,"connect":{"subs":{"news":{"epoch":7}}}}', 'connect.subs.news.epoch must be a string'],
    ['{"id":1,"connect":{"headers":"x"}}', 'connect.headers must be an object'],
    ['{"id":1,"connect":{"headers":{"X-A":1}}}', 'connect.headers.X-A must be a string'],
    ['{"id":2,"subscribe":{}}', 'subscribe.channel is required'],
    ['{"id":2,"subscribe":{"channel":5}}', 'subscribe.channel must be a string'],
    ['{"id":2,"subscribe":{"channel":"a","token":[]}}', 'subscribe.token must be a string'],
    ['{"id":2,"subscribe":{"channel":"a","recover":1}}', 'subscribe.recover must be true or false'],
    ['{"id":2,"subscribe":{"channel":"a","positioned":"true"}}', 'subscribe.positioned must be true or false'],
    ['{"id":2,"subscribe":{"channel":"a","recoverable":0}}', 'subscribe.recoverable must be true or false'],
    ['{"id":2,"subscribe":{"channel":"a","join_leave":{}}}', 'subscribe.join_leave must be true or false'],
    ['{"id":2,"subscribe":{"channel":"a","offset":1.5}}', 'subscribe.offset must be a non-negative integer'],
    ['{"id":2,"subscribe":{"channel":"a","offset":-3}}', 'subscribe.offset must be a non-negative integer'],
    ['{"id":2,"subscribe":{"channel":"a","epoch":1}}', 'subscribe.epoch must be a string'],
    ['{"id":3,"unsubscribe":{}}', 'unsubscribe.channel is required'],
    ['{"id":3,"unsubscribe":{"channel":1}}', 'unsubscribe.channel must be a string'],
    ['{"id":3,"publish":{"data":1}}', 'publish.channel is required'],
    ['{"id":3,"publish":{"channel":["a"],"data":1}}', 'publish.channel must be a string'],
    ['{"id":4,"presence":{"channel":true}}', 'presence.channel must be a string'],
    ['{"id":5,"presence_stats":{}}', 'presence_stats.channel is required'],
    ['{"id":6,"history":{}}', 'history.channel is required'],
    ['{"id":6,"history":{"channel":"c","limit":"10"}}', 'history.limit must be an integer'],
    ['{"id":6,"history":{"channel":"c","limit":2.5}}', 'history.limit must be an integer'],
    ['{"id":6,"history":{"channel":"c","reverse":"yes"}}', 'history.reverse must be true or false'],
    ['{"id":6,"history":{"channel":"c","since":3}}', 'history.since must be an object'],
    ['{"id":6,"history":{"channel":"c","since":{"offset":"x"}}}', 'history.since.offset must be a non-negative integer'],
    ['{"id":6,"history":{"channel":"c","since":{"epoch":false}}}', 'history.since.epoch must be a string'],
    ['{"id":8,"rpc":{"method":1}}', 'rpc.method must be a string'],
    ['{"id":9,"refresh":{}}', 'refresh.token is required'],
    ['{"id":9,"refresh":{"token":1}}', 'refresh.token must be a string'],
    ['{"id":10,"sub_refresh":{"token":"T"}}', 'sub_refresh.channel is required'],
    ['{"id":10,"sub_refresh":{"channel":"c"}}', 'sub_refresh.token is required'],
    ['{"id":10,"sub_refresh":{"channel":"c","token":{}}}', 'sub_refresh.token must be a string'],
  ];
  for (const [frame, message] of cases) {
    it(`says "${message}" when the client sends ${frame}`, () => {
      expectBadRequest(frame, `bad request: ${message}`);
    });
  }
});

describe('decodeFrame: nesting depth', () => {
  /** Data nested `n` arrays deep. */
  const nested = (n: number): string => `${'['.repeat(n)}${']'.repeat(n)}`;

  it('accepts a line nested exactly 100 levels deep (a publish wraps its data in 2)', () => {
    const cmd = decodeOne(`{"id":1,"publish":{"channel":"c","data":${nested(98)}}}`);
    assert.equal(cmd.method, 'publish');
  });

  it('refuses a line nested 101 levels deep as a bad request, before parsing it', () => {
    expectBadRequest(`{"id":1,"publish":{"channel":"c","data":${nested(99)}}}`, 'bad request: line 1 nests JSON deeper than 100 levels');
    expectBadRequest(`{"id":2,"rpc":{"method":"m","data":${nested(100_000)}}}`, 'bad request: line 1 nests JSON deeper than 100 levels');
  });

  it('does not count brackets inside strings', () => {
    const cmd = decodeOne(`{"id":1,"publish":{"channel":"c","data":${JSON.stringify('['.repeat(500))}}}`);
    assert.equal(cmd.method, 'publish');
  });
});
