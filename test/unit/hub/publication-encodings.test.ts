/**
 * One publication's encodings (issue 15): each form a subscriber may read is made once per
 * publication, whoever asks; a delta goes only to a subscriber whose last publication is the one
 * it is against, and only when it is smaller; the full form of a delta subscription is the data
 * as a JSON string.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyDelta } from 'fossil-delta';
import { NO_PUBLICATION, PublicationEncodings, WireFormat } from '../../../src/hub/publication-encodings.js';
import type { Publication, JsonText } from '../../../src/protocol/types.js';

const pub = (data: string, offset = 0): Publication => ({ data: data as JsonText, ...(offset ? { offset } : {}) });
const big = (n: number): string => JSON.stringify({ players: Array.from({ length: 8 }, (_, i) => ({ id: `p${i}`, x: i * 10, y: 50 })), t: n });

describe('PublicationEncodings', () => {
  it('makes each form once, however many subscribers ask', () => {
    const e = new PublicationEncodings('game:1', pub('{"a":1}'), undefined);
    assert.equal(e.messageFor(WireFormat.Json, NO_PUBLICATION), e.messageFor(WireFormat.Json, NO_PUBLICATION));
    assert.equal(e.messageFor(WireFormat.Protobuf, NO_PUBLICATION), e.messageFor(WireFormat.Protobuf, NO_PUBLICATION));
    assert.equal(e.messageFor(WireFormat.Json, NO_PUBLICATION).text, '{"push":{"channel":"game:1","pub":{"data":{"a":1}}}}');
  });

  it('sends the first publication of a delta subscription in full, as a JSON string', () => {
    const e = new PublicationEncodings('game:1', pub('{"a":1}', 4), undefined);
    assert.equal(e.messageFor(WireFormat.JsonDelta, NO_PUBLICATION).text, '{"push":{"channel":"game:1","pub":{"data":"{\\"a\\":1}","offset":4}}}');
  });

  it('sends a delta against the previous publication to a subscriber that has it, the same instance for all of them', () => {
    const first = new PublicationEncodings('game:1', pub(big(1)), undefined);
    const second = new PublicationEncodings('game:1', pub(big(2)), first);
    const a = second.messageFor(WireFormat.JsonDelta, first.seq);
    assert.equal(second.messageFor(WireFormat.JsonDelta, first.seq), a, 'computed once per publication');
    const wire = JSON.parse(a.text) as { push: { pub: { data: string; delta: boolean } } };
    assert.equal(wire.push.pub.delta, true);
    const rebuilt = new TextDecoder().decode(applyDelta(new TextEncoder().encode(big(1)), new TextEncoder().encode(wire.push.pub.data)));
    assert.equal(rebuilt, big(2));
    assert.ok(a.text.length < second.messageFor(WireFormat.Json, NO_PUBLICATION).text.length / 2);
  });

  it('sends the full data to a subscriber whose last publication is not the previous one', () => {
    const first = new PublicationEncodings('game:1', pub(big(1)), undefined);
    const second = new PublicationEncodings('game:1', pub(big(2)), first);
    const full = second.messageFor(WireFormat.JsonDelta, NO_PUBLICATION);
    assert.doesNotMatch(full.text, /"delta":true/);
    assert.equal(second.messageFor(WireFormat.JsonDelta, first.seq - 1), full);
  });

  it('sends the full data when the delta would not be smaller', () => {
    const first = new PublicationEncodings('c', pub('1'), undefined);
    const second = new PublicationEncodings('c', pub('2'), first);
    assert.doesNotMatch(second.messageFor(WireFormat.JsonDelta, first.seq).text, /"delta":true/);
    // The same bytes, made once; another message, since the Protobuf one may be fanned out natively (issue 17).
    assert.equal(second.messageFor(WireFormat.ProtobufDelta, first.seq).bytes, second.messageFor(WireFormat.Protobuf, first.seq).bytes);
  });

  it('gives Protobuf delta subscribers a binary delta of the data bytes', () => {
    const first = new PublicationEncodings('game:1', pub(big(1)), undefined);
    const second = new PublicationEncodings('game:1', pub(big(2)), first);
    const delta = second.messageFor(WireFormat.ProtobufDelta, first.seq);
    assert.ok(delta.bytes !== undefined && delta.text === '');
    assert.ok(delta.bytes.length < second.messageFor(WireFormat.Protobuf, first.seq).bytes!.length / 2);
  });

  it('marks with its channel only the forms every subscriber of that form shares (JSON and Protobuf without deltas), for native fan-out', () => {
    const first = new PublicationEncodings('game:1', pub(big(1)), undefined);
    const second = new PublicationEncodings('game:1', pub(big(2)), first);
    assert.equal(second.messageFor(WireFormat.Json, first.seq).channel, 'game:1');
    assert.equal(second.messageFor(WireFormat.Protobuf, first.seq).channel, 'game:1');
    for (const format of [WireFormat.JsonDelta, WireFormat.ProtobufDelta]) {
      assert.equal(second.messageFor(format, first.seq).channel, undefined, `delta form ${format}`);
      assert.equal(second.messageFor(format, NO_PUBLICATION).channel, undefined, `full form of delta ${format}`);
    }
    const full = second.messageFor(WireFormat.ProtobufDelta, NO_PUBLICATION);
    assert.notEqual(full, second.messageFor(WireFormat.Protobuf, NO_PUBLICATION));
    assert.deepEqual(full.bytes, second.messageFor(WireFormat.Protobuf, NO_PUBLICATION).bytes);
  });

  it('keeps only one publication back, so a long channel does not keep every publication alive', () => {
    const first = new PublicationEncodings('c', pub(big(1)), undefined);
    const second = new PublicationEncodings('c', pub(big(2)), first);
    new PublicationEncodings('c', pub(big(3)), second);
    second.forgetPrevious(); // the hub, once every subscriber has it
    // The second no longer has its previous one: a late subscriber gets it in full.
    assert.doesNotMatch(second.messageFor(WireFormat.JsonDelta, first.seq).text, /"delta":true/);
  });
});
