/**
 * The one place an error becomes a wire value (STYLE rule 2): reply errors keep the connection,
 * disconnects end it, token failures depend on where the token was used, and anything else is
 * internal (100, temporary) without its details.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DisconnectCode, ErrorCode } from '../../../src/protocol/codes.js';
import { AuthError, DisconnectError, ReplyError, toWire, truncateReason } from '../../../src/protocol/errors.js';

/** Whether `s` survives a UTF-8 round trip: no lone surrogate was left by a cut. */
function isWellFormed(s: string): boolean {
  return Buffer.from(s, 'utf8').toString('utf8') === s;
}

describe('ReplyError', () => {
  it('takes the message and temporary flag of its code when none are given', () => {
    const err = new ReplyError(ErrorCode.PermissionDenied);
    assert.deepEqual({ code: err.code, message: err.message, temporary: err.temporary, name: err.name },
      { code: 103, message: 'permission denied', temporary: false, name: 'ReplyError' });
    assert.equal(new ReplyError(ErrorCode.Internal).temporary, true);
    assert.equal(new ReplyError(ErrorCode.TooManyRequests).temporary, true);
  });

  it('keeps a given message and temporary flag', () => {
    const err = new ReplyError(ErrorCode.NotAvailable, 'not available: chat:1 keeps no history', { temporary: true });
    assert.deepEqual({ code: err.code, message: err.message, temporary: err.temporary },
      { code: 108, message: 'not available: chat:1 keeps no history', temporary: true });
  });
});

describe('DisconnectError', () => {
  it('takes the reason of its code when none is given', () => {
    const err = new DisconnectError(DisconnectCode.Shutdown);
    assert.deepEqual({ code: err.code, reason: err.reason, message: err.message, name: err.name },
      { code: 3001, reason: 'shutdown', message: 'shutdown', name: 'DisconnectError' });
  });

  it('uses "disconnect" as the reason when an application code has no default sentence', () => {
    const err = new DisconnectError(4001);
    assert.deepEqual({ code: err.code, reason: err.reason }, { code: 4001, reason: 'disconnect' });
  });

  it('cuts a long reason to the close frame limit', () => {
    const err = new DisconnectError(DisconnectCode.BadRequest, `bad request: ${'x'.repeat(200)}`);
    assert.ok(Buffer.byteLength(err.reason) <= 123);
    assert.ok(err.reason.endsWith('...'));
  });
});

describe('toWire', () => {
  it('maps a ReplyError to a reply error with its code, message and temporary flag', () => {
    assert.deepEqual(toWire(new ReplyError(ErrorCode.AlreadySubscribed, 'already subscribed to chat:1')),
      { kind: 'reply', code: 105, message: 'already subscribed to chat:1', temporary: false });
    assert.deepEqual(toWire(new ReplyError(ErrorCode.TooManyRequests)),
      { kind: 'reply', code: 111, message: 'too many requests', temporary: true });
  });

  it('maps a DisconnectError to a disconnect with its code and reason', () => {
    assert.deepEqual(toWire(new DisconnectError(DisconnectCode.BadRequest, 'bad request: line 1 is not valid JSON')),
      { kind: 'disconnect', code: 3501, reason: 'bad request: line 1 is not valid JSON' });
  });

  it('maps the same errors the same way whatever the context', () => {
    const reply = new ReplyError(ErrorCode.UnknownChannel);
    const disconnect = new DisconnectError(DisconnectCode.Stale);
    assert.deepEqual(toWire(reply, 'subscription'), toWire(reply, 'connection'));
    assert.deepEqual(toWire(disconnect, 'subscription'), toWire(disconnect, 'connection'));
  });

  describe('token failures on the connection (connect, refresh)', () => {
    it('replies 109 token expired when the connection token expired, so the client fetches a new one', () => {
      assert.deepEqual(toWire(new AuthError('expired', 'connection token expired'), 'connection'),
        { kind: 'reply', code: ErrorCode.TokenExpired, message: 'connection token expired', temporary: false });
    });

    it('disconnects with 3500 invalid token when the connection token is invalid', () => {
      assert.deepEqual(toWire(new AuthError('invalid', 'invalid connection token: bad signature'), 'connection'),
        { kind: 'disconnect', code: DisconnectCode.InvalidToken, reason: 'invalid connection token: bad signature' });
    });

    it('replies 101 unauthorized when a required connection token is missing', () => {
      assert.deepEqual(toWire(new AuthError('missing', 'unauthorized: a connection token is required'), 'connection'),
        { kind: 'reply', code: ErrorCode.Unauthorized, message: 'unauthorized: a connection token is required', temporary: false });
    });

    it('treats the connection as the default context', () => {
      assert.deepEqual(toWire(new AuthError('invalid', 'bad')), { kind: 'disconnect', code: 3500, reason: 'bad' });
    });

    it('cuts a long invalid-token message to the close frame limit', () => {
      const wire = toWire(new AuthError('invalid', `invalid connection token: ${'claim '.repeat(40)}`), 'connection');
      assert.equal(wire.kind, 'disconnect');
      assert.ok(wire.kind === 'disconnect' && Buffer.byteLength(wire.reason) <= 123 && wire.reason.endsWith('...'));
    });
  });

  describe('token failures on a subscription (subscribe, sub_refresh)', () => {
    it('replies 109 token expired when the subscription token expired', () => {
      assert.deepEqual(toWire(new AuthError('expired', 'subscription token expired'), 'subscription'),
        { kind: 'reply', code: 109, message: 'subscription token expired', temporary: false });
    });

    it('replies 103 permission denied when the subscription token is invalid, keeping the connection', () => {
      assert.deepEqual(toWire(new AuthError('invalid', 'invalid subscription token: bad signature'), 'subscription'),
        { kind: 'reply', code: 103, message: 'invalid subscription token: bad signature', temporary: false });
    });

    it('replies 103 permission denied when the subscription token is missing', () => {
      assert.deepEqual(toWire(new AuthError('missing', 'a subscription token is required'), 'subscription'),
        { kind: 'reply', code: 103, message: 'a subscription token is required', temporary: false });
    });
  });

  describe('anything else', () => {
    it('is internal error 100, temporary, with the default message and not the error text', () => {
      const err = new Error('ECONNREFUSED redis://:hunter2@10.0.0.5:6379');
      const wire = toWire(err);
      assert.deepEqual(wire, { kind: 'internal', code: 100, message: 'internal server error', temporary: true, cause: err });
      assert.ok(wire.kind === 'internal' && !wire.message.includes('hunter2'));
    });

    it('keeps the thrown value as the cause for the log when it is not an Error', () => {
      for (const thrown of ['boom', undefined, null, 42, { code: 103 }]) {
        assert.deepEqual(toWire(thrown, 'subscription'), { kind: 'internal', code: 100, message: 'internal server error', temporary: true, cause: thrown });
      }
    });

    it('does not trust an Error that only looks like a ReplyError', () => {
      const fake = Object.assign(new Error('permission denied'), { code: 103, temporary: false });
      assert.equal(toWire(fake).kind, 'internal');
    });
  });
});

describe('truncateReason', () => {
  it('keeps a reason of at most 123 bytes as it is', () => {
    assert.equal(truncateReason('shutdown'), 'shutdown');
    assert.equal(truncateReason('x'.repeat(123)), 'x'.repeat(123));
    assert.equal(truncateReason(''), '');
  });

  it('cuts an ASCII reason to 120 bytes and an ellipsis when it is longer than 123 bytes', () => {
    assert.equal(truncateReason('x'.repeat(124)), `${'x'.repeat(120)}...`);
  });

  it('keeps a multi-byte reason that fits in 123 bytes even when it has more than 61 characters', () => {
    const reason = '\u00e9'.repeat(61); // 122 bytes
    assert.equal(truncateReason(reason), reason);
  });

  it('counts UTF-8 bytes, not characters, when cutting two-byte text', () => {
    const out = truncateReason('\u00e9'.repeat(70)); // 140 bytes
    assert.equal(out, `${'\u00e9'.repeat(60)}...`);
    assert.equal(Buffer.byteLength(out), 123);
  });

  it('counts UTF-8 bytes when cutting three-byte text', () => {
    const out = truncateReason('\u6f22'.repeat(50)); // 150 bytes
    assert.equal(out, `${'\u6f22'.repeat(40)}...`);
    assert.equal(Buffer.byteLength(out), 123);
  });

  it('keeps whole characters when the cut falls inside a four-byte emoji', () => {
    const out = truncateReason(`a${'\u{1F600}'.repeat(40)}`); // 161 bytes
    assert.ok(Buffer.byteLength(out) <= 123, `${Buffer.byteLength(out)} bytes`);
    assert.ok(isWellFormed(out), `lone surrogate left in ${JSON.stringify(out)}`);
    assert.equal(out, `a${'\u{1F600}'.repeat(29)}...`);
  });

  it('never exceeds 123 bytes, whatever the mix of characters', () => {
    const pieces = ['a', '\u00e9', '\u6f22', '\u{1F600}'];
    for (let n = 100; n < 200; n++) {
      const s = Array.from({ length: n }, (_, i) => pieces[(i * 7 + n) % pieces.length]!).join('');
      assert.ok(Buffer.byteLength(truncateReason(s)) <= 123, `length ${n}`);
    }
  });
});
