/**
 * Recovery decisions: what a resubscribing client is told (recovered or not) and which
 * publications it gets, from its position, the history page after it and the channel's mode.
 * A client is recovered only when it can be given every publication it missed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Publication, JsonText, StreamPosition } from '../../../src/protocol/types.js';
import { recoverLatest, recoverStream, type HistorySlice } from '../../../src/session/recovery.js';

function pub(offset: number): Publication {
  return { data: JSON.stringify({ n: offset }) as JsonText, offset };
}

function pubs(...offsets: number[]): Publication[] {
  return offsets.map(pub);
}

function page(publications: Publication[], top: StreamPosition): HistorySlice {
  return { kind: 'page', publications, top };
}

const NOT_RECOVERED = { recovered: false, publications: [] };

describe('recoverStream', () => {
  it('recovers every missed publication when the gap is contiguous up to the top', () => {
    const missed = pubs(4, 5, 6);
    assert.deepEqual(recoverStream({ offset: 3, epoch: 'e1' }, page(missed, { offset: 6, epoch: 'e1' }), 100), { recovered: true, publications: missed });
  });

  it('returns the page itself, oldest first, when recovered', () => {
    const missed = pubs(4, 5);
    assert.equal(recoverStream({ offset: 3, epoch: 'e1' }, page(missed, { offset: 5, epoch: 'e1' }), 100).publications, missed);
  });

  it('recovers with no publications when the client is already at the top', () => {
    assert.deepEqual(recoverStream({ offset: 6, epoch: 'e1' }, page([], { offset: 6, epoch: 'e1' }), 100), { recovered: true, publications: [] });
  });

  it('recovers from offset 0 when the client saw nothing of the stream and the history holds all of it', () => {
    assert.deepEqual(recoverStream({ offset: 0, epoch: 'e1' }, page(pubs(1, 2), { offset: 2, epoch: 'e1' }), 100), { recovered: true, publications: pubs(1, 2) });
  });

  it('recovers an empty stream when the client and the stream are both at offset 0', () => {
    assert.deepEqual(recoverStream({ offset: 0, epoch: 'e1' }, page([], { offset: 0, epoch: 'e1' }), 100), { recovered: true, publications: [] });
  });

  it('is not recovered and sends nothing when the epoch differs', () => {
    assert.deepEqual(recoverStream({ offset: 3, epoch: 'old' }, page(pubs(4, 5), { offset: 5, epoch: 'new' }), 100), NOT_RECOVERED);
  });

  it('is not recovered when the client epoch is empty and the stream has one', () => {
    assert.deepEqual(recoverStream({ offset: 0, epoch: '' }, page(pubs(1), { offset: 1, epoch: 'e1' }), 100), NOT_RECOVERED);
  });

  it('is not recovered when the history read said the position is unrecoverable (offset past the top)', () => {
    assert.deepEqual(recoverStream({ offset: 9, epoch: 'e1' }, { kind: 'unrecoverable', top: { offset: 5, epoch: 'e1' } }, 100), NOT_RECOVERED);
  });

  it('is not recovered when the page is empty but the client offset is past the top', () => {
    assert.deepEqual(recoverStream({ offset: 9, epoch: 'e1' }, page([], { offset: 5, epoch: 'e1' }), 100), NOT_RECOVERED);
  });

  it('is not recovered when history was trimmed and the first publication is past the client offset + 1', () => {
    assert.deepEqual(recoverStream({ offset: 3, epoch: 'e1' }, page(pubs(6, 7, 8), { offset: 8, epoch: 'e1' }), 100), NOT_RECOVERED);
  });

  it('is not recovered when the history is empty but the top moved past the client (history removed or expired)', () => {
    assert.deepEqual(recoverStream({ offset: 3, epoch: 'e1' }, page([], { offset: 8, epoch: 'e1' }), 100), NOT_RECOVERED);
  });

  it('is not recovered when the offsets have a hole', () => {
    assert.deepEqual(recoverStream({ offset: 3, epoch: 'e1' }, page(pubs(4, 6, 7), { offset: 7, epoch: 'e1' }), 100), NOT_RECOVERED);
  });

  it('is not recovered when the offsets repeat or go backwards', () => {
    assert.deepEqual(recoverStream({ offset: 3, epoch: 'e1' }, page(pubs(4, 4, 5), { offset: 5, epoch: 'e1' }), 100), NOT_RECOVERED);
    assert.deepEqual(recoverStream({ offset: 3, epoch: 'e1' }, page(pubs(5, 4), { offset: 5, epoch: 'e1' }), 100), NOT_RECOVERED);
  });

  it('is not recovered when a publication has no offset', () => {
    const noOffset: Publication = { data: '1' as JsonText };
    assert.deepEqual(recoverStream({ offset: 3, epoch: 'e1' }, page([pub(4), noOffset], { offset: 5, epoch: 'e1' }), 100), NOT_RECOVERED);
  });

  it('is not recovered when the page stops short of the top', () => {
    assert.deepEqual(recoverStream({ offset: 3, epoch: 'e1' }, page(pubs(4, 5), { offset: 7, epoch: 'e1' }), 100), NOT_RECOVERED);
  });

  it('is not recovered when the page goes past the top', () => {
    assert.deepEqual(recoverStream({ offset: 3, epoch: 'e1' }, page(pubs(4, 5, 6), { offset: 5, epoch: 'e1' }), 100), NOT_RECOVERED);
  });

  it('is not recovered when more than the maximum were missed (the page holds max + 1)', () => {
    assert.deepEqual(recoverStream({ offset: 0, epoch: 'e1' }, page(pubs(1, 2, 3, 4), { offset: 4, epoch: 'e1' }), 3), NOT_RECOVERED);
  });

  it('recovers exactly the maximum number of publications', () => {
    assert.deepEqual(recoverStream({ offset: 0, epoch: 'e1' }, page(pubs(1, 2, 3), { offset: 3, epoch: 'e1' }), 3), { recovered: true, publications: pubs(1, 2, 3) });
  });

  it('recovers a client at the top even when the maximum is 0', () => {
    assert.deepEqual(recoverStream({ offset: 3, epoch: 'e1' }, page([], { offset: 3, epoch: 'e1' }), 0), { recovered: true, publications: [] });
    assert.deepEqual(recoverStream({ offset: 2, epoch: 'e1' }, page(pubs(3), { offset: 3, epoch: 'e1' }), 0), NOT_RECOVERED);
  });
});

describe('recoverLatest (cache mode)', () => {
  const top: StreamPosition = { offset: 8, epoch: 'e1' };
  const latest = pub(8);

  it('recovers with nothing to send when the client is at the top of the same epoch', () => {
    assert.deepEqual(recoverLatest({ offset: 8, epoch: 'e1' }, latest, top), { recovered: true, publications: [] });
  });

  it('recovers with nothing to send when the client is at the top and the latest publication is gone', () => {
    assert.deepEqual(recoverLatest({ offset: 8, epoch: 'e1' }, undefined, top), { recovered: true, publications: [] });
  });

  it('sends only the latest publication when the client is behind, however far', () => {
    assert.deepEqual(recoverLatest({ offset: 2, epoch: 'e1' }, latest, top), { recovered: true, publications: [latest] });
    assert.deepEqual(recoverLatest({ offset: 7, epoch: 'e1' }, latest, top), { recovered: true, publications: [latest] });
  });

  it('sends the latest publication and recovers when the client had another epoch', () => {
    assert.deepEqual(recoverLatest({ offset: 8, epoch: 'old' }, latest, top), { recovered: true, publications: [latest] });
  });

  it('is not recovered when the client had another epoch and the stream has no publication', () => {
    assert.deepEqual(recoverLatest({ offset: 3, epoch: 'old' }, undefined, { offset: 0, epoch: 'new' }), NOT_RECOVERED);
  });

  it('is not recovered when the client is behind in the same epoch and the stream has no publication to give it', () => {
    // The client holds the value of offset 3; offsets 4..8 were published and are gone (history removed or expired):
    // saying "recovered" would leave it showing a stale value with nothing to replace it.
    assert.deepEqual(recoverLatest({ offset: 3, epoch: 'e1' }, undefined, top), NOT_RECOVERED);
  });

  it('sends the latest publication to a client with no position', () => {
    assert.deepEqual(recoverLatest(undefined, latest, top), { recovered: true, publications: [latest] });
  });

  it('sends nothing and is not recovered when there is neither a client position nor a latest publication', () => {
    assert.deepEqual(recoverLatest(undefined, undefined, { offset: 0, epoch: 'e1' }), NOT_RECOVERED);
  });
});
