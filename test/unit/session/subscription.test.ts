/**
 * The delivery guarantee of one subscription, message by message: publications wait while the
 * subscribe reply is prepared, then those newer than the reply's position go out in order;
 * duplicates are skipped; in a positioned subscription a gap or another epoch makes the client
 * recover instead of missing anything; join and leave go only to an active subscriber that asked.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NAMESPACE_DEFAULTS } from '../../../src/config/namespaces.js';
import { WireFormat, type PublicationEncodings, type PushEncodings } from '../../../src/hub/publication-encodings.js';
import { SharedMessage } from '../../../src/hub/shared-message.js';
import type { ClientInfo, JsonText } from '../../../src/protocol/types.js';
import { Subscription, type SubscriptionOwner } from '../../../src/session/subscription.js';

/** Records what the subscription sends and every lost position. */
class Owner implements SubscriptionOwner {
  readonly sent: string[] = [];
  readonly lost: string[] = [];
  info: ClientInfo = { user: 'ann', client: 'c1' };

  push(message: SharedMessage): void {
    this.sent.push(message.text);
  }

  lostPosition(channel: string): void {
    this.lost.push(channel);
  }
}

function subscription(owner: Owner, options: { positioned?: boolean; joinLeave?: boolean } = {}): Subscription {
  return new Subscription(owner, {
    channel: 'chat:1',
    ns: { ...NAMESPACE_DEFAULTS, history_size: 10, history_ttl: 60_000 },
    joinLeave: options.joinLeave ?? false,
    positioned: options.positioned ?? true,
    info: { user: 'ann', client: 'c1' },
    serverSide: false,
    expiresAt: undefined,
  });
}

/** A publication whose every encoding is the text `label` (what is sent, not how, is tested here). */
function encodings(label: string): PublicationEncodings {
  const message = (): SharedMessage => new SharedMessage(label);
  return { seq: 0, messageFor: message, json: message } as unknown as PublicationEncodings;
}

function push(label: string): PushEncodings {
  return { messageFor: () => new SharedMessage(label) } as unknown as PushEncodings;
}

/** A publication push at `offset` of epoch `epoch`. */
function pub(offset: number, epoch = 'e1'): [PublicationEncodings, { offset: number; epoch: string }] {
  return [encodings(`p${offset}${epoch === 'e1' ? '' : `@${epoch}`}`), { offset, epoch }];
}

describe('Subscription', () => {
  it('holds publications until activated, then sends those after the reply position, in order', () => {
    const owner = new Owner();
    const sub = subscription(owner);
    sub.deliverPublication(...pub(4));
    sub.deliverPublication(...pub(5));
    sub.deliverPublication(...pub(6));
    assert.deepEqual(owner.sent, [], 'nothing before the reply');
    sub.setPosition({ offset: 5, epoch: 'e1' }); // the reply recovered up to 5
    sub.activate();
    assert.deepEqual(owner.sent, ['p6']);
    assert.equal(sub.offset, 6);
  });

  it('goes live after activation: each next offset is sent at once', () => {
    const owner = new Owner();
    const sub = subscription(owner);
    sub.setPosition({ offset: 0, epoch: 'e1' });
    sub.activate();
    for (const o of [1, 2, 3]) sub.deliverPublication(...pub(o));
    assert.deepEqual(owner.sent, ['p1', 'p2', 'p3']);
    assert.deepEqual(owner.lost, []);
  });

  it('skips a publication at or below its position (already recovered or buffered)', () => {
    const owner = new Owner();
    const sub = subscription(owner);
    sub.setPosition({ offset: 3, epoch: 'e1' });
    sub.activate();
    sub.deliverPublication(...pub(2));
    sub.deliverPublication(...pub(3));
    sub.deliverPublication(...pub(4));
    assert.deepEqual(owner.sent, ['p4']);
  });

  it('reports a gap in a positioned subscription instead of sending past it', () => {
    const owner = new Owner();
    const sub = subscription(owner);
    sub.setPosition({ offset: 3, epoch: 'e1' });
    sub.activate();
    sub.deliverPublication(...pub(5));
    assert.deepEqual(owner.sent, []);
    assert.deepEqual(owner.lost, ['chat:1']);
    assert.equal(sub.offset, 3, 'the position stays where the client is');
  });

  it('reports another epoch in a positioned subscription (the stream was lost)', () => {
    const owner = new Owner();
    const sub = subscription(owner);
    sub.setPosition({ offset: 3, epoch: 'e1' });
    sub.activate();
    sub.deliverPublication(...pub(1, 'e2'));
    assert.deepEqual(owner.lost, ['chat:1']);
  });

  it('reports a gap found among the buffered publications at activation', () => {
    const owner = new Owner();
    const sub = subscription(owner);
    sub.deliverPublication(...pub(6));
    sub.deliverPublication(...pub(8));
    sub.setPosition({ offset: 5, epoch: 'e1' });
    sub.activate();
    assert.deepEqual(owner.sent, ['p6']);
    assert.deepEqual(owner.lost, ['chat:1']);
  });

  it('sends past a gap when not positioned, following the newest offset', () => {
    const owner = new Owner();
    const sub = subscription(owner, { positioned: false });
    sub.setPosition({ offset: 3, epoch: 'e1' });
    sub.activate();
    sub.deliverPublication(...pub(7));
    sub.deliverPublication(...pub(8));
    sub.deliverPublication(...pub(7));
    assert.deepEqual(owner.sent, ['p7', 'p8'], 'the late duplicate 7 is still skipped');
    assert.deepEqual(owner.lost, []);
  });

  it('sends every publication without an offset (no history) as it comes', () => {
    const owner = new Owner();
    const sub = subscription(owner, { positioned: false });
    sub.activate();
    sub.deliverPublication(encodings('a'), { offset: 0, epoch: '' });
    sub.deliverPublication(encodings('b'), { offset: 0, epoch: '' });
    assert.deepEqual(owner.sent, ['a', 'b']);
  });

  it('sends join and leave only when it asked for them and is active', () => {
    const asked = new Owner();
    const quiet = new Owner();
    const a = subscription(asked, { joinLeave: true });
    const q = subscription(quiet, { joinLeave: false });
    const join = push('join');
    assert.equal(a.deliverJoinLeave(join), false, 'not before activation');
    a.activate();
    q.activate();
    assert.equal(a.deliverJoinLeave(join), true);
    assert.equal(q.deliverJoinLeave(join), false);
    assert.deepEqual(asked.sent, ['join']);
    assert.deepEqual(quiet.sent, []);
  });

  it('activates once: a second activate sends nothing again', () => {
    const owner = new Owner();
    const sub = subscription(owner);
    sub.deliverPublication(...pub(1));
    sub.setPosition({ offset: 0, epoch: 'e1' });
    sub.activate();
    sub.activate();
    assert.deepEqual(owner.sent, ['p1']);
  });

  it('shows the owner\'s info unless made with its own, and keeps the owner\'s earlier info when told it changes', () => {
    const owner = new Owner();
    const init = { channel: 'chat:1', ns: NAMESPACE_DEFAULTS, joinLeave: false, positioned: false, serverSide: false, expiresAt: undefined };
    const shared = new Subscription(owner, { ...init, info: owner.info });
    const own = new Subscription(owner, { ...init, info: { user: 'ann', client: 'c1', chan_info: '{"c":1}' as JsonText } });
    const first = owner.info;
    shared.keepInfo(first);
    own.keepInfo(first);
    owner.info = { user: 'ann', client: 'c1', conn_info: '{"v":2}' as JsonText };
    const later = new Subscription(owner, { ...init, info: owner.info });
    assert.equal(shared.info, first);
    assert.equal(own.info.chan_info, '{"c":1}');
    assert.equal(later.info, owner.info);
  });

  it('keeps a token expiry and a delta subscriber\'s last publication through activation', () => {
    const owner = new Owner();
    const sub = new Subscription(owner, {
      channel: 'chat:1', ns: NAMESPACE_DEFAULTS, joinLeave: false, positioned: false, info: owner.info, serverSide: false,
      expiresAt: 5000, format: WireFormat.JsonDelta,
    });
    /** The encodings of publication number `seq`: the message names the publication its delta is against. */
    const numbered = (seq: number): PublicationEncodings => ({
      seq, messageFor: (_format: WireFormat, lastSeq: number) => new SharedMessage(`p${seq}<${lastSeq}`),
    }) as unknown as PublicationEncodings;
    sub.deliverPublication(numbered(11), { offset: 0, epoch: '' });
    sub.activate();
    sub.deliverPublication(numbered(12), { offset: 0, epoch: '' });
    assert.deepEqual(owner.sent, ['p11<0', 'p12<11']);
    assert.equal(sub.expiresAt, 5000);
    sub.expiresAt = undefined;
    assert.equal(sub.expiresAt, undefined);
    const plain = subscription(owner);
    plain.activate();
    assert.equal(plain.expiresAt, undefined);
    plain.expiresAt = 7000;
    assert.equal(plain.expiresAt, 7000);
  });
});
