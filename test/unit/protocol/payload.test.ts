/**
 * Payloads as bytes end to end (issue 15): compact JSON from a Protobuf client stays JSON text,
 * anything else is kept byte for byte; JSON clients read binary as a base64 string.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBinary, payloadBytes, payloadFromBytes, payloadJson, payloadValue } from '../../../src/protocol/payload.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('payloads', () => {
  it('keeps compact JSON bytes as the JSON text, shared as is with JSON clients', () => {
    const data = payloadFromBytes(utf8('{"text":"héllo","n":12345678901234567890}'));
    assert.equal(data, '{"text":"héllo","n":12345678901234567890}');
    assert.equal(isBinary(data), false);
    assert.equal(payloadJson(data), data);
    assert.deepEqual([...payloadBytes(data)], [...utf8('{"text":"héllo","n":12345678901234567890}')]);
  });

  it('keeps bytes that are not JSON exactly, and gives JSON clients their base64 as a string', () => {
    const bytes = Uint8Array.from([0, 1, 2, 0xff, 0xfe, 10, 13, 0x80]);
    const data = payloadFromBytes(bytes);
    assert.equal(isBinary(data), true);
    assert.deepEqual([...payloadBytes(data)], [...bytes]);
    assert.equal(payloadJson(data), JSON.stringify(Buffer.from(bytes).toString('base64')));
    assert.deepEqual(payloadValue(data), bytes);
  });

  it('keeps JSON with whitespace byte for byte for Protobuf clients, compacted for JSON clients', () => {
    const data = payloadFromBytes(utf8('{ "a" : [1, 2] }'));
    assert.equal(isBinary(data), true);
    assert.equal(new TextDecoder().decode(payloadBytes(data)), '{ "a" : [1, 2] }');
    assert.equal(payloadJson(data), '{"a":[1,2]}');
  });

  it('base64-encodes every tail length as Buffer does', () => {
    for (const n of [0, 1, 2, 3, 4, 5, 255]) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + 200) & 0xff);
      if (n > 0) bytes[0] = 0xff; // never JSON
      assert.equal(payloadJson(payloadFromBytes(bytes)), JSON.stringify(Buffer.from(bytes).toString('base64')), `${n} bytes`);
    }
  });
});
