/**
 * Replies out in the Protobuf form, read back field by field as client.proto numbers them: a
 * recovered batch of a delta subscription starts with the first publication's bytes in full and
 * goes on with binary fossil deltas, each against the one before.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyDelta } from 'fossil-delta';
import pb from 'protobufjs/minimal.js';
import { encodeProtobufReply } from '../../../src/protocol/protobuf.js';
import type { JsonText } from '../../../src/protocol/types.js';

const utf8 = new TextEncoder();

type Fields = Map<number, (number | Uint8Array)[]>;

/** A message's fields by number, every value in order: varints as numbers, length-delimited as bytes. */
function readFields(bytes: Uint8Array): Fields {
  const r = pb.Reader.create(bytes);
  const out: Fields = new Map();
  while (r.pos < r.len) {
    const tag = r.uint32();
    // A plain Uint8Array, not the Buffer protobufjs reads on Node, so that deepEqual compares bytes only.
    const value = (tag & 7) === 0 ? r.uint32() : new Uint8Array(r.bytes());
    out.set(tag >>> 3, [...(out.get(tag >>> 3) ?? []), value]);
  }
  return out;
}

function only(f: Fields, field: number): number | Uint8Array | undefined {
  const values = f.get(field);
  assert.ok(values === undefined || values.length === 1, `field ${field} appears once`);
  return values?.[0];
}

/** The fields of the Reply inside one varint-delimited frame. */
function readReply(frame: Uint8Array): Fields {
  const r = pb.Reader.create(frame);
  const body = r.bytes();
  assert.equal(r.pos, frame.length, 'one reply in the frame');
  return readFields(body);
}

/** A game snapshot's JSON text: each one repeats most of the one before, so a delta of it is small. */
const snapshot = (t: number): string =>
  JSON.stringify({ players: Array.from({ length: 8 }, (_, i) => ({ id: `p${i}`, x: i * 10 + t, y: 50 })), t });

describe('encodeProtobufReply: subscribe', () => {
  it('starts a recovered batch of a delta subscription in full, then sends each next publication as a delta against the one before', () => {
    const texts = [1, 2, 3].map(snapshot);
    const frame = encodeProtobufReply(2, 'subscribe', {
      recoverable: true, epoch: 'e1', offset: 3, positioned: true, recovered: true, was_recovering: true, delta: true,
      publications: texts.map((t, i) => ({ data: t as JsonText, offset: i + 1 })),
    });
    const reply = readReply(frame);
    assert.equal(only(reply, 1), 2, 'Reply.id');
    const result = readFields(only(reply, 6) as Uint8Array); // Reply.subscribe
    assert.equal(only(result, 13), 1, 'SubscribeResult.delta');
    const pubs = (result.get(7) ?? []).map((p) => readFields(p as Uint8Array)); // SubscribeResult.publications
    assert.equal(pubs.length, 3);
    assert.deepEqual(pubs.map((p) => only(p, 6)), [1, 2, 3], 'Publication.offset, oldest first');
    // The first goes in full: no delta flag (field 8), and its data (field 4) is the publication's bytes.
    const [first, ...rest] = pubs;
    assert.equal(only(first!, 8), undefined, 'the first publication carries no delta flag');
    assert.deepEqual(only(first!, 4), utf8.encode(texts[0]!));
    let prev = utf8.encode(texts[0]!);
    for (const [i, pub] of rest.entries()) {
      const next = utf8.encode(texts[i + 1]!);
      const data = only(pub, 4) as Uint8Array;
      assert.equal(only(pub, 8), 1, `publication ${i + 2} is a delta`);
      assert.ok(data.length < next.length, `publication ${i + 2}'s delta is smaller than its data`);
      const rebuilt = applyDelta(prev, data);
      assert.deepEqual(rebuilt, next, `publication ${i + 2} rebuilds from the one before`);
      prev = rebuilt;
    }
  });
});
